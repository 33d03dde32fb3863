/**
 * `rsc evaluate <model dir> --data <file.h5>`: loss and accuracy of a trained tfjs model (the
 * folder `rsc train` writes) on a split of a SIGNS-style HDF5 file. Flags only here.
 */
import type { Command } from "commander";
import { action } from "../command-kit.js";
import { RUNTIME_CHOICES } from "./train-shared.js";

/** Flags of `rsc evaluate`. */
export interface EvaluateFlags {
  readonly data: string;
  readonly split?: string;
  readonly batchSize?: string;
  readonly runtime?: string;
  readonly json?: boolean;
  readonly color?: boolean;
}

/** Registers `rsc evaluate`. */
export function registerEvaluate(program: Command): void {
  program
    .command("evaluate")
    .description("loss and accuracy of a trained tfjs model folder on an HDF5 data set")
    .argument("<model-dir>", "folder with model.json and weight shards (from rsc train)")
    .requiredOption("--data <file>", "HDF5 file with test_set_x/test_set_y (or train_set_*)")
    .option("--split <name>", "which split to evaluate: test or train", "test")
    .option("--batch-size <n>", "examples per step", "32")
    .option("--runtime <name>", `tfjs runtime: ${RUNTIME_CHOICES.join(", ")}`, "auto")
    .option("--json", "print one JSON envelope on stdout instead of text")
    .option("--no-color", "never colour the output")
    .action(
      action(async (dir: string, flags: EvaluateFlags) => {
        const { runEvaluate } = await import("./evaluate-run.js");
        return runEvaluate(dir, flags);
      }),
    );
}
