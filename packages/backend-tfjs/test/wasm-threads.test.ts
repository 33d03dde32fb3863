/**
 * The threaded wasm binary under Node (wasm-threads.ts): `selectRuntime("wasm", { threads })`
 * starts XNNPACK's pool with that many threads, kernels on it give what the cpu backend gives,
 * and a process that used it exits by itself. Its own file: wasm's pool is fixed per process.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { selectRuntime, tf, wasmThreadInfo } from "../src/index.js";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "index.js");

describe("threaded wasm", () => {
  it("starts the pool with the threads asked for, and computes what the cpu backend does", async () => {
    const choice = await selectRuntime("wasm", { threads: 2 });
    expect(choice.runtime).toBe("wasm");
    expect(wasmThreadInfo()).toEqual({ threads: 2 });
    const conv = async () => {
      const x = tf.randomNormal([4, 17, 17, 16], 0, 1, "float32", 1) as tf.Tensor4D;
      const k = tf.randomNormal([3, 3, 16, 24], 0, 1, "float32", 2) as tf.Tensor4D;
      const y = tf.conv2d(x, k, 2, "same");
      const values = await y.data();
      tf.dispose([x, k, y]);
      return values;
    };
    const threaded = await conv();
    await selectRuntime("cpu");
    const cpu = await conv();
    expect(threaded.length).toBe(cpu.length);
    for (let i = 0; i < cpu.length; i++)
      expect(Math.abs(threaded[i]! - cpu[i]!)).toBeLessThan(1e-4);
    // Started once per process: asking again keeps the pool.
    await selectRuntime("wasm", { threads: 1 });
    expect(wasmThreadInfo()).toEqual({ threads: 2 });
  });

  it("lets a process that trained on it exit by itself", async () => {
    const script = `
      const b = await import(${JSON.stringify(pathToFileURL(dist).href)});
      await b.selectRuntime("wasm", { threads: 2 });
      const { tf } = b;
      const w = tf.variable(tf.randomNormal([3, 3, 2, 4]));
      const x = tf.randomNormal([2, 9, 9, 2]);
      tf.train.adam(0.01).minimize(() => tf.sum(tf.conv2d(x, w, 1, "same")));
      console.log(JSON.stringify(b.wasmThreadInfo()));
    `;
    const run = await new Promise<{ code: number | null; signal: string | null; out: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
          stdio: ["ignore", "pipe", "inherit"],
          timeout: 40_000,
          killSignal: "SIGKILL",
        });
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk;
        });
        child.on("error", reject);
        child.on("close", (code, signal) => resolve({ code, signal, out }));
      },
    );
    expect(run.signal, "the process did not exit by itself").toBeNull();
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toEqual({ threads: 2 });
  });
});
