/**
 * Cross-backend parity (issue 4): for every small spec in specs/, the compiler's valid fixtures and
 * an every-op fixture, the tfjs model and the ONNX model built from the same spec and seed agree
 * within 1e-4 (max absolute difference) on the same random input, with BatchNorm statistics
 * randomised so BN numerics are really compared. ResNet-18/50/101 are in bench/tfjs-parity.mjs.
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
  "efficientnet_b0.yaml",
]);
const TOLERANCE = 1e-4;

function cases(): [string, string, Record<string, string>][] {
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
  return [...specs, ...fixtures, ...own];
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

  it.each(cases())("%s", async (_name, path, set) => {
    await selectRuntime(runtime);
    const { graph, seed } = compile(path, set);
    const weights = randomizeBatchNorm(graph, initWeights(graph, seed));
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
    }
  });
});
