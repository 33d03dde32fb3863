/** The work of `rsc evaluate`: load a tfjs model folder, check the data fits it, evaluate. */
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostic } from "@rsc/compiler";
import { outputOptions, requireReadable } from "../command-kit.js";
import { checkFitsModel, type DataSplit, readImageDataset } from "../data-h5.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { emit, emitJson } from "../output.js";
import type { EvaluateFlags } from "./evaluate.js";
import { activateRuntime, parseRuntime, toTensors } from "./train-shared.js";

/** What `rsc evaluate` reports. */
export interface EvaluateResult {
  readonly model: string;
  readonly data: string;
  readonly split: DataSplit;
  /** Number of examples evaluated. */
  readonly examples: number;
  /** Mean categorical cross-entropy. */
  readonly loss: number;
  /** Fraction of examples whose arg-max prediction is the label, in [0, 1]. */
  readonly accuracy: number;
}

/** A weights/model-folder error at the file (RSC401, exit 1). */
export function weightsError(file: string, message: string): CliError {
  const d: Diagnostic = { severity: "error", code: "RSC401", message, file, line: 1, column: 1 };
  return new CliError(`${file}: ${message}`, ExitCode.SpecError, [d]);
}

/** Reads a tfjs model folder's artifacts, mapping problems to CLI errors that name the file. */
export async function readModelDir(dir: string) {
  const { readArtifactsDir, ArtifactsError } = await import("@rsc/backend-tfjs");
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new CliError(`model folder ${dir}: no such folder`);
  }
  if (!isDir) throw new CliError(`model folder ${dir}: is not a folder`);
  try {
    return readArtifactsDir(dir);
  } catch (error) {
    if (error instanceof ArtifactsError) {
      if (error.file === join(dir, "model.json") && /^no model\.json/.test(error.reason)) {
        throw new CliError(`${error.file}: ${error.reason}`);
      }
      throw weightsError(error.file, error.reason);
    }
    throw error;
  }
}

/** Runs `rsc evaluate`; returns the exit status. */
export async function runEvaluate(dir: string, flags: EvaluateFlags): Promise<number> {
  const out = outputOptions(flags);
  const split = flags.split ?? "test";
  if (split !== "test" && split !== "train")
    throw new CliError(`--split must be test or train, got '${split}'`);
  const batchSize = Number(flags.batchSize ?? "32");
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new CliError(`--batch-size must be an integer >= 1, got '${flags.batchSize}'`);
  }
  const runtimeFlag = parseRuntime(flags.runtime);
  requireReadable(flags.data, "data file");
  const artifacts = await readModelDir(dir);
  const data = await readImageDataset(flags.data, split);

  await activateRuntime(runtimeFlag, { quiet: out.json });
  const { tf, tfl } = await import("@rsc/backend-tfjs");
  let model: Awaited<ReturnType<typeof tfl.loadLayersModel>>;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    // tfjs says which variable or shape disagrees; the weights are from another model.
    throw weightsError(
      join(dir, "model.json"),
      `the weights do not match the model's layers (from another architecture?): ${(error as Error).message.split("\n")[0]}`,
    );
  }
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  const outputShape = model.outputs[0]!.shape;
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || outputShape.length !== 2) {
    throw weightsError(
      join(dir, "model.json"),
      "rsc evaluate needs a classifier with one input and one [batch, classes] output",
    );
  }
  const classes = outputShape[1]!;
  checkFitsModel(data, inputShape, classes);
  model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const { x, y } = await toTensors(data, classes);
  const scores = model.evaluate(x, y, { batchSize }) as import("@rsc/backend-tfjs").tf.Scalar[];
  const [loss, accuracy] = scores.map((s) => s.dataSync()[0]!);
  x.dispose();
  y.dispose();
  model.dispose();
  const result: EvaluateResult = {
    model: dir,
    data: flags.data,
    split,
    examples: data.count,
    loss: loss!,
    accuracy: accuracy!,
  };
  if (out.json) emitJson({ command: "evaluate", ok: true, diagnostics: [], result });
  else
    emit(
      `loss ${result.loss.toFixed(4)}  accuracy ${result.accuracy.toFixed(4)}  (${result.examples} examples, ${split} split of ${flags.data})`,
    );
  return ExitCode.Ok;
}
