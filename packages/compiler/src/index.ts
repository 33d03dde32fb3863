/** @rsc/compiler: spec language, validation, expansion, IR, shape inference, initial weights. */
export * from "./backend.js";
export * from "./canonical.js";
export * from "./check-weights.js";
export * from "./compile.js";
export * from "./diagnostics.js";
export * from "./diff/index.js";
export { expandToSpec } from "./expand-to-spec.js";
export { ExprError, evaluate, interpolate, type Scope, type Value } from "./expr.js";
export * from "./graph-from-layers.js";
export * from "./ir.js";
export { snakeCase } from "./naming.js";
export { samePadding, windowOutput } from "./ops/common.js";
export * from "./ops/registry.js";
export * from "./ops/types.js";
export { expandRange, MAX_RANGE_ITEMS } from "./ranges.js";
export { FORMAT_VERSION, SCHEMA_ID, specSchema } from "./schema.js";
export * from "./tensor.js";
export * from "./weights.js";
