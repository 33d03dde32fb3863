/**
 * The model config `rsc import` converts, read from whichever file holds it (told by content, by
 * the model-file readers' detect.ts): a JSON text (a Keras `to_json()` file, a tfjs model.json,
 * or a tfjs folder's model.json) is converted as it is, so diagnostics point at its lines; a
 * Keras 2 `.h5` (its `model_config` attribute) or a Keras 3 `.keras` zip (its `config.json`) is
 * read by the model-file readers, whose errors name the file (an `.h5` of weights only, a zip
 * without config.json: RSC500), and the import's diagnostics then name the file and the part read.
 */
import { MAX_MODEL_JSON_BYTES } from "@rsc/backend-tfjs/artifacts-format";
import { findModelFile, readWholeFile } from "./model-files/detect.js";

/** A model config's JSON text and the name its diagnostics carry. */
export interface ModelConfigSource {
  readonly text: string;
  /** `model.json`, or `model.h5 (model_config)`, `model.keras (config.json)`. */
  readonly file: string;
  /** The file read (a folder's model.json when a folder was named). */
  readonly path: string;
  /** `keras_version` as an `.h5` or `.keras` records it beside the config. */
  readonly kerasVersion?: string;
}

/** Reads the model config of `path`; I/O failures are exit 2, a file that is not a model exit 1. */
export async function readImportSource(path: string): Promise<ModelConfigSource> {
  const found = findModelFile(path, "model");
  if (found.kind === "json") {
    const text = readWholeFile(found.file, MAX_MODEL_JSON_BYTES, "model").toString("utf8");
    return { text, file: found.file, path: found.file };
  }
  const { readModelConfig } = await import("./model-files/config.js");
  const read = await readModelConfig(path, "model");
  return {
    text: read.text,
    file: `${read.file} (${read.format === "keras-archive" ? "config.json" : "model_config"})`,
    path: read.file,
    ...(read.kerasVersion === undefined ? {} : { kerasVersion: read.kerasVersion }),
  };
}
