/**
 * `rsc build --target onnx --precision fp16 [--io fp16]` as a real process: the float16 model it
 * writes (types, metadata, size, outputs in onnxruntime-node against the fp32 build), fp32 builds
 * unchanged by the flags, loaded weights rounded like seeded ones, and the refused combinations
 * (usage errors, exit 2; constants float16 cannot hold, RSC400 at their lines, exit 1) against a
 * golden file, never leaving an output behind.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { float16Value, onnx, toFloat16 } from "@rsc/backend-onnx";
import { ort } from "@rsc/backend-onnx/runtime";
import { compileFile, uniformStream } from "@rsc/compiler";
import { expectGoldenJson } from "@rsc/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { root, rsc } from "./rsc-process.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-build-precision-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const TINY = "specs/tiny-cnn.yaml";
const fixtures = join(root, "packages", "cli", "test", "fixtures");
/** A spec whose constants float16 cannot hold (the ONNX backend's fp16 error fixture). */
const OUT_OF_RANGE = join(
  root,
  "packages",
  "backend-onnx",
  "test",
  "fixtures",
  "_fp16_",
  "_error_",
  "constants-out-of-range",
  "spec.yaml",
);
const { FLOAT, FLOAT16 } = onnx.TensorProto.DataType;

function model(path: string) {
  return onnx.ModelProto.decode(readFileSync(path));
}

function metadata(path: string): Record<string, string> {
  return Object.fromEntries(model(path).metadataProps!.map((p) => [p.key!, p.value!]));
}

/** tiny-cnn's logits for one seeded input, fed as float32 or float16. */
async function logits(path: string, half = false): Promise<Float32Array> {
  const runtime = ort();
  const session = await runtime.InferenceSession.create(path);
  const next = uniformStream(3, "input");
  const data = Float32Array.from({ length: 16 * 16 * 3 }, () => next() * 2 - 1);
  const input = half
    ? new runtime.Tensor("float16", toFloat16(data), [1, 16, 16, 3])
    : new runtime.Tensor("float32", data, [1, 16, 16, 3]);
  const out = (await session.run({ input_1: input }))["logits"]!;
  await session.release();
  return out.type === "float16"
    ? Float32Array.from(out.data as Uint16Array, float16Value)
    : (out.data as Float32Array);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

describe.concurrent("rsc build --target onnx --precision fp16", () => {
  it("writes a float16 model, says so with its size, and it agrees with the fp32 build", async () => {
    const [full, half, io] = ["full.onnx", "half.onnx", "io.onnx"].map((f) => join(tmp, f));
    const runs = await Promise.all([
      rsc(["build", TINY, "-t", "onnx", "-o", full!]),
      rsc(["build", TINY, "-t", "onnx", "-o", half!, "--precision", "fp16"]),
      rsc(["build", TINY, "-t", "onnx", "-o", io!, "--precision", "fp16", "--io", "fp16"]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(runs[1]!.stderr).toMatch(/^wrote .*half\.onnx \(\d+\.\d kB\)\n/);
    expect(runs[1]!.stderr).toMatch(
      /built tiny-cnn for onnx \(fp16, fp32 inputs and outputs\): 1,386 params, seed 0, /,
    );
    expect(runs[2]!.stderr).toMatch(/built tiny-cnn for onnx \(fp16, fp16 inputs and outputs\)/);
    expect(runs[0]!.stderr).toMatch(/built tiny-cnn for onnx: 1,386 params/);

    expect(metadata(half!)).toMatchObject({ "rsc.precision": "fp16", "rsc.io_precision": "fp32" });
    expect(metadata(io!)).toMatchObject({ "rsc.precision": "fp16", "rsc.io_precision": "fp16" });
    expect(metadata(full!)["rsc.precision"]).toBeUndefined();
    const g = model(half!).graph!;
    expect(new Set(g.initializer!.map((t) => t.dataType))).toEqual(new Set([FLOAT16]));
    expect(g.input![0]!.type!.tensorType!.elemType).toBe(FLOAT);
    expect(model(io!).graph!.input![0]!.type!.tensorType!.elemType).toBe(FLOAT16);
    // tiny-cnn's 1,386 weights are 5.5 kB in float32, 2.8 kB in float16; the two Casts and the
    // longer doc string take back about 0.3 kB.
    expect(readFileSync(full!).length - readFileSync(half!).length).toBeGreaterThan(2200);

    const reference = await logits(full!);
    const [a, b] = await Promise.all([logits(half!), logits(io!, true)]);
    // The backend's tests measure fp16 against fp32 on every spec; tiny-cnn deviates ~3e-5.
    expect(maxAbsDiff(a, reference)).toBeLessThan(3e-3);
    expect(maxAbsDiff(b, reference)).toBeLessThan(3e-3);
    expect(maxAbsDiff(a, reference)).toBeGreaterThan(0);
  });

  it("rsc run feeds an --io fp16 model float16 and reads its float16 outputs", async () => {
    const [full, io] = ["run-full.onnx", "run-io.onnx"].map((f) => join(tmp, f));
    const built = await Promise.all([
      rsc(["build", TINY, "-t", "onnx", "-o", full!]),
      rsc(["build", TINY, "-t", "onnx", "-o", io!, "--precision", "fp16", "--io", "fp16"]),
    ]);
    expect(built.map((r) => r.code)).toEqual([0, 0]);
    const runs = await Promise.all(
      [full!, io!].map((m) => rsc(["run", m, "--ep", "cpu", "--batch", "2", "--json"])),
    );
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    type Top = { example: number; classes: { index: number; score: number }[] }[];
    const [want, got] = runs.map((r) => JSON.parse(r.stdout).result.outputs[0].top as Top);
    expect(got!.length).toBe(2);
    for (const [e, example] of want!.entries()) {
      const probabilities = got![e]!.classes;
      expect(probabilities.map((c) => c.index)).toEqual(example.classes.map((c) => c.index));
      for (const [k, c] of example.classes.entries())
        expect(Math.abs(probabilities[k]!.score - c.score)).toBeLessThan(3e-3);
    }
  });

  it("reports the precision in --json", async () => {
    const out = join(tmp, "json.onnx");
    const r = await rsc(["build", TINY, "-t", "onnx", "-o", out, "--precision", "fp16", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      result: { target: "onnx", precision: "fp16", io: "fp32", files: [{ path: out }] },
    });
  });

  it("leaves fp32 builds byte for byte as they were with --precision fp32 --io fp32", async () => {
    const [a, b] = ["plain.onnx", "explicit.onnx"].map((f) => join(tmp, f));
    const runs = await Promise.all([
      rsc(["build", TINY, "-t", "onnx", "-o", a!]),
      rsc(["build", TINY, "-t", "onnx", "-o", b!, "--precision", "fp32", "--io", "fp32"]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    expect(Buffer.compare(readFileSync(a!), readFileSync(b!))).toBe(0);
  });

  it("rounds --weights like seeded weights (the same float16 tensors)", async () => {
    // rsc build --target tfjs writes the seed-0 weights as float32 tfjs artifacts.
    const tfjs = join(tmp, "tfjs");
    mkdirSync(tfjs, { recursive: true });
    const [seeded, loaded] = ["seeded16.onnx", "loaded16.onnx"].map((f) => join(tmp, f));
    const made = await rsc(["build", TINY, "-t", "tfjs", "-o", join(tfjs, "model")]);
    expect(made.code).toBe(0);
    const runs = await Promise.all([
      rsc(["build", TINY, "-t", "onnx", "-o", seeded!, "--precision", "fp16"]),
      rsc([
        "build",
        TINY,
        "-t",
        "onnx",
        "-o",
        loaded!,
        "--precision",
        "fp16",
        "--weights",
        join(tfjs, "model"),
      ]),
    ]);
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const tensors = (path: string) =>
      model(path).graph!.initializer!.map((t) => [
        t.name,
        t.dataType,
        Buffer.from(t.rawData!).toString("hex"),
      ]);
    expect(tensors(loaded!)).toEqual(tensors(seeded!));
  });
});

/**
 * Every refused combination: its exit status, the usage error or the located diagnostics (code,
 * line, column), in `fixtures/_error_/build-precision/expected.json`.
 */
describe("refused precision combinations", () => {
  it("are usage errors or located RSC400 errors, and write nothing", {
    timeout: 120_000,
  }, async () => {
    const out = join(tmp, "refused.onnx");
    const cases: [string, string[]][] = [
      ["io fp16 without precision fp16", [TINY, "-t", "onnx", "--io", "fp16"]],
      ["io fp16 with precision fp32", [TINY, "-t", "onnx", "--precision", "fp32", "--io", "fp16"]],
      ["precision fp16 for tfjs", [TINY, "-t", "tfjs", "--precision", "fp16"]],
      ["io fp16 for tfjs", [TINY, "-t", "tfjs", "--precision", "fp32", "--io", "fp16"]],
      ["unknown precision", [TINY, "-t", "onnx", "--precision", "fp8"]],
      ["unknown io", [TINY, "-t", "onnx", "--precision", "fp16", "--io", "int8"]],
      [
        "constants float16 cannot hold",
        [relative(root, OUT_OF_RANGE), "-t", "onnx", "--precision", "fp16"],
      ],
    ];
    const results = await Promise.all(
      cases.map(([, args]) => rsc(["build", ...args, "-o", out, "--json"])),
    );
    const actual = cases.map(([name, args], i) => {
      const r = results[i]!;
      const envelope = JSON.parse(r.stdout);
      expect(envelope.ok).toBe(false);
      return {
        case: name,
        args: args.join(" "),
        exit: r.code,
        ...(envelope.result?.error === undefined ? {} : { error: envelope.result.error }),
        diagnostics: envelope.diagnostics.map(
          (d: { code: string; file: string; line: number; column: number }) => ({
            code: d.code,
            file: relative(root, d.file),
            line: d.line,
            column: d.column,
          }),
        ),
      };
    });
    expectGoldenJson(join(fixtures, "_error_", "build-precision", "expected.json"), actual);
    expect(existsSync(out)).toBe(false);
    // The out-of-range spec builds at fp32: the errors are float16's alone.
    const spec = compileFile(OUT_OF_RANGE);
    expect(spec.diagnostics).toEqual([]);
    const fp32 = await rsc(["build", OUT_OF_RANGE, "-t", "onnx", "-o", out]);
    expect(fp32.code).toBe(0);
  });
});
