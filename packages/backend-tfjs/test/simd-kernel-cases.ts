/**
 * The SIMD kernels of wasm-simd-kernels.wat, called directly on tfjs-wasm's heap, against the
 * same arithmetic in JavaScript: float32 steps rounded as float32 (Math.fround) must agree bit
 * for bit, float64 sums within 1e-12 of their size. Channel counts cover the 4-wide loop, its
 * scalar tail and both together. Shared by the plain-memory and shared-memory test files (one
 * wasm binary per process).
 */
import { expect, it } from "vitest";
import { tf } from "../src/index.js";
import { SimdHeap } from "../src/wasm-simd.js";

const f = Math.fround;

function seeded(size: number, seed: number, offset = 0): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = offset + (s / 2 ** 32 - 0.5) * 4;
  }
  return out;
}

const SHAPES: [rows: number, channels: number][] = [
  [1, 1],
  [7, 3],
  [5, 4],
  [9, 5],
  [3, 8],
  [6, 13],
  [4, 64],
];

/** Runs `body` with float32 tensors of the given values on the wasm heap, disposed after. */
function withTensors<T>(values: Float32Array[], body: (ts: tf.Tensor[]) => T): T {
  const ts = values.map((v) => tf.tensor1d(v));
  try {
    return body(ts);
  } finally {
    tf.dispose(ts);
  }
}

function expectSums(actual: Float64Array, expected: number[]) {
  expected.forEach((e, i) => {
    expect(Math.abs(actual[i]! - e)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(e)));
  });
}

export function simdKernelCases(): void {
  for (const [rows, channels] of SHAPES) {
    it(`batch-norm and column-sum kernels over ${rows} x ${channels}`, () => {
      const n = rows * channels;
      const x = seeded(n, 11 * channels + rows, 3);
      const dy = seeded(n, 7 * channels + rows);
      const mean = seeded(channels, 5, 3);
      const scale = seeded(channels, 6);
      const shift = seeded(channels, 8);
      const heap = new SimdHeap(tf.backend());
      try {
        withTensors([x, dy, mean, scale, shift, new Float32Array(n)], (ts) => {
          const [tx, tdy, tm, ts_, tsh, tout] = ts.map((t) => heap.offset(t)) as number[];
          const sumsAt = heap.scratch(16 * channels);
          heap.kernels.bnStats(tx!, rows, channels, sumsAt, sumsAt + 8 * channels);
          const sum = Array.from({ length: channels }, (_, c) => {
            let s = 0;
            for (let r = 0; r < rows; r++) s += x[r * channels + c]!;
            return s;
          });
          const squares = Array.from({ length: channels }, (_, c) => {
            let s = 0;
            for (let r = 0; r < rows; r++) s += x[r * channels + c]! ** 2;
            return s;
          });
          expectSums(heap.f64(sumsAt, 2 * channels), [...sum, ...squares]);
          const columnsAt = heap.scratch(8 * channels);
          heap.kernels.columnSums(tx!, rows, channels, columnsAt);
          expectSums(heap.f64(columnsAt, channels), sum);

          heap.kernels.bnApply(tx!, tout!, rows, channels, tm!, ts_!, tsh!);
          const y = Array.from(x, (v, i) => {
            const c = i % channels;
            return f(f(f(v - mean[c]!) * scale[c]!) + shift[c]!);
          });
          expect(Array.from(heap.f32(tout!, n))).toEqual(y);

          const gradAt = heap.scratch(16 * channels);
          heap.kernels.bnGradStats(tdy!, tx!, rows, channels, tm!, gradAt, gradAt + 8 * channels);
          const sumDy = Array.from({ length: channels }, (_, c) => {
            let s = 0;
            for (let r = 0; r < rows; r++) s += dy[r * channels + c]!;
            return s;
          });
          const sumDyXc = Array.from({ length: channels }, (_, c) => {
            let s = 0;
            for (let r = 0; r < rows; r++) {
              const i = r * channels + c;
              s += f(dy[i]! * f(x[i]! - mean[c]!));
            }
            return s;
          });
          expectSums(heap.f64(gradAt, 2 * channels), [...sumDy, ...sumDyXc]);

          // a, b, k: scale, shift and mean reused as coefficients.
          heap.kernels.bnGradApply(tdy!, tx!, tout!, rows, channels, tm!, ts_!, tsh!, tm!);
          const dx = Array.from(x, (v, i) => {
            const c = i % channels;
            const a = f(scale[c]! * dy[i]!);
            const b = f(shift[c]! * f(v - mean[c]!));
            return f(f(a + b) + mean[c]!);
          });
          expect(Array.from(heap.f32(tout!, n))).toEqual(dx);
        });
      } finally {
        heap.release();
      }
    });
  }

  for (const [a, m, b] of [
    [1, 1, 1],
    [5, 1, 3],
    [9, 4, 17],
    [16, 3, 8],
  ] as const) {
    it(`transposeOuter and swapLeading over [${a}, ${m}, ${b}]`, () => {
      const src = seeded(a * m * b, 13);
      const heap = new SimdHeap(tf.backend());
      withTensors([src, new Float32Array(src.length), new Float32Array(src.length)], (ts) => {
        const [from, outer, leading] = ts.map((t) => heap.offset(t)) as number[];
        heap.kernels.transposeOuter(from!, outer!, a, m, b);
        heap.kernels.swapLeading(from!, leading!, a, m, b);
        const expectedOuter = new Float32Array(src.length);
        const expectedLeading = new Float32Array(src.length);
        for (let i = 0; i < a; i++)
          for (let k = 0; k < m; k++)
            for (let j = 0; j < b; j++) {
              const v = src[(i * m + k) * b + j]!;
              expectedOuter[(j * m + k) * a + i] = v;
              expectedLeading[(k * a + i) * b + j] = v;
            }
        expect(heap.f32(outer!, src.length)).toEqual(expectedOuter);
        expect(heap.f32(leading!, src.length)).toEqual(expectedLeading);
      });
    });
  }

  for (const [taps, ci, co] of [
    [1, 3, 5],
    [9, 17, 33],
    [4, 16, 16],
  ] as const) {
    it(`swapChannels over ${taps} taps of ${ci} x ${co}, flipped and not`, () => {
      const src = seeded(taps * ci * co, 9);
      const heap = new SimdHeap(tf.backend());
      for (const flip of [0, 1]) {
        withTensors([src, new Float32Array(src.length)], (ts) => {
          const [from, to] = ts.map((t) => heap.offset(t)) as number[];
          heap.kernels.swapChannels(from!, to!, taps, ci, co, flip);
          const expected = new Float32Array(src.length);
          for (let t = 0; t < taps; t++)
            for (let i = 0; i < ci; i++)
              for (let o = 0; o < co; o++) {
                const source = flip ? taps - 1 - t : t;
                expected[(t * co + o) * ci + i] = src[(source * ci + i) * co + o]!;
              }
          expect(heap.f32(to!, src.length)).toEqual(expected);
        });
      }
    });
  }

  for (const n of [1, 3, 4, 7, 64, 1001]) {
    it(`adam over ${n} values, in place and into other tensors`, () => {
      const [b1, b2, lr, eps] = [0.85, 0.995, 0.003, 1e-6];
      const [omb1, omb2] = [f(1 - b1), f(1 - b2)];
      const [c1, c2] = [f(1 - f(b1) ** 3), f(1 - f(b2) ** 3)];
      const p = seeded(n, 1);
      const m = seeded(n, 2).map((v) => v * 0.1);
      const v = seeded(n, 3).map((x) => Math.abs(x) * 0.01);
      const g = seeded(n, 4);
      const mRef = Array.from(m, (mi, i) => f(f(mi * f(b1)) + f(g[i]! * omb1)));
      const vRef = Array.from(v, (vi, i) => f(f(vi * f(b2)) + f(f(g[i]! * g[i]!) * omb2)));
      const pRef = Array.from(p, (pi, i) => {
        const step = f(f(mRef[i]! / c1) / f(f(Math.sqrt(f(vRef[i]! / c2))) + f(eps)));
        return f(f(step * f(-lr)) + pi);
      });
      const heap = new SimdHeap(tf.backend());
      const zero = new Float32Array(n);
      for (const inPlace of [false, true]) {
        withTensors([p, m, v, g, zero, zero, zero], (ts) => {
          const [tp, tm, tv, tg, po, mo, vo] = ts.map((t) => heap.offset(t)) as number[];
          const [outP, outM, outV] = inPlace ? [tp!, tm!, tv!] : [po!, mo!, vo!];
          heap.kernels.adam(
            tp!,
            tm!,
            tv!,
            tg!,
            outP,
            outM,
            outV,
            n,
            b1,
            b2,
            omb1,
            omb2,
            c1,
            c2,
            lr,
            eps,
          );
          expect(Array.from(heap.f32(outM, n))).toEqual(mRef);
          expect(Array.from(heap.f32(outV, n))).toEqual(vRef);
          expect(Array.from(heap.f32(outP, n))).toEqual(pRef);
          expect(pRef.some((q, i) => q !== p[i])).toBe(true);
        });
      }
    });
  }
}
