/**
 * `rsc summary <spec>`: the layer table and parameter totals, in the style of Keras's
 * `model.summary()`, with each layer's multiply-accumulates and the activation memory of one
 * example, on stdout; `--json` gives the same as data.
 */
import type { Command } from "commander";
import {
  action,
  compileOrThrow,
  outputOptions,
  type SpecFlags,
  withSpecFlags,
} from "../command-kit.js";
import { ExitCode } from "../exit-codes.js";
import { printDiagnostics, printJson, printOut } from "../output.js";
import { formatSummary, summarize } from "../summary-table.js";

/** Registers `rsc summary`. */
export function registerSummary(program: Command): void {
  withSpecFlags(
    program
      .command("summary")
      .description(
        "print the layer table with parameter and MAC counts (like Keras's model.summary())",
      )
      .argument("<spec>", "spec file (YAML)"),
  ).action(
    action((spec: string, flags: SpecFlags) => {
      const out = outputOptions(flags);
      const { graph, diagnostics } = compileOrThrow(spec, flags);
      const summary = summarize(graph);
      if (out.json) {
        printJson({ command: "summary", ok: true, diagnostics, result: summary });
      } else {
        // Warnings only: errors ended the command in compileOrThrow.
        printDiagnostics(diagnostics, out);
        printOut(formatSummary(summary));
      }
      return ExitCode.Ok;
    }),
  );
}
