/**
 * Standard tfjs artifacts in memory: `model.json` (format `layers-model`) plus weight shards of at
 * most 4 MB named `group1-shardXofN.bin`, as tfjs-converter writes them. The backend returns files;
 * the CLI alone writes them to disk.
 */
import { io } from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import {
  layersTopology,
  MODEL_JSON,
  type ModelJson,
  parseArtifacts,
  readArtifacts,
  type TfjsArtifacts,
} from "./artifacts-format.js";

/** tfjs-converter's shard size: 4 MiB. */
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

/** Options of {@link saveArtifacts}. */
export interface SaveArtifactsOptions {
  /** `convertedBy` in model.json, e.g. `rsc 0.1.0`. */
  readonly convertedBy: string;
  /** Extra data stored as model.json's `userDefinedMetadata` (spec hash, seed, ...). */
  readonly metadata?: { readonly [key: string]: NonNullable<unknown> };
  /** Largest shard in bytes (default 4 MiB). */
  readonly shardBytes?: number;
}

/** Bytes of a tfjs WeightData (one buffer, or several in tfjs >= 4.13). */
function weightBytes(data: io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(io.CompositeArrayBuffer.join(data));
}

/** Captures a model's artifacts (topology, weight specs and data) without writing anything. */
export async function captureArtifacts(model: LayersModel): Promise<io.ModelArtifacts> {
  let captured: io.ModelArtifacts | undefined;
  await model.save(
    io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
    { includeOptimizer: false },
  );
  return captured!;
}

/**
 * Serialises a model as `model.json` + shards. Weight names are the plain Keras names
 * (`conv1/kernel`): tfjs-layers saves `LayerVariable.originalName`, never the `_1` suffix it adds
 * to variables when several models live in one process.
 */
export async function saveArtifacts(
  model: LayersModel,
  options: SaveArtifactsOptions,
): Promise<Map<string, Uint8Array>> {
  const artifacts = await captureArtifacts(model);
  return artifactsToFiles(artifacts, options);
}

/** Splits captured artifacts into model.json and shard files. */
export function artifactsToFiles(
  artifacts: io.ModelArtifacts,
  options: SaveArtifactsOptions,
): Map<string, Uint8Array> {
  const data = weightBytes(artifacts.weightData);
  const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
  const count = Math.max(1, Math.ceil(data.byteLength / shardBytes));
  const shards: [string, Uint8Array][] = [];
  for (let i = 0; i < count; i++) {
    const name = `group1-shard${i + 1}of${count}.bin`;
    shards.push([
      name,
      data.slice(i * shardBytes, Math.min(data.byteLength, (i + 1) * shardBytes)),
    ]);
  }
  const paths = shards.map(([name]) => name);
  const json: ModelJson = {
    format: "layers-model",
    generatedBy: artifacts.generatedBy ?? "TensorFlow.js tfjs-layers",
    convertedBy: options.convertedBy,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
    ...(artifacts.trainingConfig === undefined ? {} : { trainingConfig: artifacts.trainingConfig }),
    ...(options.metadata === undefined ? {} : { userDefinedMetadata: { ...options.metadata } }),
  };
  return new Map([[MODEL_JSON, new TextEncoder().encode(`${JSON.stringify(json)}\n`)], ...shards]);
}

/**
 * tfjs's ModelArtifacts from what {@link readArtifacts} or {@link parseArtifacts} read: the model
 * weights as float32 (quantized ones dequantized), optimizer state left out. Throws
 * `ArtifactsError` when model.json is not a layers model (no topology to load).
 */
export function toModelArtifacts(read: TfjsArtifacts): io.ModelArtifacts {
  const { json } = read;
  const modelTopology = layersTopology(read) as io.ModelArtifacts["modelTopology"];
  const specs: io.WeightsManifestEntry[] = [];
  const data = new Float32Array([...read.weights.values()].reduce((n, w) => n + w.data.length, 0));
  let offset = 0;
  for (const [name, w] of read.weights) {
    specs.push({ name, shape: [...w.shape], dtype: "float32" });
    data.set(w.data, offset);
    offset += w.data.length;
  }
  return {
    modelTopology,
    format: "layers-model",
    generatedBy: json.generatedBy ?? "",
    convertedBy: json.convertedBy ?? null,
    weightSpecs: specs,
    weightData: data.buffer,
    ...(json.trainingConfig === undefined
      ? {}
      : { trainingConfig: json.trainingConfig as io.TrainingConfig }),
    ...(json.userDefinedMetadata === undefined
      ? {}
      : { userDefinedMetadata: json.userDefinedMetadata }),
  };
}

/** Reads a model folder from disk as tfjs ModelArtifacts. */
export function readArtifactsDir(dir: string): io.ModelArtifacts {
  return toModelArtifacts(readArtifacts(dir));
}

/** ModelArtifacts from in-memory files (model.json + shards), as `tf.io.fromMemory` wants them. */
export function filesToArtifacts(
  files: ReadonlyMap<string, Uint8Array>,
  label = ".",
): io.ModelArtifacts {
  return toModelArtifacts(parseArtifacts(files, label));
}

/** A tfjs IOHandler that loads a model folder from disk (tfjs-core alone has no file:// handler). */
export function fileSystemHandler(dir: string): io.IOHandler {
  return { load: async () => readArtifactsDir(dir) };
}

/** A tfjs IOHandler over in-memory files (as returned by {@link saveArtifacts}). */
export function memoryHandler(files: ReadonlyMap<string, Uint8Array>): io.IOHandler {
  return { load: async () => filesToArtifacts(files) };
}
