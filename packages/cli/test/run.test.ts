/**
 * `rsc run <model.onnx>` as a real process on a built tiny model: output shape, top classes,
 * latency, --json, .npy input (and its shape errors), and execution-provider selection.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cudaProvider, gpuDetected, sessionOptions } from "@rsc/backend-onnx/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeNpy, parseNpy } from "../src/npy.js";
import { located, rsc } from "./rsc-process.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-run-test-"));
const model = join(tmp, "tiny.onnx");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  const r = await rsc(["build", "specs/tiny-cnn.yaml", "-t", "onnx", "-o", model]);
  expect(r.code).toBe(0);
});
const cuda = cudaProvider().installed;

describe.concurrent("rsc run", () => {
  it("runs on the CPU: output shape, top classes, latency on stdout", async () => {
    const r = await rsc(["run", model, "--ep", "cpu", "--runs", "3", "--top", "3"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("(onnxruntime-node, CPU)");
    expect(r.stdout).toContain("input   input_1 [1, 16, 16, 3] random (seed 0)");
    expect(r.stdout).toContain("output  logits [1, 10]");
    expect(r.stdout).toMatch(/example 0: top 3: \d \(0\.\d{4}\), \d \(0\.\d{4}\), \d \(0\.\d{4}\)/);
    expect(r.stdout).toMatch(/latency first run [\d.]+ ms, median [\d.]+ ms of 3 runs \(batch 1\)/);
  });

  it("prints one JSON envelope with --json, batch 4", async () => {
    const r = await rsc(["run", model, "--ep", "cpu", "--batch", "4", "--runs", "2", "--json"]);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e).toMatchObject({ command: "run", ok: true, result: { ep: "cpu", runs: 2 } });
    expect(e.result.outputs[0].shape).toEqual([4, 10]);
    expect(e.result.outputs[0].top).toHaveLength(3);
    // Softmax output: the scores of the shown classes are sorted and below 1.
    const scores = e.result.outputs[0].top[0].classes.map((c: { score: number }) => c.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it.skipIf(cuda || gpuDetected())(
    "--ep auto falls back to the CPU silently on a machine without a GPU; --verbose says why in one short line",
    async () => {
      const quiet = await rsc(["run", model, "--runs", "1"]);
      expect(quiet.code).toBe(0);
      expect(quiet.stderr).toBe("");
      const verbose = await rsc(["run", model, "--runs", "1", "--verbose"]);
      expect(verbose.code).toBe(0);
      const lines = verbose.stderr.trimEnd().split("\n");
      expect(lines).toEqual([
        'note: using the CPU: onnxruntime-node\'s CUDA provider is not installed (README: "GPUs and native runtimes")',
      ]);
      // No absolute paths in the note.
      expect(verbose.stderr).not.toMatch(/\//);
    },
  );

  it.skipIf(cuda)("--ep cuda without the CUDA provider is a clear error, exit 2", async () => {
    const r = await rsc(["run", model, "--ep", "cuda"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^rsc: error: --ep cuda: onnxruntime-node's CUDA provider is not installed/,
    );
  });

  it("reads --input .npy (NHWC); the same input gives the same output", async () => {
    const data = Float32Array.from({ length: 2 * 16 * 16 * 3 }, (_, i) => Math.sin(i));
    const npy = join(tmp, "x.npy");
    writeFileSync(npy, encodeNpy([2, 16, 16, 3], data));
    const [a, b] = await Promise.all([
      rsc(["run", model, "--ep", "cpu", "--input", npy, "--runs", "1", "--json"]),
      rsc(["run", model, "--ep", "cpu", "--input", npy, "--runs", "1", "--json"]),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const ea = JSON.parse(a.stdout);
    expect(ea.result.inputs[0]).toEqual({ name: "input_1", shape: [2, 16, 16, 3], source: npy });
    expect(ea.result.outputs[0].top).toEqual(JSON.parse(b.stdout).result.outputs[0].top);
  });

  it("a wrong-shaped .npy is RSC501, a non-.npy RSC500, a non-model RSC500 (exit 1)", async () => {
    const wrong = join(tmp, "nchw.npy");
    writeFileSync(wrong, encodeNpy([1, 3, 16, 16], new Float32Array(768)));
    const junk = join(tmp, "junk.npy");
    writeFileSync(junk, "not numpy");
    const notModel = join(tmp, "junk.onnx");
    writeFileSync(notModel, "not a model");
    const [r1, r2, r3] = await Promise.all([
      rsc(["run", model, "--ep", "cpu", "--input", wrong]),
      rsc(["run", model, "--ep", "cpu", "--input", junk]),
      rsc(["run", notModel, "--ep", "cpu"]),
    ]);
    expect([r1.code, r2.code, r3.code]).toEqual([1, 1, 1]);
    expect(located(r1.stderr)).toEqual([[wrong, "1", "1", "RSC501"]]);
    expect(r1.stderr).toContain("(1, 3, 16, 16)");
    expect(located(r2.stderr)).toEqual([[junk, "1", "1", "RSC500"]]);
    expect(located(r3.stderr)).toEqual([[notModel, "1", "1", "RSC500"]]);
  });

  it("--threads caps onnxruntime's threads per op, and computes the same", async () => {
    const [one, all, text] = await Promise.all([
      rsc(["run", model, "--ep", "cpu", "--threads", "1", "--runs", "1", "--json"]),
      rsc(["run", model, "--ep", "cpu", "--runs", "1", "--json"]),
      rsc(["run", model, "--ep", "cpu", "--threads", "2", "--runs", "1"]),
    ]);
    expect([one.code, all.code, text.code]).toEqual([0, 0, 0]);
    const [e1, e0] = [JSON.parse(one.stdout).result, JSON.parse(all.stdout).result];
    expect([e1.threads, e0.threads]).toEqual([1, 0]);
    expect(e1.outputs).toEqual(e0.outputs);
    expect(text.stdout).toContain("(onnxruntime-node, CPU, 2 threads per op)");
    expect(sessionOptions("cpu", 3)).toMatchObject({ intraOpNumThreads: 3 });
    expect(sessionOptions("cpu")).not.toHaveProperty("intraOpNumThreads");
  });

  it("usage errors exit 2: missing model, bad --ep, bad --batch, bad --threads", async () => {
    const missing = join(tmp, "nope.onnx");
    const [r1, r2, r3, r4] = await Promise.all([
      rsc(["run", missing]),
      rsc(["run", model, "--ep", "tpu"]),
      rsc(["run", model, "--batch", "0"]),
      rsc(["run", model, "--threads", "two"]),
    ]);
    expect([r1.code, r2.code, r3.code, r4.code]).toEqual([2, 2, 2, 2]);
    expect(r1.stderr).toContain("no such file");
    expect(r2.stderr).toContain("--ep expects auto, cuda or cpu, got 'tpu'");
    expect(r3.stderr).toContain("--batch expects an integer from 1 to 65536, got '0'");
    expect(r4.stderr).toContain("--threads expects an integer from 0 to 1024, got 'two'");
    expect(existsSync(missing)).toBe(false);
  });
});

describe(".npy round trip", () => {
  it("reads what it writes, and rejects Fortran order", () => {
    const data = Float32Array.from([1.5, -2, 3, 4.25, 0, -0.5]);
    const back = parseNpy(encodeNpy([2, 3], data));
    expect(back.shape).toEqual([2, 3]);
    expect([...back.data]).toEqual([...data]);
    const fortran = Buffer.from(encodeNpy([2, 3], data));
    fortran.write("True ", fortran.indexOf("False"));
    expect(() => parseNpy(fortran)).toThrow(/Fortran/);
  });
});
