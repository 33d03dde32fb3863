/**
 * Both backends implement the compiler's contract as the CLI's one build path expects: their
 * BackendInfo (registered at start-up) is the backend's, the main file comes first, every file's
 * size is what it streams, and the ONNX data file is the model's `.data` sibling.
 */
import { ONNX_BACKEND, ONNX_BACKEND_INFO } from "@rsc/backend-onnx";
import { TFJS_BACKEND, TFJS_BACKEND_INFO } from "@rsc/backend-tfjs";
import { type ArtifactFile, compileFile, graphParamCounts, initWeights } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import { root } from "./rsc-process.js";

function streamed(file: ArtifactFile): number {
  let bytes = 0;
  file.writeTo((chunk) => {
    bytes += chunk.byteLength;
  });
  return bytes;
}

const { graph, info } = compileFile(`${root}/specs/tiny-cnn.yaml`, { set: { classes: "40" } });
const options = { producerVersion: "0.0.0", specHash: info!.hash, seed: 0 };

describe("backends", () => {
  it("carry the BackendInfo the CLI registers", () => {
    for (const [backend, backendInfo] of [
      [ONNX_BACKEND, ONNX_BACKEND_INFO],
      [TFJS_BACKEND, TFJS_BACKEND_INFO],
    ] as const) {
      expect(backend.name).toBe(backendInfo.name);
      expect(backend.artifact).toBe(backendInfo.artifact);
      expect(backend.flags).toBe(backendInfo.flags);
      expect(backend.defaultOutput("m")).toBe(backendInfo.defaultOutput("m"));
    }
  });

  it("onnx: the model, then its .data sibling above the threshold, with stats", async () => {
    const weights = initWeights(graph!, 0);
    const result = await ONNX_BACKEND.emit(graph!, weights, {
      ...options,
      outputName: "m.onnx",
      flags: { externalDataThreshold: 0 },
    });
    expect(result.files!.map((f) => f.name)).toEqual(["m.onnx", "m.onnx.data"]);
    for (const f of result.files!) expect(streamed(f)).toBe(f.size);
    expect(result.stats).toMatchObject({ params: graphParamCounts(graph!).total });
    const inline = await ONNX_BACKEND.emit(graph!, weights, {
      ...options,
      outputName: "m.onnx",
      flags: {},
    });
    expect(inline.files!.map((f) => f.name)).toEqual(["m.onnx"]);
  });

  it("tfjs: model.json first, then the shards, with stats", async () => {
    const result = await TFJS_BACKEND.emit(graph!, initWeights(graph!, 0), {
      ...options,
      outputName: "m-tfjs",
      flags: {},
    });
    expect(result.files!.map((f) => f.name)).toEqual(["model.json", "group1-shard1of1.bin"]);
    for (const f of result.files!) expect(streamed(f)).toBe(f.size);
    expect(result.stats).toEqual({ params: graphParamCounts(graph!).total, shards: 1 });
  });
});
