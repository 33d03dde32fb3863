/**
 * Issue 12's ops in tfjs, on the cpu and wasm runtimes: the PyTorch-computed cases of
 * backend-onnx's `fixtures/_numeric_` (made by its make.py), a model using every one of them
 * that trains (the loss goes down and the weights before them move, so gradients flow through
 * each), and the model.json names of the layers and activations rsc registers with tfjs.
 */
import { join } from "node:path";
import { graphFromLayers, initWeights, type OpName } from "@rsc/compiler";
import {
  maxRelativeError,
  oneLayerCaseLayers,
  oneLayerCaseWeights,
  readOneLayerCases,
} from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import { saveArtifacts, selectRuntime, tf, tfl, toLayersModel } from "../src/index.js";
import { everyOpGraph, issue12Graph } from "./graphs.js";
import { expectLossFalls } from "./training.js";

const cases = readOneLayerCases<OpName>(
  join(import.meta.dirname, "..", "..", "backend-onnx", "test", "fixtures", "_numeric_"),
).flatMap(([op, opCases]) => opCases.map((c) => [`${op}: ${c.name}`, c] as const));

describe.each(["cpu", "wasm"] as const)("issue 12 ops in tfjs (%s)", (runtime) => {
  it.each(cases)("against PyTorch: %s", async (_name, c) => {
    await selectRuntime(runtime);
    const graph = graphFromLayers("numeric", oneLayerCaseLayers(c));
    const model = toLayersModel(graph, oneLayerCaseWeights(c));
    const xs = c.inputs.map((t) => tf.tensor(t.data as number[], [...t.shape]));
    const y = model.predict(xs.length === 1 ? xs[0]! : xs) as tf.Tensor;
    expect(y.shape).toEqual(c.expected.shape);
    // tfjs's own erf (gelu) is a float32 polynomial, less exact than onnxruntime's.
    expect(maxRelativeError(y.dataSync(), c.expected.data)).toBeLessThanOrEqual(1e-4);
    tf.dispose([...xs, y]);
    model.dispose();
  });

  it("trains a model using every one of them: the loss goes down, gradients reach each", async () => {
    await selectRuntime(runtime);
    const graph = issue12Graph();
    const weights = initWeights(graph, 0);
    const model = toLayersModel(graph, weights);
    await expectLossFalls(model, 4);
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
