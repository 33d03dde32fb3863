/**
 * Training on wasm with the fast kernels gives what the cpu backend gives: a small ResNet-like
 * spec (odd input, stride-2 3x3 and 1x1 convs, 'same' and 'valid', batch norm, a residual add, a
 * depthwise conv, a transposed conv), trained for a few SGD steps from the same initial weights on
 * the same batches, ends with the same per-step losses and the same weights within float
 * tolerance (1e-4 of each weight tensor's largest magnitude).
 */
import { type Graph, graphFromLayers, initWeights } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import { selectRuntime, tf, toLayersModel } from "../src/index.js";

function resnetLikeGraph(): Graph {
  return graphFromLayers("resnet_like", [
    { name: "input_1", op: "input", attrs: { shape: [15, 15, 3] } },
    {
      name: "conv_a",
      op: "conv2d",
      attrs: { filters: 8, kernel_size: 3, strides: 2, padding: "same" },
    },
    { name: "bn_a", op: "batch_normalization" },
    { name: "relu_a", op: "activation", attrs: { activation: "relu" } },
    { name: "conv_b", op: "conv2d", attrs: { filters: 8, kernel_size: 3, padding: "same" } },
    { name: "bn_b", op: "batch_normalization" },
    {
      name: "short",
      op: "conv2d",
      attrs: { filters: 8, kernel_size: 1, strides: 2 },
      inputs: ["input_1"],
    },
    { name: "bn_s", op: "batch_normalization" },
    { name: "add", op: "add", inputs: ["bn_b", "bn_s"] },
    { name: "relu_b", op: "activation", attrs: { activation: "relu" } },
    { name: "conv_c", op: "conv2d", attrs: { filters: 6, kernel_size: 1 } },
    { name: "conv_d", op: "conv2d", attrs: { filters: 6, kernel_size: 3, strides: 2 } },
    { name: "dw", op: "depthwise_conv2d", attrs: { kernel_size: 3, padding: "same" } },
    {
      name: "tconv",
      op: "conv2d_transpose",
      attrs: { filters: 4, kernel_size: 3, strides: 2, padding: "same" },
    },
    { name: "bn_t", op: "batch_normalization" },
    { name: "gap", op: "global_average_pooling2d" },
    { name: "fc3", op: "dense", attrs: { units: 3, activation: "softmax" } },
  ]);
}

const STEPS = 4;
/**
 * Plain SGD: its steps are proportional to the gradients, so float noise stays float noise. (Adam
 * divides by the gradients' own size, so the ~zero gradient of a bias before batch norm would
 * turn noise into learning-rate-sized steps, on any two backends.)
 */
const OPTIMIZER = () => tf.train.sgd(0.1);
const BATCH = 8;

/** Per-step losses and the final weights of STEPS Adam steps on the active backend. */
async function train(graph: Graph, images: Float32Array, shape: number[]) {
  const model = toLayersModel(graph, initWeights(graph, 7));
  model.compile({ optimizer: OPTIMIZER(), loss: "categoricalCrossentropy" });
  const x = tf.tensor4d(images, [BATCH * STEPS, ...shape] as [number, number, number, number]);
  const y = tf.tidy(() =>
    tf.cast(
      tf.oneHot(
        tf.tensor1d(
          Array.from({ length: BATCH * STEPS }, (_, i) => (i * 7) % 3),
          "int32",
        ),
        3,
      ),
      "float32",
    ),
  );
  const losses: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const [xb, yb] = [tf.slice(x, s * BATCH, BATCH), tf.slice(y, s * BATCH, BATCH)];
    losses.push((await model.trainOnBatch(xb, yb)) as number);
    tf.dispose([xb, yb]);
  }
  const weights = await Promise.all(model.getWeights().map((w) => w.data()));
  tf.dispose([x, y]);
  model.dispose();
  return { losses, weights };
}

describe("training on wasm (fast kernels) matches the cpu backend", () => {
  it("a ResNet-like spec: same losses and final weights", async () => {
    const graph = resnetLikeGraph();
    const shape = graph.nodes.find((n) => n.name === graph.inputs[0])!.outputShape;
    await selectRuntime("cpu");
    const images = tf.tidy(
      () =>
        tf.randomUniform([BATCH * STEPS, ...shape], 0, 1, "float32", 11).dataSync() as Float32Array,
    );
    const cpu = await train(graph, images, shape);
    await selectRuntime("wasm");
    const wasm = await train(graph, images, shape);
    for (let s = 0; s < STEPS; s++)
      expect(Math.abs(wasm.losses[s]! - cpu.losses[s]!)).toBeLessThan(
        1e-4 * Math.abs(cpu.losses[s]!) + 1e-6,
      );
    expect(cpu.losses.every(Number.isFinite)).toBe(true);
    expect(wasm.weights.length).toBe(cpu.weights.length);
    cpu.weights.forEach((c, i) => {
      const w = wasm.weights[i]!;
      expect(w.length).toBe(c.length);
      const scale = Math.max(1e-3, ...Array.from(c, Math.abs));
      for (let j = 0; j < c.length; j++)
        expect(Math.abs(w[j]! - c[j]!), `weight ${i}[${j}]`).toBeLessThan(1e-4 * scale);
    });
    // Training happened: the loss moved over the steps.
    expect(Math.abs(cpu.losses[0]! - cpu.losses[STEPS - 1]!)).toBeGreaterThan(1e-3);
  });
});
