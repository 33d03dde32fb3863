/**
 * Issue 12's ops checked against numbers rsc did not compute: PyTorch's, from
 * `fixtures/_numeric_/make.py` (run with /usr/bin/python3, which has torch; the expected tensors
 * are committed beside it as `<op>/case.json`, so the tests never run Python). Each case is one
 * layer on NHWC inputs; its ONNX model runs in onnxruntime-node and must agree within 1e-5
 * (relative above 1: Normalization's epsilon case divides by 1e-7).
 */
import { join } from "node:path";
import { ACTIVATIONS, graphFromLayers, type OpName } from "@rsc/compiler";
import {
  CASE_LAYER,
  maxRelativeError,
  oneLayerCaseLayers,
  oneLayerCaseWeights,
  readOneLayerCases,
} from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import { emitOnnxModel } from "../src/index.js";
import { runOnnx } from "./helpers.js";

const suites = readOneLayerCases<OpName>(join(import.meta.dirname, "fixtures", "_numeric_"));

const TOLERANCE = 1e-5;

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
    // Every activation rsc knows, but the five that came before issue 12.
    const older = ["linear", "relu", "softmax", "sigmoid", "tanh"];
    const added = ACTIVATIONS.filter((a) => !older.includes(a));
    expect(added.filter((a) => !activations.includes(a))).toEqual([]);
  });

  for (const [op, cases] of suites) {
    describe(op, () => {
      it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
        const graph = graphFromLayers(c.name, oneLayerCaseLayers(c));
        const weights = oneLayerCaseWeights(c);
        const result = emitOnnxModel(graph, weights, { producerVersion: "test", seed: 0 });
        expect(result.diagnostics).toEqual([]);
        const feeds = Object.fromEntries(
          c.inputs.map((t, i) => [
            `x${i}`,
            { data: Float32Array.from(t.data), dims: [...t.shape] },
          ]),
        );
        const got = (await runOnnx(result.model!.bytes(), feeds))[CASE_LAYER]!;
        expect(got.dims).toEqual(c.expected.shape);
        expect(maxRelativeError(got.data, c.expected.data)).toBeLessThanOrEqual(TOLERANCE);
      });
    });
  }
});
