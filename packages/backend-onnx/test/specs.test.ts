/**
 * Every spec in specs/ lowers to a model that onnxruntime-node loads and runs (batch 1, CPU,
 * graph optimisation 'all'), with output shapes equal to the IR's inferred shapes.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFile, initWeights } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import { emitOnnxModel } from "../src/index.js";
import { randomBatch, runOnnx } from "./helpers.js";

const specs = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "specs");
const files = readdirSync(specs).filter((f) => f.endsWith(".yaml"));

describe("every spec runs in onnxruntime-node with the IR's output shapes", () => {
  it("finds the specs", () => {
    expect(files).toContain("resnet50.yaml");
  });
  for (const file of files) {
    it(file, { timeout: 120_000 }, async () => {
      const { graph, info } = compileFile(join(specs, file));
      if (graph === undefined || info === undefined) throw new Error(`${file} does not compile`);
      const result = emitOnnxModel(graph, initWeights(graph, info.seed), { seed: info.seed });
      expect(result.diagnostics).toEqual([]);
      const feeds = Object.fromEntries(
        graph.inputs.map((name) => {
          const shape = graph.nodes.find((n) => n.name === name)!.outputShape;
          return [name, { data: randomBatch(shape, 1), dims: [1, ...shape] }];
        }),
      );
      const outputs = await runOnnx(result.model!.bytes(), feeds);
      expect(Object.keys(outputs).sort()).toEqual([...graph.outputs].sort());
      for (const name of graph.outputs) {
        const shape = graph.nodes.find((n) => n.name === name)!.outputShape;
        expect(outputs[name]!.dims).toEqual([1, ...shape]);
        expect(outputs[name]!.data.every(Number.isFinite)).toBe(true);
      }
    });
  }
});
