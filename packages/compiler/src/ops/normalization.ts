/** BatchNormalization and LayerNormalization over the channels (last) axis. */
import { withDefaults } from "./common.js";
import type { OpDef } from "./op-def.js";

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

/**
 * `batch_normalization: { axis: -1, epsilon: 0.001, momentum: 0.99, center: true, scale: true }`.
 * Keras order of weights: gamma, beta (trainable), moving_mean, moving_variance (not trainable).
 */
export const batchNormalizationOp: OpDef<"batch_normalization", BatchNormalizationAttrs> = {
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
  normalize(raw) {
    const a = withDefaults(raw, batchNormalizationDefaults);
    return {
      axis: a["axis"] as number,
      epsilon: a["epsilon"] as number,
      momentum: a["momentum"] as number,
      center: a["center"] as boolean,
      scale: a["scale"] as boolean,
    };
  },
  infer(inputs, a) {
    const x = inputs[0]!;
    if (a.axis !== -1 && a.axis !== x.length) {
      return {
        ok: false,
        code: "RSC305",
        message: `batch_normalization supports only the channels axis (-1 or ${x.length}), got ${a.axis}`,
        attr: "axis",
      };
    }
    return { ok: true, shape: x };
  },
  params(inputs, a) {
    const c = [inputs[0]!.at(-1)!];
    return [
      ...(a.scale
        ? [{ suffix: "gamma", shape: c, initializer: "ones", trainable: true } as const]
        : []),
      ...(a.center
        ? [{ suffix: "beta", shape: c, initializer: "zeros", trainable: true } as const]
        : []),
      { suffix: "moving_mean", shape: c, initializer: "zeros", trainable: false },
      { suffix: "moving_variance", shape: c, initializer: "ones", trainable: false },
    ];
  },
};

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
export const layerNormalizationOp: OpDef<"layer_normalization", LayerNormalizationAttrs> = {
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
  normalize(raw) {
    const a = withDefaults(raw, layerNormalizationDefaults);
    return {
      axis: a["axis"] as number,
      epsilon: a["epsilon"] as number,
      center: a["center"] as boolean,
      scale: a["scale"] as boolean,
    };
  },
  infer(inputs, a) {
    const x = inputs[0]!;
    if (a.axis !== -1 && a.axis !== x.length) {
      return {
        ok: false,
        code: "RSC305",
        message: `layer_normalization supports only the last axis (-1 or ${x.length}), got ${a.axis}`,
        attr: "axis",
      };
    }
    return { ok: true, shape: x };
  },
  params(inputs, a) {
    const c = [inputs[0]!.at(-1)!];
    return [
      ...(a.scale
        ? [{ suffix: "gamma", shape: c, initializer: "ones", trainable: true } as const]
        : []),
      ...(a.center
        ? [{ suffix: "beta", shape: c, initializer: "zeros", trainable: true } as const]
        : []),
    ];
  },
};
