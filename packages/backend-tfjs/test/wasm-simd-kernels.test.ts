/**
 * rsc's SIMD kernels (wasm-simd-kernels.wat) on the threaded wasm binary (shared memory), and
 * the committed binaries still assembled from the .wat. The plain-memory binary is tested in
 * wasm-simd-kernels-plain.test.ts (one wasm binary per process).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { selectRuntime, tf, wasmThreadInfo } from "../src/index.js";
import { simdKernelCases } from "./simd-kernel-cases.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("SIMD kernels on shared memory (threaded wasm)", () => {
  beforeAll(async () => {
    await selectRuntime("wasm", { threads: 2 });
    expect(wasmThreadInfo()?.threads).toBe(2);
    const memory = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("the committed binaries are the .wat's, assembled", async () => {
    const script = join(root, "scripts", "build-simd-kernels.mjs");
    const { generate } = (await import(script)) as { generate(): Promise<string> };
    const committed = readFileSync(join(root, "src", "generated", "wasm-simd-kernels.ts"), "utf8");
    expect(committed).toBe(await generate());
  });

  simdKernelCases();
});
