/** The model input layer. */
import type { Shape } from "../tensor.js";
import { positiveInt } from "./common.js";
import type { OpDef } from "./op-def.js";
import { noMacs } from "./op-def.js";

/** Attributes of `input`: `shape` excludes the batch dimension (NHWC for images). */
export interface InputAttrs {
  readonly shape: Shape;
}

/** `input: { shape: [64, 64, 3] }`: one model input, batch dimension excluded. */
export const inputOp: OpDef<"input", InputAttrs> = {
  op: "input",
  kerasClass: "InputLayer",
  doc: "A model input; `shape` excludes the batch dimension (NHWC for images).",
  attrs: {
    properties: { shape: { type: "array", items: positiveInt, minItems: 1, maxItems: 4 } },
    required: ["shape"],
  },
  defaults: {},
  shorthand: "shape",
  arity: { min: 0, max: 0 },
  normalize: (raw) => ({ shape: [...(raw["shape"] as number[])] }),
  infer: (_inputs, attrs) => ({ ok: true, shape: attrs.shape }),
  params: () => [],
  macs: noMacs,
};
