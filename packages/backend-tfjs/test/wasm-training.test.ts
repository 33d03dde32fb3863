import { initWeights } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import { conv2dBackpropFilterComposite, selectRuntime, tf, toLayersModel } from "../src/index.js";
import { tinyConvGraph } from "./graphs.js";
import { expectLossFalls } from "./training.js";

type Case = [name: string, x: number[], k: number[], strides: number, pad: "same" | "valid"];
const CASES: Case[] = [
  ["3x3 same stride 1", [2, 7, 6, 3], [3, 3, 3, 4], 1, "same"],
  ["3x3 same stride 2 (odd input)", [2, 7, 7, 3], [3, 3, 3, 4], 2, "same"],
  ["7x7 valid stride 2", [1, 13, 12, 2], [7, 7, 2, 3], 2, "valid"],
  ["1x1 valid stride 2", [2, 6, 6, 4], [1, 1, 4, 5], 2, "valid"],
  ["1x1 valid stride 1", [2, 5, 5, 4], [1, 1, 4, 5], 1, "valid"],
];

/** The filter gradient tfjs computes for sum(conv2d(x, k) * w) on the active backend's own kernels. */
function referenceGrad(
  x: tf.Tensor4D,
  k: tf.Tensor4D,
  strides: number,
  pad: "same" | "valid",
  dy: tf.Tensor4D,
) {
  return tf.grad((kk: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(x, kk as tf.Tensor4D, strides, pad), dy)),
  )(k);
}

describe("wasm Conv2DBackpropFilter (composite kernel)", () => {
  it.each(CASES)("matches the cpu kernel: %s", async (_name, xs, ks, strides, pad) => {
    await selectRuntime("cpu");
    const x = tf.randomNormal(xs, 0, 1, "float32", 1) as tf.Tensor4D;
    const k = tf.randomNormal(ks, 0, 1, "float32", 2) as tf.Tensor4D;
    const y = tf.conv2d(x, k, strides, pad);
    const dy = tf.randomNormal(y.shape, 0, 1, "float32", 3) as tf.Tensor4D;
    const expected = referenceGrad(x, k, strides, pad, dy);
    // The composite on the cpu backend checks the maths; on wasm it is what the kernel runs.
    const composite = conv2dBackpropFilterComposite(x, dy, {
      strides,
      pad,
      dataFormat: "NHWC",
      filterShape: ks as [number, number, number, number],
    });
    expect(composite.shape).toEqual(ks);
    const e = expected.dataSync();
    const xv = x.dataSync();
    const dyv = dy.dataSync();
    const c = composite.dataSync();
    for (let i = 0; i < e.length; i++) expect(Math.abs(c[i]! - e[i]!)).toBeLessThan(1e-4);
    await selectRuntime("wasm");
    const xw = tf.tensor4d(xv, xs as [number, number, number, number]);
    const kw = tf.tensor4d(k.dataSync(), ks as [number, number, number, number]);
    const dyw = tf.tensor4d(dyv, dy.shape);
    const w = referenceGrad(xw, kw, strides, pad, dyw).dataSync();
    for (let i = 0; i < e.length; i++) expect(Math.abs(w[i]! - e[i]!)).toBeLessThan(1e-4);
  });

  it("lets a conv net train on wasm, with the loss going down", async () => {
    await selectRuntime("wasm");
    const graph = tinyConvGraph();
    const model = toLayersModel(graph, initWeights(graph, 0));
    await expectLossFalls(model, 5);
    model.dispose();
  });
});
