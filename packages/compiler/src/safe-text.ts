/**
 * Text from a spec (names, values, paths, parser messages that quote them) ends up in diagnostics
 * that a reviewer reads in a terminal or a CI log. {@link safeText} makes such text inert: it
 * cannot move the cursor, set a window title (ESC/OSC sequences), clear the screen, forge a
 * second diagnostic line, or reorder what is shown (bidirectional controls). Every diagnostic
 * passes through it where it is created (`locatedError`), so text and JSON output both get it.
 */

/**
 * Longest text kept in one diagnostic field, in UTF-16 code units; longer text keeps its start
 * and end around a note of how much was left out (a name of millions of characters stays one
 * readable line).
 */
export const MAX_DIAGNOSTIC_TEXT = 1_000;

/**
 * What is escaped: C0 controls (newline, tab, ESC, BEL, ...), DEL, C1 controls (U+0080–U+009F,
 * which include the 8-bit CSI and OSC), the Unicode line and paragraph separators, the
 * bidirectional controls (U+200E/F, U+202A–U+202E, U+2066–U+2069), the byte-order mark, and
 * lone surrogates (which a terminal shows as nothing or as garbage).
 */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `\n`, `\r`, `\t`, or `\uXXXX` for any other unsafe code unit. */
function escapeUnit(c: string): string {
  return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** Cuts `text` at `at` without splitting a surrogate pair. */
function cut(text: string, at: number, fromEnd: boolean): string {
  if (!fromEnd) {
    const end = /[\ud800-\udbff]/.test(text[at - 1] ?? "") ? at - 1 : at;
    return text.slice(0, end);
  }
  const start = text.length - at;
  return text.slice(/[\udc00-\udfff]/.test(text[start] ?? "") ? start + 1 : start);
}

/**
 * `text` safe to print on one line: unsafe characters written as escapes (`\n`, `\u001b`), and,
 * past `max` code units, the middle left out (`… (12,345 characters left out) …`).
 */
export function safeText(text: string, max: number = MAX_DIAGNOSTIC_TEXT): string {
  let out = text;
  if (out.length > max) {
    const head = Math.ceil(max * 0.7);
    const tail = max - head;
    const kept = cut(out, head, false);
    const end = cut(out, tail, true);
    const omitted = out.length - kept.length - end.length;
    out = `${kept}… (${omitted.toLocaleString("en-US")} characters left out) …${end}`;
  }
  return out.replace(UNSAFE, escapeUnit);
}
