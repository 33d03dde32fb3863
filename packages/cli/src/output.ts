/**
 * Output conventions: human text goes to stderr (results that are the command's product, like a
 * summary table, go to stdout); `--json` prints exactly one envelope on stdout. Colour only on a
 * TTY, never under NO_COLOR or with --no-color.
 *
 * Nothing printed carries a raw control character from user input (a path, a spec line, a layer
 * name): a terminal would obey it (ESC/OSC sequences retitle the window, rewrite the clipboard,
 * hide text; CR and U+2028 forge lines). Two layers, both here:
 * - {@link printable} escapes a user value whole (newlines too) where a message is built;
 * - every write ({@link say}, {@link printOut}, commander's output) passes through
 *   {@link terminalSafe}, which escapes whatever control character is left except the newlines
 *   and tabs the CLI's own multi-line output is made of, and the colour (SGR) sequences of
 *   {@link style}.
 * The escapes are JSON's (`\n`, `\u001b`), so a JSON document stays valid JSON meaning the same.
 */
import { readFileSync, statSync } from "node:fs";
import { type Diagnostic, formatDiagnostic, sortDiagnostics } from "@rsc/compiler";

/** Output settings shared by every command. */
export interface OutputOptions {
  /** Print one JSON envelope on stdout instead of human text. */
  readonly json: boolean;
  /** Use ANSI colour on stderr. */
  readonly color: boolean;
}

/** Resolves colour: only on a TTY, never with NO_COLOR set or `--no-color`. */
export function useColor(
  flag: boolean | undefined,
  stream: NodeJS.WriteStream = process.stderr,
): boolean {
  if (flag === false) return false;
  if (process.env["NO_COLOR"] !== undefined && process.env["NO_COLOR"] !== "") return false;
  if (process.env["FORCE_COLOR"] !== undefined && process.env["FORCE_COLOR"] !== "0") return true;
  return stream.isTTY === true;
}

/**
 * Characters never printed raw: C0 controls, DEL, C1 controls (U+0080..U+009F, which some
 * terminals read as CSI/OSC), the line and paragraph separators U+2028/U+2029, and the bidi
 * embedding, override and isolate controls (U+202A..U+202E, U+2066..U+2069: "Trojan Source").
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, plus what the CLI itself prints: SGR colour sequences, newlines and tabs, kept. */
const UNSAFE_BUT_OURS =
  /\u001b\[[0-9;]*m|[\n\t]|[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeChar(c: string): string {
  return NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * A user value (path, name, spec text) made safe to print on one line: every character of
 * {@link UNSAFE} becomes a JSON-style escape (`\n`, `\u001b`). Escaped text has no such
 * character left, so escaping twice changes nothing.
 */
export function printable(value: string): string {
  return value.replace(UNSAFE, escapeChar);
}

/**
 * Text the CLI formatted (possibly many lines, possibly coloured) made safe to print: like
 * {@link printable}, but the newlines, tabs and SGR colour sequences are kept.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_BUT_OURS, (m) =>
    m.length > 1 || m === "\n" || m === "\t" ? m : escapeChar(m),
  );
}

const ansi = (code: number) => (text: string, on: boolean) =>
  on ? `\u001b[${code}m${text}\u001b[0m` : text;
/** ANSI styles that turn into plain text when colour is off. */
export const style = {
  red: ansi(31),
  yellow: ansi(33),
  green: ansi(32),
  cyan: ansi(36),
  bold: ansi(1),
  dim: ansi(2),
};

/** Writes a line to stderr (through {@link terminalSafe}). */
export function say(text: string): void {
  process.stderr.write(`${terminalSafe(text)}\n`);
}

/** Writes text to stdout (through {@link terminalSafe}). */
export function printOut(text: string): void {
  const safe = terminalSafe(text);
  process.stdout.write(safe.endsWith("\n") ? safe : `${safe}\n`);
}

/** A code frame: the diagnostic's line with a caret under its column, and a line either side. */
export function codeFrame(d: Diagnostic, source: string | undefined): string | undefined {
  if (source === undefined) return undefined;
  const lines = source.split(/\r?\n/);
  if (d.line < 1 || d.line > lines.length) return undefined;
  const from = Math.max(1, d.line - 1);
  const to = Math.min(lines.length, d.line + 1);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    // The spec's own text, so its control characters are escaped (the caret may then drift).
    out.push(
      `${n === d.line ? ">" : " "} ${String(n).padStart(width)} | ${printable(lines[n - 1]!)}`,
    );
    if (n === d.line)
      out.push(`  ${" ".repeat(width)} | ${" ".repeat(Math.max(0, d.column - 1))}^`);
  }
  return out.join("\n");
}

/** Prints diagnostics to stderr in file order, with code frames when stderr is a TTY. */
export function printDiagnostics(diagnostics: readonly Diagnostic[], options: OutputOptions): void {
  const sources = new Map<string, string | undefined>();
  const frames = process.stderr.isTTY === true;
  for (const d of sortDiagnostics(diagnostics)) {
    const text = formatDiagnostic(printableDiagnostic(d));
    const colored = options.color
      ? text.replace(/ (error|warning|note) (RSC\d+):/, (_m, sev: string, code: string) => {
          const paint = sev === "error" ? style.red : sev === "warning" ? style.yellow : style.cyan;
          return ` ${paint(`${sev} ${code}`, true)}:`;
        })
      : text;
    say(colored);
    if (frames) {
      if (!sources.has(d.file)) sources.set(d.file, frameSource(d.file));
      const frame = codeFrame(d, sources.get(d.file));
      if (frame !== undefined) say(frame);
    }
  }
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.filter((d) => d.severity === "warning").length;
  if (errors + warnings > 0) {
    say(
      `${errors} error${errors === 1 ? "" : "s"}${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}`,
    );
  }
}

/** A diagnostic whose texts (file names, message, hint, notes) are {@link printable}. */
export function printableDiagnostic(d: Diagnostic): Diagnostic {
  return {
    ...d,
    file: printable(d.file),
    message: printable(d.message),
    ...(d.hint === undefined ? {} : { hint: printable(d.hint) }),
    ...(d.related === undefined
      ? {}
      : {
          related: d.related.map((r) => ({
            ...r,
            file: printable(r.file),
            message: printable(r.message),
          })),
        }),
  };
}

/** Largest file a code frame is read from: a frame is for a spec or a JSON file, not weights. */
const MAX_FRAME_SOURCE = 4 * 2 ** 20;

/**
 * The text of `file` for a code frame, or undefined (no frame) when it cannot be read, is larger
 * than {@link MAX_FRAME_SOURCE}, or is not text (a NUL byte or invalid UTF-8: an HDF5 data or
 * weights file, whose bytes must never reach the terminal).
 */
export function frameSource(file: string): string | undefined {
  try {
    if (statSync(file).size > MAX_FRAME_SOURCE) return undefined;
    const bytes = readFileSync(file);
    if (bytes.includes(0)) return undefined;
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The one JSON envelope a `--json` command prints on stdout. */
export interface JsonEnvelope<T> {
  /** The command that ran, e.g. `check`. */
  readonly command: string;
  /** True when the command succeeded (exit 0). */
  readonly ok: boolean;
  readonly diagnostics: readonly Diagnostic[];
  /** The command's result when it has one. */
  readonly result?: T;
}

/** Prints a JSON envelope on stdout. */
export function printJson<T>(envelope: JsonEnvelope<T>): void {
  printOut(
    JSON.stringify({ ...envelope, diagnostics: sortDiagnostics(envelope.diagnostics) }, null, 2),
  );
}
