/** Flatten, Dense, Dropout. */
import { shapeSize } from "../tensor.js";
import { type ActivationName, activationSchema } from "./activation.js";
import { attrsAsWritten, positiveInt } from "./common.js";
import type { OpDef } from "./op-def.js";

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
});

/** Attributes of `dropout`: `rate` in [0, 1); identity at inference. */
export interface DropoutAttrs {
  readonly rate: number;
}

/** `dropout: { rate }`: identity at inference, drops `rate` of activations in training. */
export const dropoutOp: OpDef<"dropout", DropoutAttrs> = {
  op: "dropout",
  kerasClass: "Dropout",
  doc: "Randomly zeroes `rate` of the activations while training; identity at inference.",
  attrs: {
    properties: { rate: { type: "number", minimum: 0, exclusiveMaximum: 1 } },
    required: ["rate"],
  },
  defaults: {},
  shorthand: "rate",
  arity: { min: 1, max: 1 },
  normalize: (raw) => ({ rate: raw["rate"] as number }),
  infer: (inputs) => ({ ok: true, shape: inputs[0]! }),
  params: () => [],
};
