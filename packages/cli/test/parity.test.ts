/**
 * Cross-backend parity (issue 4): for every small spec in specs/, the compiler's valid fixtures and
 * an every-op fixture, the tfjs model and the ONNX model built from the same spec and seed agree
 * within 1e-4 (max absolute difference) on the same random input, with BatchNorm statistics
 * randomised so BN numerics are really compared. The big specs (BENCH_ONLY) are in
 * bench/tfjs-parity.mjs, some of them also here at a small size (SMALL_SIZES).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { selectRuntime } from "@rsc/backend-tfjs";
import { compileFile, type Graph, initWeights, OP_NAMES } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import {
  maxAbsDiff,
  onnxOutputs,
  randomInputs,
  randomizeBatchNorm,
  tfjsOutputs,
} from "./parity-support.js";
import { root } from "./rsc-process.js";

/** Specs too big for CI on the cpu backend (checked by the bench instead). */
const BENCH_ONLY = new Set([
  "resnet18.yaml",
  "resnet50.yaml",
  "resnet101.yaml",
  "vgg16.yaml",
  "densenet121.yaml",
  "unet.yaml",
  "efficientnet_b0.yaml",
]);
/**
 * Big specs at a CI size (`--set`), so their structure is still compared here: the U-Net's
 * decoder (transposed conv; up-sampling + conv), its skip concatenations and its centre crops;
 * EfficientNetB0's stem, squeeze-excitation and drop-connect blocks, compared on its logits
 * (its 1,000-class softmax is nearly uniform at initialisation).
 */
const SMALL_SIZES: [string, Record<string, string>][] = [
  ["efficientnet_b0.yaml", { input_shape: "[64, 64, 3]", classifier_activation: "linear" }],
  ["unet.yaml", { input_shape: "[37, 35, 3]", filters: "8" }],
  [
    "unet.yaml",
    { padding: "valid", upsampling: "bilinear", input_shape: "[188, 188, 1]", filters: "8" },
  ],
];
const TOLERANCE = 1e-4;
/**
 * The kernel scale of the SMALL_SIZES cases: sqrt(2) turns glorot's variance (1 / fan_in for a
 * square conv) into He's (2 / fan_in), which keeps the signal through a deep plain ReLU stack. At
 * glorot scale the U-Net's 18 to 22 ReLU convs shrink it so far that its 2-class softmax sits at
 * 0.50 +- 0.02 (at 0.500 to 0.508 in the valid case), where a 1e-4 tolerance could hide a
 * mismatch; scaled, the outputs spread over tenths (checked below).
 */
const HE_GAIN = Math.SQRT2;

/** The weights with every kernel multiplied by `gain` (biases and other weights unchanged). */
function scaleKernels(graph: Graph, weights: Map<string, Float32Array>, gain: number) {
  if (gain === 1) return weights;
  for (const node of graph.nodes)
    for (const p of node.params)
      if (p.suffix === "kernel")
        weights.set(
          p.name,
          weights.get(p.name)!.map((v) => v * gain),
        );
  return weights;
}

function cases(): [string, string, Record<string, string>, number?][] {
  const specs = readdirSync(join(root, "specs"))
    .filter((f) => f.endsWith(".yaml") && !BENCH_ONLY.has(f))
    .map(
      (f) => [`specs/${f}`, join(root, "specs", f), {}] as [string, string, Record<string, string>],
    );
  const fixtureRoot = join(root, "packages", "compiler", "test", "fixtures");
  const fixtures = readdirSync(fixtureRoot)
    .filter((d) => !d.startsWith("_") && existsSync(join(fixtureRoot, d, "spec.yaml")))
    .map((d) => {
      const options = join(fixtureRoot, d, "options.json");
      const set = existsSync(options) ? (JSON.parse(readFileSync(options, "utf8")).set ?? {}) : {};
      return [`fixture ${d}`, join(fixtureRoot, d, "spec.yaml"), set] as [
        string,
        string,
        Record<string, string>,
      ];
    });
  const own = readdirSync(join(root, "packages", "cli", "test", "parity-fixtures")).map(
    (f) =>
      [`parity-fixtures/${f}`, join(root, "packages", "cli", "test", "parity-fixtures", f), {}] as [
        string,
        string,
        Record<string, string>,
      ],
  );
  const small = SMALL_SIZES.map(
    ([f, set]) =>
      [
        `specs/${f} ${Object.entries(set)
          .map(([k, v]) => `--set ${k}=${v.replaceAll(" ", "")}`)
          .join(" ")}`,
        join(root, "specs", f),
        set,
        HE_GAIN,
      ] as [string, string, Record<string, string>, number],
  );
  return [...specs, ...small, ...fixtures, ...own];
}

function compile(path: string, set: Record<string, string>): { graph: Graph; seed: number } {
  const result = compileFile(path, { set });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return { graph: result.graph!, seed: result.info!.seed };
}

describe.each(["cpu", "wasm"] as const)("tfjs (%s) vs ONNX parity", (runtime) => {
  it("covers the tiny specs and every op", () => {
    const all = cases().map(([name]) => name);
    expect(all).toContain("specs/tiny-cnn.yaml");
    expect(all).toContain("parity-fixtures/every-op.yaml");
    const ops = new Set(
      cases().flatMap(([, path, set]) => compile(path, set).graph.nodes.map((n) => n.op)),
    );
    expect([...ops].sort()).toEqual([...OP_NAMES].sort());
  });

  it.each(cases())("%s", async (_name, path, set, kernelGain) => {
    await selectRuntime(runtime);
    const { graph, seed } = compile(path, set);
    const weights = scaleKernels(
      graph,
      randomizeBatchNorm(graph, initWeights(graph, seed)),
      kernelGain ?? 1,
    );
    const batch = 3;
    const inputs = randomInputs(graph, batch);
    const a = tfjsOutputs(graph, weights, inputs, batch);
    const b = await onnxOutputs(graph, weights, inputs, batch);
    expect(a.length).toBe(graph.outputs.length);
    for (let i = 0; i < a.length; i++) {
      expect(a[i]!.length).toBe(b[i]!.length);
      expect(maxAbsDiff(a[i]!, b[i]!), graph.outputs[i]).toBeLessThanOrEqual(TOLERANCE);
      // Not a vacuous comparison: the outputs vary across the batch.
      expect(new Set(Array.from(a[i]!, (v) => v.toFixed(5))).size).toBeGreaterThan(1);
      if (kernelGain !== undefined)
        expect(Math.max(...a[i]!) - Math.min(...a[i]!), "output spread").toBeGreaterThan(0.1);
    }
  });
});
