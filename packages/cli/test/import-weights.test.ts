/**
 * Issue 13 item 3, numerically: a model imported with `rsc import` and built with `rsc build
 * imported.yaml --target onnx --weights <that model>` computes what the original computes, within
 * 1e-4:
 * - tfjs models, against `tf.loadLayersModel` of the same model.json: the Coursera ResNet-50 and a
 *   small functional model with two inputs (both built by `rsc build --target tfjs`), and the
 *   Teachable-Machine-style nested model of the compiler's import fixtures (Sequential[Sequential[
 *   MobileNetV2-like Model], Sequential[head]]) with random weights written for its manifest;
 * - Keras files (.h5, .keras), against PyTorch's forward pass of the same arrays (forward.json of
 *   the model-files fixtures, made by their make_fixtures.py).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ort } from "@rsc/backend-onnx/runtime";
import { fileSystemHandler, selectRuntime, tf, tfl } from "@rsc/backend-tfjs";
import { compileFile, uniformStream } from "@rsc/compiler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff, randomInputs, runOnnx } from "./parity-support.js";
import { root, rsc } from "./rsc-process.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-import-weights-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await selectRuntime("cpu");
});

/** Imports `model`, builds the spec to ONNX with the model's weights; returns the spec and ONNX paths. */
async function importAndBuild(model: string, dir: string): Promise<{ spec: string; onnx: string }> {
  const spec = join(dir, "imported.yaml");
  const onnx = join(dir, "imported.onnx");
  const imported = await rsc(["import", model, "-o", spec]);
  expect(imported.code, imported.stderr).toBe(0);
  const built = await rsc(["build", spec, "--target", "onnx", "-o", onnx, "--weights", model]);
  expect(built.code, built.stderr).toBe(0);
  return { spec, onnx };
}

/** tf.loadLayersModel's output and the imported ONNX model's, on the same random inputs. */
async function compareWithTfjs(folder: string, dir: string, batch = 2): Promise<number> {
  const { spec, onnx } = await importAndBuild(join(folder, "model.json"), dir);
  const graph = compileFile(spec).graph!;
  const inputs = randomInputs(graph, batch, 3);
  const model = await tfl.loadLayersModel(fileSystemHandler(folder));
  const xs = inputs.map((data, i) => {
    const node = graph.nodes.find((n) => n.name === graph.inputs[i])!;
    return tf.tensor(data, [batch, ...node.outputShape]);
  });
  const y = model.predict(xs.length === 1 ? xs[0]! : xs) as tf.Tensor;
  const expected = y.dataSync() as Float32Array;
  tf.dispose([...xs, y]);
  model.dispose();
  const [got] = await runOnnx(onnx, graph, inputs, batch);
  // Softmax outputs near 0 and 1 would hide errors: the model's outputs must vary.
  expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(1e-3);
  return maxAbsDiff(got!, expected);
}

const TWO_INPUTS = `rsc: 1
name: two-inputs
inputs:
  - { name: image, shape: [10, 10, 3] }
  - { name: features, shape: [5] }
layers:
  - conv2d: { name: conv, from: image, filters: 6, kernel_size: 3, padding: same, activation: relu }
  - batch_normalization: { name: bn }
  - global_average_pooling2d: { name: pool }
  - dense: { name: embed, from: features, units: 4, activation: tanh }
  - concatenate: { name: joined, from: [pool, embed] }
  - dense: { name: head, units: 3, activation: softmax }
`;

describe("rsc import + rsc build --weights: the tfjs model's outputs (1e-4)", () => {
  it("the Coursera ResNet-50", { timeout: 180_000 }, async () => {
    const dir = join(tmp, "resnet50");
    const folder = join(dir, "tfjs");
    const built = await rsc([
      "build",
      "specs/resnet50.yaml",
      "--target",
      "tfjs",
      "-o",
      folder,
      "--seed",
      "3",
    ]);
    expect(built.code, built.stderr).toBe(0);
    expect(await compareWithTfjs(folder, dir)).toBeLessThan(1e-4);
  });

  it("a functional model with two inputs", { timeout: 60_000 }, async () => {
    const dir = join(tmp, "two-inputs");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "two-inputs.yaml"), TWO_INPUTS);
    const folder = join(dir, "tfjs");
    const built = await rsc([
      "build",
      join(dir, "two-inputs.yaml"),
      "--target",
      "tfjs",
      "-o",
      folder,
    ]);
    expect(built.code, built.stderr).toBe(0);
    expect(await compareWithTfjs(folder, dir)).toBeLessThan(1e-4);
  });

  it("Teachable Machine's nesting, with trained-looking random weights", {
    timeout: 60_000,
  }, async () => {
    const dir = join(tmp, "teachable-machine");
    const folder = join(dir, "tfjs");
    mkdirSync(folder, { recursive: true });
    const fixture = join(
      root,
      "packages",
      "compiler",
      "test",
      "fixtures",
      "_import_",
      "teachable-machine",
      "model.json",
    );
    cpSync(fixture, join(folder, "model.json"));
    const manifest = JSON.parse(readFileSync(fixture, "utf8")).weightsManifest[0];
    // Random weights for the manifest, in its order (tfjs's layout: float32, concatenated).
    const values: number[] = [];
    for (const w of manifest.weights as { name: string; shape: number[] }[]) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const next = uniformStream(7, w.name);
      const variance = w.name.endsWith("moving_variance");
      for (let i = 0; i < n; i++) values.push(variance ? 0.5 + next() : next() - 0.5);
    }
    writeFileSync(
      join(folder, manifest.paths[0]),
      new Uint8Array(Float32Array.from(values).buffer),
    );
    expect(await compareWithTfjs(folder, dir)).toBeLessThan(1e-4);
  });
});

describe("rsc import + rsc build --weights: Keras files, PyTorch's forward pass (1e-4)", () => {
  const files = join(root, "packages", "cli", "test", "fixtures", "model-files");
  const forward = JSON.parse(readFileSync(join(files, "forward.json"), "utf8")) as {
    input: number[];
    inputShape: number[];
    output: number[];
  };
  for (const name of ["keras2-full.h5", "keras2-nested.h5", "tiny.keras"]) {
    it(name, { timeout: 60_000 }, async () => {
      const dir = join(tmp, name);
      mkdirSync(dir, { recursive: true });
      const { onnx } = await importAndBuild(join(files, name), dir);
      const runtime = ort();
      const session = await runtime.InferenceSession.create(onnx);
      const input = new runtime.Tensor(
        "float32",
        Float32Array.from(forward.input),
        forward.inputShape,
      );
      const out = await session.run({ [session.inputNames[0]!]: input });
      await session.release();
      expect(
        maxAbsDiff(out[session.outputNames[0]!]!.data as Float32Array, forward.output),
      ).toBeLessThan(1e-4);
    });
  }
});
