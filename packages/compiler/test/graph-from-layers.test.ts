/** Graphs built in code: the same IR a spec with the same layers compiles to, errors as diagnostics. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  compileFile,
  GraphFromLayersError,
  graphFromLayers,
  type LayerDescription,
} from "../src/index.js";

const specs = join(import.meta.dirname, "../../../specs");

/** The diagnostics' codes and lines, or [] when the layers build. */
function errorsOf(layers: readonly LayerDescription[]): [string, number][] {
  try {
    graphFromLayers("broken", layers);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(GraphFromLayersError);
    return (e as GraphFromLayersError).diagnostics.map((d) => [d.code, d.line]);
  }
}

describe("graphFromLayers", () => {
  it("builds the graph the spec with the same layers compiles to", () => {
    const compiled = compileFile(join(specs, "tiny-branches.yaml")).graph!;
    const built = graphFromLayers("tiny-branches", [
      { name: "input_1", op: "input", attrs: { shape: [12, 12, 3] } },
      {
        op: "zero_padding2d",
        attrs: {
          padding: [
            [1, 2],
            [2, 1],
          ],
        },
      },
      { name: "trunk", op: "conv2d", attrs: { filters: 6, kernel_size: 3, activation: "relu" } },
      {
        name: "left",
        op: "conv2d",
        attrs: { filters: 4, kernel_size: 3, strides: 2, padding: "same" },
      },
      { name: "left_pool", op: "average_pooling2d", attrs: { pool_size: 2 } },
      {
        name: "right",
        op: "conv2d",
        attrs: { filters: 4, kernel_size: 5, strides: 2, activation: "tanh" },
        inputs: ["trunk"],
      },
      { name: "right_pool", op: "max_pooling2d", attrs: { pool_size: 3, strides: 1 } },
      { name: "merged", op: "concatenate", inputs: ["left_pool", "right_pool"] },
      { op: "flatten" },
      { op: "dropout", attrs: { rate: 0.25 } },
      { op: "dense", attrs: { units: 5, activation: "sigmoid" } },
    ]);
    expect(built.name).toBe("tiny-branches");
    expect(canonicalJson(built)).toBe(canonicalJson(compiled));
  });

  it("places layer i at line first + i, and takes the inputs and outputs it is given", () => {
    const graph = graphFromLayers(
      "two_in",
      [
        { name: "a", op: "input", attrs: { shape: [4] } },
        { name: "b", op: "input", attrs: { shape: [4] } },
        { name: "sum", op: "add", inputs: ["a", "b"] },
        { name: "fc", op: "dense", attrs: { units: 2 } },
      ],
      { outputs: ["sum", "fc"], firstLayerAt: { file: "m.yaml", line: 10, column: 3 } },
    );
    expect(graph.inputs).toEqual(["a", "b"]);
    expect(graph.outputs).toEqual(["sum", "fc"]);
    expect(graph.nodes.map((n) => n.inputs)).toEqual([[], [], ["a", "b"], ["sum"]]);
    expect(graph.nodes.map((n) => [n.origin.file, n.origin.line, n.origin.column])).toEqual([
      ["m.yaml", 10, 3],
      ["m.yaml", 11, 3],
      ["m.yaml", 12, 3],
      ["m.yaml", 13, 3],
    ]);
    expect(graph.nodes[3]!.params.map((p) => [p.name, p.shape])).toEqual([
      ["fc/kernel", [4, 2]],
      ["fc/bias", [2]],
    ]);
  });

  it("defaults to `<code>`, line 1, column 1, and the last layer as the output", () => {
    const graph = graphFromLayers("one", [{ name: "x", op: "input", attrs: { shape: [2] } }]);
    expect(graph.outputs).toEqual(["x"]);
    expect(graph.nodes[0]!.origin).toEqual({ file: "<code>", line: 1, column: 1, callSites: [] });
  });

  it("throws every error at once, located at the layers' lines", () => {
    expect(
      errorsOf([
        { name: "x", op: "input", attrs: { shape: [4, 4, 3] } },
        { name: "typo", op: "conv2d", attrs: { filter: 3, kernel_size: 3 } },
        { name: "lost", op: "dense", attrs: { units: 2 }, inputs: ["nope"] },
        { name: "big", op: "conv2d", attrs: { filters: 2, kernel_size: 9 }, inputs: ["x"] },
        { name: "x", op: "flatten", inputs: ["big"] },
      ]),
    ).toEqual([
      ["RSC105", 2],
      ["RSC106", 2],
      ["RSC208", 3],
      ["RSC301", 4],
      ["RSC207", 5],
    ]);
  });

  it("gives a layer with nothing before it no input, which its op may not allow", () => {
    expect(errorsOf([{ name: "fc", op: "dense", attrs: { units: 2 } }])).toEqual([["RSC303", 1]]);
  });
});
