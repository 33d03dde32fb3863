/**
 * Trained weights from any model file rsc reads, by rsc weight name (`<layer>/<weight>`, float32
 * in Keras layout), with what the diagnostics need to point into the file:
 * - Keras 2 `.h5` (full model or save_weights): keras2.ts;
 * - Keras 3 `.weights.h5`, and `.keras` (its model.weights.h5 read in memory, named by its
 *   config.json): keras3.ts;
 * - tfjs model.json + shards (rsc's, tfjs's or the converter's, quantized or not): the one reader
 *   of that format, @rsc/backend-tfjs/artifacts-format.
 * The format is told by content. Checking the weights against a model is the caller's
 * (trained-weights.ts, with the compiler's checkWeights): this only reads.
 */
import { join } from "node:path";
import {
  ArtifactsError,
  locateIn,
  MAX_MODEL_JSON_BYTES,
  MODEL_JSON,
  readArtifacts,
  type TfjsArtifacts,
} from "@rsc/backend-tfjs/artifacts-format";
import { describeReadError, type LoadedWeight } from "@rsc/compiler";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import {
  configOfArchive,
  configOfHdf5,
  configOfJson,
  isKeras3Layout,
  type KerasModelConfig,
  type ModelFormat,
} from "./config.js";
import { findModelFile, hdf5OpenFailure, readWholeFile } from "./detect.js";
import { malformedFile } from "./errors.js";
import { Hdf5Error, type Hdf5Reader, withHdf5Bytes, withHdf5File } from "./hdf5.js";
import { MAX_ARCHIVE_BYTES, readKerasArchive } from "./keras-archive.js";
import { type ReadWeights, readKeras2Weights } from "./keras2.js";
import { readKeras3Weights } from "./keras3.js";
import type { ExpectedLayer } from "./names.js";

/** Weights read from a model file. */
export interface ModelWeights {
  readonly format: ModelFormat;
  /** The file read (a folder's model.json when a folder was named). */
  readonly file: string;
  /** Weights by rsc name (`conv1/kernel`), float32, Keras layout, in file order. */
  readonly weights: ReadonlyMap<string, LoadedWeight>;
  /** The Keras layer (h5 group, tfjs name prefix) each weight came from. */
  readonly layerOf: ReadonlyMap<string, string>;
  /** Line and column of a weight's entry in the file (JSON files; 1:1 for binary ones). */
  locate(name: string): { readonly line: number; readonly column: number };
  /** Every file read: the model file, and a tfjs model's shards. */
  readonly files: readonly string[];
  /** The model config the file holds, when it holds one. */
  readonly config?: KerasModelConfig;
  /** tfjs files only: what the artifacts reader read (topology, metadata). */
  readonly artifacts?: TfjsArtifacts;
  /**
   * Closes the file of deferred weights ({@link ReadWeightsOptions.deferred}), after which their
   * values cannot be read; a no-op when nothing was deferred.
   */
  release(): void;
}

/** Options of {@link readModelWeights}. */
export interface ReadWeightsOptions {
  /**
   * The layers of the model the weights are for, in order: they name a Keras 3 `.weights.h5`'s
   * positions, and the layers of nested models in files without a model config.
   */
  readonly expected?: readonly ExpectedLayer[];
  /** How messages call the file: `weights file` by default. */
  readonly what?: string;
  /**
   * Read the values of HDF5 weights only when asked for (Hdf5Tensor.fill / data), from the file
   * kept open until {@link ModelWeights.release}: a writer that streams weights then reads each
   * tensor into its own buffer, and the weights are never all held at once.
   */
  readonly deferred?: boolean;
}

const oneOne = () => ({ line: 1, column: 1 });

/**
 * Reads tfjs artifacts with the one reader of that format; its errors become the CLI's: exit 2
 * when a file cannot be read (I/O), RSC500 at the entry of model.json at fault otherwise.
 */
export function readTfjsArtifacts(path: string, what: string): TfjsArtifacts {
  try {
    return readArtifacts(path);
  } catch (error) {
    if (!(error instanceof ArtifactsError)) throw error;
    if (error.kind === "unreadable") {
      const reason =
        error.errno === undefined ? error.reason : describeReadError({ code: error.errno });
      const modelJson = error.file === path || error.file === join(path, MODEL_JSON);
      throw new CliError(`${modelJson ? what : "weight shard"} ${error.file}: ${reason}`);
    }
    throw new CliError(`${error.file}: ${error.reason}`, ExitCode.SpecError, [
      {
        severity: "error",
        code: "RSC500",
        message: error.reason,
        file: error.file,
        line: error.line,
        column: error.column,
      },
    ]);
  }
}

/**
 * A tfjs weight name with a nested model's prefix dropped (`tm/head/fc/kernel` -> `fc/kernel`)
 * when it ends in `<layer>/<weight>` of a layer of the model (the longest such layer); else as is.
 */
function innerName(stored: string, layers: ReadonlySet<string>): string {
  const base = stored.slice(stored.lastIndexOf("/") + 1);
  let best: string | undefined;
  for (const layer of layers)
    if (stored.endsWith(`/${layer}/${base}`) && (best === undefined || layer.length > best.length))
      best = layer;
  return best === undefined ? stored : `${best}/${base}`;
}

/** tfjs weights renamed to rsc's names (nested models' prefixes dropped, see names.ts). */
function tfjsWeights(
  artifacts: TfjsArtifacts,
  expected: readonly ExpectedLayer[] | undefined,
): ModelWeights {
  const known = new Set((expected ?? []).flatMap((l) => l.weights));
  const layers = new Set((expected ?? []).map((l) => l.name));
  const weights = new Map<string, LoadedWeight>();
  const layerOf = new Map<string, string>();
  const original = new Map<string, string>();
  for (const [stored, tensor] of artifacts.weights) {
    const scope = stored.includes("/") ? stored.slice(0, stored.lastIndexOf("/")) : stored;
    const name = known.has(stored) ? stored : innerName(stored, layers);
    const before = original.get(name);
    if (before !== undefined)
      throw malformedFile(
        artifacts.file,
        `weights '${before}' and '${stored}' are both the weight '${name}' of the model`,
        locateIn(artifacts.text, `"${stored}"`),
      );
    weights.set(name, tensor);
    layerOf.set(name, scope);
    original.set(name, stored);
  }
  const { json } = artifacts;
  const topology = json.modelTopology;
  let config: KerasModelConfig | undefined;
  try {
    if (topology !== undefined) config = configOfJson(artifacts.text, artifacts.file).config;
  } catch {
    // The weights do not need the topology (rsc evaluate checks it where it does).
  }
  return {
    format: "tfjs",
    file: artifacts.file,
    weights,
    layerOf,
    locate: (name) =>
      locateIn(artifacts.text, `"${original.get(name.replace(/^"|"$/g, "")) ?? name}"`),
    files: [artifacts.file, ...artifacts.shards],
    ...(config === undefined ? {} : { config }),
    artifacts,
    release: () => {},
  };
}

/** Weights of an open Keras HDF5 file (Keras 2 or 3 layout). */
function hdf5Weights(
  h5: Hdf5Reader,
  file: string,
  config: KerasModelConfig | undefined,
  { expected, deferred }: ReadWeightsOptions,
): ReadWeights & { format: "keras-h5" | "keras3-h5" } {
  const options = {
    ...(config === undefined ? {} : { config }),
    ...(expected === undefined ? {} : { expected }),
  };
  const read = isKeras3Layout(h5)
    ? { format: "keras3-h5" as const, ...readKeras3Weights(h5, file, options) }
    : { format: "keras-h5" as const, ...readKeras2Weights(h5, file, options) };
  // Not deferred: every value read now, while the file is open.
  if (deferred !== true) for (const w of read.weights.values()) void w.data;
  return read;
}

/**
 * Reads the weights of a model file (`path`: a file, or a folder holding a tfjs model.json).
 * Throws CliError: exit 2 when a file cannot be read, RSC500 (exit 1) naming the file and the
 * layer when it is malformed.
 */
export async function readModelWeights(
  path: string,
  options: ReadWeightsOptions = {},
): Promise<ModelWeights> {
  const what = options.what ?? "weights file";
  const found = findModelFile(path, what);
  const { file } = found;
  if (found.kind === "json") {
    const text = readWholeFile(file, MAX_MODEL_JSON_BYTES, what).toString("utf8");
    if (!/"weightsManifest"/.test(text)) {
      // A to_json() file holds an architecture, no weights.
      const { format } = configOfJson(text, file);
      throw malformedFile(
        file,
        format === "keras-json"
          ? "is a Keras model config (to_json()), which holds no weights"
          : "has no weightsManifest, so it holds no weights",
        { hint: "give the model's .h5, .keras or tfjs model.json with its weight files" },
      );
    }
    return tfjsWeights(readTfjsArtifacts(path, what), options.expected);
  }
  if (found.kind === "zip") {
    const archive = readKerasArchive(readWholeFile(file, MAX_ARCHIVE_BYTES, what), file);
    if (archive.weights === undefined)
      throw malformedFile(
        file,
        `has no model.weights.h5 (it holds: ${archive.names.join(", ") || "nothing"})${archive.names.includes("model.weights.npz") ? "; weights saved as .npz are not read by rsc" : ""}`,
      );
    if (archive.config === undefined)
      throw malformedFile(
        file,
        `has no config.json, so it is not a Keras model archive (it holds: ${archive.names.join(", ") || "nothing"})`,
        { hint: "a .keras file is what Keras 3's model.save('model.keras') writes" },
      );
    const config = configOfArchive(archive.config, file, archive.metadata).config;
    try {
      const { value, close } = await withHdf5Bytes(
        archive.weights,
        (h5) => hdf5Weights(h5, file, config, options),
        { keepOpen: options.deferred === true },
      );
      return {
        file,
        ...value,
        format: "keras-archive",
        locate: oneOne,
        files: [file],
        config,
        release: close,
      };
    } catch (error) {
      if (error instanceof Hdf5Error)
        throw malformedFile(
          file,
          "its model.weights.h5 cannot be read as HDF5 (corrupt or truncated?)",
        );
      throw error;
    }
  }
  try {
    const { value, close } = await withHdf5File(
      file,
      (h5) => {
        const config = configOfHdf5(h5, file)?.config;
        const read = hdf5Weights(h5, file, config, options);
        return { file, ...read, locate: oneOne, files: [file], ...(config ? { config } : {}) };
      },
      { keepOpen: options.deferred === true },
    );
    return { ...value, release: close };
  } catch (error) {
    if (error instanceof Hdf5Error) throw malformedFile(file, hdf5OpenFailure(file));
    throw error;
  }
}
