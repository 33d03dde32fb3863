/**
 * A conv2d whose input depends on no trainable weight (a first layer, here behind a zero padding)
 * is lowered unfused so tfjs skips its input gradient: a training step runs one
 * Conv2DBackpropInput fewer, and ends with the weights tfjs's stock fused Conv2D layers give.
 */
import { graphFromLayers, initWeights } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import { selectRuntime, tf, tfl, toLayersModel } from "../src/index.js";

const graph = graphFromLayers("first_layer", [
  { name: "input_1", op: "input", attrs: { shape: [11, 11, 3] } },
  { name: "pad", op: "zero_padding2d", attrs: { padding: 1 } },
  { name: "conv1", op: "conv2d", attrs: { filters: 4, kernel_size: 3, strides: 2 } },
  { name: "relu", op: "activation", attrs: { activation: "relu" } },
  { name: "conv2", op: "conv2d", attrs: { filters: 5, kernel_size: 3, padding: "same" } },
  { name: "gap", op: "global_average_pooling2d" },
  { name: "fc", op: "dense", attrs: { units: 3, activation: "softmax" } },
]);

/** The same layers built from tfjs's own (fused) Conv2D. */
function stockModel(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.zeroPadding2d({ inputShape: [11, 11, 3], padding: 1 }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2 }),
      tfl.layers.activation({ activation: "relu" }),
      tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: "same" }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 3, activation: "softmax" }),
    ],
  });
}

async function step(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor) {
  model.compile({ optimizer: tf.train.sgd(0.5), loss: "categoricalCrossentropy" });
  const profile = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  const weights = await Promise.all(model.getWeights().map((w) => w.data()));
  return {
    weights,
    backpropInputs: profile.kernels.filter((k) => k.name === "Conv2DBackpropInput").length,
  };
}

describe("a first-layer conv2d skips its input gradient", () => {
  it("one Conv2DBackpropInput fewer, the same weights after a step", async () => {
    await selectRuntime("cpu");
    const ours = toLayersModel(graph, initWeights(graph, 3));
    const stock = stockModel();
    stock.setWeights(ours.getWeights());
    const x = tf.randomUniform([4, 11, 11, 3], -1, 1, "float32", 5);
    const y = tf.cast(tf.oneHot(tf.tensor1d([0, 2, 1, 2], "int32"), 3), "float32");
    const before = await Promise.all(ours.getWeights().map((w) => w.data()));
    const a = await step(ours, x, y);
    const b = await step(stock, x, y);
    expect(b.backpropInputs).toBe(2);
    expect(a.backpropInputs).toBe(1);
    expect(a.weights.length).toBe(b.weights.length);
    a.weights.forEach((w, i) => {
      const ref = b.weights[i]!;
      for (let j = 0; j < ref.length; j++) expect(Math.abs(w[j]! - ref[j]!)).toBeLessThan(1e-6);
    });
    // The step moved the first layer's kernel.
    expect(Array.from(a.weights[0]!).some((w, j) => w !== before[0]![j])).toBe(true);
    tf.dispose([x, y]);
  });
});
