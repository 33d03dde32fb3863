/**
 * `rsc deps <spec>... [--affected-by <file>]...`: which files each spec reads (its imports,
 * transitively: block-style or flow-style `import:` lists, libraries importing libraries, any
 * folder), or, with `--affected-by`, which of the given model specs a change to those files
 * affects (the spec itself or anything it reads). The pull-request workflow asks this instead of
 * grepping for file names. Specs are only loaded (no expansion), so a spec with errors in its
 * layers still has its dependencies; one that cannot be read at all depends on itself only.
 */
import { relative, resolve } from "node:path";
import { specDependencies } from "@rsc/compiler";
import type { Command } from "commander";
import {
  action,
  DEFAULT_MAX_FILE_BYTES,
  outputOptions,
  specRoot,
  withSpecFlags,
} from "../command-kit.js";
import { ExitCode } from "../exit-codes.js";
import { printable, printJson, printOut } from "../output.js";

/** Flags of `rsc deps`, parsed. */
interface DepsFlags {
  readonly affectedBy?: readonly string[];
  readonly root?: string;
  readonly maxFileSize?: number;
  readonly json?: boolean;
  readonly color?: boolean;
}

/** One spec's dependencies, as `--json` reports them. */
export interface SpecDeps {
  readonly spec: string;
  /** `model` or `library`; absent when the file could not be loaded. */
  readonly kind?: "model" | "library";
  /** The files it imports, transitively, relative to the working directory. */
  readonly imports: readonly string[];
}

/** Registers `rsc deps`. */
export function registerDeps(program: Command): void {
  const command = program
    .command("deps")
    .description("list the files each spec imports, or the specs that changed files affect")
    .argument("<spec...>", "spec files (YAML)")
    .option(
      "--affected-by <file>",
      "print only the model specs that read this file, or are it (repeatable)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    );
  withSpecFlags(command, { set: false, color: false }).action(
    action((specs: string[], flags: DepsFlags) => deps(specs, flags)),
  );
}

function deps(specs: readonly string[], flags: DepsFlags): number {
  const out = outputOptions(flags);
  const all: SpecDeps[] = specs.map((spec) => {
    const found = specDependencies(spec, {
      root: specRoot(spec, flags.root),
      maxFileBytes: flags.maxFileSize ?? DEFAULT_MAX_FILE_BYTES,
    });
    const imports = found.files
      .map((f) => resolve(f))
      .filter((f) => f !== resolve(spec))
      .map((f) => relative(process.cwd(), f));
    return { spec, ...(found.kind === undefined ? {} : { kind: found.kind }), imports };
  });
  if (flags.affectedBy === undefined) {
    if (out.json) printJson({ command: "deps", ok: true, diagnostics: [], result: { specs: all } });
    else
      for (const d of all)
        printOut(
          `${printable(d.spec)} (${d.kind ?? "unreadable"}): ${d.imports.map(printable).join(" ") || "(no imports)"}`,
        );
    return ExitCode.Ok;
  }
  const changed = new Set(flags.affectedBy.map((f) => resolve(f)));
  const affected = all.filter(
    (d) =>
      d.kind !== "library" &&
      (changed.has(resolve(d.spec)) || d.imports.some((f) => changed.has(resolve(f)))),
  );
  if (out.json)
    printJson({
      command: "deps",
      ok: true,
      diagnostics: [],
      result: { affected: affected.map((d) => d.spec), specs: all },
    });
  else for (const d of affected) printOut(printable(d.spec));
  return ExitCode.Ok;
}
