/** Flatten, Dense, Dropout. */
import { type Shape, shapeSize } from "../tensor.js";
import { type ActivationName, activationSchema } from "./activation.js";
import { attrsAsWritten, positiveInt, withDefaults } from "./common.js";
import type { InferResult, OpDef } from "./op-def.js";
import { noMacs } from "./op-def.js";

/** Attributes of `flatten`: none (Keras's row-major (H, W, C) order). */
export type FlattenAttrs = Record<string, never>;

/** `flatten`: `[h, w, c]` to `[h * w * c]` in row-major (H, W, C) order, as Keras does. */
export const flattenOp: OpDef<"flatten", FlattenAttrs> = {
  op: "flatten",
  kerasClass: "Flatten",
  doc: "Flattens each example in Keras's row-major (H, W, C) order.",
  attrs: { properties: {} },
  defaults: {},
  arity: { min: 1, max: 1 },
  normalize: () => ({}),
  infer: (inputs) => ({ ok: true, shape: [shapeSize(inputs[0]!)] }),
  params: () => [],
  macs: noMacs,
};

/** Attributes of `dense` (Keras Dense's names). */
export interface DenseAttrs {
  readonly units: number;
  readonly activation: ActivationName;
  readonly use_bias: boolean;
}

const denseDefaults = { activation: "linear", use_bias: true } as const;

/** `dense: { units, activation: linear, use_bias: true }`; kernel `[in, units]`. */
export const denseOp = attrsAsWritten<"dense", DenseAttrs>({
  op: "dense",
  kerasClass: "Dense",
  doc: "Fully connected layer on a rank-1 input; kernel [in, units].",
  attrs: {
    properties: { units: positiveInt, activation: activationSchema, use_bias: { type: "boolean" } },
    required: ["units"],
  },
  defaults: denseDefaults,
  shorthand: "units",
  arity: { min: 1, max: 1 },
  infer(inputs, a) {
    const x = inputs[0]!;
    if (x.length !== 1) {
      return {
        ok: false,
        code: "RSC304",
        message: `dense needs a flat input [features], got [${x.join(", ")}]; add a flatten or global_average_pooling2d layer before it`,
        attr: "from",
      };
    }
    return { ok: true, shape: [a.units] };
  },
  params(inputs, a) {
    const kernel = {
      suffix: "kernel",
      shape: [inputs[0]![0]!, a.units],
      initializer: "glorot_uniform",
      trainable: true,
    } as const;
    if (!a.use_bias) return [kernel];
    return [kernel, { suffix: "bias", shape: [a.units], initializer: "zeros", trainable: true }];
  },
  /** `in x units` (torch's Linear, fvcore's addmm); the bias adds are not counted. */
  macs: (inputs, a) => inputs[0]![0]! * a.units,
});

/** Attributes of `dropout`: `rate` in [0, 1); identity at inference. */
export interface DropoutAttrs {
  readonly rate: number;
  /**
   * Keras's `noise_shape`, batch axis included: the shape of the random mask, broadcast over the
   * input; `null` entries take the input's size (`[null, 1, 1, 1]`: one mask value per example,
   * EfficientNet's drop-connect). Absent means the input's shape (one value per activation): left
   * out of the IR then, so specs written before `noise_shape` keep their canonical form.
   */
  readonly noise_shape?: readonly (number | null)[];
}

const dropoutDefaults = { noise_shape: null } as const;

/**
 * Checks `noise_shape` against the input: one entry per axis with the batch, each null, 1 or the
 * input's size (the batch entry null or 1, as the batch size is not fixed).
 */
function checkNoiseShape(x: Shape, noise: readonly (number | null)[]): InferResult | undefined {
  const show = (s: readonly (number | null)[]) => `[${s.map((d) => d ?? "null").join(", ")}]`;
  if (noise.length !== x.length + 1) {
    return {
      ok: false,
      code: "RSC300",
      message: `dropout noise_shape ${show(noise)} has ${noise.length} entries; its input [batch, ${x.join(", ")}] has ${x.length + 1} axes (the batch included)`,
      attr: "noise_shape",
    };
  }
  const full = [null, ...x];
  for (const [i, d] of noise.entries()) {
    if (d === null || d === 1 || d === full[i]) continue;
    const axis = i === 0 ? "the batch axis" : `axis ${i} (size ${full[i]})`;
    return {
      ok: false,
      code: "RSC300",
      message: `dropout noise_shape ${show(noise)} does not broadcast to the input [batch, ${x.join(", ")}]: entry ${d} for ${axis} must be null${i === 0 ? " or 1" : `, 1 or ${full[i]}`}`,
      attr: "noise_shape",
    };
  }
  return undefined;
}

/** `dropout: { rate, noise_shape: null }`: identity at inference, drops `rate` of activations in training. */
export const dropoutOp: OpDef<"dropout", DropoutAttrs> = {
  op: "dropout",
  kerasClass: "Dropout",
  doc: "Zeroes `rate` of the activations while training (identity at inference); `noise_shape` (batch axis included, null: the input's size) shapes the mask, `[null, 1, 1, 1]` drops whole examples.",
  attrs: {
    properties: {
      rate: { type: "number", minimum: 0, exclusiveMaximum: 1 },
      noise_shape: {
        anyOf: [
          { type: "array", items: { anyOf: [positiveInt, { type: "null" }] }, minItems: 1 },
          { type: "null" },
        ],
      },
    },
    required: ["rate"],
  },
  defaults: dropoutDefaults,
  shorthand: "rate",
  arity: { min: 1, max: 1 },
  normalize(raw) {
    const noise = withDefaults(raw, dropoutDefaults)["noise_shape"] as (number | null)[] | null;
    return { rate: raw["rate"] as number, ...(noise === null ? {} : { noise_shape: noise }) };
  },
  infer(inputs, a) {
    const x = inputs[0]!;
    const bad = a.noise_shape === undefined ? undefined : checkNoiseShape(x, a.noise_shape);
    return bad ?? { ok: true, shape: x };
  },
  params: () => [],
  macs: noMacs,
};
