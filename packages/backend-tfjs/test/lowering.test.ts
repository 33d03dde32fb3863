import { graphFromLayers, initWeights, OP_NAMES, OPS, type WeightMap } from "@rsc/compiler";
import { beforeAll, describe, expect, it } from "vitest";
import {
  lowerGraph,
  selectRuntime,
  TFJS_LOWERINGS,
  TfjsLoweringError,
  tf,
  toLayersModel,
} from "../src/index.js";
import { everyOpGraph, tinyConvGraph } from "./graphs.js";

beforeAll(async () => {
  await selectRuntime("cpu");
});

// A runtime check over the registry, beside the CompleteLoweringTable type: an op added to the
// compiler fails here until the tfjs backend lowers it.
describe("tfjs lowerings", () => {
  it.each(OP_NAMES)("%s has a lowering", (op) => {
    expect(typeof (TFJS_LOWERINGS as Record<string, unknown>)[op]).toBe("function");
  });

  it("lowers only ops of the registry, and everyOpGraph uses every one", () => {
    expect(Object.keys(TFJS_LOWERINGS).sort()).toEqual([...OP_NAMES].sort());
    const used = new Set(everyOpGraph().nodes.map((n) => n.op));
    expect(OP_NAMES.filter((op) => !used.has(op))).toEqual([]);
  });
});

describe("toLayersModel", () => {
  it("builds one layer per node, named as the spec names it, of Keras's class", () => {
    const graph = everyOpGraph();
    const model = toLayersModel(graph, initWeights(graph, 1));
    // tfjs orders layers by its own topological sort; the set of names is the spec's.
    expect(model.layers.map((l) => l.name).sort()).toEqual(graph.nodes.map((n) => n.name).sort());
    for (const node of graph.nodes) {
      expect(model.getLayer(node.name).getClassName(), node.name).toBe(OPS[node.op].kerasClass);
    }
    expect(model.outputs[0]!.shape).toEqual([null, 3]);
    model.dispose();
  });

  it("uses the compiler's weights by Keras name, not tfjs initializers", () => {
    const graph = everyOpGraph();
    const weights = initWeights(graph, 7);
    const model = toLayersModel(graph, weights);
    const names = model.weights.map((w) => w.originalName);
    expect(names.sort()).toEqual(graph.nodes.flatMap((n) => n.params.map((p) => p.name)).sort());
    for (const w of model.weights) {
      expect(w.read().dataSync(), w.originalName).toEqual(weights.get(w.originalName));
    }
    // Trainability as Keras: BN moving statistics are not trainable.
    expect(model.trainableWeights.map((w) => w.originalName)).not.toContain("bn1/moving_mean");
    expect(model.nonTrainableWeights.map((w) => w.originalName).sort()).toEqual([
      "bn1/moving_mean",
      "bn1/moving_variance",
      "bn2/moving_mean",
      "bn2/moving_variance",
      "norm/count",
      "norm/mean",
      "norm/variance",
    ]);
    model.dispose();
  });

  it("pads 'same' with stride 2 at the bottom/right, as TensorFlow does", () => {
    // 4x4 input 1..16, 3x3 all-ones kernel, stride 2, same: total padding 1, all of it after.
    const graph = graphFromLayers("same", [
      { name: "x", op: "input", attrs: { shape: [4, 4, 1] } },
      {
        name: "conv",
        op: "conv2d",
        attrs: { filters: 1, kernel_size: 3, strides: 2, padding: "same", use_bias: false },
      },
    ]);
    const model = toLayersModel(graph, new Map([["conv/kernel", new Float32Array(9).fill(1)]]));
    const x = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => i + 1),
      [1, 4, 4, 1],
    );
    const y = (model.predict(x) as tf.Tensor).dataSync();
    // Windows start at rows/cols 0 and 2 and the padding row/column is after the input:
    // 1+2+3+5+6+7+9+10+11, 3+4+7+8+11+12, 9+10+11+13+14+15, 11+12+15+16 (top/left would give 14 first).
    expect(Array.from(y)).toEqual([54, 45, 72, 54]);
    model.dispose();
  });

  it("applies BatchNormalization with the spec's epsilon in inference", () => {
    const graph = graphFromLayers("bn", [
      { name: "x", op: "input", attrs: { shape: [1, 1, 2] } },
      { name: "bn", op: "batch_normalization", attrs: { epsilon: 0.5 } },
    ]);
    const weights: WeightMap = new Map([
      ["bn/gamma", new Float32Array([2, 3])],
      ["bn/beta", new Float32Array([1, -1])],
      ["bn/moving_mean", new Float32Array([1, 2])],
      ["bn/moving_variance", new Float32Array([3.5, 1.5])],
    ]);
    const model = toLayersModel(graph, weights);
    const y = (model.predict(tf.tensor4d([5, 4], [1, 1, 1, 2])) as tf.Tensor).dataSync();
    // (x - mean) / sqrt(var + eps) * gamma + beta: (4/2)*2+1 = 5, (2/sqrt(2))*3-1.
    expect(y[0]).toBeCloseTo(5, 5);
    expect(y[1]).toBeCloseTo((2 / Math.sqrt(2)) * 3 - 1, 5);
    model.dispose();
  });

  it("reports an op without a lowering at the node's spec line (RSC400)", () => {
    const graph = everyOpGraph();
    const { concatenate: _dropped, ...partial } = TFJS_LOWERINGS;
    const result = lowerGraph(graph, initWeights(graph), { ops: partial });
    expect(result.model).toBeUndefined();
    const concat = graph.nodes.find((n) => n.op === "concatenate")!;
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        code: "RSC400",
        file: "test.yaml",
        line: concat.origin.line,
        column: 3,
      }),
    ]);
  });

  it("reports missing, mis-sized and foreign weights (RSC401) and toLayersModel throws them", () => {
    const graph = tinyConvGraph();
    const weights = initWeights(graph);
    weights.delete("conv1/bias");
    weights.set("fc3/kernel", new Float32Array(3));
    weights.set("res9z_branch2a/kernel", new Float32Array(1));
    const result = lowerGraph(graph, weights);
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ["RSC401", 2],
      ["RSC401", 7],
      ["RSC401", 1],
    ]);
    expect(() => toLayersModel(graph, weights)).toThrow(TfjsLoweringError);
  });
});
