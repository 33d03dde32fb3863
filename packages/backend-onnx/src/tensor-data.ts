/** Tensor bytes for ONNX initializers: little-endian raw data, and axis permutations of weights. */
import { endianness } from "node:os";

const littleEndian = endianness() === "LE";

/** The little-endian bytes of a float32 array (a view, no copy, on little-endian hosts). */
export function float32Bytes(data: Float32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}

/** The little-endian bytes of float16 bit patterns (a view, no copy, on little-endian hosts). */
export function float16Bytes(data: Uint16Array): Uint8Array {
  if (littleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setUint16(i * 2, data[i]!, true);
  return out;
}

/** The little-endian bytes of int64 values (small integers: pads, shapes). */
export function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (const [i, v] of values.entries()) view.setBigInt64(i * 8, BigInt(v), true);
  return out;
}

/** HWIO -> OIHW as an axis permutation: OIHW axis k is HWIO axis `HWIO_TO_OIHW[k]`. */
export const HWIO_TO_OIHW: readonly number[] = [3, 2, 0, 1];

/** Tile edge of the blocked transpose: a 32x32 float tile stays in L1 for reads and writes. */
const TILE = 32;

/** One axis of a permuted tensor, in output order: its size and its stride in the source. */
interface Axis {
  size: number;
  stride: number;
}

/**
 * The output axes of `shape` permuted by `perm`, reduced: size-1 axes dropped, and output
 * neighbours that are neighbours in the source too merged into one (HWIO -> OIHW becomes a
 * `[in, out]` -> `[out, in]` transpose of `kh * kw` blocks).
 */
function reducedAxes(shape: readonly number[], perm: readonly number[]): Axis[] {
  const strides: number[] = new Array(shape.length);
  let stride = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = stride;
    stride *= shape[k]!;
  }
  const axes: Axis[] = [];
  for (const p of perm) {
    const size = shape[p]!;
    if (size === 1) continue;
    const last = axes.at(-1);
    if (last !== undefined && last.stride === strides[p]! * size) {
      last.size *= size;
      last.stride = strides[p]!;
    } else axes.push({ size, stride: strides[p]! });
  }
  return axes;
}

/**
 * Writes `data` (row-major, of `shape`) with its axes permuted into `out`: out axis k is data
 * axis `perm[k]`, as numpy's transpose. The one weight layout transform of the backend (Keras
 * HWIO conv kernels -> OIHW is `HWIO_TO_OIHW`). Rows that stay contiguous are copied whole;
 * otherwise the transpose is done in tiles, because ResNet-50 moves 23 M values through it.
 */
export function permuteInto(
  data: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
  out: Float32Array,
): void {
  const axes = reducedAxes(shape, perm);
  const n = axes.length;
  const inner = axes[n - 1];
  if (inner === undefined || (n === 1 && inner.stride === 1)) {
    out.set(data.subarray(0, out.length));
    return;
  }
  // Output strides, and the axis the source is contiguous along (stride 1).
  const outStrides: number[] = new Array(n);
  let stride = 1;
  for (let k = n - 1; k >= 0; k--) {
    outStrides[k] = stride;
    stride *= axes[k]!.size;
  }
  const j = inner.stride === 1 ? n - 1 : axes.findIndex((a) => a.stride === 1);
  const outer = axes.map((_, k) => k).filter((k) => k !== j && k !== n - 1);
  const index = outer.map(() => 0);
  let blocks = 1;
  for (const k of outer) blocks *= axes[k]!.size;
  const rows = axes[j]!.size;
  const rowStep = outStrides[j]!;
  const cols = inner.size;
  const colStep = inner.stride;
  for (let b = 0; b < blocks; b++) {
    let src = 0;
    let dst = 0;
    for (let i = 0; i < outer.length; i++) {
      src += index[i]! * axes[outer[i]!]!.stride;
      dst += index[i]! * outStrides[outer[i]!]!;
    }
    if (j === n - 1) {
      // Contiguous in both: one row copy.
      out.set(data.subarray(src, src + cols), dst);
    } else {
      for (let r0 = 0; r0 < rows; r0 += TILE) {
        const r1 = Math.min(r0 + TILE, rows);
        for (let c0 = 0; c0 < cols; c0 += TILE) {
          const c1 = Math.min(c0 + TILE, cols);
          for (let r = r0; r < r1; r++) {
            const to = dst + r * rowStep;
            const from = src + r;
            for (let c = c0; c < c1; c++) out[to + c] = data[from + c * colStep]!;
          }
        }
      }
    }
    // Next block (odometer, last outer axis fastest).
    for (let i = outer.length - 1; i >= 0; i--) {
      if (++index[i]! < axes[outer[i]!]!.size) break;
      index[i] = 0;
    }
  }
}

/** {@link permuteInto} into a new array. */
export function permute(
  data: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
): Float32Array {
  const out = new Float32Array(data.length);
  permuteInto(data, shape, perm, out);
  return out;
}
