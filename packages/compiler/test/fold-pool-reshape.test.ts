import { describe, expect, it } from "vitest";
import { compileSource, foldPoolReshape } from "../src/index.js";

const SE = (extra = "") => `rsc: 1
name: se
input: { name: x, shape: [4, 4, 8] }
layers:
  - global_average_pooling2d: { name: squeeze }
  - reshape: { name: se_reshape, target_shape: [1, 1, 8] }
  - conv2d: { name: gate, filters: 8, kernel_size: 1, activation: sigmoid }
  - multiply: { name: excite, from: [x, gate] }
${extra}`;

describe("foldPoolReshape", () => {
  it("folds a global pooling read only by a reshape to [1, 1, c] into keepdims", () => {
    const { graph } = compileSource(SE(), "se.yaml");
    const folded = foldPoolReshape(graph!);
    expect(folded.nodes.map((n) => n.name)).toEqual(["x", "squeeze", "gate", "excite"]);
    const squeeze = folded.nodes[1]!;
    expect(squeeze.attrs).toEqual({ keepdims: true });
    expect(squeeze.outputShape).toEqual([1, 1, 8]);
    expect(folded.nodes[2]!.inputs).toEqual(["squeeze"]);
  });

  it("leaves the pair when the pooling has another reader", () => {
    const spec = SE(`  - dense: { name: head, units: 2, from: squeeze }
outputs: [excite, head]
`);
    const { graph, diagnostics } = compileSource(spec, "se.yaml");
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(foldPoolReshape(graph!)).toBe(graph);
  });
});
