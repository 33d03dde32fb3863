/**
 * The conv family trains on the cpu and wasm runtimes: wasm's composite depthwise gradients
 * (wasm-training-kernels.ts) match the cpu backend's kernels, and a model using every conv-family
 * op and option (dilated depthwise/separable, groups, output_padding, dilated transpose, bilinear,
 * keepdims) fits with its loss going down on both runtimes.
 */
import { graphFromLayers, initWeights } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import {
  depthwiseBackpropFilterComposite,
  depthwiseBackpropInputComposite,
  selectRuntime,
  tf,
  toLayersModel,
} from "../src/index.js";
import { convFamilyGraph } from "./graphs.js";
import { expectLossFalls } from "./training.js";

type Case = [name: string, x: number[], k: number[], strides: number, pad: "same" | "valid"];
const CASES: Case[] = [
  ["3x3 same stride 1, multiplier 1", [2, 7, 6, 3], [3, 3, 3, 1], 1, "same"],
  ["3x3 same stride 2 (odd input), multiplier 2", [2, 7, 7, 3], [3, 3, 3, 2], 2, "same"],
  ["5x5 valid stride 2, multiplier 3", [1, 13, 12, 2], [5, 5, 2, 3], 2, "valid"],
  ["2x2 valid stride 1", [2, 5, 6, 4], [2, 2, 4, 1], 1, "valid"],
];

function close(a: ArrayLike<number>, b: ArrayLike<number>) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4);
}

describe("wasm depthwise conv gradients (composite kernels)", () => {
  it.each(CASES)("match the cpu kernels: %s", async (_name, xs, ks, strides, pad) => {
    await selectRuntime("cpu");
    const x = tf.randomNormal(xs, 0, 1, "float32", 1) as tf.Tensor4D;
    const k = tf.randomNormal(ks, 0, 1, "float32", 2) as tf.Tensor4D;
    const y = tf.depthwiseConv2d(x, k, strides, pad);
    const dy = tf.randomNormal(y.shape, 0, 1, "float32", 3) as tf.Tensor4D;
    const loss = (xx: tf.Tensor, kk: tf.Tensor) =>
      tf.sum(tf.mul(tf.depthwiseConv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, strides, pad), dy));
    const [gx, gk] = tf.grads(loss)([x, k]);
    const filter = depthwiseBackpropFilterComposite(x, dy, {
      strides,
      pad,
      filterShape: ks as [number, number, number, number],
    });
    const input = depthwiseBackpropInputComposite(dy, k, {
      strides,
      pad,
      inputShape: xs as [number, number, number, number],
    });
    close(filter.dataSync(), gk!.dataSync());
    close(input.dataSync(), gx!.dataSync());
    const [xv, kv, dyv, ex, ek] = [x, k, dy, gx!, gk!].map((t) => t.dataSync());
    await selectRuntime("wasm");
    const xw = tf.tensor4d(xv!, x.shape);
    const kw = tf.tensor4d(kv!, k.shape);
    const dyw = tf.tensor4d(dyv!, dy.shape);
    const lossW = (xx: tf.Tensor, kk: tf.Tensor) =>
      tf.sum(tf.mul(tf.depthwiseConv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, strides, pad), dyw));
    const [wx, wk] = tf.grads(lossW)([xw, kw]);
    close(wx!.dataSync(), ex!);
    close(wk!.dataSync(), ek!);
  });
});

describe.each(["cpu", "wasm"] as const)("the conv family trains on %s", (runtime) => {
  it("fits with the loss going down", { timeout: 60_000 }, async () => {
    await selectRuntime(runtime);
    const graph = convFamilyGraph();
    const model = toLayersModel(graph, initWeights(graph, 0));
    await expectLossFalls(model, 5);
    model.dispose();
  });

  it("trains a dilated depthwise conv (Keras-shaped kernel, updated)", {
    timeout: 60_000,
  }, async () => {
    await selectRuntime(runtime);
    const graph = graphFromLayers("dilated_dw", [
      { name: "x", op: "input", attrs: { shape: [8, 8, 2] } },
      {
        name: "dw",
        op: "depthwise_conv2d",
        attrs: { kernel_size: 3, dilation_rate: 2, padding: "same", depth_multiplier: 2 },
      },
      { name: "gap", op: "global_average_pooling2d" },
      { name: "fc", op: "dense", attrs: { units: 2, activation: "softmax" } },
    ]);
    const model = toLayersModel(graph, initWeights(graph, 0));
    model.compile({ optimizer: tf.train.adam(0.05), loss: "categoricalCrossentropy" });
    const x = tf.randomUniform([16, 8, 8, 2], 0, 1, "float32", 6);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 16 }, (_, i) => i % 2),
        "int32",
      ),
      2,
    );
    const before = model.getLayer("dw").getWeights()[0]!.dataSync().slice();
    const history = await model.fit(x, y.cast("float32"), {
      epochs: 5,
      batchSize: 8,
      shuffle: false,
      verbose: 0,
    });
    const loss = history.history["loss"] as number[];
    expect(loss.at(-1)!).toBeLessThan(loss[0]!);
    const after = model.getLayer("dw").getWeights()[0]!.dataSync();
    expect(after.length).toBe(3 * 3 * 2 * 2); // the Keras kernel, not the dilated one
    expect(Array.from(after)).not.toEqual(Array.from(before));
    model.dispose();
  });
});
