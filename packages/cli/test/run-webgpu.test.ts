/**
 * `rsc run --ep webgpu|auto` as a real process: WebGPU runs on the probed adapter and --json
 * records it; auto names the adapter it passed over in one line; an unavailable WebGPU (no Vulkan
 * driver, simulated by the loader's VK_LOADER_DRIVERS_DISABLE=*) is exit 2 with the driver hint;
 * a WebGPU run that fails midway is exit 2 naming the provider. Gated on `webgpuForTests()`
 * (lavapipe in CI); the no-adapter cases need no GPU and run on every Linux machine.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cudaProvider, driverHint, probeAdapter } from "@rsc/backend-onnx/runtime";
import { webgpuForTests } from "@rsc/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rsc } from "./rsc-process.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-run-webgpu-test-"));
const model = join(tmp, "tiny.onnx");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  const r = await rsc(["build", "specs/tiny-cnn.yaml", "-t", "onnx", "-o", model]);
  expect(r.code).toBe(0);
});
const gpu = await webgpuForTests();
const cuda = cudaProvider().installed;
/** The Vulkan loader's switch that hides every driver: Dawn then finds no adapter. */
const noDrivers = { NO_COLOR: "1", VK_LOADER_DRIVERS_DISABLE: "*" };

/** rsc's own lines on stderr (Dawn prints warnings of its own there on some drivers). */
const rscLines = (stderr: string) => stderr.split("\n").filter((l) => /^(note|hint|rsc):/.test(l));

interface Top {
  readonly example: number;
  readonly classes: readonly { readonly index: number; readonly score: number }[];
}

describe.runIf(gpu.adapter)(`rsc run on WebGPU: ${gpu.title}`, () => {
  it("--ep webgpu runs on the adapter, --json records it, and the classes are the CPU's", async () => {
    const args = ["run", model, "--batch", "2", "--runs", "2", "--top", "3"];
    const [json, text, cpu] = await Promise.all([
      rsc([...args, "--ep", "webgpu", "--json"]),
      rsc([...args, "--ep", "webgpu"]),
      rsc([...args, "--ep", "cpu", "--json"]),
    ]);
    expect([json.code, text.code, cpu.code]).toEqual([0, 0, 0]);
    const a = gpu.adapter!;
    const result = JSON.parse(json.stdout).result;
    expect(result).toMatchObject({
      requestedEp: "webgpu",
      ep: "webgpu",
      adapter: {
        name: a.name,
        vendor: a.vendor,
        architecture: a.architecture,
        description: a.description,
        software: a.software,
      },
      runs: 2,
    });
    const software = `the WebGPU adapter is software (${a.name}): the CPU emulates a GPU, expect it to be slower than --ep cpu`;
    expect(result.notes).toEqual(a.software ? [software] : []);
    expect(rscLines(json.stderr)).toEqual([]);
    // Said once in the text, on stderr; the model line names the adapter.
    expect(rscLines(text.stderr)).toEqual(a.software ? [`note: ${software}`] : []);
    expect(text.stdout).toContain(`(onnxruntime-node, WebGPU on ${a.name})`);
    const expected: Top[] = JSON.parse(cpu.stdout).result.outputs[0].top;
    const got: Top[] = result.outputs[0].top;
    expect(got.map((t) => t.classes.map((c) => c.index))).toEqual(
      expected.map((t) => t.classes.map((c) => c.index)),
    );
    for (const [e, t] of got.entries())
      for (const [i, c] of t.classes.entries())
        expect(c.score).toBeCloseTo(expected[e]!.classes[i]!.score, 5);
  });

  it.skipIf(cuda)(
    "--ep auto names the adapter in its one line: the CPU on a software one, WebGPU on a real one",
    async () => {
      const [text, json] = await Promise.all([
        rsc(["run", model, "--runs", "1"]),
        rsc(["run", model, "--ep", "auto", "--runs", "1", "--json"]),
      ]);
      expect([text.code, json.code]).toEqual([0, 0]);
      const a = gpu.adapter!;
      const result = JSON.parse(json.stdout).result;
      expect(result.adapter).toEqual({
        name: a.name,
        vendor: a.vendor,
        architecture: a.architecture,
        description: a.description,
        software: a.software,
      });
      const line = a.software
        ? `using the CPU: the only WebGPU adapter is software (${a.name}); onnxruntime-node's CUDA provider is not installed`
        : `using WebGPU on ${a.name}: onnxruntime-node's CUDA provider is not installed`;
      expect(result).toMatchObject({ requestedEp: "auto", ep: a.software ? "cpu" : "webgpu" });
      expect(result.notes).toEqual([line]);
      expect(rscLines(text.stderr)).toEqual([`note: ${line}`]);
      // On a software adapter no WebGPU session is made: nothing from Dawn either.
      if (a.software) expect(text.stderr).toBe(`note: ${line}\n`);
      expect(text.stdout).toContain(a.software ? "(onnxruntime-node, CPU)" : "WebGPU on");
    },
  );

  // On lavapipe a 256x256x3 batch of 256 makes the WebGPU Conv fail inside session.run.
  it.runIf(gpu.adapter?.software)(
    "a WebGPU run failing midway is exit 2 naming the provider, with nothing from onnxruntime's log",
    { timeout: 120_000 },
    async () => {
      const wide = join(tmp, "wide.onnx");
      const build = await rsc([
        "build",
        "specs/tiny-cnn.yaml",
        "-t",
        "onnx",
        "-o",
        wide,
        "--set",
        "input_shape=[256, 256, 3]",
      ]);
      expect(build.code).toBe(0);
      const r = await rsc(["run", wide, "--ep", "webgpu", "--batch", "256", "--runs", "0"]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(rscLines(r.stderr).at(-1)).toMatch(
        /^rsc: error: --ep webgpu: onnxruntime's WebGPU provider failed during the run on .+: Non-zero status code returned while running (Fused)?Conv node\..*; --ep cpu runs on the CPU$/,
      );
      expect(r.stderr).not.toContain("[E:onnxruntime");
    },
  );
});

describe.runIf(process.platform === "linux")("rsc run without a WebGPU adapter", () => {
  it("VK_LOADER_DRIVERS_DISABLE=* leaves Dawn no adapter (what the next test relies on)", async () => {
    const probe = await probeAdapter({ env: { ...process.env, ...noDrivers } });
    expect(probe).toEqual({ found: false, reason: `no WebGPU adapter: ${driverHint()}` });
  });

  it("--ep webgpu is exit 2 saying why and what to install; auto takes the CPU and says why", async () => {
    const [named, json, auto] = await Promise.all([
      rsc(["run", model, "--ep", "webgpu"], { env: noDrivers }),
      rsc(["run", model, "--ep", "webgpu", "--json"], { env: noDrivers }),
      rsc(["run", model, "--runs", "1", "--json"], { env: noDrivers }),
    ]);
    expect(named.code).toBe(2);
    expect(named.stdout).toBe("");
    expect(named.stderr).toBe(`rsc: error: --ep webgpu: no WebGPU adapter: ${driverHint()}\n`);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ command: "run", ok: false });
    expect(auto.code).toBe(0);
    const result = JSON.parse(auto.stdout).result;
    expect(result.ep).toBe(cuda ? "cuda" : "cpu");
    expect(result).not.toHaveProperty("adapter");
    if (!cuda)
      expect(result.notes).toEqual([
        "using the CPU: no WebGPU adapter; onnxruntime-node's CUDA provider is not installed",
      ]);
  });
});
