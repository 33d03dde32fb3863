/**
 * `rsc build --target tfjs` and train-then-deploy, as real processes: the artifacts load in
 * tf.loadLayersModel unchanged and compute the compiler-seeded model; a model trained by
 * `rsc train` exported with `rsc build --target onnx --weights` matches it within 1e-4 in
 * onnxruntime; weights of another architecture are refused with nothing written.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onnx } from "@rsc/backend-onnx";
import { fileSystemHandler, selectRuntime, tf, tfl } from "@rsc/backend-tfjs";
import { compileFile, graphParamCounts, initWeights } from "@rsc/compiler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff, randomInputs, runOnnx, tfjsOutputs } from "./parity-support.js";
import { located, root, rsc } from "./rsc-process.js";
import { TINY_CNN, trainTinyArgs, writeSignsFile } from "./train-support.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-build-tfjs-test-"));

/** An ONNX model's metadata_props, by key. */
function onnxMetadata(path: string): Record<string, string> {
  const model = onnx.ModelProto.decode(readFileSync(path));
  return Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
}
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(async () => {
  await selectRuntime("cpu");
});

describe("rsc build --target tfjs", () => {
  it("writes model.json + shard that tf.loadLayersModel loads and that compute the seeded model", async () => {
    const out = join(tmp, "tiny-tfjs");
    const run = await rsc(["build", TINY_CNN, "--target", "tfjs", "--seed", "4", "-o", out]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/built tiny-cnn for tfjs: [\d,]+ params, seed 4/);
    const json = JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
    expect(json).toMatchObject({
      format: "layers-model",
      convertedBy: expect.stringMatching(/^rsc \d+\.\d+\.\d+/),
      weightsManifest: [{ paths: ["group1-shard1of1.bin"] }],
    });
    const { graph } = compileFile(TINY_CNN);
    const names = json.weightsManifest[0].weights.map((w: { name: string }) => w.name).sort();
    expect(names).toEqual(graph!.nodes.flatMap((n) => n.params.map((p) => p.name)).sort());

    const model = await tfl.loadLayersModel(fileSystemHandler(out));
    const inputs = randomInputs(graph!, 2);
    const loaded = (model.predict(tf.tensor4d(inputs[0]!, [2, 16, 16, 3])) as tf.Tensor).dataSync();
    const direct = tfjsOutputs(graph!, initWeights(graph!, 4), inputs, 2)[0]!;
    expect(Array.from(loaded)).toEqual(Array.from(direct));
    model.dispose();

    const again = join(tmp, "tiny-tfjs-2");
    await rsc(["build", TINY_CNN, "--target", "tfjs", "--seed", "4", "-o", again]);
    expect(readFileSync(join(again, "group1-shard1of1.bin"))).toEqual(
      readFileSync(join(out, "group1-shard1of1.bin")),
    );
    expect(readFileSync(join(again, "model.json"))).toEqual(readFileSync(join(out, "model.json")));
  });
});

/** Specs up to this size build and load in CI; bigger ones (VGG16, ResNet-101): bench/tfjs-parity.mjs. */
const LOAD_LIMIT = 40_000_000;
const specFiles = readdirSync(join(root, "specs"))
  .filter((f) => f.endsWith(".yaml"))
  .filter((f) => graphParamCounts(compileFile(join(root, "specs", f)).graph!).total <= LOAD_LIMIT);

describe("every spec's tfjs build loads in tf.loadLayersModel", () => {
  it("covers the family specs", () => {
    expect(specFiles).toEqual(
      expect.arrayContaining(["mobilenet_v2.yaml", "densenet121.yaml", "resnet50.yaml"]),
    );
  });

  it.each(specFiles)("%s", { timeout: 120_000 }, async (file) => {
    const spec = join(root, "specs", file);
    const { graph } = compileFile(spec);
    const out = join(tmp, `load-${file}`);
    const run = await rsc(["build", spec, "--target", "tfjs", "-o", out]);
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    const model = await tfl.loadLayersModel(fileSystemHandler(out));
    try {
      expect(model.layers.map((l) => l.name).sort()).toEqual(
        graph!.nodes.map((n) => n.name).sort(),
      );
      expect(model.countParams()).toBe(graphParamCounts(graph!).total);
      expect(model.outputs.map((o) => o.shape.slice(1))).toEqual(
        graph!.outputs.map((name) => graph!.nodes.find((n) => n.name === name)!.outputShape),
      );
    } finally {
      model.dispose();
    }
  });
});

describe("train, then deploy", () => {
  const data = join(tmp, "signs.h5");
  const trained = join(tmp, "trained");
  /** `rsc build` of the trained tiny spec to ONNX at `out`, from `weights`, with `extra` flags. */
  const deploy = (out: string, weights: string, ...extra: string[]) =>
    rsc([
      "build",
      TINY_CNN,
      "--set",
      "classes=3",
      "--target",
      "onnx",
      "--weights",
      weights,
      ...extra,
      "-o",
      out,
    ]);

  it("exports a model trained 1 epoch to ONNX that matches the tfjs model within 1e-4", async () => {
    await writeSignsFile(data);
    const train = await rsc(
      trainTinyArgs(data, "--epochs", "1", "--batch-size", "16", "-o", trained),
    );
    expect(train.code).toBe(0);
    const onnxPath = join(tmp, "deployed.onnx");
    const build = await deploy(onnxPath, trained);
    expect(build.code).toBe(0);

    const { graph } = compileFile(TINY_CNN, { set: { classes: "3" } });
    const model = await tfl.loadLayersModel(fileSystemHandler(trained));
    const batch = 4;
    const inputs = randomInputs(graph!, batch, 9);
    const tfjsOut = (
      model.predict(tf.tensor4d(inputs[0]!, [batch, 16, 16, 3])) as tf.Tensor
    ).dataSync();
    const [onnxOut] = await runOnnx(onnxPath, graph!, inputs, batch);
    expect(maxAbsDiff(tfjsOut, onnxOut!)).toBeLessThanOrEqual(1e-4);
    // Training changed the weights: the deployed model is not the freshly seeded one.
    const seeded = tfjsOutputs(graph!, initWeights(graph!, 0), inputs, batch)[0]!;
    expect(maxAbsDiff(seeded, onnxOut!)).toBeGreaterThan(1e-3);
    // BN moving statistics were trained too (not 0/1 any more) and made it into the ONNX model.
    const mean = model.getLayer("stem_bn").getWeights()[2]!.dataSync();
    expect(Math.max(...Array.from(mean, Math.abs))).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it("records how the weights were made: spec hash, --set values, input scaling", async () => {
    const json = JSON.parse(readFileSync(join(trained, "model.json"), "utf8"));
    const log = JSON.parse(readFileSync(join(trained, "train-log.json"), "utf8"));
    const { info } = compileFile(TINY_CNN, { set: { classes: "3" } });
    expect(json.userDefinedMetadata.rsc).toMatchObject({
      spec: "tiny-cnn",
      specHash: info!.hash,
      set: { classes: "3" },
      inputScaling: { scale: 1 / 255, offset: 0, baked: false },
    });
    expect(log).toMatchObject({
      set: { classes: "3" },
      inputScaling: { scale: 1 / 255, offset: 0 },
    });
    // The deployed ONNX model says how to feed it.
    const meta = onnxMetadata(join(tmp, "deployed.onnx"));
    expect(meta["rsc.input_scale"]).toBe(String(1 / 255));
    expect(meta["rsc.input_offset"]).toBe("0");
    expect(meta["rsc.input_preprocessing"]).toMatch(/^outside: /);
  });

  it("refuses weights trained under other --set values, showing both; --allow-spec-change warns", async () => {
    const out = join(tmp, "other-set.onnx");
    const args = ["build", TINY_CNN, "--set", "classes=3", "--set", "input_shape=[24,24,3]"];
    const run = await rsc([...args, "--target", "onnx", "--weights", trained, "-o", out]);
    expect(run.code).toBe(1);
    const [first] = located(run.stderr);
    // model.json is one line: located at its "specHash".
    const text = readFileSync(join(trained, "model.json"), "utf8");
    expect(first).toEqual([
      join(trained, "model.json"),
      "1",
      String(text.indexOf('"specHash"') + 1),
      "RSC530",
    ]);
    expect(run.stderr).toMatch(
      /made for another spec or other --set values: 'tiny-cnn' \(sha256:[0-9a-f]{12}\) with --set classes=3; this build is 'tiny-cnn' \(sha256:[0-9a-f]{12}\) with --set classes=3 --set input_shape=\[24,24,3\]/,
    );
    expect(run.stderr).toMatch(/--allow-spec-change/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);

    // The convolutions do not care about the input size: allowed, it builds, with a warning.
    const allowed = await rsc([
      ...args,
      "--target",
      "onnx",
      "--weights",
      trained,
      "--allow-spec-change",
      "-o",
      out,
    ]);
    expect(allowed.stderr).toMatch(/warning RSC530/);
    expect(allowed.code).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it("--bake-preprocessing puts x / 255 into the graph: the model takes raw pixels", async () => {
    const baked = join(tmp, "baked.onnx");
    const run = await deploy(baked, trained, "--bake-preprocessing");
    expect(run.code).toBe(0);
    const meta = onnxMetadata(baked);
    expect(meta["rsc.input_preprocessing"]).toMatch(/^baked: /);
    const { graph } = compileFile(TINY_CNN, { set: { classes: "3" } });
    const batch = 2;
    const raw = randomInputs(graph!, batch, 5).map((x) => x.map((v) => Math.round(v * 255)));
    const scaled = raw.map((x) => x.map((v) => v / 255));
    const [fromRaw] = await runOnnx(baked, graph!, raw, batch);
    const [fromScaled] = await runOnnx(join(tmp, "deployed.onnx"), graph!, scaled, batch);
    expect(maxAbsDiff(fromRaw!, fromScaled!)).toBeLessThanOrEqual(1e-5);
    // Weights of a file that records no scaling cannot be baked (a usage error, nothing written).
    const seededTfjs = join(tmp, "seeded-tfjs");
    await rsc(["build", TINY_CNN, "--set", "classes=3", "--target", "tfjs", "-o", seededTfjs]);
    const refused = join(tmp, "refused.onnx");
    const bad = await deploy(refused, seededTfjs, "--bake-preprocessing");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/does not record the input scaling/);
    expect(existsSync(refused)).toBe(false);
  });

  it("refuses trained weights of another architecture, writing nothing (RSC530, RSC401)", async () => {
    const other = join(root, "specs", "tiny-branches.yaml");
    const build = (target: string, out: string) =>
      rsc(["build", other, "--target", target, "--weights", trained, "-o", out]);
    const onnxPath = join(tmp, "wrong.onnx");
    const run = await build("onnx", onnxPath);
    expect(run.code).toBe(1);
    // Why (another spec: once), and what does not fit (each weight), in file order.
    const codes = located(run.stderr).map((d) => d[3]);
    expect(codes.filter((c) => c === "RSC530")).toHaveLength(1);
    expect(codes.filter((c) => c === "RSC401").length).toBeGreaterThan(0);
    expect(codes.every((c) => c === "RSC530" || c === "RSC401")).toBe(true);
    expect(run.stderr).toMatch(/model\.json/);
    expect(existsSync(onnxPath)).toBe(false);
    const tfjsOut = join(tmp, "wrong-tfjs");
    const run2 = await build("tfjs", tfjsOut);
    expect(run2.code).toBe(1);
    expect(existsSync(tfjsOut)).toBe(false);
  });
});
