/**
 * `rsc check <spec>...`: compiles every spec and reports every diagnostic of every file.
 * Exit 0 when all are clean, 1 when any has errors, 2 when a file cannot be read (the other
 * files are still checked, so one run reports everything).
 */
import {
  compileFile,
  type Diagnostic,
  formatCount,
  graphParamCounts,
  hasErrors,
} from "@rsc/compiler";
import type { Command } from "commander";
import {
  action,
  compileOptions,
  outputOptions,
  parseSet,
  requireReadable,
  type SpecFlags,
  specRoot,
  withSpecFlags,
} from "../command-kit.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { printable, printDiagnostics, printJson, say, style } from "../output.js";

/** What `rsc check --json` reports for one file. */
export interface CheckedFile {
  /** The path as given on the command line. */
  readonly file: string;
  /** True when the file compiled without errors (warnings allowed). */
  readonly ok: boolean;
  /** Why the file could not be read (exit 2); absent when it was compiled. */
  readonly error?: string;
  /** Number of layers (IR nodes, inputs included), when it compiled. */
  readonly layers?: number;
  /** Total parameter count (trainable + non-trainable), when it compiled. */
  readonly params?: number;
  /** sha256 of the graph's canonical JSON (same architecture, same hash), when it compiled. */
  readonly hash?: string;
  /** For a block library (checked on its own, see the compiler's library-check.ts): its blocks. */
  readonly library?: { readonly blocks: readonly string[] };
  /** Every diagnostic of this file and of the files it imports. */
  readonly diagnostics: readonly Diagnostic[];
}

/** Registers `rsc check`. */
export function registerCheck(program: Command): void {
  withSpecFlags(
    program
      .command("check")
      .description(
        "check specs and block libraries: report every error with its file:line:col, exit 1 on errors",
      )
      .argument("<spec...>", "spec files (YAML)"),
  ).action(action((specs: string[], flags: SpecFlags) => check(specs, flags)));
}

function check(specs: readonly string[], flags: SpecFlags): number {
  if (flags.root !== undefined) specRoot(specs[0] ?? ".", flags.root);
  const set = parseSet(flags.set);
  const out = outputOptions(flags);
  const files: CheckedFile[] = [];
  let status: number = ExitCode.Ok;
  for (const file of specs) {
    try {
      requireReadable(file, "spec");
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      files.push({ file, ok: false, error: error.message, diagnostics: [] });
      status = Math.max(status, error.exitCode);
      if (!out.json) say(`rsc: error: ${printable(error.message)}`);
      continue;
    }
    const result = compileFile(file, {
      ...compileOptions(file, flags, { set }),
      acceptLibrary: true,
    });
    const library = result.library;
    const ok =
      !hasErrors(result.diagnostics) && (result.graph !== undefined || library !== undefined);
    if (!ok) status = Math.max(status, ExitCode.SpecError);
    const counts = result.graph === undefined ? undefined : graphParamCounts(result.graph);
    files.push({
      file,
      ok,
      ...(library === undefined ? {} : { library: { blocks: library.blocks } }),
      ...(ok && counts !== undefined
        ? {
            layers: result.graph!.nodes.length,
            params: counts.total,
            // Only for --json: the text output does not show it, and it may cost a hash.
            ...(out.json ? { hash: result.info?.hash } : {}),
          }
        : {}),
      diagnostics: result.diagnostics,
    });
    if (out.json) continue;
    printDiagnostics(result.diagnostics, out);
    if (ok && library !== undefined) {
      const n = library.blocks.length;
      say(
        `${printable(file)}: ${style.green("ok", out.color)} (block library: ${n} block${n === 1 ? "" : "s"}, ${library.blocks.map(printable).join(", ")})`,
      );
    } else if (ok && counts !== undefined) {
      say(
        `${printable(file)}: ${style.green("ok", out.color)} (${formatCount(result.graph!.nodes.length)} layers, ${formatCount(counts.total)} params)`,
      );
    }
  }
  if (out.json) {
    printJson({
      command: "check",
      ok: status === ExitCode.Ok,
      diagnostics: files.flatMap((f) => f.diagnostics),
      result: { files },
    });
  }
  return status;
}
