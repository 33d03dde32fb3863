/**
 * Numbers checked by a computation that is not rsc's (issue 12 item 4): each
 * `fixtures/_numeric_conv_/<op>/case.json` holds inputs, weights and the outputs PyTorch computes from
 * the Keras layer's definition (the `make.py` beside it wrote them; tests never run Python). The
 * ONNX model rsc emits for the same layer runs in onnxruntime-node and must agree within 1e-5.
 */
import { join } from "node:path";
import { graphFromLayers, type LayerDescription, type OpName } from "@rsc/compiler";
import { type FixtureTensor, readCaseFiles } from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import { emitOnnxModel } from "../src/index.js";
import { maxAbsDiff, runOnnx } from "./helpers.js";

const TOLERANCE = 1e-5;

interface Case {
  readonly name: string;
  readonly layers: LayerDescription[];
  readonly weights: Record<string, FixtureTensor>;
  readonly input: FixtureTensor;
  readonly outputs: Record<string, FixtureTensor>;
}

const cases = readCaseFiles<{ cases: Case[] }>(
  join(import.meta.dirname, "fixtures", "_numeric_conv_"),
).flatMap(([folder, file]) => file.cases.map((c) => [`${folder}: ${c.name}`, c] as const));

/** Ops whose numbers PyTorch checks here (the conv family of issue 12). */
const CHECKED: readonly OpName[] = [
  "depthwise_conv2d",
  "separable_conv2d",
  "conv2d",
  "conv2d_transpose",
  "up_sampling2d",
  "cropping2d",
  "global_max_pooling2d",
  "global_average_pooling2d",
];

describe("ONNX numbers against PyTorch-computed fixtures (onnxruntime-node, 1e-5)", () => {
  it("has a case for every op of the conv family", () => {
    const ops = new Set(cases.flatMap(([, c]) => c.layers.map((l) => l.op)));
    expect(CHECKED.filter((op) => !ops.has(op))).toEqual([]);
  });

  it.each(cases)("%s", async (_name, c) => {
    const outputs = Object.keys(c.outputs);
    const graph = graphFromLayers("numeric", c.layers, { outputs });
    const weights = new Map(
      Object.entries(c.weights).map(([k, v]) => [k, Float32Array.from(v.data)]),
    );
    const { model, diagnostics } = emitOnnxModel(graph, weights, { seed: 0 });
    expect(diagnostics).toEqual([]);
    const input = graph.inputs[0]!;
    const got = await runOnnx(model!.bytes(), {
      [input]: { data: Float32Array.from(c.input.data), dims: [...c.input.shape] },
    });
    for (const [name, want] of Object.entries(c.outputs)) {
      expect(got[name]!.dims, name).toEqual(want.shape);
      expect(maxAbsDiff(got[name]!.data, want.data), name).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});
