/** Schema fragments and shape arithmetic shared by the op families (Keras semantics). */
import type { Shape } from "../tensor.js";
import type { InferResult, JsonSchema, OpDef, Padding, Pair } from "./op-def.js";

/** A positive integer. */
export const positiveInt: JsonSchema = { type: "integer", minimum: 1 };

/** A non-negative integer. */
export const nonNegativeInt: JsonSchema = { type: "integer", minimum: 0 };

/** A positive integer or a `[height, width]` pair of them. */
export const positivePair: JsonSchema = {
  oneOf: [positiveInt, { type: "array", items: positiveInt, minItems: 2, maxItems: 2 }],
};

/** A non-negative integer or a `[height, width]` pair of them. */
export const nonNegativePair: JsonSchema = {
  oneOf: [nonNegativeInt, { type: "array", items: nonNegativeInt, minItems: 2, maxItems: 2 }],
};

/**
 * `3`, `[h, w]` or `[[top, bottom], [left, right]]` non-negative pixels, as Keras's
 * ZeroPadding2D and Cropping2D take them.
 */
export const sidesSchema: JsonSchema = {
  oneOf: [
    nonNegativeInt,
    { type: "array", items: nonNegativeInt, minItems: 2, maxItems: 2 },
    {
      type: "array",
      items: { type: "array", items: nonNegativeInt, minItems: 2, maxItems: 2 },
      minItems: 2,
      maxItems: 2,
    },
  ],
};

/** Expands a {@link sidesSchema} value to `[[top, bottom], [left, right]]`. */
export function toSides(value: unknown): readonly [Pair, Pair] {
  if (typeof value === "number") return [[value, value] as Pair, [value, value] as Pair];
  const [a, b] = value as unknown[];
  if (typeof a === "number") return [[a, a] as Pair, [b as number, b as number] as Pair];
  const [t, bt] = a as number[];
  const [l, r] = b as number[];
  return [[t!, bt!] as Pair, [l!, r!] as Pair];
}

/** `valid` or `same`. */
export const paddingSchema: JsonSchema = { enum: ["valid", "same"] };

/** Expands `3` to `[3, 3]`; passes pairs through. */
export function toPair(value: unknown, fallback: Pair): Pair {
  if (value === undefined) return fallback;
  if (typeof value === "number") return [value, value];
  const [h, w] = value as number[];
  return [h!, w!];
}

/** `raw` with an op's `defaults` filled in where an attribute is absent. */
export function withDefaults(
  raw: { readonly [attr: string]: unknown },
  defaults: { readonly [attr: string]: unknown },
): { readonly [attr: string]: unknown } {
  const out: { [attr: string]: unknown } = { ...defaults };
  for (const [key, value] of Object.entries(raw)) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * An op whose attributes need no normalising beyond their defaults: its `normalize` takes every
 * attribute the schema declares, in the schema's order (the order of the IR and of `rsc expand`),
 * with its default filled in.
 */
export function attrsAsWritten<K extends string, A>(
  def: Omit<OpDef<K, A>, "normalize">,
): OpDef<K, A> {
  const names = Object.keys(def.attrs.properties);
  return {
    ...def,
    normalize(raw) {
      const a = withDefaults(raw, def.defaults);
      return Object.fromEntries(names.map((name) => [name, a[name]])) as A;
    },
  };
}

/**
 * Output size of a sliding window along one axis, as Keras computes it:
 * `valid`: floor((in - window) / stride) + 1; `same`: ceil(in / stride).
 * Returns undefined when a `valid` window is larger than the input.
 */
export function windowOutput(
  input: number,
  window: number,
  stride: number,
  padding: Padding,
): number | undefined {
  if (padding === "same") return Math.ceil(input / stride);
  if (window > input) return undefined;
  return Math.floor((input - window) / stride) + 1;
}

/**
 * Padding TensorFlow applies for `same` along one axis: `[before, after]`, the extra pixel at the
 * end (ONNX's SAME_UPPER). Zero for `valid`.
 */
export function samePadding(input: number, window: number, stride: number, padding: Padding): Pair {
  if (padding === "valid") return [0, 0];
  const out = Math.ceil(input / stride);
  const total = Math.max((out - 1) * stride + window - input, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Checks that the single input is an NHWC image and returns it, or an error result. */
export function imageInput(inputs: readonly Shape[], op: string): Shape | InferResult {
  const x = inputs[0]!;
  if (x.length !== 3) {
    return {
      ok: false,
      code: "RSC304",
      message: `${op} needs an image input [height, width, channels], got [${x.join(", ")}]`,
      attr: "from",
    };
  }
  return x;
}

/** Spatial output of a 2-D window op, or a located error. */
export function windowShape(
  op: string,
  x: Shape,
  window: Pair,
  strides: Pair,
  padding: Padding,
  dilation: Pair = [1, 1],
  windowAttr = "kernel_size",
): readonly [number, number] | InferResult {
  const effective: Pair = [(window[0] - 1) * dilation[0] + 1, (window[1] - 1) * dilation[1] + 1];
  const h = windowOutput(x[0]!, effective[0], strides[0], padding);
  const w = windowOutput(x[1]!, effective[1], strides[1], padding);
  if (h === undefined || w === undefined) {
    return {
      ok: false,
      code: "RSC301",
      message: `${op} window ${effective[0]}x${effective[1]} is larger than its input ${x[0]}x${x[1]} with 'valid' padding`,
      attr: windowAttr,
    };
  }
  return [h, w];
}

/** True when a value is an InferResult (an error) rather than a shape or pair. */
export function isError(value: unknown): value is InferResult & { ok: false } {
  return typeof value === "object" && value !== null && "ok" in value;
}
