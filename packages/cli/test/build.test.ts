/**
 * `rsc build --target onnx` as a real process: outputs, determinism, --seed, --weights from
 * tfjs artifacts (and their mismatches), external data, and bad input never leaving a file.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onnx } from "@rsc/backend-onnx";
import { compileFile, graphParams, initWeights } from "@rsc/compiler";
import { afterAll, describe, expect, it } from "vitest";
import { located, root, rsc } from "./rsc-process.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-build-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const TINY = "specs/tiny-cnn.yaml";

/** Writes tfjs artifacts (model.json + two shards, float32) for `weights`, as tfjs lays them out. */
function writeTfjs(
  dir: string,
  entries: readonly { name: string; shape: readonly number[]; data: Float32Array }[],
): string {
  mkdirSync(dir, { recursive: true });
  const half = Math.ceil(entries.length / 2);
  const groups = [entries.slice(0, half), entries.slice(half)];
  const manifest = groups.map((group, g) => {
    const bytes = Buffer.concat(
      group.map((e) => Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength)),
    );
    // Split each group's bytes over two shards, as tfjs does at its shard size.
    const cut = Math.floor(bytes.length / 2);
    writeFileSync(join(dir, `group${g + 1}-shard1of2.bin`), bytes.subarray(0, cut));
    writeFileSync(join(dir, `group${g + 1}-shard2of2.bin`), bytes.subarray(cut));
    return {
      paths: [`group${g + 1}-shard1of2.bin`, `group${g + 1}-shard2of2.bin`],
      weights: group.map((e) => ({ name: e.name, shape: e.shape, dtype: "float32" })),
    };
  });
  const json = {
    format: "layers-model",
    generatedBy: "test",
    modelTopology: {},
    weightsManifest: manifest,
  };
  writeFileSync(join(dir, "model.json"), JSON.stringify(json, null, 2));
  return join(dir, "model.json");
}

function tinyEntries(seed: number) {
  const { graph } = compileFile(join(root, TINY));
  const weights = initWeights(graph!, seed);
  return graphParams(graph!).map((p) => ({
    name: p.name,
    shape: p.shape,
    data: weights.get(p.name)!,
  }));
}

function initializers(path: string): Map<string, string> {
  const m = onnx.ModelProto.decode(readFileSync(path));
  return new Map(
    m.graph!.initializer!.map((t) => [t.name!, Buffer.from(t.rawData!).toString("hex")]),
  );
}

describe.concurrent("rsc build --target onnx", () => {
  it("writes build/<stem>.onnx by default and says what it wrote", async () => {
    const r = await rsc(["build", join(root, TINY), "--target", "onnx"], { cwd: tmp });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^wrote build\/tiny-cnn\.onnx \(\d+\.\d kB\)\n/);
    expect(r.stderr).toMatch(/built tiny-cnn for onnx: 1,386 params, seed 0, \d+\.\d\d s\n$/);
    expect(existsSync(join(tmp, "build", "tiny-cnn.onnx"))).toBe(true);
  });

  it("is byte-identical for the same seed, differs for --seed 1, and records the seed", async () => {
    const [a, b, c] = ["a.onnx", "b.onnx", "c.onnx"].map((f) => join(tmp, f));
    const runs = await Promise.all([
      rsc(["build", TINY, "-t", "onnx", "-o", a!]),
      rsc(["build", TINY, "-t", "onnx", "-o", b!]),
      rsc(["build", TINY, "-t", "onnx", "-o", c!, "--seed", "1"]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(Buffer.compare(readFileSync(a!), readFileSync(b!))).toBe(0);
    expect(Buffer.compare(readFileSync(a!), readFileSync(c!))).not.toBe(0);
    const meta = onnx.ModelProto.decode(readFileSync(c!)).metadataProps!;
    expect(meta.find((p) => p.key === "rsc.seed")?.value).toBe("1");
  });

  it("prints one JSON envelope with --json", async () => {
    const out = join(tmp, "json.onnx");
    const r = await rsc([
      "build",
      TINY,
      "--target",
      "onnx",
      "-o",
      out,
      "--json",
      "--set",
      "classes=4",
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const envelope = JSON.parse(r.stdout);
    expect(envelope).toMatchObject({
      command: "build",
      ok: true,
      diagnostics: [],
      result: { target: "onnx", files: [{ path: out }], seed: 0, params: 1386 - 10 * 17 + 4 * 17 },
    });
    expect(envelope.result.files[0].bytes).toBe(readFileSync(out).length);
  });

  it("loads --weights from tfjs artifacts by Keras name (same tensors as the seeded build)", async () => {
    const dir = join(tmp, "tfjs-5");
    writeTfjs(dir, tinyEntries(5));
    const seeded = join(tmp, "seed5.onnx");
    const loaded = join(tmp, "loaded.onnx");
    const [r1, r2] = await Promise.all([
      rsc(["build", TINY, "-t", "onnx", "-o", seeded, "--seed", "5"]),
      rsc(["build", TINY, "-t", "onnx", "-o", loaded, "--weights", dir]),
    ]);
    expect([r1.code, r2.code]).toEqual([0, 0]);
    expect(r2.stderr).toContain(`weights from ${dir}`);
    expect(initializers(loaded)).toEqual(initializers(seeded));
    const meta = onnx.ModelProto.decode(readFileSync(loaded)).metadataProps!;
    expect(meta.find((p) => p.key === "rsc.weights")?.value).toBe("model.json");
  });

  it("loads --weights from `rsc build --target tfjs` artifacts (tfjs's own format)", async () => {
    const dir = join(tmp, "tfjs-target");
    const r1 = await rsc(["build", TINY, "-t", "tfjs", "-o", dir, "--seed", "3"]);
    expect(r1.code).toBe(0);
    const loaded = join(tmp, "from-tfjs.onnx");
    const seeded = join(tmp, "seed3.onnx");
    const [r2, r3] = await Promise.all([
      rsc(["build", TINY, "-t", "onnx", "-o", loaded, "--weights", join(dir, "model.json")]),
      rsc(["build", TINY, "-t", "onnx", "-o", seeded, "--seed", "3"]),
    ]);
    expect([r2.code, r3.code]).toEqual([0, 0]);
    expect(initializers(loaded)).toEqual(initializers(seeded));
    const both = await rsc([
      "build",
      TINY,
      "-t",
      "onnx",
      "-o",
      loaded,
      "--seed",
      "3",
      "--weights",
      dir,
    ]);
    expect(both.code).toBe(2);
  });

  it("names every missing, extra and wrong-shaped weight (RSC401, exit 1, no file)", async () => {
    const entries = tinyEntries(0)
      .filter((e) => e.name !== "stem/bias")
      .map((e) => (e.name === "logits/kernel" ? { ...e, shape: [10, 16], data: e.data } : e));
    entries.push({ name: "extra_layer/kernel", shape: [2], data: new Float32Array(2) });
    const json = writeTfjs(join(tmp, "tfjs-bad"), entries);
    const out = join(tmp, "bad-weights.onnx");
    const r = await rsc(["build", TINY, "-t", "onnx", "-o", out, "--weights", json]);
    expect(r.code).toBe(1);
    const codes = located(r.stderr);
    expect(codes.map((c) => c[3])).toEqual(["RSC401", "RSC401", "RSC401"]);
    // The missing weight points at its layer in the spec; the others into model.json.
    expect(codes.map((c) => c[0]).sort()).toEqual([json, json, TINY].sort());
    for (const name of ["stem/bias", "logits/kernel", "extra_layer/kernel"])
      expect(r.stderr).toContain(`'${name}'`);
    expect(existsSync(out)).toBe(false);
  });

  it("rejects a malformed model.json (RSC500, exit 1) and a missing one (exit 2)", async () => {
    const bad = join(tmp, "not-json.json");
    writeFileSync(bad, "{ nope");
    const r1 = await rsc([
      "build",
      TINY,
      "-t",
      "onnx",
      "-o",
      join(tmp, "x.onnx"),
      "--weights",
      bad,
    ]);
    expect(r1.code).toBe(1);
    expect(located(r1.stderr)[0]?.[3]).toBe("RSC500");
    const r2 = await rsc([
      "build",
      TINY,
      "-t",
      "onnx",
      "-o",
      join(tmp, "y.onnx"),
      "--weights",
      join(tmp, "none"),
    ]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("no such file");
  });

  it("writes external data next to the model above --external-data-threshold", async () => {
    const out = join(tmp, "ext.onnx");
    const r = await rsc([
      "build",
      TINY,
      "-t",
      "onnx",
      "-o",
      out,
      "--external-data-threshold",
      "0",
      "--set",
      "classes=40",
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`wrote ${out}.data`);
    const tensors = onnx.ModelProto.decode(readFileSync(out)).graph!.initializer!;
    const ext = tensors.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    expect(ext.map((t) => t.name)).toEqual(["logits/kernel"]);
    expect(ext[0]!.externalData!.find((e) => e.key === "location")?.value).toBe("ext.onnx.data");
  });

  it("bad spec, unknown target, bad seed: located errors or usage errors, no output", async () => {
    const spec = join(tmp, "bad.yaml");
    writeFileSync(
      spec,
      "rsc: 1\nname: bad\ninput: { shape: [8, 8, 3] }\nlayers:\n  - dense: { units: 0 }\n",
    );
    const out = join(tmp, "bad.onnx");
    const r1 = await rsc(["build", spec, "-t", "onnx", "-o", out]);
    expect(r1.code).toBe(1);
    expect(located(r1.stderr).map((c) => c[1])).toEqual(["5"]);
    const r2 = await rsc(["build", TINY, "-t", "coreml", "-o", out]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("--target expects onnx or tfjs, got 'coreml'");
    const r3 = await rsc(["build", TINY, "-t", "onnx", "-o", out, "--seed", "-3"]);
    expect(r3.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});
