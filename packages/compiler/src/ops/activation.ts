/**
 * Activations: the activation names (`activation:` of every op, the bare `- relu` layers) and the
 * Keras activation layers with attributes (ReLU, LeakyReLU, ELU).
 */
import { attrsAsWritten } from "./common.js";
import type { JsonSchema, OpDef } from "./op-def.js";
import { noMacs } from "./op-def.js";

/**
 * Activation functions, as Keras 3 names them (`keras.activations.get`), each with the
 * function's defaults: the one list behind the `activation:` attribute of every op, the bare
 * shorthands (`- relu`) and every backend's activation table. `swish` and `hard_swish` are
 * Keras's aliases of `silu` and `hard_silu`. `leaky_relu` here is the function (slope 0.2), not
 * the LeakyReLU layer (slope 0.3), as in Keras.
 */
export const ACTIVATIONS = [
  "linear",
  "relu",
  "softmax",
  "sigmoid",
  "tanh",
  // Issue 12: Keras 3's other element-wise activations.
  "relu6",
  "leaky_relu",
  "elu",
  "selu",
  "gelu",
  "silu",
  "swish",
  "hard_sigmoid",
  "hard_silu",
  "hard_swish",
  "softplus",
  "exponential",
] as const;

/** One of {@link ACTIVATIONS}. */
export type ActivationName = (typeof ACTIVATIONS)[number];

/** The schema of an `activation:` attribute: one of {@link ACTIVATIONS}. */
export const activationSchema: JsonSchema = { enum: [...ACTIVATIONS] };

/**
 * An activation layer: one input, an output of the same shape, no weights (and no MACs), and its
 * attributes as written (with their defaults).
 */
function activationLayerOp<K extends string, A>(
  def: Pick<OpDef<K, A>, "op" | "kerasClass" | "doc" | "attrs" | "defaults" | "shorthand">,
): OpDef<K, A> {
  return attrsAsWritten<K, A>({
    ...def,
    arity: { min: 1, max: 1 },
    infer: (inputs) => ({ ok: true, shape: inputs[0]! }),
    params: () => [],
    macs: noMacs,
  });
}

/** Attributes of `activation`. */
export interface ActivationAttrs {
  readonly activation: ActivationName;
}

/** `activation: relu` or the bare shorthands `relu`, `softmax`, `sigmoid`, `tanh`, `linear`. */
export const activationOp = activationLayerOp<"activation", ActivationAttrs>({
  op: "activation",
  kerasClass: "Activation",
  doc: "An element-wise activation (softmax over the last axis).",
  attrs: { properties: { activation: activationSchema }, required: ["activation"] },
  defaults: {},
  shorthand: "activation",
});

const nonNegative: JsonSchema = { type: "number", minimum: 0 };

/** Attributes of `re_lu` (Keras ReLU); `max_value` null: no upper bound. */
export interface ReLUAttrs {
  readonly max_value: number | null;
  readonly negative_slope: number;
  readonly threshold: number;
}

const reLUDefaults = { max_value: null, negative_slope: 0, threshold: 0 } as const;

/**
 * `re_lu: { max_value: null, negative_slope: 0, threshold: 0 }` (Keras ReLU; the op is named as
 * Keras names the layer, since `relu` is the bare activation): `max_value` for x >= max_value,
 * x for threshold <= x < max_value, negative_slope * (x - threshold) below.
 */
export const reLUOp = activationLayerOp<"re_lu", ReLUAttrs>({
  op: "re_lu",
  kerasClass: "ReLU",
  doc: "Keras ReLU: min(x, max_value) above threshold, negative_slope * (x - threshold) below.",
  attrs: {
    properties: {
      max_value: { anyOf: [nonNegative, { type: "null" }] },
      negative_slope: nonNegative,
      threshold: nonNegative,
    },
  },
  defaults: reLUDefaults,
  shorthand: "max_value",
});

/** Attributes of `leaky_relu` (Keras 3 LeakyReLU's name, `negative_slope`). */
export interface LeakyReLUAttrs {
  readonly negative_slope: number;
}

const leakyReLUDefaults = { negative_slope: 0.3 } as const;

/** `leaky_relu: { negative_slope: 0.3 }` (Keras 3 LeakyReLU): x for x >= 0, negative_slope * x below. */
export const leakyReLUOp = activationLayerOp<"leaky_relu", LeakyReLUAttrs>({
  op: "leaky_relu",
  kerasClass: "LeakyReLU",
  doc: "Keras LeakyReLU: x for x >= 0, negative_slope * x below (the layer's default 0.3; `activation: leaky_relu` is Keras's function, 0.2).",
  attrs: { properties: { negative_slope: nonNegative } },
  defaults: leakyReLUDefaults,
  shorthand: "negative_slope",
});

/** Attributes of `elu` (Keras ELU). */
export interface ELUAttrs {
  readonly alpha: number;
}

const eluDefaults = { alpha: 1 } as const;

/** `elu: { alpha: 1.0 }` (Keras ELU): x for x > 0, alpha * (exp(x) - 1) below. */
export const eluOp = activationLayerOp<"elu", ELUAttrs>({
  op: "elu",
  kerasClass: "ELU",
  doc: "Keras ELU: x for x > 0, alpha * (exp(x) - 1) below.",
  attrs: { properties: { alpha: { type: "number" } } },
  defaults: eluDefaults,
  shorthand: "alpha",
});
