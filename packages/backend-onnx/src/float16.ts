/**
 * IEEE 754 binary16 (ONNX FLOAT16) from float32, rounding to nearest with ties to even, as the
 * hardware conversions (F16C's VCVTPS2PH, numpy's astype) do: values past the largest half
 * (65504) round to infinity once they reach the halfway point 65520, tiny values become
 * subnormals (the smallest is 2^-24, about 5.96e-8) or signed zero, NaN stays a quiet NaN.
 * Node 20 has neither Float16Array nor Math.f16round, and the conversion is twenty lines of bit
 * arithmetic, so it is written here rather than taken from a package.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The largest finite float16 value. */
export const FLOAT16_MAX = 65504;

/** The float16 bit pattern nearest to `value` (ties to even). */
export function float16Bits(value: number): number {
  f32[0] = value;
  return bitsOfFloat32(u32[0]!);
}

/** {@link float16Bits} of a float32 given by its bit pattern. */
function bitsOfFloat32(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    // Infinity keeps its sign; a NaN stays a NaN (quiet bit set, top payload bits kept).
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  // float32 exponents 113..142 are float16's normal range (unbiased -14..15).
  if (exponent > 142) return sign | 0x7c00;
  if (exponent >= 113) {
    let half = ((exponent - 112) << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    // A carry out of the mantissa moves to the next exponent, and from 65504 to infinity.
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
    return sign | half;
  }
  // Below 2^-25 everything rounds to zero (2^-25 itself is a tie, and zero is even).
  if (exponent < 102) return sign;
  // Subnormal: the value is (1.mantissa) * 2^(exponent - 127), in units of 2^-24.
  const significand = mantissa | 0x800000;
  const shift = 126 - exponent;
  let half = significand >>> shift;
  const rest = significand & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  // Rounding up from the largest subnormal gives the smallest normal (0x0400): still correct.
  if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
  return sign | half;
}

/** The float32 value of a float16 bit pattern (exact: every float16 is a float32). */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Converts `data` into `out` (same length), one float16 bit pattern per value. */
export function toFloat16Into(data: Float32Array, out: Uint16Array): void {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < bits.length; i++) out[i] = bitsOfFloat32(bits[i]!);
}

/** {@link toFloat16Into} into a new array. */
export function toFloat16(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  toFloat16Into(data, out);
  return out;
}
