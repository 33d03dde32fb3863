/**
 * Reads NumPy `.npy` files (format 1.0-3.0): a little-endian float32 (or float64, converted)
 * C-order array, as `numpy.save` writes it. Used by `rsc run --input`.
 */
import { shapeSize } from "@rsc/compiler";

/** An array read from a .npy file. */
export interface NpyArray {
  /** Dimensions, e.g. `[1, 64, 64, 3]` (NHWC for images). */
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Thrown for a file that is not a readable .npy of floats; the message says what is wrong. */
export class NpyError extends Error {}

/** Parses .npy bytes. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b))
    throw new NpyError("not a .npy file (no \\x93NUMPY magic)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new NpyError(`malformed .npy header: ${header.trim()}`);
  if (fortran === "True")
    throw new NpyError("Fortran-order arrays are not supported; save with C order");
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  const count = shapeSize(shape);
  const offset = start + headerLength;
  const width = descr === "<f4" ? 4 : descr === "<f8" ? 8 : 0;
  if (width === 0)
    throw new NpyError(
      `dtype '${descr}' is not supported (expected float32 '<f4' or float64 '<f8')`,
    );
  if (bytes.length - offset < count * width)
    throw new NpyError(
      `the file holds ${bytes.length - offset} data bytes, shape (${shape.join(", ")}) needs ${count * width}`,
    );
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++)
    data[i] =
      width === 4 ? view.getFloat32(offset + i * 4, true) : view.getFloat64(offset + i * 8, true);
  return { shape, data };
}

/** Encodes a float32 array as .npy (version 1.0), for tests and for saving inputs. */
export function encodeNpy(shape: readonly number[], data: Float32Array): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // The header (with its newline) pads the data start to a multiple of 64 bytes.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - 10 - 1)}\n`;
  const out = new Uint8Array(total + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const view = new DataView(out.buffer);
  for (const [i, v] of data.entries()) view.setFloat32(total + i * 4, v, true);
  return out;
}
