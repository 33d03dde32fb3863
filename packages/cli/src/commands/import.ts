/**
 * `rsc import <model> [-o spec.yaml] [--blocks] [--input-shape h,w,c]`: an existing Keras or tfjs
 * model's architecture as a spec to review: a Keras `to_json()` file, a tfjs Layers model.json
 * (`modelTopology`), a Keras 2 full-model `.h5` (`model_config`) or a Keras 3 `.keras` archive
 * (`config.json`). The conversion is the compiler's (`importKerasModel`); this command reads the
 * file, prints the spec on stdout or writes it atomically, and reports every layer it refuses.
 * Nothing in the model file is ever run.
 */
import type { Command } from "commander";
import { action, outputOptions } from "../command-kit.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { writeFileAtomic } from "../fs-atomic.js";
import { readImportSource } from "../model-config.js";
import { printable, printDiagnostics, printJson, printOut, say } from "../output.js";

/** Flags of `rsc import`. */
interface ImportFlags {
  /** `-o, --output <file>`: write the spec there (atomically) instead of stdout. */
  readonly output?: string;
  /** `--blocks`: write repeated subgraphs as block templates. */
  readonly blocks?: boolean;
  /** `--input-shape h,w,c`: the shape of an input the file leaves unknown (`None`). */
  readonly inputShape?: readonly number[];
  readonly json?: boolean;
  readonly color?: boolean;
}

/** Largest dimension `--input-shape` takes (the compiler's own limit is 2^31 - 1). */
const MAX_DIM = 2 ** 31 - 1;

/** Parses `--input-shape 224,224,3` (batch excluded). */
function parseShape(text: string): number[] {
  const dims = text.split(/[,x]/).map((d) => d.trim());
  if (
    dims.length === 0 ||
    dims.length > 4 ||
    dims.some((d) => !/^[1-9]\d*$/.test(d) || Number(d) > MAX_DIM)
  ) {
    throw new CliError(
      `--input-shape expects 1 to 4 positive integers like 224,224,3 (batch excluded), got '${text}'`,
    );
  }
  return dims.map(Number);
}

/** Registers `rsc import`. */
export function registerImport(program: Command): void {
  program
    .command("import")
    .description("turn a Keras or tfjs model (.h5, .keras, model.json, to_json()) into a spec")
    .argument("<model>", "Keras .h5 / .keras / to_json() file, or a tfjs model.json")
    .option("-o, --output <file>", "write the spec to a file instead of stdout")
    .option("--blocks", "write repeated subgraphs as block templates and stages")
    .option(
      "--input-shape <dims>",
      "shape of an input the model leaves unknown, e.g. 224,224,3",
      parseShape,
    )
    .option("--json", "print one JSON envelope on stdout instead of text")
    .option("--no-color", "never colour the output")
    .action(
      action(async (model: string, flags: ImportFlags) => {
        const out = outputOptions(flags);
        const source = await readImportSource(model);
        const { importKerasModel } = await import("@rsc/compiler");
        const result = importKerasModel(source.text, {
          file: source.file,
          source: model,
          ...(source.kerasVersion === undefined ? {} : { kerasVersion: source.kerasVersion }),
          ...(flags.blocks ? { blocks: true } : {}),
          ...(flags.inputShape === undefined ? {} : { inputShape: flags.inputShape }),
        });
        if (result.spec === undefined || result.stats === undefined) {
          throw new CliError(
            "the model cannot be imported",
            ExitCode.SpecError,
            result.diagnostics,
          );
        }
        const { stats } = result;
        const text = result.spec;
        if (flags.output !== undefined) {
          await writeFileAtomic(flags.output, text, { inputs: [model, source.path] });
        }
        if (out.json) {
          printJson({
            command: "import",
            ok: true,
            diagnostics: result.diagnostics,
            result: {
              ...stats,
              ...(flags.output === undefined ? { spec: text } : { output: flags.output }),
            },
          });
          return ExitCode.Ok;
        }
        printDiagnostics(result.diagnostics, out);
        if (flags.output === undefined) printOut(text);
        const blocks =
          stats.blocks > 0
            ? `, ${stats.blocks} block template${stats.blocks === 1 ? "" : "s"}`
            : flags.blocks
              ? ", no repeated blocks found (flat layers)"
              : "";
        say(
          `imported ${printable(model)} (${stats.format}): ${stats.layers} layers, ${stats.params.total.toLocaleString("en-US")} params${blocks}`,
        );
        if (flags.output !== undefined) say(`wrote ${printable(flags.output)}`);
        return ExitCode.Ok;
      }),
    );
}
