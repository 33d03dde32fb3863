/**
 * `rsc run <model.onnx>` as a real process on a built tiny model: output shape, top classes
 * (checked against onnxruntime's own output, sorted here), the examples shown and hidden
 * (--all, --top), latency, --json, .npy input (and its shape errors), and execution-provider
 * selection.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cudaProvider, ort, sessionOptions } from "@rsc/backend-onnx/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHOWN_EXAMPLES, topClasses } from "../src/commands/run.js";
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
    // Every example, though the text shows three.
    expect(e.result.outputs[0].top.map((t: { example: number }) => t.example)).toEqual([
      0, 1, 2, 3,
    ]);
    // Softmax output: the scores of the shown classes are sorted and below 1.
    const scores = e.result.outputs[0].top[0].classes.map((c: { score: number }) => c.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("shows the first examples and says how many it hides; --all shows every one", async () => {
    const args = ["run", model, "--ep", "cpu", "--runs", "1"];
    const [five, all, four, three] = await Promise.all([
      rsc([...args, "--batch", "5"]),
      rsc([...args, "--batch", "5", "--all"]),
      rsc([...args, "--batch", "4"]),
      rsc([...args, "--batch", "3"]),
    ]);
    expect([five.code, all.code, four.code, three.code]).toEqual([0, 0, 0, 0]);
    const examples = (text: string) =>
      [...text.matchAll(/^ {2}example (\d+): top 5: /gm)].map((m) => Number(m[1]));
    expect(SHOWN_EXAMPLES).toBe(3);
    expect(examples(five.stdout)).toEqual([0, 1, 2]);
    expect(five.stdout).toContain("\n  … 2 more examples (use --all)\nlatency");
    expect(examples(all.stdout)).toEqual([0, 1, 2, 3, 4]);
    expect(all.stdout).not.toContain("more example");
    expect(four.stdout).toContain("\n  … 1 more example (use --all)\n");
    expect(examples(three.stdout)).toEqual([0, 1, 2]);
    expect(three.stdout).not.toContain("more example");
    // The examples shown are the same with and without --all.
    const lines = (text: string) => text.split("\n").filter((l) => l.startsWith("  example"));
    expect(lines(all.stdout).slice(0, 3)).toEqual(lines(five.stdout));
  });

  it("--top K gives each example's K best classes, as onnxruntime's scores sorted say", async () => {
    const batch = 6;
    const data = Float32Array.from({ length: batch * 16 * 16 * 3 }, (_, i) => Math.cos(i * 0.37));
    const npy = join(tmp, "top.npy");
    writeFileSync(npy, encodeNpy([batch, 16, 16, 3], data));
    const [json, text] = await Promise.all([
      rsc(["run", model, "--ep", "cpu", "--input", npy, "--runs", "1", "--top", "3", "--json"]),
      rsc(["run", model, "--ep", "cpu", "--input", npy, "--runs", "1", "--top", "2", "--all"]),
    ]);
    expect([json.code, text.code]).toEqual([0, 0]);
    // The same model on the same input, run here; every row sorted in full.
    const session = await ort().InferenceSession.create(model);
    const feeds = {
      [session.inputNames[0]!]: new (ort().Tensor)("float32", data, [batch, 16, 16, 3]),
    };
    const scores = (await session.run(feeds))[session.outputNames[0]!]!.data as Float32Array;
    await session.release();
    const expected = Array.from({ length: batch }, (_, e) =>
      Array.from(scores.subarray(e * 10, (e + 1) * 10), (score, index) => ({ index, score }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 3),
    );
    const top = JSON.parse(json.stdout).result.outputs[0].top;
    expect(top).toHaveLength(batch);
    for (const [e, t] of top.entries()) {
      expect(t.example).toBe(e);
      expect(t.classes.map((c: { index: number }) => c.index)).toEqual(
        expected[e]!.map((c) => c.index),
      );
      for (const [i, c] of t.classes.entries())
        expect(c.score).toBeCloseTo(expected[e]![i]!.score, 6);
    }
    const shown = [
      ...text.stdout.matchAll(/^ {2}example (\d+): top 2: (\d+) \([\d.]+\), (\d+) \(/gm),
    ];
    expect(shown.map((m) => [Number(m[2]), Number(m[3])])).toEqual(
      expected.map((classes) => [classes[0]!.index, classes[1]!.index]),
    );
  });

  it.skipIf(cuda)(
    "--ep auto (the default) says in one line which provider it took and why; --verbose adds how to enable the others",
    async () => {
      const [text, json, verbose] = await Promise.all([
        rsc(["run", model, "--runs", "1"]),
        rsc(["run", model, "--runs", "1", "--json"]),
        rsc(["run", model, "--runs", "1", "--verbose"]),
      ]);
      expect([text.code, json.code, verbose.code]).toEqual([0, 0, 0]);
      const result = JSON.parse(json.stdout).result;
      expect(result.requestedEp).toBe("auto");
      // Without CUDA, auto probed the WebGPU adapter: the line names it or says there is none.
      const line = result.notes[0] as string;
      expect(result.notes).toHaveLength(1);
      expect(line).toMatch(/; onnxruntime-node's CUDA provider is not installed$/);
      if (result.ep === "webgpu") {
        expect(result.adapter.software).toBe(false);
        expect(line).toBe(
          `using WebGPU on ${result.adapter.name}: onnxruntime-node's CUDA provider is not installed`,
        );
      } else {
        expect(result.ep).toBe("cpu");
        expect(line).toMatch(
          result.adapter?.software
            ? /^using the CPU: the only WebGPU adapter is software \(.+\); /
            : /^using the CPU: (no WebGPU adapter|the webgpu package|the adapter probe|onnxruntime's WebGPU provider failed)/,
        );
      }
      // The text prints that one line on stderr (--json none: the line is in the envelope).
      if (result.ep === "cpu") expect(text.stderr).toBe(`note: ${line}\n`);
      else expect(text.stderr).toContain(`note: ${line}\n`);
      expect(json.stderr).not.toContain("note:");
      const lines = verbose.stderr.split("\n").filter((l) => /^(note|hint):/.test(l));
      expect(lines[0]).toBe(`note: ${line}`);
      expect(lines[1]).toMatch(/^hint: to enable CUDA \(needs CUDA 12 and cuDNN 9\): /);
      expect(lines).toHaveLength(2);
      // The one line has no paths (the hint may).
      if (result.ep === "cpu" && !result.adapter) expect(line).not.toMatch(/\//);
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
    expect(r2.stderr).toContain("--ep expects auto, cuda, webgpu or cpu, got 'tpu'");
    expect(r3.stderr).toContain("--batch expects an integer from 1 to 65536, got '0'");
    expect(r4.stderr).toContain("--threads expects an integer from 0 to 1024, got 'two'");
    expect(existsSync(missing)).toBe(false);
  });
});

describe("top classes", () => {
  /** The reference: every class sorted by score (NaN last), ties by index. */
  function reference(row: readonly number[], k: number): number[] {
    const key = (s: number) => (Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s);
    return row
      .map((score, index) => ({ score, index }))
      .sort((a, b) => key(b.score) - key(a.score) || a.index - b.index)
      .slice(0, k)
      .map((c) => c.index);
  }

  it("keeps the K best of each row, ties by lower index, NaN last, K past the classes", () => {
    const rows = [
      [0.1, 0.5, 0.5, 0.2, 0.5],
      [Number.NaN, 1, Number.NaN, -1, 0],
      [3, 2, 1, 0, -1],
    ];
    const data = Float32Array.from(rows.flat());
    for (const k of [1, 2, 3, 5, 9]) {
      const got = topClasses(data, [3, 5], k).map((t) => t.classes.map((c) => c.index));
      expect(got).toEqual(rows.map((r) => reference(r, k)));
    }
    expect(topClasses(data, [3, 5], 2)[0]!.classes).toEqual([
      { index: 1, score: 0.5 },
      { index: 2, score: 0.5 },
    ]);
  });

  it("scans (small K) and sorts (large K) to the same order", () => {
    // Few distinct values: many ties, and NaNs among them.
    const row = Array.from({ length: 200 }, (_, i) =>
      i % 17 === 0 ? Number.NaN : (i * 7919) % 13,
    );
    const data = Float32Array.from([...row, ...row.map((v) => -v)]);
    for (const k of [1, 5, 16, 17, 40, 200]) {
      const got = topClasses(data, [2, 200], k).map((t) => t.classes.map((c) => c.index));
      expect(got).toEqual([
        reference(row, k),
        reference(
          row.map((v) => -v),
          k,
        ),
      ]);
    }
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
