/** Rescaling and Normalization: Keras's preprocessing layers with fixed values, per channel (last axis). */
import type { Shape } from "../tensor.js";
import { attrsAsWritten, withDefaults } from "./common.js";
import type { InferResult, JsonSchema, OpDef } from "./op-def.js";
import { noMacs } from "./op-def.js";

const numberOrList: JsonSchema = {
  anyOf: [{ type: "number" }, { type: "array", items: { type: "number" }, minItems: 1 }],
};

/** A per-channel list must have one value per channel (the last axis); a number broadcasts. */
function perChannel(op: string, attr: string, value: number | readonly number[], x: Shape) {
  if (typeof value === "number") return undefined;
  const channels = x.at(-1)!;
  if (value.length === channels) return undefined;
  return {
    ok: false,
    code: "RSC300",
    message: `${op} ${attr} has ${value.length} values, the input [${x.join(", ")}] has ${channels} channels (last axis)`,
    attr,
  } as const satisfies InferResult;
}

/** Attributes of `rescaling` (Keras Rescaling): a number, or one value per channel. */
export interface RescalingAttrs {
  readonly scale: number | readonly number[];
  readonly offset: number | readonly number[];
}

const rescalingDefaults = { offset: 0 } as const;

/** `rescaling: { scale, offset: 0 }`: x * scale + offset (scale and offset broadcast over the last axis). */
export const rescalingOp = attrsAsWritten<"rescaling", RescalingAttrs>({
  op: "rescaling",
  kerasClass: "Rescaling",
  doc: "x * scale + offset; each a number or one value per channel (last axis).",
  attrs: { properties: { scale: numberOrList, offset: numberOrList }, required: ["scale"] },
  defaults: rescalingDefaults,
  shorthand: "scale",
  arity: { min: 1, max: 1 },
  infer(inputs, a) {
    const x = inputs[0]!;
    return (
      perChannel("rescaling", "scale", a.scale, x) ??
      perChannel("rescaling", "offset", a.offset, x) ?? { ok: true, shape: x }
    );
  },
  params: () => [],
  macs: noMacs,
});

/** Attributes of `normalization`; `mean` and `variance` absent: zeros and ones (set by loaded weights). */
export interface NormalizationAttrs {
  /** -1 or the input's rank: the channels (last) axis, the only one supported. */
  readonly axis: number;
  /** One mean per channel, or undefined. */
  readonly mean?: readonly number[];
  /** One variance per channel, or undefined. */
  readonly variance?: readonly number[];
}

const normalizationDefaults = { axis: -1 } as const;

/**
 * `normalization: { mean: [...], variance: [...] }` (Keras Normalization over the channels):
 * (x - mean) / max(sqrt(variance), 1e-7), as Keras computes it. The values become the layer's
 * non-trainable weights `mean` [c], `variance` [c] and `count` [] (a scalar), the weights Keras
 * keeps for an adapted layer (keras.applications' EfficientNet: 7 parameters for RGB), so a
 * summary matches Keras and weights load by name.
 */
export const normalizationOp: OpDef<"normalization", NormalizationAttrs> = {
  op: "normalization",
  kerasClass: "Normalization",
  doc: "(x - mean) / max(sqrt(variance), 1e-7) per channel; mean and variance (default 0 and 1) and count are non-trainable weights, as in Keras's adapted layer.",
  attrs: {
    properties: {
      axis: { type: "integer" },
      mean: { type: "array", items: { type: "number" }, minItems: 1 },
      variance: { type: "array", items: { type: "number", minimum: 0 }, minItems: 1 },
    },
  },
  defaults: normalizationDefaults,
  arity: { min: 1, max: 1 },
  normalize(raw) {
    const a = withDefaults(raw, normalizationDefaults);
    return {
      axis: a["axis"] as number,
      ...(a["mean"] === undefined ? {} : { mean: a["mean"] as number[] }),
      ...(a["variance"] === undefined ? {} : { variance: a["variance"] as number[] }),
    };
  },
  infer(inputs, a) {
    const x = inputs[0]!;
    if (a.axis !== -1 && a.axis !== x.length) {
      return {
        ok: false,
        code: "RSC305",
        message: `normalization supports only the channels axis (-1 or ${x.length}), got ${a.axis}`,
        attr: "axis",
      };
    }
    if ((a.mean === undefined) !== (a.variance === undefined)) {
      const given = a.mean === undefined ? "variance" : "mean";
      return {
        ok: false,
        code: "RSC307",
        message: `normalization needs both mean and variance, or neither (only ${given} given)`,
        attr: given,
      };
    }
    return (
      (a.mean && perChannel("normalization", "mean", a.mean, x)) ||
      (a.variance && perChannel("normalization", "variance", a.variance, x)) || {
        ok: true,
        shape: x,
      }
    );
  },
  params(inputs, a) {
    const c = [inputs[0]!.at(-1)!];
    return [
      {
        suffix: "mean",
        shape: c,
        initializer: a.mean ? { constant: a.mean } : "zeros",
        trainable: false,
      },
      {
        suffix: "variance",
        shape: c,
        initializer: a.variance ? { constant: a.variance } : "ones",
        trainable: false,
      },
      { suffix: "count", shape: [], initializer: "zeros", trainable: false },
    ];
  },
  macs: noMacs,
};
