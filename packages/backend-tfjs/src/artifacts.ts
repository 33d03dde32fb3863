/**
 * Standard tfjs artifacts in memory: `model.json` (format `layers-model`) plus weight shards of at
 * most 4 MB named `group1-shardXofN.bin`, as tfjs-converter writes them. The backend returns files;
 * the CLI alone writes them to disk.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { io } from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";

/** The file of a model folder holding the topology and the weights manifest. */
export const MODEL_JSON = "model.json";

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

/** The parsed model.json of a layers model. */
export interface ModelJson {
  readonly format: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string | null;
  readonly modelTopology: unknown;
  readonly weightsManifest: io.WeightsManifestConfig;
  readonly trainingConfig?: unknown;
  readonly userDefinedMetadata?: { [key: string]: NonNullable<unknown> };
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

/** What is wrong with a model folder, for the CLI to report (naming the file). */
export class ArtifactsError extends Error {
  constructor(
    /** The file at fault (model.json, a shard, or the folder). */
    readonly file: string,
    /** What is wrong with it, without the file name. */
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = "ArtifactsError";
  }
}

/** Reads model.json and the shards it names from a folder (reading is the backend's business). */
export function readArtifactsDir(dir: string): io.ModelArtifacts {
  const jsonPath = join(dir, MODEL_JSON);
  let text: string;
  try {
    text = readFileSync(jsonPath, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ArtifactsError(
      jsonPath,
      code === "ENOENT" ? "no model.json: not a tfjs model folder" : `cannot be read (${code})`,
    );
  }
  const files = new Map<string, Uint8Array>([[MODEL_JSON, new TextEncoder().encode(text)]]);
  const json = parseModelJson(text, jsonPath);
  for (const group of json.weightsManifest) {
    for (const path of group.paths) {
      // A manifest path is a file name beside model.json, never a way out of the folder.
      if (path.includes("/") || path.includes("\\") || path.startsWith(".")) {
        throw new ArtifactsError(
          jsonPath,
          `weights path '${path}' is not a file in the model folder`,
        );
      }
      try {
        files.set(path, new Uint8Array(readFileSync(join(dir, path))));
      } catch {
        throw new ArtifactsError(
          join(dir, path),
          "weight shard named in model.json cannot be read",
        );
      }
    }
  }
  return filesToArtifacts(files, dir);
}

function parseModelJson(text: string, file: string): ModelJson {
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch {
    throw new ArtifactsError(file, "is not JSON");
  }
  if (
    typeof json !== "object" ||
    json === null ||
    json.format !== "layers-model" ||
    typeof json.modelTopology !== "object" ||
    !Array.isArray(json.weightsManifest)
  ) {
    throw new ArtifactsError(file, "is not a tfjs layers-model model.json");
  }
  return json;
}

/** Artifacts from in-memory files (model.json + shards), as `tf.io.fromMemory` wants them. */
export function filesToArtifacts(
  files: ReadonlyMap<string, Uint8Array>,
  label = ".",
): io.ModelArtifacts {
  const jsonBytes = files.get(MODEL_JSON);
  const jsonPath = join(label, MODEL_JSON);
  if (jsonBytes === undefined) throw new ArtifactsError(jsonPath, "missing");
  const json = parseModelJson(new TextDecoder().decode(jsonBytes), jsonPath);
  const specs: io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const path of group.paths) {
      const shard = files.get(path);
      if (shard === undefined) throw new ArtifactsError(join(label, path), "missing weight shard");
      buffers.push(shard);
    }
  }
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    data.set(b, offset);
    offset += b.byteLength;
  }
  const needed = specs.reduce(
    (n, s) => n + s.shape.reduce((a, d) => a * d, 1) * bytesPer(s.dtype),
    0,
  );
  if (needed !== total) {
    throw new ArtifactsError(
      jsonPath,
      `the manifest describes ${needed} bytes of weights but the shards hold ${total}`,
    );
  }
  return {
    modelTopology: json.modelTopology as io.ModelArtifacts["modelTopology"],
    format: json.format,
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

function bytesPer(dtype: string): number {
  return dtype === "bool" ? 1 : 4;
}

/**
 * The weights of saved artifacts keyed by Keras name (`conv1/kernel`), float32, in Keras layout.
 * This is how weights move from a trained tfjs model to another backend (`rsc build --weights`).
 */
export function artifactsWeights(
  artifacts: io.ModelArtifacts,
  label = ".",
): Map<string, Float32Array> {
  const data = weightBytes(artifacts.weightData);
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const spec of artifacts.weightSpecs ?? []) {
    const n = spec.shape.reduce((a, d) => a * d, 1);
    if (spec.dtype !== "float32" || spec.quantization !== undefined) {
      throw new ArtifactsError(
        join(label, MODEL_JSON),
        `weight '${spec.name}' is ${spec.dtype}${spec.quantization ? " (quantized)" : ""}, only float32 is supported`,
      );
    }
    // Copy: shard bytes need not be 4-byte aligned.
    out.set(spec.name, new Float32Array(data.slice(offset, offset + n * 4).buffer));
    offset += n * 4;
  }
  return out;
}

/** A tfjs IOHandler that loads a model folder from disk (tfjs-core alone has no file:// handler). */
export function fileSystemHandler(dir: string): io.IOHandler {
  return { load: async () => readArtifactsDir(dir) };
}

/** A tfjs IOHandler over in-memory files (as returned by {@link saveArtifacts}). */
export function memoryHandler(files: ReadonlyMap<string, Uint8Array>): io.IOHandler {
  return { load: async () => filesToArtifacts(files) };
}
