/**
 * The one op registry: every op the compiler knows, by name. The op names ({@link OpName}) and
 * their attribute types ({@link OpAttrs}) are derived from this list, so adding an op is one
 * family entry plus one line here.
 */
import { activationOp, eluOp, leakyReLUOp, reLUOp } from "./activation.js";
import { conv2dOp, conv2dTransposeOp, depthwiseConv2dOp, separableConv2dOp } from "./conv.js";
import { denseOp, dropoutOp, flattenOp } from "./core.js";
import { inputOp } from "./input.js";
import { addOp, averageOp, concatenateOp, maximumOp, multiplyOp, subtractOp } from "./merge.js";
import { batchNormalizationOp, layerNormalizationOp } from "./normalization.js";
import type { OpDef } from "./op-def.js";
import { zeroPadding2dOp } from "./padding.js";
import {
  averagePooling2dOp,
  globalAveragePooling2dOp,
  globalMaxPooling2dOp,
  maxPooling2dOp,
} from "./pooling.js";
import { normalizationOp, rescalingOp } from "./preprocessing.js";
import { cropping2dOp, upSampling2dOp } from "./resampling.js";
import { permuteOp, reshapeOp } from "./reshaping.js";

/** Checks that every entry is keyed by its own op name. */
function registry<T extends { readonly [K in keyof T]: OpDef<K & string, unknown> }>(ops: T): T {
  return ops;
}

const REGISTRY = registry({
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
  // Issue 12, item 1: element-wise, activation, shape and normalization ops.
  multiply: multiplyOp,
  subtract: subtractOp,
  average: averageOp,
  maximum: maximumOp,
  reshape: reshapeOp,
  permute: permuteOp,
  rescaling: rescalingOp,
  normalization: normalizationOp,
  layer_normalization: layerNormalizationOp,
  re_lu: reLUOp,
  leaky_relu: leakyReLUOp,
  elu: eluOp,
  // Conv family (issue 12 item 1).
  depthwise_conv2d: depthwiseConv2dOp,
  separable_conv2d: separableConv2dOp,
  conv2d_transpose: conv2dTransposeOp,
  up_sampling2d: upSampling2dOp,
  cropping2d: cropping2dOp,
  global_max_pooling2d: globalMaxPooling2dOp,
});

/** Every op name of the registry. */
export type OpName = keyof typeof REGISTRY;

/** Normalised attributes of every op; attribute names are the spec's (Keras's) snake_case names. */
export type OpAttrs = {
  readonly [K in OpName]: ReturnType<(typeof REGISTRY)[K]["normalize"]>;
};

/** Every op, keyed by its spec name. */
export const OPS: { readonly [K in OpName]: OpDef<K, OpAttrs[K]> } = REGISTRY;

/** Every op name, in registry order. */
export const OP_NAMES = Object.keys(OPS) as OpName[];

/** True when `name` is an op of the registry. */
export function isOpName(name: string): name is OpName {
  return Object.hasOwn(OPS, name);
}
