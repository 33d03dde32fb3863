/**
 * Issue 12's ops checked against numbers rsc did not compute: PyTorch's, from
 * `fixtures/_numeric_/make.py` (run with /usr/bin/python3, which has torch; the expected tensors
 * are committed beside it as `<op>/case.json`, so the tests never run Python). Each case is one
 * layer on NHWC inputs; its ONNX model runs in onnxruntime-node and must agree within 1e-5
 * (relative above 1: Normalization's epsilon case divides by 1e-7).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { graphFromLayers, type LayerDescription, type OpName } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import { emitOnnxModel } from "../src/index.js";
import { runOnnx } from "./helpers.js";

interface Tensor {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

interface NumericCase {
  readonly name: string;
  readonly layer: { readonly op: OpName; readonly attrs?: Record<string, unknown> };
  /** NHWC, batch first. */
  readonly inputs: readonly Tensor[];
  /** By Keras suffix (`gamma`, `mean`, `kernel`). */
  readonly weights: Readonly<Record<string, readonly number[]>>;
  readonly expected: Tensor;
}

const root = join(import.meta.dirname, "fixtures", "_numeric_");
const files = readdirSync(root, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
const suites = files.map((dir) => {
  const json = JSON.parse(readFileSync(join(root, dir, "case.json"), "utf8")) as {
    op: string;
    cases: NumericCase[];
  };
  return [json.op, json.cases] as const;
});

const TOLERANCE = 1e-5;

/** The one-layer graph of a case: inputs `x0`, `x1`, ... feeding layer `layer`. */
function caseGraph(c: NumericCase) {
  const inputs: LayerDescription[] = c.inputs.map((t, i) => ({
    name: `x${i}`,
    op: "input",
    attrs: { shape: t.shape.slice(1) },
  }));
  return graphFromLayers(c.name, [
    ...inputs,
    {
      name: "layer",
      op: c.layer.op,
      attrs: c.layer.attrs ?? {},
      inputs: inputs.map((i) => i.name),
    },
  ]);
}

describe("issue 12 ops against PyTorch (onnxruntime-node)", () => {
  it("has a case for every issue 12 op and every new activation", () => {
    const ops = new Set(suites.map(([op]) => op));
    const wanted = [
      "multiply",
      "subtract",
      "average",
      "maximum",
      "reshape",
      "permute",
      "rescaling",
      "normalization",
      "layer_normalization",
      "re_lu",
      "leaky_relu",
      "elu",
      "activation",
    ];
    expect(wanted.filter((op) => !ops.has(op))).toEqual([]);
    const activations = suites
      .filter(([op]) => op === "activation")
      .flatMap(([, cases]) => cases.map((c) => c.layer.attrs?.["activation"]));
    expect(activations).toEqual(
      expect.arrayContaining([
        "relu6",
        "leaky_relu",
        "elu",
        "selu",
        "gelu",
        "silu",
        "swish",
        "hard_sigmoid",
        "hard_silu",
        "hard_swish",
        "softplus",
        "exponential",
      ]),
    );
  });

  for (const [op, cases] of suites) {
    describe(op, () => {
      it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
        const graph = caseGraph(c);
        const weights = new Map(
          Object.entries(c.weights).map(([suffix, v]) => [`layer/${suffix}`, Float32Array.from(v)]),
        );
        const result = emitOnnxModel(graph, weights, { producerVersion: "test", seed: 0 });
        expect(result.diagnostics).toEqual([]);
        const feeds = Object.fromEntries(
          c.inputs.map((t, i) => [
            `x${i}`,
            { data: Float32Array.from(t.data), dims: [...t.shape] },
          ]),
        );
        const got = (await runOnnx(result.model!.bytes(), feeds))["layer"]!;
        expect(got.dims).toEqual(c.expected.shape);
        let worst = 0;
        for (let i = 0; i < got.data.length; i++) {
          const want = c.expected.data[i]!;
          worst = Math.max(worst, Math.abs(got.data[i]! - want) / Math.max(1, Math.abs(want)));
        }
        expect(worst).toBeLessThanOrEqual(TOLERANCE);
      });
    });
  }
});
