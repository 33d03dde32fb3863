/** Tensor bytes for ONNX initializers: little-endian raw data, and the HWIO -> OIHW kernel transpose. */
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

/**
 * Reorders a Keras conv kernel from HWIO `[kh, kw, in, out]` to ONNX's OIHW `[out, in, kh, kw]`.
 * For each kernel position this is an `[in, out]` -> `[out, in]` transpose, done in tiles
 * because ResNet-50 moves 23 M values through it.
 */
export function hwioToOihw(
  data: Float32Array,
  shape: readonly [number, number, number, number],
): Float32Array {
  const out = new Float32Array(data.length);
  hwioToOihwInto(data, shape, out);
  return out;
}

/** {@link hwioToOihw} into `out` (at least as long as `data`). */
export function hwioToOihwInto(
  data: Float32Array,
  [kh, kw, cin, cout]: readonly [number, number, number, number],
  out: Float32Array,
): void {
  const spatial = kh * kw;
  for (let s = 0; s < spatial; s++) {
    const src = s * cin * cout;
    for (let i0 = 0; i0 < cin; i0 += TILE) {
      const i1 = Math.min(i0 + TILE, cin);
      for (let o0 = 0; o0 < cout; o0 += TILE) {
        const o1 = Math.min(o0 + TILE, cout);
        for (let o = o0; o < o1; o++) {
          const dst = o * cin * spatial + s;
          for (let i = i0; i < i1; i++) out[dst + i * spatial] = data[src + i * cout + o]!;
        }
      }
    }
  }
}
