/**
 * The work of `rsc train`: compile the spec, read and check the data, lower to tfjs with the
 * compiler's seeded weights, then train epoch by epoch. After EACH epoch the trained artifacts and
 * train-log.json replace the output folder atomically, so an interrupted run keeps every epoch it
 * finished and never a half-written model; SIGINT/SIGTERM end the run with a line naming the last
 * epoch kept (early-exit.ts).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, extname, join } from "node:path";
import {
  bytesFile,
  type Graph,
  type InputScaling,
  initWeights,
  type Shape,
  uniformStream,
  type WeightMap,
} from "@rsc/compiler";
import {
  compileOrThrow,
  outputOptions,
  parseSet,
  requireReadable,
  type SpecFlags,
} from "../command-kit.js";
import { checkFitsModel, readImageDataset } from "../data-h5.js";
import { onTerminalRestore, setKept } from "../early-exit.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { writeDirAtomic } from "../fs-atomic.js";
import { printable, printDiagnostics, printJson, say } from "../output.js";
import { checkOutputDir, checkOutputFile } from "../output-checks.js";
import { TRAIN_INPUT_SCALING } from "../provenance.js";
import { RSC_VERSION } from "../version.js";
import { trainDisplay } from "./progress.js";
import { activateRuntime, type RuntimeFlag, toTensors } from "./tfjs-runtime.js";

/** Flags of `rsc train`, parsed. */
export interface TrainFlags extends SpecFlags {
  readonly data: string;
  readonly epochs: number;
  /** Examples per training step. */
  readonly batchSize: number;
  /** Fraction of the training set held out for validation, in [0, 1). */
  readonly valSplit: number;
  /** Adam learning rate (> 0). */
  readonly lr: number;
  /** Seed of the initial weights and the shuffling; the spec's seed when absent. */
  readonly seed?: number;
  readonly out?: string;
  readonly runtime: RuntimeFlag;
  /** `--weights`: initial weights from a model file (fine-tuning) instead of seeded ones. */
  readonly weights?: string;
  /** `--threads`: threads of the wasm runtime (default: the available cores). */
  readonly threads?: number;
  /** `--profile`: write the kernels of one training step (on a copy of the model) to this file. */
  readonly profile?: string;
}

/** Metrics of one finished epoch, as train-log.json records them. */
export interface EpochRecord {
  /** 1-based epoch number. */
  readonly epoch: number;
  /** Mean training loss (categorical cross-entropy) over the epoch's batches. */
  readonly loss: number;
  /** Training accuracy in [0, 1]. */
  readonly accuracy: number;
  /** Validation loss, when --val-split > 0. */
  readonly valLoss?: number;
  /** Validation accuracy in [0, 1], when --val-split > 0. */
  readonly valAccuracy?: number;
  /** Wall-clock time of the epoch in seconds (training + validation, not saving). */
  readonly seconds: number;
  /** Median wall-clock time of one training step (batch), in milliseconds. */
  readonly msPerStep: number;
}

/** train-log.json: how the model in the folder was made. */
export interface TrainLog {
  readonly rscVersion: string;
  /** The spec file as given, its model name and the sha256 of its canonical IR. */
  readonly spec: { readonly file: string; readonly name: string; readonly hash: string };
  /** The `--set` values the spec was compiled with (the hash already reflects them). */
  readonly set: Readonly<Record<string, string>>;
  /** What the data's pixels went through before the model: x * scale + offset (x / 255). */
  readonly inputScaling: InputScaling;
  readonly seed: number;
  /** The model file the initial weights came from (`--weights`), when not seeded. */
  readonly initialWeights?: string;
  /** The tfjs runtime that trained (`wasm`, `cpu`, ...). */
  readonly runtime: string;
  /** The wasm runtime's thread count (absent on other runtimes). */
  readonly threads?: number;
  readonly data: {
    readonly file: string;
    /** sha256 (hex) of the data file. */
    readonly sha256: string;
    /** Examples trained on, and held out for validation (the last ones, as Keras's validation_split). */
    readonly trainExamples: number;
    readonly validationExamples: number;
  };
  readonly options: {
    readonly epochs: number;
    readonly batchSize: number;
    readonly valSplit: number;
    readonly learningRate: number;
    readonly optimizer: "adam";
    readonly loss: "categorical_crossentropy";
  };
  /** Finished epochs, in order. */
  readonly epochs: readonly EpochRecord[];
  /** True once every requested epoch has finished. */
  readonly complete: boolean;
}

/** The model's one NHWC input shape and its class count (units of its one rank-1 output). */
function modelInterface(graph: Graph): { inputShape: Shape; classes: number } {
  const inputNode = graph.nodes.find((n) => n.name === graph.inputs[0]);
  const outputNode = graph.nodes.find((n) => n.name === graph.outputs[0]);
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1 || !inputNode || !outputNode) {
    throw new CliError("rsc train needs a model with one input and one output");
  }
  if (outputNode.outputShape.length !== 1) {
    throw new CliError(
      `rsc train needs a classifier: the output '${outputNode.name}' has shape [${outputNode.outputShape.join(", ")}], not [classes]`,
    );
  }
  return { inputShape: inputNode.outputShape, classes: outputNode.outputShape[0]! };
}

/** A seeded permutation of 0..n-1 (Fisher-Yates on the compiler's per-name uniform stream). */
function permutation(n: number, seed: number, epoch: number): Int32Array {
  const next = uniformStream(seed, `rsc-train/shuffle/epoch-${epoch}`);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** The median of `xs` (the mean of the middle two for an even count; NaN for none). */
function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `rsc train`; returns the exit status. */
export async function runTrain(spec: string, flags: TrainFlags): Promise<number> {
  const out = outputOptions(flags);
  const { epochs, batchSize, valSplit, lr: learningRate } = flags;
  requireReadable(flags.data, "data file");
  const { graph, info, diagnostics } = compileOrThrow(spec, flags);
  if (!out.json) printDiagnostics(diagnostics, out);
  const seed = flags.seed ?? info.seed;
  const outDir = flags.out ?? join("build", `${basename(spec, extname(spec))}-trained`);
  const { inputShape, classes } = modelInterface(graph);
  // Never replaced: the spec, its imports, the data. Checked again before every epoch's save.
  const inputs = [spec, ...info.files, flags.data];
  checkOutputDir(outDir, inputs);
  if (flags.profile !== undefined) checkOutputFile(flags.profile, inputs);

  // Initial weights: a model file's (read and checked before the data), or seeded.
  let initial: WeightMap | undefined;
  if (flags.weights !== undefined) {
    const { loadGraphWeights } = await import("../trained-weights.js");
    // Fine-tuning from another spec's weights is allowed (a warning: RSC530), shapes still checked.
    const loaded = await loadGraphWeights(flags.weights, graph, {
      build: { spec: info.name, specHash: info.hash, set: parseSet(flags.set) },
      allowSpecChange: true,
    });
    if (!out.json) printDiagnostics(loaded.warnings, out);
    initial = loaded.weights;
    inputs.push(...loaded.files);
    checkOutputDir(outDir, inputs);
  }

  const data = await readImageDataset(flags.data, "train");
  checkFitsModel(data, inputShape, classes);
  const valCount = data.count - Math.floor(data.count * (1 - valSplit));
  const trainCount = data.count - valCount;
  if (trainCount < 1) throw new CliError(`--val-split ${valSplit} leaves no training examples`);

  const runtime = await activateRuntime(flags.runtime, {
    quiet: out.json,
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
  });
  const { adam, tf, lowerGraph, saveArtifacts, wasmThreadInfo } = await import("@rsc/backend-tfjs");
  const wasm = runtime === "wasm" ? wasmThreadInfo() : undefined;
  if (wasm?.fallback !== undefined && !out.json)
    say(`wasm threads unavailable (${wasm.fallback}): training on 1 thread`);
  const runsOn = `${runtime}${wasm === undefined ? "" : `, ${wasm.threads} thread${wasm.threads === 1 ? "" : "s"}`}`;
  const startWeights = initial ?? initWeights(graph, seed);
  const lowered = lowerGraph(graph, startWeights);
  if (lowered.model === undefined) {
    throw new CliError(
      "the model cannot be built with tfjs",
      ExitCode.SpecError,
      lowered.diagnostics,
    );
  }
  const model = lowered.model;
  model.compile({
    optimizer: adam(learningRate),
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });

  const all = await toTensors(data, classes, TRAIN_INPUT_SCALING);
  const xTrain = tf.slice(all.x, 0, trainCount);
  const yTrain = tf.slice(all.y, 0, trainCount);
  const validation =
    valCount > 0
      ? ([tf.slice(all.x, trainCount), tf.slice(all.y, trainCount)] as [typeof all.x, typeof all.y])
      : undefined;

  const log: Omit<TrainLog, "epochs" | "complete"> = {
    rscVersion: RSC_VERSION,
    spec: { file: spec, name: info.name, hash: info.hash },
    set: parseSet(flags.set),
    inputScaling: TRAIN_INPUT_SCALING,
    seed,
    ...(flags.weights === undefined ? {} : { initialWeights: flags.weights }),
    runtime,
    ...(wasm === undefined ? {} : { threads: wasm.threads }),
    data: {
      file: flags.data,
      sha256: createHash("sha256").update(readFileSync(flags.data)).digest("hex"),
      trainExamples: trainCount,
      validationExamples: valCount,
    },
    options: {
      epochs,
      batchSize,
      valSplit,
      learningRate,
      optimizer: "adam",
      loss: "categorical_crossentropy",
    },
  };
  if (flags.profile !== undefined) {
    const { profileTrainingStep } = await import("./profile-step.js");
    const n = Math.min(batchSize, trainCount);
    const first = { x: tf.slice(xTrain, 0, n), y: tf.slice(yTrain, 0, n) };
    await profileTrainingStep(graph, startWeights, first, {
      file: flags.profile,
      runtime: runsOn,
      ...(wasm === undefined ? {} : { threads: wasm.threads }),
      learningRate,
      batchSize: n,
      quiet: out.json,
      inputs,
    });
    tf.dispose([first.x, first.y]);
  }

  const records: EpochRecord[] = [];
  const stepMs: number[] = [];
  const batches = Math.ceil(trainCount / batchSize);
  const display = out.json ? undefined : await trainDisplay(process.stderr);
  const forgetDisplay = display === undefined ? undefined : onTerminalRestore(() => display.stop());

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = tf.tensor1d(permutation(trainCount, seed, epoch), "int32");
    const x = tf.gather(xTrain, order);
    const y = tf.gather(yTrain, order);
    order.dispose();
    const started = performance.now();
    const epochSteps: number[] = [];
    let stepStarted = started;
    display?.startEpoch(epoch, epochs, batches);
    const history = await model.fit(x, y, {
      epochs: 1,
      batchSize,
      shuffle: false,
      verbose: 0,
      ...(validation === undefined ? {} : { validationData: validation }),
      callbacks: {
        onBatchBegin: async () => {
          stepStarted = performance.now();
        },
        onBatchEnd: async (batch, logs) => {
          epochSteps.push(performance.now() - stepStarted);
          display?.step(batch + 1, { loss: logs?.["loss"], accuracy: logs?.["acc"] });
        },
      },
    });
    x.dispose();
    y.dispose();
    const h = history.history as Record<string, number[]>;
    const metric = (...names: string[]) => names.map((n) => h[n]?.[0]).find((v) => v !== undefined);
    const valLoss = metric("val_loss");
    const valAccuracy = metric("val_acc", "val_accuracy");
    const record: EpochRecord = {
      epoch,
      loss: metric("loss") ?? Number.NaN,
      accuracy: metric("acc", "accuracy") ?? Number.NaN,
      ...(valLoss === undefined ? {} : { valLoss }),
      ...(valAccuracy === undefined ? {} : { valAccuracy }),
      seconds: (performance.now() - started) / 1000,
      msPerStep: Number(median(epochSteps).toFixed(1)),
    };
    stepMs.push(...epochSteps);
    records.push(record);
    display?.endEpoch({
      loss: record.loss,
      accuracy: record.accuracy,
      ...(valLoss === undefined ? {} : { val_loss: valLoss }),
      ...(valAccuracy === undefined ? {} : { val_accuracy: valAccuracy }),
    });

    const files = await saveArtifacts(model, {
      convertedBy: `rsc ${RSC_VERSION}`,
      metadata: {
        rsc: {
          spec: info.name,
          specHash: info.hash,
          set: { ...log.set },
          inputScaling: { ...TRAIN_INPUT_SCALING, baked: false },
          seed,
          epochs: epoch,
        },
      },
    });
    const trainLog: TrainLog = { ...log, epochs: records, complete: epoch === epochs };
    files.set("train-log.json", new TextEncoder().encode(`${JSON.stringify(trainLog, null, 2)}\n`));
    await writeDirAtomic(
      outDir,
      [...files].map(([name, bytes]) => bytesFile(name, bytes)),
      { inputs },
    );
    setKept(`${outDir} holds the model after epoch ${epoch} of ${epochs} (see its train-log.json)`);
  }
  forgetDisplay?.();
  model.dispose();
  const msPerStep = Number(median(stepMs).toFixed(1));
  if (out.json) {
    printJson({
      command: "train",
      ok: true,
      diagnostics,
      result: { outDir, ...log, msPerStep, epochs: records },
    });
  } else {
    say(
      `trained on ${runsOn}: ${msPerStep.toFixed(0)} ms/step (median of ${stepMs.length} step${stepMs.length === 1 ? "" : "s"}, batch ${batchSize})`,
    );
    say(
      `saved the trained model (${epochs} epoch${epochs === 1 ? "" : "s"}) to ${printable(outDir)}`,
    );
  }
  return ExitCode.Ok;
}
