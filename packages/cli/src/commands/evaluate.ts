/**
 * `rsc evaluate <model dir> --data <file.h5>`: loss and accuracy of a trained tfjs model (the
 * folder `rsc train` writes) on a split of a SIGNS-style HDF5 file. Flags only here; the work is
 * in train/run-evaluate.ts.
 */
import type { Command } from "commander";
import { action } from "../command-kit.js";
import { DATA_SPLITS } from "../data-h5.js";
import {
  BATCH_RANGE,
  choiceOption,
  integerOption,
  runtimeOption,
  threadsOption,
} from "../flags.js";
import type { EvaluateFlags } from "../train/run-evaluate.js";

/** Registers `rsc evaluate`. */
export function registerEvaluate(program: Command): void {
  program
    .command("evaluate")
    .description("loss and accuracy of a trained tfjs model folder on an HDF5 data set")
    .argument("<model-dir>", "folder with model.json and weight shards (from rsc train)")
    .requiredOption("--data <file>", "HDF5 file with test_set_x/test_set_y (or train_set_*)")
    .addOption(
      choiceOption("--split <name>", "which split to evaluate: test or train", DATA_SPLITS, {
        fallback: "test",
      }),
    )
    .addOption(integerOption("--batch-size <n>", "examples per step", BATCH_RANGE, 32))
    .addOption(runtimeOption())
    .addOption(threadsOption())
    .option(
      "--weights <path>",
      "evaluate with these trained weights (Keras .h5, .weights.h5, .keras, tfjs model.json) instead of the folder's",
    )
    .option("--json", "print one JSON envelope on stdout instead of text")
    .option("--no-color", "never colour the output")
    .action(
      action(async (dir: string, flags: EvaluateFlags) => {
        const { runEvaluate } = await import("../train/run-evaluate.js");
        return runEvaluate(dir, flags);
      }),
    );
}
