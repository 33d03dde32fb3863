/**
 * The fold-zero-padding pass (IR -> IR): a zero_padding2d whose every reader absorbs padding
 * (its op definition says so) leaves the graph, and the readers record it; anything else is left
 * as it is.
 */
import { describe, expect, it } from "vitest";
import {
  absorbsZeroPadding,
  foldZeroPadding,
  type Graph,
  graphFromLayers,
  OP_NAMES,
  OPS,
} from "../src/index.js";

function graph(outputs?: string[]): Graph {
  return graphFromLayers(
    "pads",
    [
      { name: "x", op: "input", attrs: { shape: [8, 8, 3] } },
      {
        name: "pad_a",
        op: "zero_padding2d",
        attrs: {
          padding: [
            [1, 2],
            [0, 1],
          ],
        },
      },
      { name: "conv_a", op: "conv2d", attrs: { filters: 2, kernel_size: 3 } },
      { name: "conv_b", op: "conv2d", attrs: { filters: 2, kernel_size: 3 }, inputs: ["pad_a"] },
      { name: "pad_p", op: "zero_padding2d", attrs: { padding: 1 }, inputs: ["x"] },
      { name: "pool", op: "max_pooling2d", attrs: { pool_size: 2 } },
      { name: "pad_c", op: "zero_padding2d", attrs: { padding: 1 }, inputs: ["pad_p"] },
      { name: "pad_d", op: "zero_padding2d", attrs: { padding: 2 } },
      { name: "conv_c", op: "conv2d", attrs: { filters: 2, kernel_size: 3 } },
    ],
    outputs === undefined ? {} : { outputs },
  );
}

describe("foldZeroPadding", () => {
  it("folds a padding read only by absorbing ops into each of them", () => {
    const folded = foldZeroPadding(graph(["conv_a", "conv_b", "pool", "conv_c"]));
    const byName = new Map(folded.nodes.map((n) => [n.name, n]));
    expect(byName.has("pad_a")).toBe(false);
    for (const conv of ["conv_a", "conv_b"]) {
      const node = byName.get(conv)!;
      expect(node.inputs).toEqual(["x"]);
      expect(node.attrs).toMatchObject({
        folded_padding: {
          layer: "pad_a",
          padding: [
            [1, 2],
            [0, 1],
          ],
        },
      });
    }
    // Read by a pool: kept. A padding read by a padding is kept; only the last of a chain folds.
    expect(byName.has("pad_p")).toBe(true);
    expect(byName.has("pad_c")).toBe(true);
    expect(byName.has("pad_d")).toBe(false);
    expect(byName.get("conv_c")!.inputs).toEqual(["pad_c"]);
    // Shapes and parameters are unchanged: the pass is exact.
    const before = new Map(graph().nodes.map((n) => [n.name, n]));
    for (const node of folded.nodes) {
      expect(node.outputShape).toEqual(before.get(node.name)!.outputShape);
      expect(node.params).toEqual(before.get(node.name)!.params);
    }
  });

  it("keeps a padding that is a graph output, and returns the same graph when nothing folds", () => {
    const g = graphFromLayers("out", [
      { name: "x", op: "input", attrs: { shape: [4, 4, 1] } },
      { name: "pad", op: "zero_padding2d", attrs: { padding: 1 } },
    ]);
    expect(foldZeroPadding(g)).toBe(g);
    const padOut = graph(["pad_a", "conv_a"]);
    expect(foldZeroPadding(padOut).nodes.some((n) => n.name === "pad_a")).toBe(true);
  });

  it("applies to the ops whose definition declares the capability", () => {
    expect(OP_NAMES.filter(absorbsZeroPadding)).toEqual(
      OP_NAMES.filter((op) => OPS[op].absorbsZeroPadding === true),
    );
    expect(OP_NAMES.filter(absorbsZeroPadding)).toContain("conv2d");
  });
});
