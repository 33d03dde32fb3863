/** How diff values read in text: shapes `64x64x3`, counts `23,587,712`, deltas `+1,234 (+5.2%)`. */
import type { Shape } from "../tensor.js";

/** A shape (batch excluded) as `64x64x3`; a scalar as `()`. */
export function formatShape(shape: Shape): string {
  return shape.length === 0 ? "()" : shape.join("x");
}

/** An attribute value: numeric tuples as `3x3`, strings bare, anything else as compact JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number")) {
    return value.join("x");
  }
  return JSON.stringify(value);
}

/** An integer with thousands separators: `23,587,712`. */
export function formatCount(n: number): string {
  const sign = n < 0 ? "-" : "";
  return sign + String(Math.abs(Math.round(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A signed integer with separators: `+1,234`, `-56`, `0`. */
export function formatDelta(n: number): string {
  return n > 0 ? `+${formatCount(n)}` : formatCount(n);
}

/** A signed percentage: `+80.9%`, `+0.03%` (two decimals under 1%); `n/a` for null. */
export function formatPercent(p: number | null): string {
  if (p === null) return "n/a";
  // Small changes keep two decimals so that +0.03% does not read as no change.
  const s = Math.abs(p).toFixed(Math.abs(p) < 1 ? 2 : 1);
  const zero = Number(s) === 0;
  return `${p > 0 && !zero ? "+" : p < 0 && !zero ? "-" : ""}${s}%`;
}

/** `a, b, c` for short lists, `a, b, c, …, z (26)` for long ones. */
export function formatNameList(names: readonly string[], head = 3): string {
  if (names.length <= head + 2) return names.join(", ");
  return `${names.slice(0, head).join(", ")}, …, ${names.at(-1)}`;
}

/** `1 layer`, `2 layers`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 ? word : many}`;
}

/** Longest common suffix of some strings. */
export function commonSuffix(words: readonly string[]): string {
  if (words.length === 0) return "";
  let suffix = words[0]!;
  for (const w of words.slice(1)) {
    let i = 0;
    while (i < suffix.length && i < w.length && suffix.at(-1 - i) === w.at(-1 - i)) i++;
    suffix = i === 0 ? "" : suffix.slice(-i);
  }
  return suffix;
}

/** The differing middle parts of two names: `bn2a_x` -> `bn_2a_x` gives `{ old: "", new: "_" }`. */
export function renamePattern(oldName: string, newName: string): { old: string; new: string } {
  let p = 0;
  while (p < oldName.length && p < newName.length && oldName[p] === newName[p]) p++;
  let s = 0;
  while (
    s < oldName.length - p &&
    s < newName.length - p &&
    oldName.at(-1 - s) === newName.at(-1 - s)
  ) {
    s++;
  }
  return { old: oldName.slice(p, oldName.length - s), new: newName.slice(p, newName.length - s) };
}
