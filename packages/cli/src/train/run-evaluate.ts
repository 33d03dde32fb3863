/**
 * The work of `rsc evaluate`: read a tfjs model folder (the one reader of the artifacts format),
 * build the model from its topology, check its weights (the folder's, or with `--weights` those
 * of any model file rsc reads: Keras .h5, .weights.h5, .keras, tfjs) with the compiler's one
 * check (the same messages as `rsc build --weights`), check the data fits, evaluate.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostic, InputScaling } from "@rsc/compiler";
import { outputOptions, requireReadable } from "../command-kit.js";
import { checkFitsModel, type DataSplit, readImageDataset } from "../data-h5.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { printable, printJson, printOut } from "../output.js";
import { readWeightsRecord, TRAIN_INPUT_SCALING } from "../provenance.js";
import {
  artifactsWeights,
  checkTrainedWeights,
  readTrainedArtifacts,
  readTrainedWeights,
} from "../trained-weights.js";
import { activateRuntime, type RuntimeFlag, toTensors } from "./tfjs-runtime.js";

/** Flags of `rsc evaluate`, parsed. */
export interface EvaluateFlags {
  readonly data: string;
  readonly split: DataSplit;
  /** Examples per step. */
  readonly batchSize: number;
  readonly runtime: RuntimeFlag;
  /** `--threads`: threads of the wasm runtime (default: the available cores). */
  readonly threads?: number;
  /** `--weights`: evaluate with the weights of this model file instead of the folder's. */
  readonly weights?: string;
  readonly json?: boolean;
  readonly color?: boolean;
}

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
  /** The scaling applied to the data's pixels: the model's record, or rsc train's x / 255. */
  readonly inputScaling: InputScaling;
}

/** A model-folder error at model.json (exit 1). */
function modelError(file: string, code: "RSC401" | "RSC500", message: string): CliError {
  const d: Diagnostic = { severity: "error", code, message, file, line: 1, column: 1 };
  return new CliError(`${file}: ${message}`, ExitCode.SpecError, [d]);
}

/** Runs `rsc evaluate`; returns the exit status. */
export async function runEvaluate(dir: string, flags: EvaluateFlags): Promise<number> {
  const out = outputOptions(flags);
  requireReadable(flags.data, "data file");
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new CliError(`model folder ${dir}: no such folder`);
  }
  if (!isDir) throw new CliError(`model folder ${dir}: is not a folder`);
  const artifacts = readTrainedArtifacts(dir, "model file", { layersModel: true });
  const data = await readImageDataset(flags.data, flags.split);

  await activateRuntime(flags.runtime, {
    quiet: out.json,
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
  });
  const { tf, tfl } = await import("@rsc/backend-tfjs");
  const file = join(dir, "model.json");
  let model: Awaited<ReturnType<typeof tfl.models.modelFromJSON>>;
  try {
    model = await tfl.models.modelFromJSON({
      modelTopology: artifacts.json
        .modelTopology as import("@rsc/backend-tfjs").tf.io.ModelJSON["modelTopology"],
    });
  } catch (error) {
    throw modelError(
      file,
      "RSC500",
      `tfjs cannot build the model's topology: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  // A variable's shape is fully known once the model is built (null only for a batch dimension).
  const variables = model.weights.map((v) => ({
    name: v.originalName,
    shape: v.shape as number[],
  }));
  // Layer of each variable: its name up to the last `/` (Keras layer names may hold `/`).
  const expected = variables.map((v) => ({
    ...v,
    layer: v.name.slice(0, v.name.lastIndexOf("/")),
  }));
  const weights = checkTrainedWeights(
    flags.weights === undefined
      ? artifactsWeights(artifacts)
      : await readTrainedWeights(
          flags.weights,
          model.layers.map((layer) => ({
            name: layer.name,
            kerasClass: layer.getClassName(),
            weights: layer.weights.map((w) => w.originalName),
          })),
        ),
    { name: model.name, weights: expected },
  );
  const values = variables.map((v) => tf.tensor(weights.get(v.name)!, v.shape));
  model.setWeights(values);
  tf.dispose(values);

  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  const outputShape = model.outputs[0]!.shape;
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || outputShape.length !== 2) {
    throw modelError(
      file,
      "RSC401",
      "rsc evaluate needs a classifier with one input and one [batch, classes] output",
    );
  }
  const classes = outputShape[1]!;
  checkFitsModel(data, inputShape, classes);
  model.compile({ optimizer: "adam", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  // Evaluated as it was trained: the recorded scaling (none when baked into the graph).
  const recorded = readWeightsRecord(artifacts.json.userDefinedMetadata)?.inputScaling;
  const scaling: InputScaling =
    recorded === undefined
      ? TRAIN_INPUT_SCALING
      : recorded.baked
        ? { scale: 1, offset: 0 }
        : { scale: recorded.scale, offset: recorded.offset };
  const { x, y } = await toTensors(data, classes, scaling);
  const scores = model.evaluate(x, y, {
    batchSize: flags.batchSize,
  }) as import("@rsc/backend-tfjs").tf.Scalar[];
  // Read asynchronously: tfjs-backend-webgpu has no synchronous read in Node.
  const [loss, accuracy] = await Promise.all(scores.map(async (s) => (await s.data())[0]!));
  x.dispose();
  y.dispose();
  model.dispose();
  const result: EvaluateResult = {
    model: dir,
    data: flags.data,
    split: flags.split,
    examples: data.count,
    loss: loss!,
    accuracy: accuracy!,
    inputScaling: scaling,
  };
  if (out.json) printJson({ command: "evaluate", ok: true, diagnostics: [], result });
  else
    printOut(
      `loss ${result.loss.toFixed(4)}  accuracy ${result.accuracy.toFixed(4)}  (${result.examples} examples, ${flags.split} split of ${printable(flags.data)})`,
    );
  return ExitCode.Ok;
}
