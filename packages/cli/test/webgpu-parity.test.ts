/**
 * Whole specs on tfjs-webgpu against tfjs-cpu: the same graph, weights (batch norms randomised,
 * so epsilon and the statistics count) and input on both backends; the inference outputs and the
 * step-0 training loss (categorical cross-entropy against fixed labels, the loss `rsc train`
 * starts from, dropout masks seeded alike) agree within 1e-4; for the tiny specs, the gradients
 * of that loss too, by the rule of the per-op test (packages/backend-tfjs/test/webgpu-ops.test.ts)
 * over all weights at once: their relative L2 distance from cpu's is at most 10x the distance a
 * 1e-7 relative input perturbation moves cpu's own, plus 1e-5. ResNet-50 runs at its 64x64
 * Coursera size, batch 2, forward passes only (see its case for why not its gradients).
 */
import { join } from "node:path";
import { selectRuntime, tf, toLayersModel } from "@rsc/backend-tfjs";
import { compileFile, type Graph, initWeights } from "@rsc/compiler";
import { webgpuForTests } from "@rsc/test-support";
import { describe, expect, it, vi } from "vitest";
import { maxAbsDiff, randomInputs, randomizeBatchNorm } from "./parity-support.js";
import { root } from "./rsc-process.js";

const TOLERANCE = 1e-4;

/** Title, spec, `--set`, batch, and whether the gradients are compared too. */
const CASES: [string, string, Record<string, string>, number, boolean][] = [
  [
    "specs/tiny-cnn.yaml --set classes=3",
    join(root, "specs", "tiny-cnn.yaml"),
    { classes: "3" },
    4,
    true,
  ],
  ["specs/tiny-branches.yaml", join(root, "specs", "tiny-branches.yaml"), {}, 4, true],
  // Its dilated conv2d has no gradient in tfjs 4.22 (on any backend).
  [
    "parity-fixtures/every-op.yaml",
    join(root, "packages", "cli", "test", "parity-fixtures", "every-op.yaml"),
    {},
    2,
    false,
  ],
  // Its cpu gradient alone takes minutes; and at batch 2 its last batch norms see 8 values per
  // channel, so a 1e-7 input perturbation moves the gradients by ~1% (L2) and wasm and webgpu
  // each differ from cpu by ~4-5%: nothing a tolerance could tell from a wrong kernel.
  ["specs/resnet50.yaml (64x64)", join(root, "specs", "resnet50.yaml"), {}, 2, false],
];

/** Seeds Math.random (dropout's masks are drawn on the CPU whatever the backend) until restored. */
function seedMathRandom(): void {
  let s = 7;
  vi.spyOn(Math, "random").mockImplementation(() => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
}

/** ||a - b|| / ||b|| over every gradient at once. */
function relativeL2(a: Float32Array[], b: Float32Array[]): number {
  let diff = 0;
  let norm = 0;
  b.forEach((g, i) => {
    for (let k = 0; k < g.length; k++) {
      diff += (a[i]![k]! - g[k]!) ** 2;
      norm += g[k]! ** 2;
    }
  });
  return Math.sqrt(diff / norm);
}

/**
 * Inference output, step-0 loss and (when asked) the loss's gradients for every trainable weight
 * of the graph on the active backend, read asynchronously.
 */
async function outputAndLoss(
  graph: Graph,
  weights: Map<string, Float32Array>,
  input: Float32Array,
  batch: number,
  gradients: boolean,
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
  const lossOf = () => {
    const p = tf.clipByValue(model.apply(x, { training: true }) as tf.Tensor, 1e-7, 1 - 1e-7);
    return tf.mean(tf.neg(tf.sum(tf.mul(labels, tf.log(p)), -1))) as tf.Scalar;
  };
  const output = Float32Array.from(await y.data());
  seedMathRandom();
  const loss = tf.tidy(lossOf);
  vi.restoreAllMocks();
  let grads: Float32Array[] = [];
  if (gradients) {
    seedMathRandom();
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const result = tf.variableGrads(lossOf, vars);
    vi.restoreAllMocks();
    grads = await Promise.all(
      vars.map(async (v) => Float32Array.from(await result.grads[v.name]!.data())),
    );
    tf.dispose([result.value, ...Object.values(result.grads)]);
  }
  const out = { output, loss: (await loss.data())[0]!, grads };
  tf.dispose([x, y, labels, loss]);
  model.dispose();
  return out;
}

const gpu = await webgpuForTests();

describe.runIf(gpu.adapter)(`tfjs-webgpu vs tfjs-cpu on whole specs: ${gpu.title}`, () => {
  it.each(CASES)("%s", { timeout: 60_000 }, async (title, path, set, batch, gradients) => {
    const compiled = compileFile(path, { set });
    expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const graph = compiled.graph!;
    const weights = randomizeBatchNorm(graph, initWeights(graph, compiled.info!.seed));
    const [input] = randomInputs(graph, batch);
    await selectRuntime("cpu");
    const cpu = await outputAndLoss(graph, weights, input!, batch, gradients);
    // The same input, each value moved by 1e-7 relative (alternating sign): the cpu's own noise.
    const perturbed = input!.map((v, i) => v * (1 + (i % 2 === 0 ? 1e-7 : -1e-7)));
    const cpuPerturbed = gradients
      ? await outputAndLoss(graph, weights, perturbed, batch, true)
      : undefined;
    await selectRuntime("webgpu");
    const started = performance.now();
    const webgpu = await outputAndLoss(graph, weights, input!, batch, gradients);
    const seconds = (performance.now() - started) / 1000;
    const outDiff = maxAbsDiff(webgpu.output, cpu.output);
    let gradientFigure = "";
    if (cpuPerturbed !== undefined) {
      // The gradients' relative L2 distance from cpu's: at most 10x what the perturbation moves
      // cpu's own, plus 1e-5.
      const diff = relativeL2(webgpu.grads, cpu.grads);
      const spread = relativeL2(cpuPerturbed.grads, cpu.grads);
      gradientFigure = `, gradients ${diff.toExponential(2)} (cpu spread ${spread.toExponential(2)})`;
      expect(diff, gradientFigure).toBeLessThanOrEqual(10 * spread + 1e-5);
    }
    console.log(
      `${title}: output max diff ${outDiff.toExponential(2)}, loss ${cpu.loss.toFixed(5)} vs ${webgpu.loss.toFixed(5)}${gradientFigure}, webgpu ${seconds.toFixed(1)} s`,
    );
    expect(outDiff).toBeLessThanOrEqual(TOLERANCE);
    expect(Math.abs(webgpu.loss - cpu.loss)).toBeLessThanOrEqual(TOLERANCE);
  });
});
