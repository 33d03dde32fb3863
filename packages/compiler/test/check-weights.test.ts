/** The one check of loaded weights against a model: every problem listed, located, RSC401. */
import { describe, expect, it } from "vitest";
import { checkWeights, expectedWeights, graphFromLayers, initWeights } from "../src/index.js";

const graph = graphFromLayers("tiny", [
  { name: "x", op: "input", attrs: { shape: [4, 4, 2] } },
  { name: "conv", op: "conv2d", attrs: { filters: 3, kernel_size: 1 } },
  { name: "flat", op: "flatten" },
  { name: "fc", op: "dense", attrs: { units: 2 } },
]);
const model = { name: graph.name, weights: expectedWeights(graph) };
const source = {
  file: "w/model.json",
  locate: (text: string) => ({ line: text.length, column: 7 }),
};

function loaded(weights: ReadonlyMap<string, Float32Array>) {
  const shapes = new Map(graph.nodes.flatMap((n) => n.params.map((p) => [p.name, p.shape])));
  return new Map([...weights].map(([name, data]) => [name, { shape: shapes.get(name)!, data }]));
}

describe("checkWeights", () => {
  it("returns the weights in the graph's order when they fit", () => {
    const seeded = initWeights(graph, 4);
    const reversed = new Map([...loaded(seeded)].reverse());
    const check = checkWeights(model, reversed, source);
    expect(check.diagnostics).toEqual([]);
    expect([...check.weights!.keys()]).toEqual([...seeded.keys()]);
    expect(check.weights!.get("fc/kernel")).toBe(seeded.get("fc/kernel"));
  });

  it("lists every missing, wrong-shaped and extra weight, each located", () => {
    const weights = loaded(initWeights(graph, 0));
    weights.delete("conv/bias");
    weights.set("fc/kernel", { shape: [2, 2], data: new Float32Array(4) });
    weights.set("other/kernel", { shape: [1], data: new Float32Array(1) });
    const check = checkWeights(model, weights, source);
    expect(check.weights).toBeUndefined();
    const conv = graph.nodes.find((n) => n.name === "conv")!;
    expect(check.diagnostics.map((d) => [d.code, d.file, d.line, d.column])).toEqual([
      // Missing: at the layer's spec line; the others: at their entry in the weights file.
      ["RSC401", conv.origin.file, conv.origin.line, conv.origin.column],
      ["RSC401", "w/model.json", '"fc/kernel"'.length, 7],
      ["RSC401", "w/model.json", '"other/kernel"'.length, 7],
    ]);
    expect(check.diagnostics.map((d) => d.message)).toEqual([
      "weight 'conv/bias' [3] of layer 'conv' is missing from w/model.json",
      "weight 'fc/kernel' has shape [2, 2] in w/model.json, the model needs [48, 2]",
      "weight 'other/kernel' in w/model.json is not a weight of model 'tiny'",
    ]);
  });

  it("locates a missing weight at its layer in the file when the model has no source", () => {
    const check = checkWeights(
      { name: "m", weights: [{ name: "a/kernel", shape: [1], layer: "a" }] },
      new Map(),
      source,
    );
    expect(check.diagnostics.map((d) => [d.file, d.line])).toEqual([["w/model.json", 3]]);
  });
});
