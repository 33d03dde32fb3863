/**
 * Reads SIGNS-style HDF5 data sets (the Coursera assignment's format): `train_set_x` /
 * `test_set_x` uint8 images `[n, height, width, channels]` (NHWC), `train_set_y` / `test_set_y`
 * integer labels of shape `[n]` or `[1, n]`, and optionally `list_classes`. Read with h5wasm.
 *
 * Every problem is a located error naming the file (RSC500: not readable as such a data set,
 * RSC501: does not fit the model), exit 1; the HDF5 library's own error stack never reaches the
 * user: h5wasm's throwing error handler turns libhdf5's errors into exceptions instead of the
 * 40-line stack libhdf5 prints to stderr, and whatever h5wasm throws (a truncated or corrupt file)
 * becomes one RSC500 naming the file.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { type Diagnostic, type DiagnosticCode, type Shape, shapeSize } from "@rsc/compiler";
import { CliError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";

/** The halves of a data file: `test_set_*` and `train_set_*`. */
export const DATA_SPLITS = ["test", "train"] as const;

/** Which half of the file: `train_set_*` or `test_set_*`. */
export type DataSplit = (typeof DATA_SPLITS)[number];

/** One split of a data file, as stored (pixels not yet scaled). */
export interface ImageDataset {
  /** The file it came from, as the user named it. */
  readonly file: string;
  readonly split: DataSplit;
  /** Number of examples. */
  readonly count: number;
  /** One image's shape, NHWC without the batch: `[height, width, channels]`. */
  readonly imageShape: readonly [number, number, number];
  /** `count * height * width * channels` pixels, row-major NHWC, 0..255. */
  readonly pixels: Uint8Array;
  /** One integer class index (0-based) per example. */
  readonly labels: Int32Array;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** A data-file error at the file (data files have no lines: 1:1). */
export function dataError(
  file: string,
  code: DiagnosticCode,
  message: string,
  hint?: string,
): CliError {
  const diagnostic: Diagnostic = {
    severity: "error",
    code,
    message,
    file,
    line: 1,
    column: 1,
    ...(hint === undefined ? {} : { hint }),
  };
  return new CliError(`${file}: ${message}`, ExitCode.SpecError, [diagnostic]);
}

/** True when the file starts with the HDF5 signature (at 0, or at 512, 1024, ... after a user block). */
function looksLikeHdf5(path: string): boolean {
  const size = statSync(path).size;
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(8);
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      readSync(fd, buf, 0, 8, offset);
      if (HDF5_SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Runs `fn` with stderr captured: libhdf5 prints its error stack there before h5wasm throws. */
export function quietly<T>(fn: () => T): T {
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return fn();
  } finally {
    process.stderr.write = write;
  }
}

interface H5Dataset {
  readonly shape: number[] | null;
  readonly dtype: unknown;
  readonly value: unknown;
}

interface H5File {
  keys(): string[];
  get(name: string): unknown;
  close(): unknown;
}

/** Reads one split of a SIGNS-style HDF5 file. Throws CliError (RSC500) when it is not one. */
export async function readImageDataset(file: string, split: DataSplit): Promise<ImageDataset> {
  if (!looksLikeHdf5(file)) {
    throw dataError(file, "RSC500", "not an HDF5 file (no HDF5 signature)");
  }
  const { default: h5wasm } = await import("h5wasm/node");
  const module = await h5wasm.ready;
  // libhdf5 errors throw (their stack as the message, never shown) instead of printing.
  module.activate_throwing_error_handler();
  let h5: H5File | undefined;
  try {
    h5 = quietly(() => new h5wasm.File(file, "r")) as unknown as H5File;
    return readSplit(file, h5, split);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw dataError(file, "RSC500", "cannot be read as HDF5 (corrupt or truncated?)");
  } finally {
    try {
      if (h5 !== undefined) quietly(() => h5!.close());
    } catch {
      // A file that failed to read may fail to close: it is read-only, nothing is lost.
    }
  }
}

function readSplit(file: string, h5: H5File, split: DataSplit): ImageDataset {
  const xName = `${split}_set_x`;
  const yName = `${split}_set_y`;
  const keys = quietly(() => h5.keys());
  for (const name of [xName, yName]) {
    if (!keys.includes(name)) {
      throw dataError(
        file,
        "RSC500",
        `lacks the dataset '${name}' (it has: ${keys.length > 0 ? keys.join(", ") : "nothing"})`,
        "a SIGNS-style file has train_set_x, train_set_y, test_set_x, test_set_y",
      );
    }
  }
  const x = quietly(() => h5.get(xName)) as H5Dataset;
  const y = quietly(() => h5.get(yName)) as H5Dataset;
  const xShape = x.shape ?? [];
  if (xShape.length !== 4) {
    throw dataError(
      file,
      "RSC500",
      `'${xName}' has shape [${xShape.join(", ")}], expected [n, height, width, channels]`,
    );
  }
  const pixels = quietly(() => x.value);
  if (!(pixels instanceof Uint8Array)) {
    throw dataError(
      file,
      "RSC500",
      `'${xName}' holds ${describeType(pixels)}, expected uint8 pixels`,
    );
  }
  const count = xShape[0]!;
  const yShape = y.shape ?? [];
  const labelCount = shapeSize(yShape);
  const labelsOk =
    (yShape.length === 1 || (yShape.length === 2 && yShape[0] === 1)) && labelCount === count;
  if (!labelsOk) {
    throw dataError(
      file,
      "RSC500",
      `'${yName}' has shape [${yShape.join(", ")}], expected [${count}] or [1, ${count}] (one label per image)`,
    );
  }
  const raw = quietly(() => y.value);
  const labels = toLabels(raw, (index, value) =>
    dataError(
      file,
      "RSC501",
      `'${yName}' has label ${value} at index ${index}, which is not a class index`,
      "labels are whole numbers from 0 to the class count - 1",
    ),
  );
  if (labels === undefined) {
    throw dataError(
      file,
      "RSC500",
      `'${yName}' holds ${describeType(raw)}, expected integer labels`,
    );
  }
  return {
    file,
    split,
    count,
    imageShape: [xShape[1]!, xShape[2]!, xShape[3]!],
    pixels,
    labels,
  };
}

function describeType(value: unknown): string {
  if (value === null || value === undefined) return "no data";
  if (ArrayBuffer.isView(value)) return value.constructor.name.replace(/Array$/, "").toLowerCase();
  return typeof value;
}

/** Largest label an Int32Array holds; a wider stored label is refused, never wrapped. */
const MAX_LABEL = 2 ** 31 - 1;

/**
 * Labels as int32, or undefined when the stored type is not integers. A stored value outside
 * 0..{@link MAX_LABEL} (2^32 + 3 would wrap to 3) is refused with `outOfRange(index, value)`;
 * checkFitsModel then checks each against the class count.
 */
function toLabels(
  raw: unknown,
  outOfRange: (index: number, value: string) => Error,
): Int32Array | undefined {
  const floats = raw instanceof Float32Array || raw instanceof Float64Array;
  const integers =
    raw instanceof BigInt64Array ||
    raw instanceof BigUint64Array ||
    raw instanceof Int8Array ||
    raw instanceof Uint8Array ||
    raw instanceof Int16Array ||
    raw instanceof Uint16Array ||
    raw instanceof Int32Array ||
    raw instanceof Uint32Array;
  if (!floats && !integers) return undefined;
  const values = raw as ArrayLike<number | bigint>;
  // Labels stored as floats are accepted when they are whole numbers.
  if (floats && !Array.prototype.every.call(values, (v) => Number.isInteger(v))) return undefined;
  const labels = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (value < 0 || value > MAX_LABEL) throw outOfRange(i, String(value));
    labels[i] = Number(value);
  }
  return labels;
}

/**
 * Checks that a data set fits a model: the image shape equals the model input (batch excluded)
 * and every label is a class index below the model's class count. Throws CliError (RSC501).
 */
export function checkFitsModel(data: ImageDataset, inputShape: Shape, classes: number): void {
  const [h, w, c] = data.imageShape;
  if (
    inputShape.length !== 3 ||
    inputShape[0] !== h ||
    inputShape[1] !== w ||
    inputShape[2] !== c
  ) {
    throw dataError(
      data.file,
      "RSC501",
      `'${data.split}_set_x' images are ${h}x${w}x${c} but the model's input is ${inputShape.join("x")}`,
    );
  }
  for (let i = 0; i < data.labels.length; i++) {
    const label = data.labels[i]!;
    if (label < 0 || label >= classes) {
      throw dataError(
        data.file,
        "RSC501",
        `'${data.split}_set_y' has label ${label} at index ${i}, outside the model's ${classes} classes (0..${classes - 1})`,
        "set the spec's class count to match the data, e.g. --set classes=N",
      );
    }
  }
}
