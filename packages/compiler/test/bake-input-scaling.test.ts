import { describe, expect, it } from "vitest";
import { bakeInputScaling, compileSource } from "../src/index.js";

const SPEC = `rsc: 1
name: two-readers
input: { name: pixels, shape: [4, 4, 3] }
layers:
  - conv2d: { name: a, filters: 2, kernel_size: 1 }
  - conv2d: { name: b, filters: 2, kernel_size: 1, from: pixels }
  - add: { name: sum, from: [a, b] }
`;

describe("bakeInputScaling", () => {
  it("puts one rescaling after the input and rewires every reader to it", () => {
    const { graph } = compileSource(SPEC, "s.yaml");
    const baked = bakeInputScaling(graph!, { scale: 0.5, offset: -1 });
    if (!("graph" in baked)) throw new Error("clash");
    const g = baked.graph;
    expect(g.nodes.map((n) => n.name)).toEqual(["pixels", "pixels_rescaling", "a", "b", "sum"]);
    const rescaling = g.nodes[1]!;
    expect(rescaling).toMatchObject({
      op: "rescaling",
      inputs: ["pixels"],
      attrs: { scale: 0.5, offset: -1 },
      params: [],
      outputShape: [4, 4, 3],
    });
    expect(g.nodes.find((n) => n.name === "b")!.inputs).toEqual(["pixels_rescaling"]);
    expect(g.nodes.find((n) => n.name === "a")!.inputs).toEqual(["pixels_rescaling"]);
    // No weights added: trained weights still load by name.
    expect(g.nodes.flatMap((n) => n.params.map((p) => p.name))).toEqual(
      graph!.nodes.flatMap((n) => n.params.map((p) => p.name)),
    );
  });

  it("reports a spec layer that already has the baked layer's name", () => {
    const { graph } = compileSource(
      SPEC.replace("name: a,", "name: pixels_rescaling,").replace(
        "[a, b]",
        "[pixels_rescaling, b]",
      ),
      "s.yaml",
    );
    expect(bakeInputScaling(graph!, { scale: 1, offset: 0 })).toEqual({
      clash: "pixels_rescaling",
    });
  });
});
