/**
 * Whole specs on tfjs-webgpu against tfjs-cpu: the same graph, weights (batch norms randomised,
 * so epsilon and the statistics count) and input on both backends; the inference outputs and the
 * step-0 training loss (categorical cross-entropy against fixed labels, the loss `rsc train`
 * starts from, dropout masks seeded alike) agree within 1e-4. ResNet-50 runs at its 64x64
 * Coursera size, batch 2, forward passes only (lavapipe runs them in seconds; a training step
 * would not fit the GPU test budget). The per-op gradients are compared in
 * packages/backend-tfjs/test/webgpu-ops.test.ts.
 */
import { join } from "node:path";
import { selectRuntime, tf, toLayersModel } from "@rsc/backend-tfjs";
import { compileFile, type Graph, initWeights } from "@rsc/compiler";
import { webgpuForTests } from "@rsc/test-support";
import { describe, expect, it, vi } from "vitest";
import { maxAbsDiff, randomInputs, randomizeBatchNorm } from "./parity-support.js";
import { root } from "./rsc-process.js";

const TOLERANCE = 1e-4;

const CASES: [title: string, path: string, set: Record<string, string>, batch: number][] = [
  [
    "specs/tiny-cnn.yaml --set classes=3",
    join(root, "specs", "tiny-cnn.yaml"),
    { classes: "3" },
    4,
  ],
  ["specs/tiny-branches.yaml", join(root, "specs", "tiny-branches.yaml"), {}, 4],
  [
    "parity-fixtures/every-op.yaml",
    join(root, "packages", "cli", "test", "parity-fixtures", "every-op.yaml"),
    {},
    2,
  ],
  ["specs/resnet50.yaml (64x64)", join(root, "specs", "resnet50.yaml"), {}, 2],
];

/** Inference output and step-0 loss of the graph on the active backend (read asynchronously). */
async function outputAndLoss(
  graph: Graph,
  weights: Map<string, Float32Array>,
  input: Float32Array,
  batch: number,
) {
  const model = toLayersModel(graph, weights);
  const inputShape = graph.nodes.find((n) => n.name === graph.inputs[0])!.outputShape;
  const x = tf.tensor(input, [batch, ...inputShape]);
  const y = model.predict(x) as tf.Tensor;
  const classes = y.shape[1]!;
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % classes),
      "int32",
    ),
    classes,
  );
  // Dropout's masks come from Math.random (drawn on the CPU whatever the backend): one seeded
  // sequence for both backends.
  let s = 7;
  vi.spyOn(Math, "random").mockImplementation(() => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
  const loss = tf.tidy(() => {
    const p = tf.clipByValue(model.apply(x, { training: true }) as tf.Tensor, 1e-7, 1 - 1e-7);
    return tf.mean(tf.neg(tf.sum(tf.mul(labels, tf.log(p)), -1)));
  });
  vi.restoreAllMocks();
  const out = { output: Float32Array.from(await y.data()), loss: (await loss.data())[0]! };
  tf.dispose([x, y, labels, loss]);
  model.dispose();
  return out;
}

const gpu = await webgpuForTests();

describe.runIf(gpu.adapter)(`tfjs-webgpu vs tfjs-cpu on whole specs: ${gpu.title}`, () => {
  it.each(CASES)("%s", { timeout: 60_000 }, async (_title, path, set, batch) => {
    const compiled = compileFile(path, { set });
    expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const graph = compiled.graph!;
    const weights = randomizeBatchNorm(graph, initWeights(graph, compiled.info!.seed));
    const [input] = randomInputs(graph, batch);
    await selectRuntime("cpu");
    const cpu = await outputAndLoss(graph, weights, input!, batch);
    await selectRuntime("webgpu");
    const started = performance.now();
    const webgpu = await outputAndLoss(graph, weights, input!, batch);
    const seconds = (performance.now() - started) / 1000;
    const outDiff = maxAbsDiff(webgpu.output, cpu.output);
    console.log(
      `${_title}: output max diff ${outDiff.toExponential(2)}, loss ${cpu.loss.toFixed(5)} vs ${webgpu.loss.toFixed(5)}, webgpu ${seconds.toFixed(1)} s`,
    );
    expect(outDiff).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.abs(webgpu.loss - cpu.loss)).toBeLessThanOrEqual(TOLERANCE);
  });
});
