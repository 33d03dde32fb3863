/**
 * `rsc expand <spec> [-o file]`: the fully resolved spec in canonical form (imports inlined,
 * blocks, stages and repeats unrolled, names interpolated, `--set` applied), for review. The
 * output is itself a valid spec that compiles to the same graph.
 */
import { expandToSpec } from "@rsc/compiler";
import type { Command } from "commander";
import {
  action,
  compileOrThrow,
  outputOptions,
  type SpecFlags,
  withSpecFlags,
} from "../command-kit.js";
import { ExitCode } from "../exit-codes.js";
import { writeFileAtomic } from "../fs-atomic.js";
import { printable, printDiagnostics, printOut, say } from "../output.js";

/** Flags of `rsc expand`. */
interface ExpandFlags extends SpecFlags {
  /** `-o, --output <file>`: write the expanded spec there (atomically) instead of stdout. */
  readonly output?: string;
}

/** Registers `rsc expand`. */
export function registerExpand(program: Command): void {
  withSpecFlags(
    program
      .command("expand")
      .description("print the fully resolved spec in canonical form (for review)")
      .argument("<spec>", "spec file (YAML)")
      .option("-o, --output <file>", "write the expanded spec to a file instead of stdout"),
    { json: false },
  ).action(
    action(async (spec: string, flags: ExpandFlags) => {
      const out = outputOptions(flags);
      const { graph, info, diagnostics } = compileOrThrow(spec, flags);
      // The header is a YAML comment: a newline in the spec's path or a --set must not end it.
      const sets = (flags.set ?? []).map((s) => ` --set ${printable(s)}`).join("");
      const text = expandToSpec(graph, {
        seed: info.seed,
        header: `Expanded by \`rsc expand ${printable(spec)}${sets}\`: every block, stage and parameter resolved.`,
      });
      printDiagnostics(diagnostics, out);
      if (flags.output === undefined) printOut(text);
      else {
        await writeFileAtomic(flags.output, text.endsWith("\n") ? text : `${text}\n`, {
          inputs: [spec, ...info.files],
        });
        say(`wrote ${printable(flags.output)}`);
      }
      return ExitCode.Ok;
    }),
  );
}
