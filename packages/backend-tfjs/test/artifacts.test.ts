import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { graphParamCounts, initWeights } from "@rsc/compiler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArtifactsError,
  fileSystemHandler,
  memoryHandler,
  parseArtifacts,
  readArtifacts,
  readArtifactsDir,
  saveArtifacts,
  selectRuntime,
  TFJS_BACKEND,
  tf,
  tfl,
  toLayersModel,
} from "../src/index.js";
import { everyOpGraph, tinyConvGraph } from "./graphs.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "rsc-tfjs-"));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  await selectRuntime("cpu");
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function writeFiles(dir: string, files: ReadonlyMap<string, Uint8Array>): void {
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
}

/** The float32 values of read artifacts by weight name. */
function values(read: { weights: ReadonlyMap<string, { data: Float32Array }> }) {
  return new Map([...read.weights].map(([name, w]) => [name, w.data]));
}

describe("tfjs artifacts", () => {
  it("emits model.json + one shard that tf.loadLayersModel loads and predicts identically", async () => {
    const graph = everyOpGraph();
    const weights = initWeights(graph, 3);
    const result = await TFJS_BACKEND.emit(graph, weights, {
      outputName: "every-op-tfjs",
      producerVersion: "0.1.0",
      specHash: "abc",
      seed: 3,
      flags: {},
    });
    expect(result.diagnostics).toEqual([]);
    const files = new Map(
      result.files!.map((f) => {
        const chunks: Uint8Array[] = [];
        f.writeTo((chunk) => chunks.push(chunk.slice()));
        expect(Buffer.concat(chunks).byteLength).toBe(f.size);
        return [f.name, new Uint8Array(Buffer.concat(chunks))];
      }),
    );
    expect([...files.keys()]).toEqual(["model.json", "group1-shard1of1.bin"]);
    expect(result.stats).toEqual({
      params: graphParamCounts(graph).total,
      shards: 1,
    });
    const json = JSON.parse(new TextDecoder().decode(files.get("model.json")));
    expect(json).toMatchObject({
      format: "layers-model",
      generatedBy: expect.stringMatching(/^TensorFlow\.js tfjs-layers v4\./),
      convertedBy: "rsc 0.1.0",
      userDefinedMetadata: { rsc: { spec: graph.name, specHash: "abc", seed: 3 } },
      weightsManifest: [{ paths: ["group1-shard1of1.bin"] }],
    });
    expect(json.modelTopology.class_name).toBe("Model");

    const dir = tempDir();
    writeFiles(dir, files);
    const loaded = await tfl.loadLayersModel(fileSystemHandler(dir));
    const direct = toLayersModel(graph, weights);
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, "float32", 5);
    const a = (loaded.predict(x) as tf.Tensor).dataSync();
    const b = (direct.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(values(readArtifacts(dir))).toEqual(weights);
    loaded.dispose();
    direct.dispose();
  });

  it("keeps plain Keras weight names when tfjs uniquifies variables of a second model", async () => {
    const graph = tinyConvGraph();
    const first = toLayersModel(graph, initWeights(graph, 1));
    const second = toLayersModel(graph, initWeights(graph, 2));
    // tfjs renames the second model's variables in memory ...
    expect(second.weights.map((w) => w.name)).toContainEqual(
      expect.stringMatching(/^conv1\/kernel_\d+$/),
    );
    // ... but the saved names are the Keras names.
    const files = await saveArtifacts(second, { convertedBy: "rsc test" });
    const json = JSON.parse(new TextDecoder().decode(files.get("model.json")));
    const names = json.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    expect(names.sort()).toEqual(graph.nodes.flatMap((n) => n.params.map((p) => p.name)).sort());
    expect(values(parseArtifacts(files))).toEqual(initWeights(graph, 2));
    first.dispose();
    second.dispose();
  });

  it("splits weights into shards of at most the shard size, which load back", async () => {
    const graph = tinyConvGraph();
    const model = toLayersModel(graph, initWeights(graph));
    const files = await saveArtifacts(model, { convertedBy: "rsc test", shardBytes: 1000 });
    const shards = [...files.keys()].filter((n) => n.endsWith(".bin"));
    const total = [...files]
      .filter(([n]) => n.endsWith(".bin"))
      .reduce((s, [, b]) => s + b.byteLength, 0);
    expect(shards.length).toBe(Math.ceil(total / 1000));
    expect(shards[0]).toBe(`group1-shard1of${shards.length}.bin`);
    for (const s of shards) expect(files.get(s)!.byteLength).toBeLessThanOrEqual(1000);
    const loaded = await tfl.loadLayersModel(memoryHandler(files));
    expect(loaded.weights.length).toBe(model.weights.length);
    const dir = tempDir();
    writeFiles(dir, files);
    expect(readdirSync(dir).length).toBe(shards.length + 1);
    expect(statSync(join(dir, "model.json")).size).toBeGreaterThan(0);
    model.dispose();
    loaded.dispose();
  });

  it("names the file at fault in a broken model folder", () => {
    const dir = tempDir();
    expect(() => readArtifactsDir(dir)).toThrow(ArtifactsError);
    writeFileSync(join(dir, "model.json"), "{not json");
    expect(() => readArtifactsDir(dir)).toThrow(/model\.json/);
    writeFileSync(
      join(dir, "model.json"),
      JSON.stringify({
        format: "layers-model",
        modelTopology: {},
        weightsManifest: [
          {
            paths: ["group1-shard1of1.bin"],
            weights: [{ name: "a/kernel", shape: [2], dtype: "float32" }],
          },
        ],
      }),
    );
    expect(() => readArtifactsDir(dir)).toThrow(/group1-shard1of1\.bin/);
    writeFileSync(join(dir, "group1-shard1of1.bin"), new Uint8Array(4));
    expect(() => readArtifactsDir(dir)).toThrow(/8 bytes of weights but the shards hold 4/);
  });
});
