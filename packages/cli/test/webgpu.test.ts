/**
 * `rsc train` and `rsc evaluate` on the webgpu runtime, as real processes, on the tiny spec and a
 * small SIGNS-style file: training lowers the loss and follows the cpu runtime's run of the same
 * seed; evaluating the model gives the cpu runtime's loss and accuracy; with no adapter a forced
 * webgpu is a usage error (exit 2) with the reason and the driver hint.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { webgpuForTests } from "@rsc/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rsc } from "./rsc-process.js";
import { trainTinyArgs, writeSignsFile } from "./train-support.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-webgpu-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DATA = join(tmp, "signs.h5");
const TRAIN = trainTinyArgs(DATA, "--batch-size", "16", "--epochs", "3", "--seed", "5");

interface Log {
  runtime: string;
  epochs: { epoch: number; loss: number; accuracy: number }[];
}
const readLog = (dir: string) =>
  JSON.parse(readFileSync(join(dir, "train-log.json"), "utf8")) as Log;

beforeAll(async () => {
  await writeSignsFile(DATA);
});

const gpu = await webgpuForTests();

describe.runIf(gpu.adapter)(`rsc train / evaluate --runtime webgpu: ${gpu.title}`, () => {
  const trained = join(tmp, "webgpu");

  it("trains with a falling loss, as the cpu runtime does", { timeout: 120_000 }, async () => {
    const [webgpu, cpu] = await Promise.all([
      rsc([...TRAIN, "--runtime", "webgpu", "-o", trained]),
      rsc([...TRAIN, "--runtime", "cpu", "-o", join(tmp, "cpu")]),
    ]);
    expect(webgpu.code, webgpu.stderr).toBe(0);
    expect(cpu.code, cpu.stderr).toBe(0);
    expect(webgpu.stderr).toContain(
      `tfjs runtime: webgpu on ${gpu.adapter!.name} (forced with --runtime`,
    );
    if (gpu.adapter!.software) expect(webgpu.stderr).toContain("the adapter is software");
    const log = readLog(trained);
    expect(log.runtime).toBe("webgpu");
    const losses = log.epochs.map((e) => e.loss);
    expect(losses).toHaveLength(3);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[2]!).toBeLessThan(losses[0]!);
    // The same seed, data and steps: the cpu run's losses, to float32 accumulation over 12 steps.
    const cpuLosses = readLog(join(tmp, "cpu")).epochs.map((e) => e.loss);
    for (let i = 0; i < 3; i++) expect(Math.abs(losses[i]! - cpuLosses[i]!)).toBeLessThan(1e-4);
  });

  it("evaluates the model as the cpu runtime does", { timeout: 60_000 }, async () => {
    const args = ["evaluate", trained, "--data", DATA, "--json", "--runtime"];
    const [webgpu, cpu] = await Promise.all([rsc([...args, "webgpu"]), rsc([...args, "cpu"])]);
    expect(webgpu.code, webgpu.stderr).toBe(0);
    expect(cpu.code, cpu.stderr).toBe(0);
    const w = JSON.parse(webgpu.stdout).result;
    const c = JSON.parse(cpu.stdout).result;
    expect(w.examples).toBe(24);
    expect(Math.abs(w.loss - c.loss)).toBeLessThan(1e-4);
    expect(w.accuracy).toBe(c.accuracy);
  });
});

describe("rsc --runtime webgpu without an adapter", () => {
  it.runIf(process.platform === "linux")(
    "is a usage error naming the reason and the driver to install (every Vulkan driver hidden)",
    async () => {
      const run = await rsc([...TRAIN, "--runtime", "webgpu", "-o", join(tmp, "none")], {
        env: { NO_COLOR: "1", VK_LOADER_DRIVERS_DISABLE: "*" },
      });
      expect(run.code).toBe(2);
      // One line: the reason, the Vulkan driver to install (driverHint), what to do instead.
      expect(run.stderr).toMatch(
        /^rsc: error: tfjs runtime 'webgpu' is not available: no WebGPU adapter: install the GPU's Vulkan driver \(.*docs\/gpu\.md\) \(use --runtime auto to pick the fastest one installed\)\n$/,
      );
    },
  );
});
