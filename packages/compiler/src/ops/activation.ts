/** Activation layers (`relu`, `softmax`, ... as bare list items). */
import { activationSchema } from "./common.js";
import type { OpDef } from "./types.js";

/** `activation: relu` or the bare shorthands `relu`, `softmax`, `sigmoid`, `tanh`, `linear`. */
export const activationOp: OpDef<"activation"> = {
  op: "activation",
  kerasClass: "Activation",
  doc: "An element-wise activation (softmax over the last axis).",
  attrs: { properties: { activation: activationSchema }, required: ["activation"] },
  shorthand: "activation",
  arity: { min: 1, max: 1 },
  normalize: (raw) => ({ activation: raw["activation"] as never }),
  infer: (inputs) => ({ ok: true, shape: inputs[0]! }),
  params: () => [],
};
