/**
 * The op registry's types in one import for the rest of the compiler (ir.ts, build.ts, ...): the
 * op contract (op-def.ts) and the op names and attribute types derived from the registry.
 */
export type { ActivationName } from "./activation.js";
export * from "./op-def.js";
export type { OpAttrs, OpName } from "./registry.js";
