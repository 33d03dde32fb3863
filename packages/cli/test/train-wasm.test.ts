/**
 * `rsc train` on the wasm runtime as a real process: threaded by default (one thread per available
 * core, at most 8) or with `--threads N`, it says the runtime and threads it trained on and its
 * ms/step, exits by itself when done (the threaded pool must not keep it alive), and
 * `--profile <file>` writes the kernels of one step as JSON and a short table, without changing
 * what training computes.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, root, rsc } from "./rsc-process.js";
import { trainTinyArgs, writeSignsFile } from "./train-support.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-train-wasm-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DATA = join(tmp, "signs.h5");
const TRAIN = trainTinyArgs(DATA, "--batch-size", "16", "--runtime", "wasm", "--epochs", "2");
/** A run that has not exited by then has hung (a tiny spec trains in a few seconds). */
const EXIT_WITHIN_MS = 45_000;

beforeAll(async () => {
  await writeSignsFile(DATA);
});

/** Runs rsc and reports whether it exited by itself within {@link EXIT_WITHIN_MS}. */
function rscExits(args: readonly string[]) {
  return new Promise<{ code: number | null; signal: string | null; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], {
        cwd: root,
        env: { ...process.env, NO_COLOR: "1" },
        stdio: ["ignore", "ignore", "pipe"],
        timeout: EXIT_WITHIN_MS,
        killSignal: "SIGKILL",
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk;
      });
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal, stderr }));
    },
  );
}

const readLog = (dir: string) =>
  JSON.parse(readFileSync(join(dir, "train-log.json"), "utf8")) as {
    runtime: string;
    threads?: number;
    epochs: { loss: number; msPerStep: number }[];
  };

describe("rsc train on wasm", () => {
  const threads = Math.min(8, availableParallelism());

  it("runs threaded by default, prints the runtime, threads and ms/step, and exits by itself", async () => {
    const out = join(tmp, "default");
    const run = await rscExits([...TRAIN, "-o", out]);
    expect(run.signal, `did not exit within ${EXIT_WITHIN_MS} ms:\n${run.stderr}`).toBeNull();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^tfjs runtime: wasm \(forced with --runtime\)$/m);
    expect(run.stderr).not.toMatch(/wasm threads unavailable/);
    const line = new RegExp(
      `^trained on wasm, ${threads} threads?: \\d+ ms/step \\(median of 8 steps, batch 16\\)$`,
      "m",
    );
    expect(run.stderr).toMatch(line);
    const log = readLog(out);
    expect(log.runtime).toBe("wasm");
    expect(log.threads).toBe(threads);
    expect(log.epochs.every((e) => e.msPerStep > 0)).toBe(true);
  });

  it("trains on one thread with --threads 1, to the same losses as the threaded run", async () => {
    const out = join(tmp, "one");
    const run = await rscExits([...TRAIN, "--threads", "1", "-o", out]);
    expect(run.signal).toBeNull();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^trained on wasm, 1 thread: \d+ ms\/step/m);
    expect(readLog(out).threads).toBe(1);
    const threaded = readLog(join(tmp, "default")).epochs.map((e) => e.loss);
    readLog(out).epochs.forEach((e, i) => {
      expect(Math.abs(e.loss - threaded[i]!)).toBeLessThan(1e-4);
    });
  });

  it("--profile writes the kernels of one step and leaves training as it was", async () => {
    const out = join(tmp, "profiled");
    const file = join(tmp, "profile.json");
    const run = await rscExits([...TRAIN, "--profile", file, "-o", out]);
    expect(run.signal).toBeNull();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /^profile of one training step \(\d+ ms, wasm, \d threads?\) written to /m,
    );
    expect(run.stderr).toMatch(/^ {2}kernel +ms +calls$/m);
    const profile = JSON.parse(readFileSync(file, "utf8")) as {
      runtime: string;
      batchSize: number;
      stepMs: number;
      kernels: { kernel: string; ms: number; count: number }[];
    };
    expect(profile.batchSize).toBe(16);
    expect(profile.stepMs).toBeGreaterThan(0);
    const names = profile.kernels.map((k) => k.kernel);
    // The tiny CNN's forward convs and both of their gradients ran in the profiled step.
    for (const k of ["Conv2D", "Conv2DBackpropFilter", "Conv2DBackpropInput"])
      expect(
        names.some((n) => n === k || n === `Fused${k}`),
        k,
      ).toBe(true);
    const ms = profile.kernels.map((k) => k.ms);
    expect(ms).toEqual([...ms].sort((a, b) => b - a));
    expect(profile.kernels.every((k) => k.count >= 1)).toBe(true);
    // The profiled step ran on a copy: the training is the unprofiled run's.
    expect(readLog(out).epochs.map((e) => e.loss)).toEqual(
      readLog(join(tmp, "default")).epochs.map((e) => e.loss),
    );
  });

  it("rejects --threads 0 (exit 2)", async () => {
    const run = await rsc([...TRAIN, "--threads", "0"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--threads/);
  });
});
