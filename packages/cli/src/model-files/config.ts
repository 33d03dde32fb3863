/**
 * The Keras model config of a model file, whatever holds it:
 * - a Keras 2 full-model `.h5` (`model.save('m.h5')`): the root attribute `model_config`;
 * - a Keras 3 `.keras` archive: its `config.json`;
 * - a Keras `model.to_json()` file: the JSON itself;
 * - a tfjs layers `model.json`: its `modelTopology` (tfjs's own save writes the model config
 *   there; the tensorflowjs converter wraps it as `{ model_config, keras_version, backend }`).
 * The format is told by the content (detect.ts), not by the file name.
 */
import { MAX_MODEL_JSON_BYTES } from "@rsc/backend-tfjs/artifacts-format";
import { findModelFile, hdf5OpenFailure, readWholeFile } from "./detect.js";
import { malformedFile } from "./errors.js";
import { Hdf5Error, type Hdf5Reader, withHdf5File } from "./hdf5.js";
import { MAX_ARCHIVE_BYTES, readKerasArchive } from "./keras-archive.js";

/** What kind of model file it is. */
export type ModelFormat =
  /** Keras 2 HDF5: a full model (`model_weights/`) or `save_weights` (layers at the root). */
  | "keras-h5"
  /** Keras 3 `.weights.h5` (variables by layer path: `layers/<class>/vars/<i>`). */
  | "keras3-h5"
  /** Keras 3 `.keras` zip archive. */
  | "keras-archive"
  /** Keras `model.to_json()`. */
  | "keras-json"
  /** tfjs layers model.json (+ weight shards). */
  | "tfjs";

/** A Keras model config: `{ class_name, config }` (Keras 3 adds `module`, `registered_name`). */
export interface KerasModelConfig {
  readonly class_name: string;
  readonly config: unknown;
  readonly [key: string]: unknown;
}

/** The model config read from a file. */
export interface ModelConfigFile {
  readonly format: ModelFormat;
  /** The file read (a folder's model.json when a folder was named). */
  readonly file: string;
  readonly config: KerasModelConfig;
  /** The JSON text the config was parsed from. */
  readonly text: string;
  /**
   * True when `text` is the file itself (to_json, model.json), so its line and column are the
   * file's; false when it is an attribute of an .h5 or an entry of a .keras.
   */
  readonly textIsFile: boolean;
  /** `keras_version` as the file records it, when it does. */
  readonly kerasVersion?: string;
  readonly backend?: string;
}

/** 1-based line and column of character `at` of `text`. */
export function lineColumn(text: string, at: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, at));
  return { line: before.split("\n").length, column: at - before.lastIndexOf("\n") };
}

/** Parses JSON, or throws RSC500 at the position JSON.parse names (`what`: which text). */
export function parseJson(text: string, file: string, what: string, located: boolean): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    const place = located && at !== null ? lineColumn(text, Number(at[1])) : {};
    throw malformedFile(file, `${what} is not valid JSON: ${message}`, place);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function asModelConfig(value: unknown, file: string, what: string): KerasModelConfig {
  if (!isObject(value) || typeof value["class_name"] !== "string" || !("config" in value))
    throw malformedFile(
      file,
      `${what} is not a Keras model config (an object with 'class_name' and 'config')`,
    );
  return value as KerasModelConfig;
}

/** A string attribute (h5py stores Keras's as str or utf-8 bytes; h5wasm gives both as text). */
export function textAttr(h5: Hdf5Reader, path: string, name: string): string | undefined {
  const value = h5.attr(path, name);
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === "string") return value[0];
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return undefined;
}

/** The config of an open Keras HDF5 file; `undefined` when it holds only weights. */
export function configOfHdf5(
  h5: Hdf5Reader,
  file: string,
): Omit<ModelConfigFile, "format" | "file"> | undefined {
  const text = textAttr(h5, "/", "model_config");
  if (text === undefined) return undefined;
  const config = asModelConfig(
    parseJson(text, file, "the model_config attribute", false),
    file,
    "the model_config attribute",
  );
  const kerasVersion = textAttr(h5, "/", "keras_version");
  const backend = textAttr(h5, "/", "backend");
  return {
    config,
    text,
    textIsFile: false,
    ...(kerasVersion === undefined ? {} : { kerasVersion }),
    ...(backend === undefined ? {} : { backend }),
  };
}

/** The config of a `.keras` archive's config.json text. */
export function configOfArchive(
  text: string,
  file: string,
  metadata: string | undefined,
): Omit<ModelConfigFile, "format" | "file"> {
  const config = asModelConfig(
    parseJson(text, file, "its config.json", false),
    file,
    "its config.json",
  );
  let kerasVersion: string | undefined;
  if (metadata !== undefined) {
    try {
      const meta = JSON.parse(metadata) as unknown;
      if (isObject(meta) && typeof meta["keras_version"] === "string")
        kerasVersion = meta["keras_version"];
    } catch {
      // metadata.json is informative only: Keras itself never reads it back.
    }
  }
  return { config, text, textIsFile: false, ...(kerasVersion ? { kerasVersion } : {}) };
}

/** The config of a JSON model file: a tfjs model.json or a Keras to_json(). */
export function configOfJson(
  text: string,
  file: string,
): Omit<ModelConfigFile, "file"> & { format: "tfjs" | "keras-json" } {
  const json = parseJson(text, file, "it", true);
  if (!isObject(json)) throw malformedFile(file, "is JSON but not an object");
  if ("modelTopology" in json || "weightsManifest" in json) {
    const topology = json["modelTopology"];
    if (!isObject(topology))
      throw malformedFile(file, "is a tfjs model.json without a model topology");
    if (json["format"] === "graph-model" || "node" in topology)
      throw malformedFile(
        file,
        "is a tfjs graph model (a TensorFlow graph), not a Keras layers model",
        { hint: "convert the Keras model itself (.h5 or .keras) instead of its SavedModel" },
      );
    const inner = isObject(topology["model_config"]) ? topology["model_config"] : topology;
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    const kerasVersion = str(topology["keras_version"]) ?? str(inner["keras_version"]);
    const backend = str(topology["backend"]) ?? str(inner["backend"]);
    return {
      format: "tfjs",
      config: asModelConfig(inner, file, "its modelTopology"),
      text,
      textIsFile: true,
      ...(kerasVersion === undefined ? {} : { kerasVersion }),
      ...(backend === undefined ? {} : { backend }),
    };
  }
  const config = asModelConfig(json, file, "it");
  const kerasVersion =
    typeof json["keras_version"] === "string" ? json["keras_version"] : undefined;
  const backend = typeof json["backend"] === "string" ? json["backend"] : undefined;
  return {
    format: "keras-json",
    config,
    text,
    textIsFile: true,
    ...(kerasVersion === undefined ? {} : { kerasVersion }),
    ...(backend === undefined ? {} : { backend }),
  };
}

/** True when an open HDF5 file has Keras 3's layout (`layers/.../vars`, `vars` at the root). */
export function isKeras3Layout(h5: Hdf5Reader): boolean {
  const keys = h5.keys("/");
  const keras2 =
    keys.includes("model_weights") ||
    h5.attrNames("/").some((n) => n === "layer_names" || /^layer_names\d+$/.test(n));
  return (
    !keras2 &&
    (keys.includes("layers") ||
      keys.includes("vars") ||
      keys.includes("_layer_checkpoint_dependencies"))
  );
}

/**
 * Reads the Keras model config of a model file (`path`: a file, or a folder with model.json).
 * Throws CliError: exit 2 when the file cannot be read, RSC500 (exit 1) when it holds no config
 * or a malformed one, naming the file.
 */
export async function readModelConfig(path: string, what = "model file"): Promise<ModelConfigFile> {
  const found = findModelFile(path, what);
  const { file } = found;
  if (found.kind === "json") {
    const text = readWholeFile(file, MAX_MODEL_JSON_BYTES, what).toString("utf8");
    return { file, ...configOfJson(text, file) };
  }
  if (found.kind === "zip") {
    const archive = readKerasArchive(readWholeFile(file, MAX_ARCHIVE_BYTES, what), file);
    if (archive.config === undefined)
      throw malformedFile(
        file,
        `has no config.json, so it is not a Keras model archive (it holds: ${archive.names.join(", ") || "nothing"})`,
        { hint: "a .keras file is what Keras 3's model.save('model.keras') writes" },
      );
    return {
      format: "keras-archive",
      file,
      ...configOfArchive(archive.config, file, archive.metadata),
    };
  }
  try {
    const { value: read } = await withHdf5File(file, (h5) => {
      const config = configOfHdf5(h5, file);
      return config === undefined ? { keras3: isKeras3Layout(h5) } : { config };
    });
    if (read.config === undefined) {
      throw malformedFile(
        file,
        `has no model_config attribute: it holds only weights (${read.keras3 ? "a Keras 3 .weights.h5" : "a Keras save_weights file"}), not the model's architecture`,
        {
          hint: "save the whole model (model.save('model.h5') or model.save('model.keras')) or its model.to_json(), and give that; these weights load with --weights",
        },
      );
    }
    return { format: "keras-h5", file, ...read.config };
  } catch (error) {
    if (error instanceof Hdf5Error) throw malformedFile(file, hdf5OpenFailure(file));
    throw error;
  }
}
