/**
 * Keras's Dropout `noise_shape` in the IR: kept as written (nulls included) when given, left out
 * when absent or null, so a spec without it keeps its canonical form and hash; and a YAML null
 * is a value (Keras's None), where the op's schema allows one.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  compileSource,
  diffGraphs,
  expandToSpec,
  type Graph,
} from "../src/index.js";

const file = join(import.meta.dirname, "fixtures", "dropout-noise-shape", "inline.yaml");

function compile(layers: string): { graph: Graph; hash: string } {
  const text = `rsc: 1\ninput: { shape: [6, 6, 8] }\nlayers:\n${layers}`;
  const r = compileSource(text, file);
  expect(r.diagnostics).toEqual([]);
  return { graph: r.graph!, hash: r.info!.hash };
}
const attrsOf = (g: Graph, name: string) => g.nodes.find((n) => n.name === name)!.attrs;

describe("dropout noise_shape", () => {
  it("is kept as Keras writes it, the batch axis and nulls included", () => {
    const { graph } = compile(
      "  - dropout: { name: d, rate: 0.2, noise_shape: [null, 1, 1, 1] }\n" +
        "  - dropout: { name: s, rate: 0.1, noise_shape: [null, 1, 1, null] }\n",
    );
    expect(attrsOf(graph, "d")).toEqual({ rate: 0.2, noise_shape: [null, 1, 1, 1] });
    expect(attrsOf(graph, "s")).toEqual({ rate: 0.1, noise_shape: [null, 1, 1, null] });
    expect(graph.nodes.find((n) => n.name === "d")!.outputShape).toEqual([6, 6, 8]);
  });

  it("is left out of the IR when absent or null: the same canonical JSON and hash", () => {
    const absent = compile("  - dropout: { name: d, rate: 0.5 }\n");
    const nulled = compile("  - dropout: { name: d, rate: 0.5, noise_shape: null }\n");
    expect(attrsOf(absent.graph, "d")).toEqual({ rate: 0.5 });
    expect(canonicalJson(nulled.graph)).toBe(canonicalJson(absent.graph));
    expect(nulled.hash).toBe(absent.hash);
    const masked = compile("  - dropout: { name: d, rate: 0.5, noise_shape: [null, 1, 1, 1] }\n");
    expect(masked.hash).not.toBe(absent.hash);
  });

  it("round-trips through rsc expand with its nulls", () => {
    const { graph } = compile(
      "  - dropout: { name: d, rate: 0.2, noise_shape: [null, 1, 1, 1] }\n" +
        "  - re_lu: { name: r, max_value: null }\n",
    );
    const text = expandToSpec(graph);
    expect(text).toContain("noise_shape: [null, 1, 1, 1]");
    expect(text).toContain("max_value: null");
    const again = compileSource(text, file);
    expect(again.diagnostics).toEqual([]);
    expect(canonicalJson(again.graph!)).toBe(canonicalJson(graph));
  });

  it("reads as its default (null) in rsc diff when one side leaves it out", () => {
    const absent = compile("  - dropout: { name: d, rate: 0.5 }\n").graph;
    const masked = compile("  - dropout: { name: d, rate: 0.5, noise_shape: [null, 1, 1, 1] }\n");
    const [change] = diffGraphs(absent, masked.graph).layers.changed;
    expect(change!.attrs).toEqual([{ attr: "noise_shape", old: null, new: [null, 1, 1, 1] }]);
    const back = diffGraphs(masked.graph, absent).layers.changed[0]!;
    expect(back.attrs).toEqual([{ attr: "noise_shape", old: [null, 1, 1, 1], new: null }]);
  });
});

describe("a YAML null is Keras's None", () => {
  it("re_lu max_value: null compiles to an unbounded ReLU (it used to fail without a diagnostic)", () => {
    const { graph } = compile("  - re_lu: { name: r, max_value: null, negative_slope: 0.1 }\n");
    expect(attrsOf(graph, "r")).toEqual({ max_value: null, negative_slope: 0.1, threshold: 0 });
  });

  it("in `defaults:` applies like any other value", () => {
    const text =
      "rsc: 1\ndefaults:\n  dropout: { noise_shape: [null, 1, 1, 1] }\n" +
      "input: { shape: [6, 6, 8] }\nlayers:\n  - dropout: { name: d, rate: 0.3 }\n" +
      "  - dropout: { name: e, rate: 0.3, noise_shape: null }\n";
    const r = compileSource(text, file);
    expect(r.diagnostics).toEqual([]);
    expect(attrsOf(r.graph!, "d")).toEqual({ rate: 0.3, noise_shape: [null, 1, 1, 1] });
    expect(attrsOf(r.graph!, "e")).toEqual({ rate: 0.3 });
  });
});
