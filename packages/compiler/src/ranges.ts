/**
 * Ranges for `stage: { over: ... }`: `a..f` (letters), `1..22` (ints), `b1..b22` (prefix and
 * numbers), or a list mixing single items and ranges. Ranges are counted before they are
 * unrolled, so `1..1000000000` is refused in microseconds.
 */

/** Most items one range (or repeat) may produce. */
export const MAX_RANGE_ITEMS = 10_000;

/** A range item: a letter or prefixed name (string) or an int. */
export type RangeItem = string | number;

/** The outcome of expanding a range: items, or why not (RSC214 bad range, RSC210 too large). */
export type RangeResult =
  | { readonly ok: true; readonly items: readonly RangeItem[] }
  | { readonly ok: false; readonly code: "RSC210" | "RSC214"; readonly message: string };

const LETTERS = /^([a-zA-Z])\.\.([a-zA-Z])$/;
const NUMBERS = /^(-?\d+)\.\.(-?\d+)$/;
const PREFIXED = /^([A-Za-z_][A-Za-z_]*?)(\d+)\.\.([A-Za-z_][A-Za-z_]*?)(\d+)$/;

/** Counts one range term without unrolling it; a term without `..` is one item. */
function termSize(term: RangeItem): number | RangeResult {
  if (typeof term === "number" || !term.includes("..")) return 1;
  const bad = (why: string): RangeResult => ({
    ok: false,
    code: "RSC214",
    message: `bad range '${term}': ${why}`,
  });
  let m = LETTERS.exec(term);
  if (m) {
    const [a, b] = [m[1]!, m[2]!];
    if (a < "a" !== b < "a") return bad("both ends must be lowercase or both uppercase");
    if (a > b) return bad("the range runs backwards");
    return b.charCodeAt(0) - a.charCodeAt(0) + 1;
  }
  m = NUMBERS.exec(term);
  if (m) {
    const [a, b] = [Number(m[1]), Number(m[2])];
    if (a > b) return bad("the range runs backwards");
    return b - a + 1;
  }
  m = PREFIXED.exec(term);
  if (m) {
    if (m[1] !== m[3]) return bad(`both ends need the same prefix ('${m[1]}' vs '${m[3]}')`);
    const [a, b] = [Number(m[2]), Number(m[4])];
    if (a > b) return bad("the range runs backwards");
    return b - a + 1;
  }
  return bad("write `a..f`, `1..22` or `b1..b22`");
}

function unroll(term: RangeItem): RangeItem[] {
  if (typeof term === "number" || !term.includes("..")) return [term];
  let m = LETTERS.exec(term);
  if (m) {
    const [a, b] = [m[1]!.charCodeAt(0), m[2]!.charCodeAt(0)];
    return Array.from({ length: b - a + 1 }, (_, i) => String.fromCharCode(a + i));
  }
  m = NUMBERS.exec(term);
  if (m) {
    const a = Number(m[1]);
    return Array.from({ length: Number(m[2]) - a + 1 }, (_, i) => a + i);
  }
  m = PREFIXED.exec(term)!;
  const a = Number(m[2]);
  return Array.from({ length: Number(m[4]) - a + 1 }, (_, i) => `${m![1]}${a + i}`);
}

/** Expands a range term or a list of terms, counting first. */
export function expandRange(
  spec: RangeItem | readonly RangeItem[],
  limit = MAX_RANGE_ITEMS,
): RangeResult {
  const terms = Array.isArray(spec) ? spec : [spec as RangeItem];
  let count = 0;
  for (const term of terms) {
    const size = termSize(term);
    if (typeof size !== "number") return size;
    count += size;
  }
  if (count > limit) {
    return {
      ok: false,
      code: "RSC210",
      message: `the range has ${count} items, more than the limit of ${limit}`,
    };
  }
  return { ok: true, items: terms.flatMap(unroll) };
}
