/** ZeroPadding2D. */
import type { Shape } from "../tensor.js";
import { imageInput, isError, sidesSchema, toSides, withDefaults } from "./common.js";
import type { OpDef, Pair } from "./op-def.js";
import { noMacs } from "./op-def.js";

/** Attributes of `zero_padding2d`: `[[top, bottom], [left, right]]` pixels. */
export interface ZeroPadding2dAttrs {
  readonly padding: readonly [Pair, Pair];
}

const zeroPadding2dDefaults = { padding: 1 } as const;

/** `zero_padding2d: { padding: 3 | [h, w] | [[top, bottom], [left, right]] }`. */
export const zeroPadding2dOp: OpDef<"zero_padding2d", ZeroPadding2dAttrs> = {
  op: "zero_padding2d",
  kerasClass: "ZeroPadding2D",
  doc: "Pads height and width with zeros: `padding: 3`, `[h, w]` or `[[top, bottom], [left, right]]`.",
  attrs: { properties: { padding: sidesSchema } },
  defaults: zeroPadding2dDefaults,
  shorthand: "padding",
  arity: { min: 1, max: 1 },
  normalize: (raw) => ({ padding: toSides(withDefaults(raw, zeroPadding2dDefaults)["padding"]) }),
  infer(inputs, attrs) {
    const x = imageInput(inputs, "zero_padding2d");
    if (isError(x)) return x;
    const [[top, bottom], [left, right]] = attrs.padding;
    const s = x as Shape;
    return { ok: true, shape: [s[0]! + top + bottom, s[1]! + left + right, s[2]!] };
  },
  params: () => [],
  macs: noMacs,
};
