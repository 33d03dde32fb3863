/**
 * wasm's fast training kernels (wasm-conv-gradients.ts, wasm-reduce-kernels.ts,
 * wasm-pool-gradient.ts, the Identity of wasm-training-kernels.ts) against the
 * cpu backend's own kernels and tfjs's own gradient, on seeded random cases: odd sizes, strides
 * 1, 2 and (2, 1), 'same' with odd and even inputs, 'valid', explicit and numeric padding, 1x1
 * kernels, few input channels (the filter gradient as one product of the patches) and 16-32
 * (as a conv). The wasm result must match the cpu one within 1e-5 of the largest value, in shape
 * and in every element; the profile must show the kernels that make them fast were used.
 */
import { describe, expect, it } from "vitest";
import { selectRuntime, tf } from "../src/index.js";

type Pad = "same" | "valid" | number | [[0, 0], [number, number], [number, number], [0, 0]];
type Case = [
  name: string,
  x: [number, number, number, number],
  k: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
];

const CASES: Case[] = [
  ["3x3 same stride 1 (odd input)", [2, 7, 5, 3], [3, 3, 3, 4], 1, "same"],
  ["3x3 same stride 2 (odd input)", [2, 7, 7, 3], [3, 3, 3, 4], 2, "same"],
  ["3x3 same stride 2 (even input)", [3, 8, 6, 2], [3, 3, 2, 5], 2, "same"],
  ["2x2 same stride 1 (even kernel)", [2, 6, 5, 3], [2, 2, 3, 4], 1, "same"],
  ["4x4 same stride 2 (even kernel, odd input)", [2, 9, 7, 3], [4, 4, 3, 2], 2, "same"],
  ["7x7 valid stride 2", [1, 13, 12, 2], [7, 7, 2, 3], 2, "valid"],
  ["3x2 valid strides (2, 1)", [2, 9, 8, 3], [3, 2, 3, 4], [2, 1], "valid"],
  ["3x3 valid stride 3 (input not a multiple)", [2, 11, 10, 2], [3, 3, 2, 3], 3, "valid"],
  [
    "3x3 explicit padding (2,0)/(1,3) stride 2",
    [2, 7, 6, 3],
    [3, 3, 3, 2],
    2,
    [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ],
  ],
  ["5x5 numeric padding 1 stride 1", [1, 8, 7, 2], [5, 5, 2, 3], 1, 1],
  ["3x3 same stride 1, 32 channels (the conv path)", [2, 6, 5, 32], [3, 3, 32, 4], 1, "same"],
  ["3x3 same stride 2, 32 channels (the conv path)", [2, 7, 7, 32], [3, 3, 32, 3], 2, "same"],
  [
    "5x5 valid strides (2, 1), 16 channels (the conv path)",
    [1, 9, 8, 16],
    [5, 5, 16, 2],
    [2, 1],
    "valid",
  ],
  ["1x1 valid stride 1", [2, 5, 5, 4], [1, 1, 4, 5], 1, "valid"],
  ["1x1 valid stride 1 (more inputs than outputs)", [2, 5, 4, 6], [1, 1, 6, 3], 1, "valid"],
  [
    "1x1 explicit padding (0,1)/(2,0) stride 1",
    [2, 4, 5, 3],
    [1, 1, 3, 4],
    1,
    [
      [0, 0],
      [0, 1],
      [2, 0],
      [0, 0],
    ],
  ],
  ["1x1 valid stride 2 (odd input)", [2, 7, 5, 4], [1, 1, 4, 5], 2, "valid"],
  ["1x1 same stride 2 (even input)", [2, 6, 8, 3], [1, 1, 3, 2], 2, "same"],
  [
    "1x1 explicit padding (1,1)/(0,2) stride 2",
    [2, 5, 6, 3],
    [1, 1, 3, 4],
    2,
    [
      [0, 0],
      [1, 1],
      [0, 2],
      [0, 0],
    ],
  ],
];

type Data = { values: Float32Array; shape: number[] };

async function read(t: tf.Tensor): Promise<Data> {
  return { values: (await t.data()) as Float32Array, shape: t.shape };
}

/** Same shape; every element within 1e-5 of the largest magnitude of `expected`. */
function expectClose(actual: Data, expected: Data) {
  expect(actual.shape).toEqual(expected.shape);
  const scale = Math.max(1e-30, ...Array.from(expected.values, Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.values.length; i++)
    worst = Math.max(worst, Math.abs(actual.values[i]! - expected.values[i]!) / scale);
  expect(worst).toBeLessThan(1e-5);
}

/** Both conv2d gradient kernels of one case, run directly on the active backend. */
async function convGrads(c: Case, x: Float32Array, k: Float32Array, dy: Float32Array) {
  const [, xs, ks, strides, pad] = c;
  const xt = tf.tensor4d(x, xs);
  const kt = tf.tensor4d(k, ks);
  const yShape = tf.conv2d(xt, kt, strides, pad as "same").shape;
  const dyt = tf.tensor4d(dy, yShape);
  const attrs = { strides, pad, dataFormat: "NHWC", dimRoundingMode: undefined };
  const filter = tf.engine().runKernel("Conv2DBackpropFilter", { x: xt, dy: dyt }, {
    ...attrs,
    filterShape: ks,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const input = tf.engine().runKernel("Conv2DBackpropInput", { dy: dyt, filter: kt }, {
    ...attrs,
    inputShape: xs,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const out = { filter: await read(filter), input: await read(input) };
  tf.dispose([xt, kt, dyt, filter, input]);
  return out;
}

function seeded(shape: number[], seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, 0, 1, "float32", seed).dataSync() as Float32Array);
}

describe("wasm conv2d gradients as forward convs", () => {
  it.each(CASES)("match the cpu kernels: %s", async (...c) => {
    await selectRuntime("cpu");
    const [, xs, ks, strides, pad] = c;
    const yShape = tf.tidy(
      () => tf.conv2d(tf.zeros(xs), tf.zeros(ks), strides, pad as "same").shape,
    );
    const x = seeded(xs, 1);
    const k = seeded(ks, 2);
    const dy = seeded(yShape, 3);
    const expected = await convGrads(c, x, k, dy);
    await selectRuntime("wasm");
    const actual = await convGrads(c, x, k, dy);
    expectClose(actual.filter, expected.filter);
    expectClose(actual.input, expected.input);
  });

  it("run as XNNPACK convolutions and products, not wasm's naive input-gradient loop", async () => {
    await selectRuntime("wasm");
    // 3 x 3 x 32 taps: above the patch size that takes the one-product filter gradient.
    const x = tf.randomNormal([2, 9, 9, 32], 0, 1, "float32", 1) as tf.Tensor4D;
    const k = tf.variable(tf.randomNormal([3, 3, 32, 8], 0, 1, "float32", 2));
    const xv = tf.variable(x);
    const profile = await tf.profile(() =>
      tf.variableGrads(
        () =>
          tf.sum(tf.conv2d(xv as tf.Variable<tf.Rank.R4>, k as tf.Variable<tf.Rank.R4>, 2, "same")),
        [xv, k],
      ),
    );
    const names = profile.kernels.map((kk) => kk.name);
    // The gradient kernels themselves run, and within them forward convs.
    expect(names).toContain("Conv2DBackpropInput");
    expect(names).toContain("Conv2DBackpropFilter");
    expect(names.filter((n) => n === "Conv2D").length).toBeGreaterThanOrEqual(3);
    tf.dispose([x, k, xv]);
  });

  it("a filter gradient over few input channels is one product of the patches", async () => {
    await selectRuntime("wasm");
    const x = tf.randomNormal([2, 13, 13, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    const dy = tf.randomNormal([2, 4, 4, 5], 0, 1, "float32", 2) as tf.Tensor4D;
    const attrs = { strides: 2, pad: "valid", dataFormat: "NHWC", filterShape: [7, 7, 3, 5] };
    const profile = await tf.profile(() =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, attrs as unknown as tf.NamedAttrMap),
    );
    const names = profile.kernels.map((kk) => kk.name);
    expect(names).toContain("BatchMatMul");
    expect(names).not.toContain("Conv2D");
    tf.dispose([x, dy]);
  });
});

describe("wasm Sum and Mean over leading axes", () => {
  it.each([
    ["Sum", [0, 1, 2], false, [3, 5, 7, 6]],
    ["Sum", [2, 0, 1], true, [3, 5, 7, 6]],
    ["Mean", [0, 1, 2], false, [4, 3, 5, 9]],
    ["Mean", [0], true, [7, 5]],
    ["Sum", [0, 1], false, [2, 3, 4]],
    ["Sum", [1, 2], false, [3, 5, 7, 6]], // not leading: wasm's own kernel
    ["Mean", [3], true, [3, 5, 7, 6]], // innermost: wasm's own kernel
    ["Sum", [0, 1, 2, 3], false, [3, 5, 7, 6]], // every axis: wasm's own kernel
  ] as const)(
    "%s over %j (keepDims %s) of %j matches the cpu backend",
    async (op, axes, keepDims, shape) => {
      const run = async () => {
        const x = tf.tensor(seeded([...shape], 9), [...shape]);
        const y = op === "Sum" ? tf.sum(x, [...axes], keepDims) : tf.mean(x, [...axes], keepDims);
        const out = await read(y);
        tf.dispose([x, y]);
        return out;
      };
      await selectRuntime("cpu");
      const expected = await run();
      await selectRuntime("wasm");
      expectClose(await run(), expected);
    },
  );

  it("accumulates in double precision (the one-pass kernel, not wasm's float32 one)", async () => {
    await selectRuntime("wasm");
    // 2^24 + 1 rounds to 2^24 in float32: a float32 running sum loses every 1 after the first
    // value, and ends at 0 after the last; a double one ends at the exact count.
    const ones = 1000;
    const column = [2 ** 24, ...Array.from({ length: ones }, () => 1), -(2 ** 24)];
    const x = tf.tensor(column, [column.length, 1]);
    const y = tf.sum(x, 0);
    expect(Array.from(await y.data())).toEqual([ones]);
    tf.dispose([x, y]);
  });

  it("sums int32 with wasm's own kernel", async () => {
    await selectRuntime("wasm");
    const x = tf.tensor([1, 2, 3, 4, 5, 6], [3, 2], "int32");
    const y = tf.sum(x, 0);
    expect(y.dtype).toBe("int32");
    expect(Array.from(await y.data())).toEqual([9, 12]);
    tf.dispose([x, y]);
  });
});

type PoolCase = [
  name: string,
  x: [number, number, number, number],
  size: number | [number, number],
  strides: number | [number, number],
  pad: "same" | "valid",
];

const POOL_CASES: PoolCase[] = [
  ["3x3 stride 2 valid (ResNet's, odd input)", [2, 9, 9, 5], 3, 2, "valid"],
  ["3x3 stride 2 same (even input)", [2, 8, 6, 3], 3, 2, "same"],
  ["2x2 stride 2 valid", [3, 6, 7, 4], 2, 2, "valid"],
  ["3x3 stride 1 same (overlapping windows)", [1, 5, 6, 7], 3, 1, "same"],
  ["3x2 strides (1, 2) same", [2, 7, 5, 2], [3, 2], [1, 2], "same"],
];

describe("wasm's max-pool gradient matches the cpu backend's", () => {
  for (const [name, shape, size, strides, pad] of POOL_CASES) {
    it(name, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      // Values rounded to a few levels, so windows hold ties (the first maximum must win) and
      // one -Infinity window position.
      const values = seeded(shape, 21).map((v) => Math.round(v * 3) / 3);
      values[n - 1] = Number.NEGATIVE_INFINITY;
      const run = async () => {
        const x = tf.tensor4d(values, shape);
        const y = tf.maxPool(x, size, strides, pad);
        const w = tf.tensor(seeded(y.shape, 22), y.shape);
        const dx = tf.grad((t: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, size, strides, pad), w)),
        )(x);
        const out = await read(dx);
        tf.dispose([x, y, w, dx]);
        return out;
      };
      await selectRuntime("cpu");
      const expected = await run();
      await selectRuntime("wasm");
      const profile = await tf.profile(run);
      expect(profile.kernels.map((k) => k.name)).toContain("MaxPoolGrad");
      expectClose(await run(), expected);
      expect(expected.values.some((v) => v !== 0)).toBe(true);
    });
  }
});

describe("wasm's Identity shares its input's data", () => {
  it("a clone reads the same values, outlives its source, and copies nothing", async () => {
    await selectRuntime("wasm");
    const x = tf.tensor([1.5, -2, 3.25, 4], [2, 2]);
    const backend = tf.engine().backend;
    const before = backend.numDataIds();
    const y = tf.clone(x);
    // The clone is a new tensor on the same data: nothing allocated on the heap.
    expect(backend.numDataIds()).toBe(before);
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1.5, -2, 3.25, 4]);
    y.dispose();
    // Training still saves tensors through it and computes the same gradient as the cpu backend.
    const grad = async () => {
      const v = tf.tensor([0.5, -1, 2], [3]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.exp(t), tf.relu(t))))(v);
      const out = Array.from(await g.data());
      tf.dispose([v, g]);
      return out;
    };
    const onWasm = await grad();
    await selectRuntime("cpu");
    const onCpu = await grad();
    onWasm.forEach((g, i) => {
      expect(Math.abs(g - onCpu[i]!)).toBeLessThan(1e-6);
    });
  });
});
