/**
 * Execution-provider selection and the fall back during a run, on real onnxruntime sessions:
 * `webgpu` runs on the probed adapter and computes what the CPU computes; `auto` takes WebGPU only
 * on a real adapter and says so in one line; a model's own error is not blamed on the provider; a
 * provider failing during the run is an error when named, and gives way to the CPU under `auto`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFile, initWeights } from "@rsc/compiler";
import { webgpuForTests } from "@rsc/test-support";
import type * as Ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { emitOnnxModel } from "../src/index.js";
import {
  createSession,
  cudaProvider,
  ort,
  RuntimeUnavailableError,
  runWithFallback,
  sessionOptions,
} from "../src/runtime.js";
import { randomBatch } from "./helpers.js";

const specs = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "specs");
const tmp = mkdtempSync(join(tmpdir(), "rsc-runtime-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Builds tiny-cnn (optionally at another input shape) to a file; returns its path and input shape. */
function tinyCnn(file: string, set: Record<string, string> = {}) {
  const { graph, info } = compileFile(join(specs, "tiny-cnn.yaml"), { set });
  if (graph === undefined || info === undefined) throw new Error("tiny-cnn does not compile");
  const path = join(tmp, file);
  writeFileSync(path, emitOnnxModel(graph, initWeights(graph, info.seed)).model!.bytes());
  const shape = graph.nodes.find((n) => n.name === graph.inputs[0])!.outputShape;
  return { path, input: graph.inputs[0]!, shape };
}

function feedsOf(model: ReturnType<typeof tinyCnn>, batch: number): Ort.InferenceSession.FeedsType {
  const data = randomBatch(model.shape, batch);
  return { [model.input]: new (ort().Tensor)("float32", data, [batch, ...model.shape]) };
}

async function cpuOutputs(path: string, feeds: Ort.InferenceSession.FeedsType) {
  const session = await ort().InferenceSession.create(path, sessionOptions("cpu"));
  const out = await session.run(feeds);
  await session.release();
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

const tiny = tinyCnn("tiny.onnx");
const gpu = await webgpuForTests();
const cuda = cudaProvider().installed;

describe("session options", () => {
  it("name the provider alone (WebGPU in the NCHW layout), optimise fully, keep onnxruntime's log to fatal errors", () => {
    const provider = {
      cpu: "cpu",
      cuda: "cuda",
      webgpu: { name: "webgpu", preferredLayout: "NCHW" },
    };
    for (const ep of ["cpu", "cuda", "webgpu"] as const)
      expect(sessionOptions(ep)).toEqual({
        executionProviders: [provider[ep]],
        graphOptimizationLevel: "all",
        logSeverityLevel: 4,
      });
    expect(sessionOptions("webgpu", 2)).toMatchObject({ intraOpNumThreads: 2 });
  });

  it("a model onnxruntime cannot load is the model's error under webgpu, not the provider's", async () => {
    const junk = join(tmp, "junk.onnx");
    writeFileSync(junk, "not a model");
    for (const choice of ["webgpu", "auto", "cpu"] as const) {
      const error = await createSession(junk, choice).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      // Without an adapter, webgpu is unavailable before the model is read.
      if (choice === "webgpu" && !gpu.adapter)
        expect(error).toBeInstanceOf(RuntimeUnavailableError);
      else expect(error).not.toBeInstanceOf(RuntimeUnavailableError);
    }
  });
});

describe.runIf(gpu.adapter)(`providers: ${gpu.title}`, () => {
  it("webgpu runs on the probed adapter, says once if it is software, and computes what the CPU does", async () => {
    const selected = await createSession(tiny.path, "webgpu");
    expect(selected.ep).toBe("webgpu");
    expect(selected.adapter).toEqual(gpu.adapter);
    if (gpu.adapter!.software)
      expect(selected.notice).toBe(
        `the WebGPU adapter is software (${gpu.adapter!.name}): the CPU emulates a GPU, expect it to be slower than --ep cpu`,
      );
    else expect(selected.notice).toBeUndefined();
    const feeds = feedsOf(tiny, 3);
    const { outputs, latency } = await runWithFallback(selected, feeds, 2, {
      model: tiny.path,
      choice: "webgpu",
    });
    await selected.session.release();
    expect(latency.runsMs).toHaveLength(2);
    const expected = (await cpuOutputs(tiny.path, feeds))["logits"]!.data as Float32Array;
    const got = outputs["logits"]!.data as Float32Array;
    expect(got).toHaveLength(30);
    expect(maxDiff(got, expected)).toBeLessThan(1e-5);
  });

  it.skipIf(cuda)(
    "auto takes WebGPU only on a real adapter (hiding the software drivers first), else the CPU, in one line",
    async () => {
      const before = process.env["VK_LOADER_DRIVERS_DISABLE"];
      const selected = await createSession(tiny.path, "auto", 0, { verbose: true });
      await selected.session.release();
      expect(selected.adapter).toEqual(gpu.adapter);
      expect(selected.hint).toMatch(/^to enable CUDA \(needs CUDA 12 and cuDNN 9\): /);
      if (gpu.adapter!.software) {
        expect(selected.ep).toBe("cpu");
        expect(selected.notice).toBe(
          `using the CPU: the only WebGPU adapter is software (${gpu.adapter!.name}); onnxruntime-node's CUDA provider is not installed`,
        );
        expect(process.env["VK_LOADER_DRIVERS_DISABLE"]).toBe(before);
      } else {
        expect(selected.ep).toBe("webgpu");
        expect(selected.notice).toBe(
          `using WebGPU on ${gpu.adapter!.name}: onnxruntime-node's CUDA provider is not installed`,
        );
        expect(process.env["VK_LOADER_DRIVERS_DISABLE"]).toContain("*lvp_icd*");
      }
    },
  );

  // On lavapipe a 256x256x3 batch of 256 (201 MB in, 537 MB after the first Conv) makes the
  // WebGPU Conv fail inside session.run: a real failure during a run. A real GPU may run it.
  it.runIf(gpu.adapter?.software)(
    "a provider failing during the run: an error when named, the CPU (same outputs) under auto",
    { timeout: 120_000 },
    async () => {
      const wide = tinyCnn("wide.onnx", { input_shape: "[256, 256, 3]" });
      const feeds = feedsOf(wide, 256);
      const named = await createSession(wide.path, "webgpu");
      await expect(
        runWithFallback(named, feeds, 0, { model: wide.path, choice: "webgpu" }),
      ).rejects.toThrow(
        new RegExp(
          `^--ep webgpu: onnxruntime's WebGPU provider failed during the run on ${regexQuote(gpu.adapter!.name)}: .+; --ep cpu runs on the CPU$`,
        ),
      );
      await named.session.release();
      // As auto would have it after choosing WebGPU (on lavapipe it never does).
      const chosen = await createSession(wide.path, "webgpu");
      const ran = await runWithFallback(chosen, feeds, 0, { model: wide.path, choice: "auto" });
      expect(ran.selected.ep).toBe("cpu");
      expect(ran.selected.adapter).toEqual(gpu.adapter);
      expect(ran.fallback).toMatch(
        /^running on the CPU instead: onnxruntime's WebGPU provider failed during the run on .+: .+/,
      );
      const got = ran.outputs["logits"]!.data as Float32Array;
      await ran.selected.session.release();
      const expected = (await cpuOutputs(wide.path, feeds))["logits"]!.data as Float32Array;
      expect(got).toHaveLength(2560);
      expect(maxDiff(got, expected)).toBe(0);
    },
  );
});

function regexQuote(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
