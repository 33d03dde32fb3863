/** The work of `rsc diff`, loaded on demand (see commands/diff.ts for the command's contract). */
import { isAbsolute, relative } from "node:path";
import {
  type ArchDiff,
  compileFile,
  diffGraphs,
  type Graph,
  hasErrors,
  renderDiffMarkdown,
  renderDiffText,
  type TextRole,
} from "@rsc/compiler";
import { compileOptions, outputOptions, parseSet, requireReadable } from "../command-kit.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { resolveSpecSource } from "../git-source.js";
import { printDiagnostics, printJson, printOut, style, useColor } from "../output.js";
import type { DiffFlags } from "./formats.js";

/** Compiles one side; spec errors end the command with exit 2 (exit 1 means "they differ"). */
function compileSide(arg: string, set: Record<string, string>, flags: DiffFlags): Graph {
  const source = resolveSpecSource(arg);
  if (source.readFile === undefined) requireReadable(source.path, "spec");
  const result = compileFile(source.path, {
    ...compileOptions(source.path, flags, {
      set,
      // A spec at a revision: its repository, unless --root says otherwise.
      ...(source.root === undefined || flags.root !== undefined ? {} : { root: source.root }),
    }),
    ...(source.readFile !== undefined ? { readFile: source.readFile } : {}),
  });
  if (hasErrors(result.diagnostics) || result.graph === undefined) {
    throw new CliError(`${arg} has errors`, ExitCode.UsageError, result.diagnostics);
  }
  if (!flags.json) printDiagnostics(result.diagnostics, outputOptions(flags));
  return result.graph;
}

/** Whether the diff meets the `--fail-on` condition. */
function failsOn(diff: ArchDiff, failOn: DiffFlags["failOn"]): boolean {
  switch (failOn) {
    case "weights":
      return diff.weights.verdict !== "all";
    case "io":
      return diff.io.inputs.length > 0 || diff.io.outputs.length > 0;
    default:
      return !diff.same;
  }
}

const PAINT: Record<TextRole, (text: string, on: boolean) => string> = {
  added: style.green,
  removed: style.red,
  changed: style.yellow,
  heading: style.bold,
  dim: style.dim,
  good: style.green,
  bad: style.red,
};

/** Runs `rsc diff` and returns its exit status. */
export function runDiff(oldArg: string, newArg: string, flags: DiffFlags): number {
  const oldGraph = compileSide(oldArg, parseSet([...(flags.set ?? []), ...flags.oldSet]), flags);
  const newGraph = compileSide(newArg, parseSet([...(flags.set ?? []), ...flags.newSet]), flags);
  const cwd = process.cwd();
  const diff = diffGraphs(oldGraph, newGraph, {
    oldSource: oldArg,
    newSource: newArg,
    displayFile: (file) => (isAbsolute(file) ? relative(cwd, file) || file : file),
  });
  const status = failsOn(diff, flags.failOn) ? ExitCode.SpecError : ExitCode.Ok;
  if (flags.json) {
    printJson({ command: "diff", ok: status === ExitCode.Ok, diagnostics: [], result: diff });
  } else if (flags.format === "json") {
    printOut(JSON.stringify(diff, null, 2));
  } else if (flags.format === "markdown") {
    printOut(renderDiffMarkdown(diff));
  } else {
    const color = useColor(flags.color, process.stdout);
    printOut(renderDiffText(diff, { paint: (role, text) => PAINT[role](text, color) }));
  }
  return status;
}
