/**
 * Batch normalization in training mode with the fused wasm kernels (wasm-batchnorm-training.ts,
 * through keras-layers.ts's TrainingBatchNormalization) against tfjs-layers' own
 * BatchNormalization on the cpu backend: the output, the moving mean and variance after the
 * update, and the gradients of a weighted sum of the output with respect to the input, gamma and
 * beta, on seeded random cases (ranks 2 to 4, odd channel counts, one channel, a large mean offset,
 * no scale, no center: tfjs's own layer cannot train those, so there the reference is the layer's
 * composition of tfjs ops on cpu). The profile must show the fused kernels ran on wasm, and tfjs's
 * own path on cpu.
 */
import { describe, expect, it } from "vitest";
import { registerWasmTrainingKernels, selectRuntime, tf, tfl } from "../src/index.js";
import { TrainingBatchNormalization } from "../src/keras-layers.js";

interface Case {
  name: string;
  shape: number[];
  offset: number;
  spread: number;
  scale?: boolean;
  center?: boolean;
}

const CASES: Case[] = [
  { name: "rank 4, 5 channels", shape: [3, 7, 5, 5], offset: 0.5, spread: 2 },
  { name: "rank 4, 1 channel", shape: [2, 4, 6, 1], offset: -1, spread: 1 },
  { name: "rank 3, 7 channels", shape: [4, 9, 7], offset: 0, spread: 3 },
  { name: "rank 2, 64 channels", shape: [33, 64], offset: 2, spread: 0.5 },
  { name: "large mean offset", shape: [2, 5, 5, 3], offset: 100, spread: 0.01 },
  { name: "no scale", shape: [2, 3, 4, 6], offset: 0.3, spread: 1, scale: false },
  { name: "no center", shape: [2, 3, 4, 6], offset: -0.3, spread: 1, center: false },
];

function seeded(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

interface Result {
  y: Float32Array;
  weights: Float32Array[];
  grads: Float32Array[];
  kernels: string[];
}

/** One training-mode call and its gradients on the active backend, with the layer `make` builds. */
async function run(
  c: Case,
  make: (args: Record<string, unknown>) => tfl.layers.Layer,
): Promise<Result> {
  const size = c.shape.reduce((a, b) => a * b, 1);
  const channels = c.shape.at(-1)!;
  const x = tf.variable(
    tf.tensor(
      seeded(size, 1).map((v) => c.offset + c.spread * v),
      c.shape,
    ),
  );
  const w = tf.tensor(seeded(size, 2), c.shape);
  const layer = make({
    axis: -1,
    momentum: 0.8,
    epsilon: 1e-3,
    scale: c.scale ?? true,
    center: c.center ?? true,
  });
  layer.build(c.shape);
  const initial = [
    ...(c.scale === false ? [] : [seeded(channels, 3).map((v) => 1 + v)]),
    ...(c.center === false ? [] : [seeded(channels, 4)]),
    seeded(channels, 5),
    seeded(channels, 6).map((v) => 1 + v),
  ];
  layer.setWeights(initial.map((v) => tf.tensor(v, [channels])));
  const trainable = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  let y = new Float32Array();
  let grads: tf.Tensor[] = [];
  const profile = await tf.profile(() => {
    const result = tf.variableGrads(() => {
      const out = layer.apply(x, { training: true }) as tf.Tensor;
      y = out.dataSync() as Float32Array;
      return tf.sum(tf.mul(out, w)) as tf.Scalar;
    }, [x, ...trainable]);
    tf.dispose(result.value);
    grads = [x, ...trainable].map((v) => result.grads[v.name]!);
  });
  const out: Result = {
    y,
    weights: layer.getWeights().map((t) => t.dataSync() as Float32Array),
    grads: grads.map((g) => g.dataSync() as Float32Array),
    kernels: profile.kernels.map((k) => k.name),
  };
  tf.dispose([x, w, ...grads]);
  for (const v of layer.weights) v.dispose();
  return out;
}

/** Every element within `tol` of the largest magnitude of `expected` (at least 1). */
function expectClose(actual: Float32Array, expected: Float32Array, tol: number) {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(1, ...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(tol * scale);
}

describe("fused batch-norm training kernels (wasm) vs tfjs's BatchNormalization (cpu)", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      await selectRuntime("cpu");
      // tfjs's own layer cannot train without gamma or beta: there the reference is this
      // layer's composition of tfjs's moments and batchNorm on cpu.
      const complete = c.scale !== false && c.center !== false;
      const stock = await run(c, (args) =>
        complete ? tfl.layers.batchNormalization(args) : new TrainingBatchNormalization(args),
      );
      expect(stock.kernels).toContain("FusedBatchNorm");
      await selectRuntime("wasm");
      registerWasmTrainingKernels("fast");
      const fused = await run(c, (args) => new TrainingBatchNormalization(args));
      expect(fused.kernels).toContain("RscBatchNormTraining");
      expect(fused.kernels).toContain("RscBatchNormTrainingGrad");
      expect(fused.kernels).not.toContain("FusedBatchNorm");
      expectClose(fused.y, stock.y, 2e-5);
      expect(fused.weights.length).toBe(stock.weights.length);
      // gamma and beta unchanged; the moving mean and variance updated as tfjs updates them.
      for (const [i, w] of fused.weights.entries()) expectClose(w, stock.weights[i]!, 1e-5);
      expect(fused.weights.at(-2)).not.toEqual(seeded(c.shape.at(-1)!, 5));
      for (const [i, g] of fused.grads.entries()) expectClose(g, stock.grads[i]!, 2e-5);
    });
  }

  it("takes tfjs's own path on cpu, and in inference", async () => {
    const c = CASES[0]!;
    await selectRuntime("cpu");
    const onCpu = await run(c, (args) => new TrainingBatchNormalization(args));
    expect(onCpu.kernels).toContain("FusedBatchNorm");
    expect(onCpu.kernels).not.toContain("RscBatchNormTraining");
    await selectRuntime("wasm");
    registerWasmTrainingKernels("fast");
    const layer = new TrainingBatchNormalization({ axis: -1 });
    const x = tf.ones([2, 3, 3, 4]);
    const profile = await tf.profile(() => layer.apply(x, { training: false }) as tf.Tensor);
    expect(profile.kernels.map((k) => k.name)).not.toContain("RscBatchNormTraining");
    tf.dispose(x);
  });

  it("the composite kernel set leaves tfjs's own path on wasm", async () => {
    await selectRuntime("wasm");
    registerWasmTrainingKernels("composite");
    try {
      const old = await run(CASES[0]!, (args) => new TrainingBatchNormalization(args));
      expect(old.kernels).toContain("FusedBatchNorm");
      expect(old.kernels).not.toContain("RscBatchNormTraining");
    } finally {
      registerWasmTrainingKernels("fast");
    }
  });
});
