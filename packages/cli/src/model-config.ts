/**
 * The model config `rsc import` converts, read from whichever file holds it: a JSON text (a
 * Keras `to_json()` file, a tfjs model.json) as it is, so diagnostics point at its lines; a
 * Keras 2 `.h5` (the `model_config` attribute) or a Keras 3 `.keras` zip (`config.json`) through
 * the model-file readers, with diagnostics naming the file and the part read.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { describeReadError, locatedError } from "@rsc/compiler";
import { CliError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";

/** Largest model config read as JSON text (ResNet-152's Keras config is about 1 MB). */
export const MAX_CONFIG_BYTES = 64 * 2 ** 20;

/** A model config's JSON text and the name its diagnostics carry. */
export interface ModelConfigSource {
  readonly text: string;
  /** `model.json`, or `model.h5 (model_config)`, `model.keras (config.json)`. */
  readonly file: string;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];

/** The first bytes of a file. */
function head(path: string, count: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(count);
    const n = readSync(fd, buf, 0, count, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

const startsWith = (bytes: Uint8Array, sig: readonly number[]) =>
  sig.every((b, i) => bytes[i] === b);

/** Reads the model config of `path`; I/O failures are exit 2, a file that is not a model is exit 1. */
export function readModelConfig(path: string): ModelConfigSource {
  let bytes: Uint8Array;
  try {
    const first = head(path, 8);
    if (startsWith(first, HDF5_SIGNATURE) || startsWith(first, ZIP_SIGNATURE)) {
      return readContainer(path, startsWith(first, ZIP_SIGNATURE) ? "zip" : "hdf5");
    }
    const size = statSync(path).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new CliError(
        `model ${path}: ${size} bytes is more than a model config holds (at most ${MAX_CONFIG_BYTES}); is it a weights file?`,
      );
    }
    bytes = readFileBytes(path);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`model ${path}: ${describeReadError(error)}`);
  }
  let text: string;
  try {
    if (bytes.includes(0)) throw new Error("binary");
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CliError("not a model file", ExitCode.SpecError, [
      locatedError(
        "RSC520",
        "not a model file rsc imports: neither JSON text (a Keras to_json() file, a tfjs model.json) nor an HDF5 .h5 nor a .keras zip",
        { file: path, line: 1, column: 1 },
      ),
    ]);
  }
  return { text, file: path };
}

function readFileBytes(path: string): Uint8Array {
  const size = statSync(path).size;
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buf, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** The config inside an `.h5` or `.keras` file (the model-file readers read them). */
function readContainer(path: string, kind: "hdf5" | "zip"): ModelConfigSource {
  throw new CliError(
    `model ${path}: reading a Keras ${kind === "zip" ? ".keras archive" : ".h5 file"} needs the model-file readers, which this build does not have yet; export the config with model.to_json() and import that`,
  );
}
