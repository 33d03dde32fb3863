/**
 * What a picture says about one layer, in words a Keras user reads: its attributes under their
 * spec (Keras) names with values as `rsc diff` prints them (`kernel_size 3x3`), its output shape
 * as Keras prints it, and its counts (measures.ts). Boxes show the attributes that tell layers
 * apart; tooltips show every attribute.
 */
import { type Node, OPS, type Shape } from "@rsc/compiler";

/** A shape as Keras prints it, batch first: `(None, 64, 64, 3)`. */
export function kerasShape(shape: Shape): string {
  return `(None, ${shape.join(", ")})`;
}

/**
 * Shown in a box even at their default: a window, how it moves, and the extents a layer pads,
 * crops or repeats by say what the layer does (`pool_size 2x2` is as telling as `3x3`).
 */
const ALWAYS_SHOWN = new Set(["pool_size", "strides", "padding", "size", "cropping"]);

/** Numeric tuples that are extents, printed `3x3` (other lists print `[2, 1, 3]`). */
const EXTENTS = new Set([
  "kernel_size",
  "strides",
  "dilation_rate",
  "pool_size",
  "size",
  "output_padding",
  "target_shape",
  "shape",
]);

/** At most 6 significant digits (`0.00392157`), for boxes; tooltips print the exact value. */
function shortNumber(n: number): string {
  return String(Number(n.toPrecision(6)));
}

const isNumbers = (v: unknown): v is readonly number[] =>
  Array.isArray(v) && v.every((x) => typeof x === "number");

/**
 * An attribute's value as text: extents `3x3`, a symmetric `[[t, b], [l, r]]` padding `3x3`
 * (Keras's `padding=(3, 3)`), an asymmetric one `((0, 1), (0, 1))`, other lists `[2, 1, 3]`.
 */
export function attrValueText(attr: string, value: unknown, exact = true): string {
  const num = (n: number) => (exact ? String(n) : shortNumber(n));
  if (typeof value === "number") return num(value);
  if (typeof value === "string") return value;
  if (isNumbers(value)) {
    return EXTENTS.has(attr) ? value.map(num).join("x") : `[${value.map(num).join(", ")}]`;
  }
  if (Array.isArray(value) && value.length === 2 && value.every((p) => isNumbers(p))) {
    const [[t, b], [l, r]] = value as [number[], number[]];
    if (t === b && l === r) return `${num(t!)}x${num(l!)}`;
    return `(${(value as number[][]).map((p) => `(${p.map(num).join(", ")})`).join(", ")})`;
  }
  if (Array.isArray(value))
    return `[${value.map((v) => (v === null ? "None" : String(v))).join(", ")}]`;
  return String(value);
}

/** True when `value` is the default `fallback` (a scalar default fills a pair: `strides: 1`). */
function isDefault(value: unknown, fallback: unknown): boolean {
  if (JSON.stringify(value) === JSON.stringify(fallback)) return true;
  return Array.isArray(value) && value.flat(2).every((v) => v === fallback);
}

/** A node's attributes as the op's schema lists them (internal ones, like a folded padding, left out). */
function schemaAttrs(node: Node): [attr: string, value: unknown][] {
  const attrs = node.attrs as Readonly<Record<string, unknown>>;
  return Object.keys(OPS[node.op].attrs.properties)
    .filter((attr) => Object.hasOwn(attrs, attr))
    .map((attr) => [attr, attrs[attr]]);
}

/**
 * The attributes a box shows, as `kernel_size 3x3`: the required ones, the window ones
 * ({@link ALWAYS_SHOWN}), and any other set to something else than its default. An input's shape is its output shape,
 * shown anyway.
 */
export function keyAttrs(node: Node): string[] {
  if (node.op === "input") return [];
  const def = OPS[node.op];
  const required = new Set(def.attrs.required ?? []);
  return schemaAttrs(node)
    .filter(
      ([attr, value]) =>
        required.has(attr) ||
        ALWAYS_SHOWN.has(attr) ||
        !Object.hasOwn(def.defaults, attr) ||
        !isDefault(value, def.defaults[attr]),
    )
    .map(([attr, value]) => `${attr} ${attrValueText(attr, value, false)}`);
}

/** Every attribute, exact, one `attr: value` line each (for tooltips). */
export function allAttrs(node: Node): string[] {
  return schemaAttrs(node).map(([attr, value]) => `${attr}: ${attrValueText(attr, value)}`);
}

/** `stem: Conv2D`. */
export function layerTitle(node: Node): string {
  return `${node.name}: ${OPS[node.op].kerasClass}`;
}

/** Joins parts with `, ` into lines of at most `width` characters (a longer part has its own line). */
export function wrapParts(parts: readonly string[], width = 34): string[] {
  const lines: string[] = [];
  for (const part of parts) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 2 + part.length <= width) {
      lines[lines.length - 1] = `${last}, ${part}`;
    } else lines.push(part);
  }
  // Every line but the last ends with the comma that joined it to the next.
  return lines.map((line, i) => (i < lines.length - 1 ? `${line},` : line));
}
