/** MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D. */
import type { Shape } from "../ir.js";
import {
  attr,
  imageInput,
  isError,
  paddingSchema,
  positivePair,
  toPair,
  windowShape,
} from "./common.js";
import type { OpAttrs, OpDef, Pair } from "./types.js";

const windowAttrs = {
  properties: { pool_size: positivePair, strides: positivePair, padding: paddingSchema },
};

function normalizeWindow(raw: { readonly [attr: string]: unknown }): OpAttrs["max_pooling2d"] {
  const pool = toPair(raw["pool_size"], [2, 2]);
  return {
    pool_size: pool,
    strides: toPair(raw["strides"], pool),
    padding: attr(raw, "padding", "valid"),
  };
}

function inferWindow(op: string, inputs: readonly Shape[], a: OpAttrs["max_pooling2d"]) {
  const x = imageInput(inputs, op);
  if (isError(x)) return x;
  const hw = windowShape(op, x as Shape, a.pool_size, a.strides, a.padding, [1, 1], "pool_size");
  if (isError(hw)) return hw;
  const [h, w] = hw as Pair;
  return { ok: true, shape: [h, w, (x as Shape)[2]!] } as const;
}

/** `max_pooling2d: { pool_size: 2, strides: pool_size, padding: valid }`. */
export const maxPooling2dOp: OpDef<"max_pooling2d"> = {
  op: "max_pooling2d",
  kerasClass: "MaxPooling2D",
  doc: "Max pooling over height and width; strides default to pool_size.",
  attrs: windowAttrs,
  shorthand: "pool_size",
  arity: { min: 1, max: 1 },
  normalize: normalizeWindow,
  infer: (inputs, a) => inferWindow("max_pooling2d", inputs, a),
  params: () => [],
};

/** `average_pooling2d: { pool_size: 2, strides: pool_size, padding: valid }` (padding excluded from the mean). */
export const averagePooling2dOp: OpDef<"average_pooling2d"> = {
  op: "average_pooling2d",
  kerasClass: "AveragePooling2D",
  doc: "Average pooling over height and width; strides default to pool_size.",
  attrs: windowAttrs,
  shorthand: "pool_size",
  arity: { min: 1, max: 1 },
  normalize: normalizeWindow,
  infer: (inputs, a) => inferWindow("average_pooling2d", inputs, a),
  params: () => [],
};

/** `global_average_pooling2d`: mean over height and width, `[h, w, c]` to `[c]`. */
export const globalAveragePooling2dOp: OpDef<"global_average_pooling2d"> = {
  op: "global_average_pooling2d",
  kerasClass: "GlobalAveragePooling2D",
  doc: "Mean over height and width: [h, w, c] -> [c].",
  attrs: { properties: {} },
  arity: { min: 1, max: 1 },
  normalize: () => ({}),
  infer(inputs) {
    const x = imageInput(inputs, "global_average_pooling2d");
    if (isError(x)) return x;
    return { ok: true, shape: [(x as Shape)[2]!] };
  },
  params: () => [],
};
