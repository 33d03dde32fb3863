/**
 * rsc's SIMD training kernels (wasm-simd-kernels.wat) instantiated on tfjs-wasm's own memory, so
 * they read and write tensors where tfjs keeps them, without copies. One instance per memory
 * (the backend's, plain or shared as its binary declares), made on first use.
 *
 * A kernel body here works in three steps: allocate every output and scratch block (an
 * allocation may grow the memory, which detaches views taken before it), take views, then run.
 */
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { PLAIN_MEMORY_KERNELS, SHARED_MEMORY_KERNELS } from "./generated/wasm-simd-kernels.js";

/** The parts of the WebAssembly API used here (Node has it; @types/node 20 does not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
declare const WebAssembly: {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

/** The exports of wasm-simd-kernels.wat (pointers are byte offsets; see the .wat). */
export interface SimdKernels {
  columnSums(x: number, rows: number, channels: number, sum: number): void;
  bnStats(x: number, rows: number, channels: number, sum: number, squares: number): void;
  bnApply(
    x: number,
    out: number,
    rows: number,
    channels: number,
    mean: number,
    scale: number,
    shift: number,
  ): void;
  bnGradStats(
    dy: number,
    x: number,
    rows: number,
    channels: number,
    mean: number,
    sumDy: number,
    sumDyXc: number,
  ): void;
  bnGradApply(
    dy: number,
    x: number,
    dx: number,
    rows: number,
    channels: number,
    mean: number,
    a: number,
    b: number,
    k: number,
  ): void;
  maxPoolGrad(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
    best: number,
    at: number,
  ): void;
  transposeOuter(src: number, dst: number, a: number, m: number, b: number): void;
  im2colT(
    x: number,
    dst: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
  swapLeading(src: number, dst: number, a: number, m: number, b: number): void;
  swapChannels(src: number, dst: number, taps: number, ci: number, co: number, flip: number): void;
  adam(
    p: number,
    m: number,
    v: number,
    g: number,
    pOut: number,
    mOut: number,
    vOut: number,
    n: number,
    b1: number,
    b2: number,
    oneMinusB1: number,
    oneMinusB2: number,
    c1: number,
    c2: number,
    lr: number,
    eps: number,
  ): void;
}

/** What is used of tfjs-wasm's backend and its Emscripten module. */
interface WasmBackend {
  wasm: {
    wasmMemory?: WasmMemory;
    asm?: { memory?: WasmMemory };
    _malloc(bytes: number): number;
    _free(pointer: number): void;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
}

const instances = new WeakMap<WasmMemory, SimdKernels>();

function memoryOf(backend: WasmBackend): WasmMemory {
  // The threaded binary imports its (shared) memory, the others export theirs.
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory))
    throw new Error("the tfjs wasm backend exposes no WebAssembly.Memory");
  return memory;
}

/** The heap of one tfjs-wasm backend, with the kernels on it. */
export class SimdHeap {
  readonly kernels: SimdKernels;
  readonly #backend: WasmBackend;
  readonly #memory: WasmMemory;
  readonly #scratch: number[] = [];

  constructor(backend: unknown) {
    this.#backend = backend as WasmBackend;
    this.#memory = memoryOf(this.#backend);
    let kernels = instances.get(this.#memory);
    if (kernels === undefined) {
      const shared = this.#memory.buffer instanceof SharedArrayBuffer;
      const bytes = Buffer.from(shared ? SHARED_MEMORY_KERNELS : PLAIN_MEMORY_KERNELS, "base64");
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
        env: { memory: this.#memory },
      });
      kernels = instance.exports as unknown as SimdKernels;
      instances.set(this.#memory, kernels);
    }
    this.kernels = kernels;
  }

  /** A new float32 output tensor on the heap. */
  output(shape: number[]): TensorInfo {
    return this.#backend.makeOutput(shape, "float32");
  }

  /** The byte offset of a tensor's values. */
  offset(t: TensorInfo): number {
    const data = this.#backend.dataIdMap.get(t.dataId);
    if (data === undefined) throw new Error("tensor is not on the wasm heap");
    return data.memoryOffset;
  }

  /** `bytes` of zeroed scratch memory, freed by {@link release}. */
  scratch(bytes: number): number {
    const pointer = this.#backend.wasm._malloc(Math.max(8, bytes));
    this.#scratch.push(pointer);
    new Uint8Array(this.#memory.buffer, pointer, bytes).fill(0);
    return pointer;
  }

  f32(pointer: number, length: number): Float32Array {
    return new Float32Array(this.#memory.buffer, pointer, length);
  }

  f64(pointer: number, length: number): Float64Array {
    return new Float64Array(this.#memory.buffer, pointer, length);
  }

  /** Frees every scratch block. */
  release(): void {
    for (const pointer of this.#scratch.splice(0)) this.#backend.wasm._free(pointer);
  }
}
