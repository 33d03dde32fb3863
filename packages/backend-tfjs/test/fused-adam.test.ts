/**
 * The fused Adam (fused-adam.ts) against tfjs's own AdamOptimizer on the cpu backend: the same
 * initial variables and seeded random gradients (shapes [1], odd sizes, a 4-D kernel; gradient
 * scales from 1e-3 to 10; array and map forms; null gradients), six steps with non-default
 * learning rate, betas and epsilon. On wasm the variables and both moments must be tfjs's bit for
 * bit (the fused kernel rounds to float32 after each operation, in tfjs's order; odd sizes cover
 * its scalar tail), and the profile must show one RscAdamUpdate per variable instead of tfjs's
 * elementwise kernels; on cpu it must
 * be tfjs's update itself. Its saved state (names, order, iterations) must be tfjs's, and a
 * LayersModel must train with it as with tfjs's Adam.
 */
import { afterAll, describe, expect, it } from "vitest";
import { ADAM_UPDATE_KERNEL, adam, selectRuntime, tf, tfl } from "../src/index.js";

const SHAPES: number[][] = [[1], [7], [3, 5], [257], [3, 3, 4, 5], [2, 1, 9]];
/** Each variable's gradient scale, so the moments see small and large gradients. */
const SCALES = [1, 10, 0.001, 0.5, 2, 0.05];
const STEPS = 6;
const [LR, BETA1, BETA2, EPSILON] = [0.01, 0.8, 0.95, 1e-6];

/** A seeded uniform generator on [-1, 1) (mulberry32), the same on every backend. */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
}

const random = uniform(16);
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const INITIAL = SHAPES.map((s) => Float32Array.from({ length: size(s) }, random));
/** GRADIENTS[step][variable]; null where that step has no gradient for the variable. */
const GRADIENTS: (Float32Array | null)[][] = Array.from({ length: STEPS }, (_, step) =>
  SHAPES.map((s, i) =>
    (step === 2 && i === 1) || (step === 3 && i === 4)
      ? null
      : Float32Array.from({ length: size(s) }, () => random() * SCALES[i]!),
  ),
);

type Optimizer = InstanceType<typeof tf.AdamOptimizer>;

interface Run {
  /** Final variable values, by variable. */
  values: Float32Array[];
  /** The optimizer's getWeights(): iterations, then every `/m`, then every `/v`. */
  weights: { name: string; values: Float32Array }[];
  /** Kernel names of the last step's applyGradients, with their counts. */
  kernels: Map<string, number>;
}

/** STEPS updates of fresh variables `w0..w5` with `make()` on `backend`, read back to JS. */
async function run(backend: "cpu" | "wasm", make: () => Optimizer): Promise<Run> {
  await selectRuntime(backend);
  expect(tf.getBackend()).toBe(backend);
  const names = SHAPES.map((_, i) => `fused_adam_test_w${i}`);
  const variables = SHAPES.map((s, i) => tf.variable(tf.tensor(INITIAL[i]!, s), true, names[i]));
  const optimizer = make();
  let kernels = new Map<string, number>();
  for (let step = 0; step < STEPS; step++) {
    const gradients = GRADIENTS[step]!.map((g, i) => (g === null ? null : tf.tensor(g, SHAPES[i])));
    // Alternate the two forms applyGradients takes: a list of named tensors and a map by name.
    const apply = () =>
      step % 2 === 0
        ? optimizer.applyGradients(
            names.map((name, i) => ({
              name,
              tensor: gradients[i] as InstanceType<typeof tf.Tensor>,
            })),
          )
        : optimizer.applyGradients(
            Object.fromEntries(names.map((name, i) => [name, gradients[i]])) as Record<
              string,
              InstanceType<typeof tf.Variable>
            >,
          );
    if (step === STEPS - 1) {
      const profile = await tf.profile(apply);
      kernels = new Map();
      for (const k of profile.kernels) kernels.set(k.name, (kernels.get(k.name) ?? 0) + 1);
    } else apply();
    tf.dispose(gradients.filter((g) => g !== null));
  }
  const values = variables.map((v) => v.dataSync() as Float32Array);
  const weights = (await optimizer.getWeights()).map((w) => ({
    name: w.name,
    values: w.tensor.dataSync() as Float32Array,
  }));
  optimizer.dispose();
  tf.dispose(variables);
  return { values, weights, kernels };
}

const stockAdam = () => tf.train.adam(LR, BETA1, BETA2, EPSILON);
const fusedAdam = () => adam(LR, BETA1, BETA2, EPSILON);

/**
 * Every element of `actual` within 1e-6 of `expected`, relative to it (and 1e-7 of its tensor's
 * largest magnitude, for moments that cancel to ~0).
 */
function expectClose(actual: Float32Array, expected: Float32Array, what: string) {
  expect(actual.length, what).toBe(expected.length);
  const scale = Math.max(...Array.from(expected, Math.abs));
  for (let j = 0; j < expected.length; j++)
    expect(Math.abs(actual[j]! - expected[j]!), `${what}[${j}]`).toBeLessThanOrEqual(
      1e-6 * Math.abs(expected[j]!) + 1e-7 * scale,
    );
}

describe("fused Adam", () => {
  afterAll(async () => {
    await selectRuntime("cpu");
  });

  it("on wasm: tfjs's variables and moments (cpu), one kernel per variable", async () => {
    const reference = await run("cpu", stockAdam);
    const fused = await run("wasm", fusedAdam);
    expect(fused.weights.map((w) => w.name)).toEqual(reference.weights.map((w) => w.name));
    expect(fused.values).toEqual(reference.values);
    expect(fused.weights).toEqual(reference.weights);
    // The updates are far larger than the tolerance: a kernel that left a variable alone fails.
    reference.values.forEach((v, i) => {
      const moved = Math.max(...Array.from(v, (x, j) => Math.abs(x - INITIAL[i]![j]!)));
      expect(moved, `w${i} moved`).toBeGreaterThan(1e-2);
    });
    // The last step has a gradient for every variable: one fused kernel each, none of tfjs's own.
    expect(fused.kernels.get(ADAM_UPDATE_KERNEL)).toBe(SHAPES.length);
    for (const stock of ["Sqrt", "Square", "RealDiv"]) expect(fused.kernels.has(stock)).toBe(false);
    expect(reference.kernels.get("Sqrt")).toBe(SHAPES.length);
  });

  it("on cpu: exactly tfjs's Adam", async () => {
    const reference = await run("cpu", stockAdam);
    const fused = await run("cpu", fusedAdam);
    expect(fused.values).toEqual(reference.values);
    expect(fused.weights).toEqual(reference.weights);
    expect(fused.kernels.has(ADAM_UPDATE_KERNEL)).toBe(false);
  });

  it("keeps tfjs's class name and config, and continues from tfjs's saved state", async () => {
    const stock = stockAdam();
    const fused = fusedAdam();
    expect(fused.getClassName()).toBe("Adam");
    expect(fused).toBeInstanceOf(tf.AdamOptimizer);
    expect(fused.getConfig()).toEqual(stock.getConfig());
    stock.dispose();
    fused.dispose();

    // Three stock steps on cpu, saved; the fused optimizer on wasm, given that state, takes the
    // remaining steps and must end where six stock steps end (bias correction from iterations).
    const full = await run("cpu", stockAdam);
    await selectRuntime("cpu");
    const names = SHAPES.map((_, i) => `fused_adam_resume_w${i}`);
    const variables = SHAPES.map((s, i) => tf.variable(tf.tensor(INITIAL[i]!, s), true, names[i]));
    const first = stockAdam();
    const applyStep = (optimizer: Optimizer, step: number) => {
      const gradients = GRADIENTS[step]!.map((g, i) =>
        g === null ? null : tf.tensor(g, SHAPES[i]),
      );
      optimizer.applyGradients(
        Object.fromEntries(names.map((name, i) => [name, gradients[i]])) as Record<
          string,
          InstanceType<typeof tf.Variable>
        >,
      );
      tf.dispose(gradients.filter((g) => g !== null));
    };
    for (let step = 0; step < 3; step++) applyStep(first, step);
    const saved = (await first.getWeights()).map((w) => ({
      name: w.name,
      values: w.tensor.dataSync() as Float32Array,
      shape: w.tensor.shape,
    }));
    const atStep3 = variables.map((v) => v.dataSync() as Float32Array);
    first.dispose();
    tf.dispose(variables);

    await selectRuntime("wasm");
    const resumed = SHAPES.map((s, i) => tf.variable(tf.tensor(atStep3[i]!, s), true, names[i]));
    const second = fusedAdam();
    await second.setWeights(
      saved.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape) })),
    );
    for (let step = 3; step < STEPS; step++) applyStep(second, step);
    resumed.forEach((v, i) => {
      expectClose(v.dataSync() as Float32Array, full.values[i]!, `w${i}`);
    });
    const weights = await second.getWeights();
    expect(weights.map((w) => w.name)).toEqual(saved.map((w) => w.name));
    expect(weights[0]!.tensor.dataSync()[0]).toBe(STEPS);
    second.dispose();
    tf.dispose(resumed);
  });

  it("trains a LayersModel on wasm as tfjs's Adam does there", async () => {
    await selectRuntime("wasm");
    const x = tf.tensor2d(Float32Array.from({ length: 8 * 5 }, random), [8, 5]);
    const y = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32"), 3), "float32");
    const train = async (optimizer: Optimizer) => {
      const model = tfl.sequential({
        layers: [
          tfl.layers.dense({
            inputShape: [5],
            units: 6,
            activation: "tanh",
            kernelInitializer: "ones",
          }),
          tfl.layers.dense({ units: 3, activation: "softmax", kernelInitializer: "ones" }),
        ],
      });
      // Distinct starting weights per unit (a constant initializer would keep the units equal).
      model.setWeights(
        model
          .getWeights()
          .map((w) => tf.tensor(Float32Array.from({ length: w.size }, uniform(w.size)), w.shape)),
      );
      model.compile({ optimizer, loss: "categoricalCrossentropy" });
      const start = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
      const losses: number[] = [];
      for (let s = 0; s < 4; s++) losses.push((await model.trainOnBatch(x, y)) as number);
      const end = model.getWeights().map((w) => w.dataSync() as Float32Array);
      const names = (await optimizer.getWeights()).map((w) => w.name);
      model.dispose();
      optimizer.dispose();
      return { start, end, losses, names };
    };
    const stock = await train(tf.train.adam(0.05));
    const fused = await train(adam(0.05));
    expect(fused.start).toEqual(stock.start);
    // Same gradients (same wasm kernels), same update: the same weights and losses, bit for bit.
    expect(fused.end).toEqual(stock.end);
    expect(fused.losses).toEqual(stock.losses);
    expect(stock.losses[3]!).toBeLessThan(stock.losses[0]! - 1e-3);
    // Same moments per weight, named after each model's own variables.
    expect(fused.names.length).toBe(stock.names.length);
    expect(fused.names.map((n) => n.replace(/Dense\d+/, "Dense"))).toEqual(
      stock.names.map((n) => n.replace(/Dense\d+/, "Dense")),
    );
    tf.dispose([x, y]);
  });
});
