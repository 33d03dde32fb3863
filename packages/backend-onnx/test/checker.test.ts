/**
 * The emitted models pass `onnx.checker.check_model(full_check=True)` (strict shape inference
 * against our value_info) from Debian's python3-onnx. Skipped, saying so, where it is missing.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFile, graphParamCounts, initWeights } from "@rsc/compiler";
import { afterAll, describe, expect, it } from "vitest";
import { emitOnnxModel } from "../src/index.js";
import { checkerTitle, checkModels, onnxVersion } from "./onnx-checker.js";

const specs = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "specs");
const tmp = mkdtempSync(join(tmpdir(), "rsc-onnx-checker-"));
/** Every spec up to this size is checked (VGG16 and ResNet-101, over it, are left out to keep CI fast). */
const CHECK_LIMIT = 40_000_000;
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(onnxVersion === undefined)(checkerTitle(), () => {
  it("accepts every spec's model, one of them with external data", { timeout: 240_000 }, () => {
    const paths: string[] = [];
    const names = readdirSync(specs)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => f.slice(0, -".yaml".length));
    expect(names).toEqual(expect.arrayContaining(["tiny-cnn", "resnet50", "mobilenet_v2"]));
    for (const spec of names) {
      const { graph, info } = compileFile(join(specs, `${spec}.yaml`));
      if (graph === undefined || info === undefined) throw new Error(`${spec} does not compile`);
      if (graphParamCounts(graph).total > CHECK_LIMIT) continue;
      const external = spec === "tiny-cnn";
      const result = emitOnnxModel(graph, initWeights(graph, info.seed), {
        specHash: info.hash,
        seed: info.seed,
        ...(external ? { externalDataThreshold: 0, externalDataName: `${spec}.onnx.data` } : {}),
      });
      const path = join(tmp, `${spec}.onnx`);
      writeFileSync(path, result.model!.bytes());
      if (result.externalData)
        writeFileSync(join(tmp, result.externalData.name), result.externalData.bytes());
      paths.push(path);
    }
    const run = checkModels(paths);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(paths.length);
  });

  it("rejects a broken model (the check can fail)", () => {
    const path = join(tmp, "broken.onnx");
    const { graph } = compileFile(join(specs, "tiny-cnn.yaml"));
    const bytes = emitOnnxModel(graph!, initWeights(graph!, 0)).model!.bytes();
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    expect(checkModels([path]).status).not.toBe(0);
  });
});
