/** The one op registry: every op the compiler knows, by name. */
import { activationOp } from "./activation.js";
import { conv2dOp } from "./conv.js";
import { denseOp, dropoutOp, flattenOp } from "./core.js";
import { inputOp } from "./input.js";
import { addOp, concatenateOp } from "./merge.js";
import { batchNormalizationOp } from "./normalization.js";
import { zeroPadding2dOp } from "./padding.js";
import { averagePooling2dOp, globalAveragePooling2dOp, maxPooling2dOp } from "./pooling.js";
import type { OpDef, OpName } from "./types.js";

/** Every op, keyed by its spec name. */
export const OPS: { readonly [K in OpName]: OpDef<K> } = {
  input: inputOp,
  zero_padding2d: zeroPadding2dOp,
  conv2d: conv2dOp,
  batch_normalization: batchNormalizationOp,
  activation: activationOp,
  max_pooling2d: maxPooling2dOp,
  average_pooling2d: averagePooling2dOp,
  global_average_pooling2d: globalAveragePooling2dOp,
  add: addOp,
  concatenate: concatenateOp,
  flatten: flattenOp,
  dense: denseOp,
  dropout: dropoutOp,
};

/** Every op name, in registry order. */
export const OP_NAMES = Object.keys(OPS) as OpName[];

/** True when `name` is an op of the registry. */
export function isOpName(name: string): name is OpName {
  return Object.hasOwn(OPS, name);
}

/** The op definition for `name`. */
export function opDef<K extends OpName>(name: K): OpDef<K> {
  return OPS[name] as unknown as OpDef<K>;
}
