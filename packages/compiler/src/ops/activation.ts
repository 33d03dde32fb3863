/** Activation layers (`relu`, `softmax`, ... as bare list items) and the activation names. */
import type { JsonSchema, OpDef } from "./op-def.js";

/**
 * Activation functions, as Keras names them: the one list behind the `activation:` attribute of
 * every op, the bare shorthands (`- relu`) and every backend's activation table.
 */
export const ACTIVATIONS = ["linear", "relu", "softmax", "sigmoid", "tanh"] as const;

/** One of {@link ACTIVATIONS}. */
export type ActivationName = (typeof ACTIVATIONS)[number];

/** The schema of an `activation:` attribute: one of {@link ACTIVATIONS}. */
export const activationSchema: JsonSchema = { enum: [...ACTIVATIONS] };

/** Attributes of `activation`. */
export interface ActivationAttrs {
  readonly activation: ActivationName;
}

/** `activation: relu` or the bare shorthands `relu`, `softmax`, `sigmoid`, `tanh`, `linear`. */
export const activationOp: OpDef<"activation", ActivationAttrs> = {
  op: "activation",
  kerasClass: "Activation",
  doc: "An element-wise activation (softmax over the last axis).",
  attrs: { properties: { activation: activationSchema }, required: ["activation"] },
  defaults: {},
  shorthand: "activation",
  arity: { min: 1, max: 1 },
  normalize: (raw) => ({ activation: raw["activation"] as ActivationName }),
  infer: (inputs) => ({ ok: true, shape: inputs[0]! }),
  params: () => [],
};
