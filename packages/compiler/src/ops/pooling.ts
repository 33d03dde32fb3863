/** MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D. */
import type { Shape } from "../tensor.js";
import {
  imageInput,
  isError,
  paddingSchema,
  positivePair,
  toPair,
  windowShape,
  withDefaults,
} from "./common.js";
import type { OpDef, Padding, Pair } from "./op-def.js";
import { noMacs } from "./op-def.js";

/** Attributes of `max_pooling2d` and `average_pooling2d`; `strides` default to `pool_size`. */
export interface WindowPoolingAttrs {
  readonly pool_size: Pair;
  readonly strides: Pair;
  readonly padding: Padding;
}

const windowAttrs = {
  properties: { pool_size: positivePair, strides: positivePair, padding: paddingSchema },
};

// `strides` has no entry: it defaults to `pool_size`.
const windowDefaults = { pool_size: 2, padding: "valid" } as const;

function normalizeWindow(raw: { readonly [attr: string]: unknown }): WindowPoolingAttrs {
  const a = withDefaults(raw, windowDefaults);
  const pool = toPair(a["pool_size"], [2, 2]);
  return {
    pool_size: pool,
    strides: toPair(a["strides"], pool),
    padding: a["padding"] as Padding,
  };
}

function inferWindow(op: string, inputs: readonly Shape[], a: WindowPoolingAttrs) {
  const x = imageInput(inputs, op);
  if (isError(x)) return x;
  const hw = windowShape(op, x as Shape, a.pool_size, a.strides, a.padding, [1, 1], "pool_size");
  if (isError(hw)) return hw;
  const [h, w] = hw as Pair;
  return { ok: true, shape: [h, w, (x as Shape)[2]!] } as const;
}

/** Max and average pooling differ only in the reduction: same attributes, shapes and defaults. */
function windowPoolingOp<K extends "max_pooling2d" | "average_pooling2d">(
  op: K,
  kerasClass: string,
  doc: string,
): OpDef<K, WindowPoolingAttrs> {
  return {
    op,
    kerasClass,
    doc,
    attrs: windowAttrs,
    defaults: windowDefaults,
    shorthand: "pool_size",
    arity: { min: 1, max: 1 },
    normalize: normalizeWindow,
    infer: (inputs, a) => inferWindow(op, inputs, a),
    params: () => [],
    macs: noMacs,
  };
}

/** `max_pooling2d: { pool_size: 2, strides: pool_size, padding: valid }`. */
export const maxPooling2dOp = windowPoolingOp(
  "max_pooling2d",
  "MaxPooling2D",
  "Max pooling over height and width; strides default to pool_size.",
);

/** `average_pooling2d: { pool_size: 2, strides: pool_size, padding: valid }` (padding excluded from the mean). */
export const averagePooling2dOp = windowPoolingOp(
  "average_pooling2d",
  "AveragePooling2D",
  "Average pooling over height and width; strides default to pool_size.",
);

/** Attributes of `global_average_pooling2d` and `global_max_pooling2d` (Keras's names). */
export interface GlobalPooling2dAttrs {
  /**
   * Keep height and width as size-1 axes: `[1, 1, c]` instead of `[c]`. Absent means false: left
   * out of the IR at its default, so specs written before `keepdims` keep their canonical form.
   */
  readonly keepdims?: true;
}

const globalDefaults = { keepdims: false } as const;

/** Average and max global pooling differ only in the reduction. */
function globalPoolingOp<K extends "global_average_pooling2d" | "global_max_pooling2d">(
  op: K,
  kerasClass: string,
  doc: string,
): OpDef<K, GlobalPooling2dAttrs> {
  return {
    op,
    kerasClass,
    doc,
    attrs: { properties: { keepdims: { type: "boolean" } } },
    defaults: globalDefaults,
    arity: { min: 1, max: 1 },
    normalize: (raw) =>
      withDefaults(raw, globalDefaults)["keepdims"] === true ? { keepdims: true } : {},
    infer(inputs, a) {
      const x = imageInput(inputs, op);
      if (isError(x)) return x;
      const c = (x as Shape)[2]!;
      return { ok: true, shape: a.keepdims ? [1, 1, c] : [c] };
    },
    params: () => [],
    macs: noMacs,
  };
}

/** `global_average_pooling2d: { keepdims: false }`: mean over height and width, `[h, w, c]` to `[c]`. */
export const globalAveragePooling2dOp = globalPoolingOp(
  "global_average_pooling2d",
  "GlobalAveragePooling2D",
  "Mean over height and width: [h, w, c] -> [c] ([1, 1, c] with keepdims).",
);

/** `global_max_pooling2d: { keepdims: false }`: max over height and width, `[h, w, c]` to `[c]`. */
export const globalMaxPooling2dOp = globalPoolingOp(
  "global_max_pooling2d",
  "GlobalMaxPooling2D",
  "Max over height and width: [h, w, c] -> [c] ([1, 1, c] with keepdims).",
);
