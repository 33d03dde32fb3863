/**
 * What every command shares: the common flags (`--set`, `--json`, `--no-color`), compiling a spec
 * for a command, and turning an action's result into the process's exit status.
 *
 * Start-up speed matters (`rsc check` must stay within 3x of a bare `node -e 0`): a command module
 * registers its flags only, and imports heavy code (backends, onnxruntime, tfjs) inside its action
 * with `await import(...)`.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  type CompileOptions,
  type CompileResult,
  compileFile,
  describeReadError,
  hasErrors,
} from "@rsc/compiler";
import { type Command, Option } from "commander";
import { CliError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";
import { integerOption } from "./flags.js";
import { type OutputOptions, useColor } from "./output.js";

/** Flags shared by commands that read a spec. */
export interface SpecFlags {
  /** `--set name=value`, repeatable; undefined when not given. */
  readonly set?: readonly string[];
  /** `--json`. */
  readonly json?: boolean;
  /** `--no-color` sets this to false. */
  readonly color?: boolean;
  /** `--root <dir>`: the folder every import must stay inside; see {@link specRoot}. */
  readonly root?: string;
  /** `--max-file-size <bytes>`: the largest spec or import read. */
  readonly maxFileSize?: number;
}

/** Largest spec or import file read by default (a spec is a few kB; ResNet-101's is 3 kB). */
export const DEFAULT_MAX_FILE_BYTES = 16 * 2 ** 20;

/** Adds `--set`, `--root`, `--max-file-size`, `--json` and `--no-color` to a command. */
export function withSpecFlags(
  command: Command,
  { json = true, set = true, color = true } = {},
): Command {
  if (set)
    command.option(
      "--set <name=value>",
      "override a top-level spec parameter (repeatable), e.g. --set classes=10",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    );
  command.option(
    "--root <dir>",
    "imports must stay inside this folder (default: the spec's git work tree, else its folder)",
  );
  command.addOption(
    integerOption(
      "--max-file-size <bytes>",
      "largest spec or import file to read",
      { min: 1, max: Number.MAX_SAFE_INTEGER, unit: "bytes" },
      DEFAULT_MAX_FILE_BYTES,
    ).default(DEFAULT_MAX_FILE_BYTES, "16777216 (16 MiB)"),
  );
  if (json) command.option("--json", "print one JSON envelope on stdout instead of text");
  // Accepted everywhere (scripts pass it to every command), listed only where it changes something.
  const noColor = new Option("--no-color", "never colour the output");
  return command.addOption(color ? noColor : noColor.hideHelp());
}

/** Output options from the parsed common flags. */
export function outputOptions(flags: {
  readonly json?: boolean;
  readonly color?: boolean;
}): OutputOptions {
  return { json: flags.json === true, color: !flags.json && useColor(flags.color) };
}

/** Parses `--set name=value` pairs; a malformed pair is a usage error. */
export function parseSet(pairs: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`--set expects name=value, got '${pair}'`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * The project root of a spec: `--root` when given (it must be a folder: exit 2 otherwise), else
 * the git work tree holding the spec (the nearest ancestor with a `.git`, found without running
 * git, so start-up stays fast), else the spec's folder.
 */
export function specRoot(spec: string, root: string | undefined): string {
  if (root !== undefined) {
    let isDir = false;
    try {
      isDir = statSync(root).isDirectory();
    } catch {
      // Reported below.
    }
    if (!isDir) throw new CliError(`--root ${root}: no such folder`);
    return resolve(root);
  }
  const folder = dirname(resolve(spec));
  for (let probe = folder; ; probe = dirname(probe)) {
    if (existsSync(resolve(probe, ".git"))) return probe;
    if (dirname(probe) === probe) return folder;
  }
}

/** The compiler's options for `spec` from the common flags (`--set`, `--root`, `--max-file-size`). */
export function compileOptions(
  spec: string,
  flags: SpecFlags,
  extra: { readonly set?: Readonly<Record<string, string>>; readonly root?: string } = {},
): CompileOptions {
  return {
    set: extra.set ?? parseSet(flags.set),
    root: extra.root ?? specRoot(spec, flags.root),
    maxFileBytes: flags.maxFileSize ?? DEFAULT_MAX_FILE_BYTES,
  };
}

/** Fails with exit 2 when a path cannot be read (a missing root spec is an I/O error, not a spec error). */
export function requireReadable(path: string, what = "file"): void {
  try {
    accessSync(path, constants.R_OK);
    if (statSync(path).isDirectory()) throw new CliError(`${what} ${path}: is a directory`);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${what} ${path}: ${describeReadError(error)}`);
  }
}

/** Compiles a spec for a command; throws CliError (exit 1, with the diagnostics) on spec errors. */
export function compileOrThrow(
  path: string,
  flags: SpecFlags,
): Required<Omit<CompileResult, "diagnostics">> & CompileResult {
  requireReadable(path, "spec");
  const result = compileFile(path, compileOptions(path, flags));
  if (hasErrors(result.diagnostics) || result.graph === undefined || result.info === undefined) {
    throw new CliError("the spec has errors", ExitCode.SpecError, result.diagnostics);
  }
  return result as Required<CompileResult>;
}

/** The exit status the last action asked for. */
let actionStatus: number = ExitCode.Ok;

/** Wraps an async action returning an exit status, for commander. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<number> | number,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    actionStatus = await fn(...args);
  };
}

/** Reads and resets the exit status of the last action. */
export function takeActionStatus(): number {
  const status = actionStatus;
  actionStatus = ExitCode.Ok;
  return status;
}
