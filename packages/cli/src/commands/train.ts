/**
 * `rsc train <spec> --data <file.h5>`: trains the spec's model with tfjs (Adam, categorical
 * cross-entropy, accuracy, as the Coursera assignment does) and saves the trained tfjs artifacts
 * and a training log after every epoch. Flags only here; the work is in train-run.ts.
 */
import type { Command } from "commander";
import { action, type SpecFlags, withSpecFlags } from "../command-kit.js";
import { RUNTIME_CHOICES } from "./train-shared.js";

/** Flags of `rsc train`, as commander parses them (strings: validated in train-run.ts). */
export interface TrainFlags extends SpecFlags {
  readonly data: string;
  readonly epochs?: string;
  readonly batchSize?: string;
  readonly valSplit?: string;
  readonly lr?: string;
  readonly seed?: string;
  readonly out?: string;
  readonly runtime?: string;
}

/** Registers `rsc train`. */
export function registerTrain(program: Command): void {
  withSpecFlags(
    program
      .command("train")
      .description("train the spec's model with TensorFlow.js on a SIGNS-style HDF5 data set")
      .argument("<spec>", "spec file (YAML)")
      .requiredOption("--data <file>", "HDF5 file with train_set_x (uint8 NHWC) and train_set_y")
      .option("--epochs <n>", "number of epochs", "10")
      .option("--batch-size <n>", "examples per training step", "32")
      .option(
        "--val-split <f>",
        "fraction of the training set held out for validation (the last examples, as Keras)",
        "0",
      )
      .option("--lr <f>", "Adam learning rate", "0.001")
      .option(
        "--seed <n>",
        "seed of the initial weights and of the shuffling (default: the spec's seed)",
      )
      .option(
        "-o, --out <dir>",
        "output folder for the trained model (default: build/<spec>-trained)",
      )
      .option("--runtime <name>", `tfjs runtime: ${RUNTIME_CHOICES.join(", ")}`, "auto"),
  ).action(
    action(async (spec: string, flags: TrainFlags) => {
      const { runTrain } = await import("./train-run.js");
      return runTrain(spec, flags);
    }),
  );
}
