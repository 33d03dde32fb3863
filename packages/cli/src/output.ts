/**
 * Output conventions: human text goes to stderr (results that are the command's product, like a
 * summary table, go to stdout); `--json` prints exactly one envelope on stdout. Colour only on a
 * TTY, never under NO_COLOR or with --no-color.
 */
import { readFileSync } from "node:fs";
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

/** Writes a line to stderr. */
export function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Writes text to stdout. */
export function printOut(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
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
    out.push(`${n === d.line ? ">" : " "} ${String(n).padStart(width)} | ${lines[n - 1]}`);
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
    const text = formatDiagnostic(d);
    const colored = options.color
      ? text.replace(/ (error|warning|note) (RSC\d+):/, (_m, sev: string, code: string) => {
          const paint = sev === "error" ? style.red : sev === "warning" ? style.yellow : style.cyan;
          return ` ${paint(`${sev} ${code}`, true)}:`;
        })
      : text;
    say(colored);
    if (frames) {
      if (!sources.has(d.file)) sources.set(d.file, readText(d.file));
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

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
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
