/** BatchNormalization and LayerNormalization over the channels (last) axis. */

import type { Shape } from "../tensor.js";
import { attrsAsWritten } from "./common.js";
import type { InferResult, ParamTemplate } from "./op-def.js";
import { noMacs } from "./op-def.js";

/** Attributes of `batch_normalization`; `axis` is -1 or the rank of the input (channels). */
export interface BatchNormalizationAttrs {
  readonly axis: number;
  readonly epsilon: number;
  readonly momentum: number;
  readonly center: boolean;
  readonly scale: boolean;
}

const batchNormalizationDefaults = {
  axis: -1,
  epsilon: 1e-3,
  momentum: 0.99,
  center: true,
  scale: true,
} as const;

/** The input's shape when `axis` is its last one (-1 or its rank); RSC305 otherwise. */
function lastAxisOnly(op: string, what: string, x: Shape, axis: number): InferResult {
  if (axis !== -1 && axis !== x.length) {
    return {
      ok: false,
      code: "RSC305",
      message: `${op} supports only the ${what} (-1 or ${x.length}), got ${axis}`,
      attr: "axis",
    };
  }
  return { ok: true, shape: x };
}

/** Keras's affine weights of a normalization over `c`: gamma (when scale), then beta (when center). */
function affineParams(
  c: Shape,
  a: { readonly scale: boolean; readonly center: boolean },
): ParamTemplate[] {
  return [
    ...(a.scale
      ? [{ suffix: "gamma", shape: c, initializer: "ones", trainable: true } as const]
      : []),
    ...(a.center
      ? [{ suffix: "beta", shape: c, initializer: "zeros", trainable: true } as const]
      : []),
  ];
}

/**
 * `batch_normalization: { axis: -1, epsilon: 0.001, momentum: 0.99, center: true, scale: true }`.
 * Keras order of weights: gamma, beta (trainable), moving_mean, moving_variance (not trainable).
 */
export const batchNormalizationOp = attrsAsWritten<"batch_normalization", BatchNormalizationAttrs>({
  op: "batch_normalization",
  kerasClass: "BatchNormalization",
  doc: "Batch normalization over the channels axis (Keras defaults: epsilon 1e-3, momentum 0.99).",
  attrs: {
    properties: {
      axis: { type: "integer" },
      epsilon: { type: "number", exclusiveMinimum: 0 },
      momentum: { type: "number", minimum: 0, maximum: 1 },
      center: { type: "boolean" },
      scale: { type: "boolean" },
    },
  },
  defaults: batchNormalizationDefaults,
  arity: { min: 1, max: 1 },
  infer: (inputs, a) => lastAxisOnly("batch_normalization", "channels axis", inputs[0]!, a.axis),
  params(inputs, a) {
    const c = [inputs[0]!.at(-1)!];
    return [
      ...affineParams(c, a),
      { suffix: "moving_mean", shape: c, initializer: "zeros", trainable: false },
      { suffix: "moving_variance", shape: c, initializer: "ones", trainable: false },
    ];
  },
  // Not counted: torchvision's GFLOPS leave normalization out (an inference runtime folds it
  // into the preceding conv); fvcore's 2 FLOPs per element would be counted separately.
  macs: noMacs,
});

/** Attributes of `layer_normalization` (Keras LayerNormalization); `axis` is -1 or the input's rank. */
export interface LayerNormalizationAttrs {
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
}

const layerNormalizationDefaults = { axis: -1, epsilon: 1e-3, center: true, scale: true } as const;

/**
 * `layer_normalization: { axis: -1, epsilon: 0.001, center: true, scale: true }`: each example
 * normalised over its last axis, (x - mean) / sqrt(var + epsilon) * gamma + beta. Keras order of
 * weights: gamma, beta (trainable).
 */
export const layerNormalizationOp = attrsAsWritten<"layer_normalization", LayerNormalizationAttrs>({
  op: "layer_normalization",
  kerasClass: "LayerNormalization",
  doc: "Normalizes each example over the last axis: (x - mean) / sqrt(var + epsilon) * gamma + beta.",
  attrs: {
    properties: {
      axis: { type: "integer" },
      epsilon: { type: "number", exclusiveMinimum: 0 },
      center: { type: "boolean" },
      scale: { type: "boolean" },
    },
  },
  defaults: layerNormalizationDefaults,
  arity: { min: 1, max: 1 },
  infer: (inputs, a) => lastAxisOnly("layer_normalization", "last axis", inputs[0]!, a.axis),
  params(inputs, a) {
    const c = [inputs[0]!.at(-1)!];
    return affineParams(c, a);
  },
  macs: noMacs,
});
