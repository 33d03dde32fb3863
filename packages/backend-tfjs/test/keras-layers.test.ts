/**
 * Issue 12's ops in tfjs, on the cpu and wasm runtimes: the PyTorch-computed cases of
 * backend-onnx's `fixtures/_numeric_` (made by its make.py), a model using every one of them
 * that trains (the loss goes down and the weights before them move, so gradients flow through
 * each), and the model.json names of the layers and activations rsc registers with tfjs.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { graphFromLayers, initWeights, type LayerDescription, type OpName } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import { saveArtifacts, selectRuntime, tf, tfl, toLayersModel } from "../src/index.js";
import { everyOpGraph, issue12Graph } from "./graphs.js";

interface Tensor {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

interface NumericCase {
  readonly name: string;
  readonly layer: { readonly op: OpName; readonly attrs?: Record<string, unknown> };
  readonly inputs: readonly Tensor[];
  readonly weights: Readonly<Record<string, readonly number[]>>;
  readonly expected: Tensor;
}

const numeric = join(
  import.meta.dirname,
  "..",
  "..",
  "backend-onnx",
  "test",
  "fixtures",
  "_numeric_",
);
const cases: [string, NumericCase][] = readdirSync(numeric, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .flatMap((e) => {
    const json = JSON.parse(readFileSync(join(numeric, e.name, "case.json"), "utf8")) as {
      op: string;
      cases: NumericCase[];
    };
    return json.cases.map((c) => [`${json.op}: ${c.name}`, c] as [string, NumericCase]);
  });

/** The one-layer graph of a case: inputs `x0`, `x1`, ... feeding layer `layer`. */
function caseGraph(c: NumericCase) {
  const inputs: LayerDescription[] = c.inputs.map((t, i) => ({
    name: `x${i}`,
    op: "input",
    attrs: { shape: t.shape.slice(1) },
  }));
  return graphFromLayers("numeric", [
    ...inputs,
    {
      name: "layer",
      op: c.layer.op,
      attrs: c.layer.attrs ?? {},
      inputs: inputs.map((i) => i.name),
    },
  ]);
}

describe.each(["cpu", "wasm"] as const)("issue 12 ops in tfjs (%s)", (runtime) => {
  it.each(cases)("against PyTorch: %s", async (_name, c) => {
    await selectRuntime(runtime);
    const graph = caseGraph(c);
    const weights = new Map(
      Object.entries(c.weights).map(([suffix, v]) => [`layer/${suffix}`, Float32Array.from(v)]),
    );
    const model = toLayersModel(graph, weights);
    const xs = c.inputs.map((t) => tf.tensor(t.data as number[], [...t.shape]));
    const y = model.predict(xs.length === 1 ? xs[0]! : xs) as tf.Tensor;
    expect(y.shape).toEqual(c.expected.shape);
    const got = y.dataSync();
    let worst = 0;
    for (let i = 0; i < got.length; i++) {
      const want = c.expected.data[i]!;
      worst = Math.max(worst, Math.abs(got[i]! - want) / Math.max(1, Math.abs(want)));
    }
    // tfjs's own erf (gelu) is a float32 polynomial, less exact than onnxruntime's.
    expect(worst).toBeLessThanOrEqual(1e-4);
    tf.dispose([...xs, y]);
    model.dispose();
  });

  it("trains a model using every one of them: the loss goes down, gradients reach each", async () => {
    await selectRuntime(runtime);
    const graph = issue12Graph();
    const weights = initWeights(graph, 0);
    const model = toLayersModel(graph, weights);
    model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
    const x = tf.randomUniform([24, 16, 16, 3], 0, 1, "float32", 4);
    const labels = tf.tensor1d(
      Array.from({ length: 24 }, (_, i) => i % 3),
      "int32",
    );
    const y = tf.oneHot(labels, 3).cast("float32");
    const history = await model.fit(x, y, { epochs: 4, batchSize: 8, shuffle: false, verbose: 0 });
    const loss = history.history["loss"] as number[];
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss.at(-1)!).toBeLessThan(loss[0]!);
    const value = (name: string) =>
      model.weights
        .find((w) => w.originalName === name)!
        .read()
        .dataSync();
    // Upstream of the issue 12 branch (multiply, ReLU, subtract, ..., reshape) and inside it.
    for (const name of ["conv1/kernel", "ln/gamma", "ln/beta", "se_dense/kernel", "fc_silu/kernel"])
      expect(Array.from(value(name)), name).not.toEqual(Array.from(weights.get(name)!));
    // Normalization's statistics are not trainable.
    expect(Array.from(value("norm/mean"))).toEqual(Array.from(weights.get("norm/mean")!));
    tf.dispose([x, labels, y]);
    model.dispose();
  });
});

describe("rsc's tfjs classes in model.json", () => {
  it("are saved under Keras's names and load back through tf.loadLayersModel", async () => {
    await selectRuntime("cpu");
    const graph = everyOpGraph();
    const model = toLayersModel(graph, initWeights(graph, 1));
    const files = await saveArtifacts(model, { convertedBy: "rsc test" });
    const json = JSON.parse(new TextDecoder().decode(files.get("model.json")));
    const layers = json.modelTopology.config.layers as {
      name: string;
      class_name: string;
      config: Record<string, unknown>;
    }[];
    const byName = new Map(layers.map((l) => [l.name, l]));
    expect(byName.get("diff")!.class_name).toBe("Subtract");
    expect(byName.get("norm")!.class_name).toBe("Normalization");
    expect(byName.get("relu_full")!.config).toMatchObject({
      max_value: 2,
      negative_slope: 0.1,
      threshold: 0.1,
    });
    expect(byName.get("elu_a")!.config).toMatchObject({ alpha: 0.5 });
    expect(byName.get("se_dense")!.config["activation"]).toBe("keras_hard_sigmoid");
    expect(byName.get("act_hard_swish")!.config["activation"]).toBe("hard_swish");
    expect(byName.get("act_leaky_fn")!.config["activation"]).toBe("leaky_relu");
    const loaded = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: files.get("group1-shard1of1.bin")!.slice().buffer,
      }),
    );
    for (const node of graph.nodes) {
      expect(loaded.getLayer(node.name).getClassName(), node.name).toBe(
        model.getLayer(node.name).getClassName(),
      );
    }
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, "float32", 9);
    const a = (loaded.predict(x) as tf.Tensor).dataSync();
    const b = (model.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    tf.dispose(x);
    loaded.dispose();
    model.dispose();
  });
});
