/**
 * A dilated conv2d trains (tfjs 4.22 has no gradient of a dilated conv2d on any backend; the layer
 * computes it as an undilated conv2d of the zero-dilated kernel). Checked against the stock
 * forward dilated conv2d, not against the layer's own path: the loss sum(conv(x, k) * dy) is
 * linear in k, so its gradient at tap t is the loss of the kernel that is 1 at t and 0 elsewhere.
 */
import { graphFromLayers, initWeights } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import { selectRuntime, tf, toLayersModel } from "../src/index.js";

type Case = [name: string, groups: number | undefined, padding: "same" | "valid", strides: number];
const CASES: Case[] = [
  ["same, stride 1", undefined, "same", 1],
  ["valid", undefined, "valid", 1],
  ["same, groups 2", 2, "same", 1],
];

describe.each(["cpu", "wasm"] as const)("a dilated conv2d's gradient on %s", (runtime) => {
  it.each(CASES)("matches the stock dilated forward conv: %s", async (_n, groups, padding, s) => {
    await selectRuntime(runtime);
    const [kh, kw, ci, co, rate] = [3, 2, 4, 4, 2];
    const graph = graphFromLayers("dilated", [
      { name: "x", op: "input", attrs: { shape: [9, 8, ci] } },
      {
        name: "c",
        op: "conv2d",
        attrs: {
          filters: co,
          kernel_size: [kh, kw],
          dilation_rate: rate,
          padding,
          strides: s,
          use_bias: false,
          ...(groups === undefined ? {} : { groups }),
        },
      },
    ]);
    const model = toLayersModel(graph, initWeights(graph, 3));
    const x = tf.randomNormal([2, 9, 8, ci], 0, 1, "float32", 1) as tf.Tensor4D;
    const y = model.predict(x) as tf.Tensor4D;
    const dy = tf.randomNormal(y.shape, 0, 1, "float32", 2);
    const kernel = model.getLayer("c").getWeights()[0]!;
    const g = groups ?? 1;
    expect(kernel.shape).toEqual([kh, kw, ci / g, co]);
    // Reference: the stock forward dilated conv of each one-hot kernel, group by group.
    const reference = (k: tf.Tensor4D) => {
      const xs = tf.split(x, g, 3);
      const ks = tf.split(k, g, 3);
      const ys = xs.map((xg, i) =>
        tf.conv2d(xg as tf.Tensor4D, ks[i] as tf.Tensor4D, s, padding, "NHWC", rate),
      );
      return tf.sum(tf.mul(tf.concat(ys, 3), dy)).dataSync()[0]!;
    };
    const want = new Float32Array(kernel.size);
    for (let t = 0; t < kernel.size; t++) {
      const onehot = new Float32Array(kernel.size);
      onehot[t] = 1;
      want[t] = reference(tf.tensor4d(onehot, kernel.shape as [number, number, number, number]));
    }
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(model.apply(x) as tf.Tensor, dy)) as tf.Scalar,
      model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
    );
    const got = Object.values(grads)[0]!.dataSync();
    expect(got.length).toBe(want.length);
    const scale = Math.max(...want.map(Math.abs));
    for (let i = 0; i < want.length; i++)
      expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5 * Math.max(1, scale));
    // And the forward matches the stock dilated conv (the weights the layer holds).
    const forward = tf.concat(
      tf
        .split(x, g, 3)
        .map((xg, i) =>
          tf.conv2d(
            xg as tf.Tensor4D,
            tf.split(kernel as tf.Tensor4D, g, 3)[i] as tf.Tensor4D,
            s,
            padding,
            "NHWC",
            rate,
          ),
        ),
      3,
    );
    const diff = tf.max(tf.abs(tf.sub(forward, y))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-5);
    model.dispose();
  });
});
