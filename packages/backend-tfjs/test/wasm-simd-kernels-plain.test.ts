/** rsc's SIMD kernels (wasm-simd-kernels.wat) on the single-threaded wasm binary (plain memory). */
import { beforeAll, describe, expect } from "vitest";
import { selectRuntime, tf, wasmThreadInfo } from "../src/index.js";
import { simdKernelCases } from "./simd-kernel-cases.js";

describe("SIMD kernels on plain memory (single-threaded wasm)", () => {
  beforeAll(async () => {
    await selectRuntime("wasm", { threads: 1 });
    expect(wasmThreadInfo()?.threads).toBe(1);
    const memory = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
    expect(memory.buffer).toBeInstanceOf(ArrayBuffer);
    expect(memory.buffer).not.toBeInstanceOf(SharedArrayBuffer);
  });

  simdKernelCases();
});
