/**
 * `rsc train <spec> --data <file.h5>`: trains the spec's model with tfjs (Adam, categorical
 * cross-entropy, accuracy, as the Coursera assignment does) and saves the trained tfjs artifacts
 * and a training log after every epoch. Flags only here; the work is in train/run-train.ts.
 */
import type { Command } from "commander";
import { action, withSpecFlags } from "../command-kit.js";
import {
  BATCH_RANGE,
  integerOption,
  numberOption,
  runtimeOption,
  seedOption,
  threadsOption,
} from "../flags.js";
import type { TrainFlags } from "../train/run-train.js";

/** Registers `rsc train`. */
export function registerTrain(program: Command): void {
  withSpecFlags(
    program
      .command("train")
      .description("train the spec's model with TensorFlow.js on a SIGNS-style HDF5 data set")
      .argument("<spec>", "spec file (YAML)")
      .requiredOption("--data <file>", "HDF5 file with train_set_x (uint8 NHWC) and train_set_y")
      .addOption(integerOption("--epochs <n>", "number of epochs", { min: 1, max: 1_000_000 }, 10))
      .addOption(integerOption("--batch-size <n>", "examples per training step", BATCH_RANGE, 32))
      .addOption(
        numberOption(
          "--val-split <f>",
          "fraction of the training set held out for validation (the last examples, as Keras)",
          { ok: (n) => n >= 0 && n < 1, what: "a fraction in [0, 1)" },
          0,
        ),
      )
      .addOption(
        numberOption(
          "--lr <f>",
          "Adam learning rate",
          { ok: (n) => n > 0, what: "a positive number" },
          0.001,
        ),
      )
      .addOption(
        seedOption(
          "--seed <n>",
          "seed of the initial weights and of the shuffling (default: the spec's seed)",
        ),
      )
      .option(
        "--weights <path>",
        "start from these trained weights (fine-tuning): a Keras .h5, .weights.h5, .keras or tfjs model.json",
      )
      .option(
        "-o, --out <dir>",
        "output folder for the trained model (default: build/<spec>-trained)",
      )
      .addOption(runtimeOption())
      .addOption(threadsOption())
      .option(
        "--profile <file>",
        "profile one training step first (on a copy of the model) and write its slowest kernels as JSON",
      ),
  ).action(
    action(async (spec: string, flags: TrainFlags) => {
      const { runTrain } = await import("../train/run-train.js");
      return runTrain(spec, flags);
    }),
  );
}
