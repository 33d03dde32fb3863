/**
 * Adam whose update of a variable is one pass on the wasm backend. tfjs's AdamOptimizer runs
 * about ten elementwise kernels per variable (mul, add, square, div, sqrt, assign, ...); over
 * ResNet-50's 214 variables that is thousands of single-threaded wasm passes and dispatches a
 * step. {@link FusedAdamOptimizer} computes the new value and both moments of a variable in one
 * kernel, {@link ADAM_UPDATE_KERNEL}, with tfjs's formulas, and keeps tfjs's optimizer state
 * (class name, config, accumulator names and order, iterations), so saved optimizer weights are
 * the same. On any other backend it is tfjs's AdamOptimizer unchanged.
 */
import {
  AdamOptimizer,
  engine,
  getBackend,
  getKernel,
  type KernelConfig,
  mul,
  registerKernel,
  sub,
  type Tensor,
  type TensorInfo,
  tidy,
  util,
  type Variable,
  zerosLike,
} from "@tensorflow/tfjs-core";

/** The kernel that updates one variable and its two moments; registered for wasm on first use. */
export const ADAM_UPDATE_KERNEL = "RscAdamUpdate";

/** Attributes of {@link ADAM_UPDATE_KERNEL}: the optimizer's constants for this step. */
interface AdamUpdateAttrs {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** 1 - beta1^t (t the 1-based step), as tfjs computes it in float32. */
  readonly oneMinusAccBeta1: number;
  /** 1 - beta2^t, likewise. */
  readonly oneMinusAccBeta2: number;
}

/** The parts of tfjs-wasm's backend the kernel uses. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  getMemoryOffset(dataId: object): number;
  /** The Emscripten module: its memory is `wasmMemory` (threaded build) or `asm.memory`. */
  wasm: { wasmMemory?: unknown; asm?: { memory?: unknown } };
}

/** The step's constants, rounded to float32 as tfjs's scalar tensors round them. */
interface AdamConstants {
  readonly b1: number;
  readonly c1: number;
  readonly b2: number;
  readonly c2: number;
  readonly bias1: number;
  readonly bias2: number;
  readonly eps: number;
  readonly negLr: number;
}

/**
 * Elements [from, to) of the update, one float32 rounding per tfjs kernel, in tfjs's order:
 * m' = b1 m + c1 g; v' = b2 v + c2 g^2; x' = ((m' / bias1) / (sqrt(v' / bias2) + eps)) (-lr) + x.
 * (An IEEE float32 add, multiply, divide or square root equals the double one rounded to
 * float32, so this gives what tfjs's cpu kernels and the SIMD loop below give, bit for bit.)
 */
function adamRange(
  k: AdamConstants,
  [x, m, v, g, outX, outM, outV]: Float32Array[],
  from: number,
  to: number,
): void {
  const f = Math.fround;
  for (let i = from; i < to; i++) {
    const gi = g![i]!;
    const mi = f(f(m![i]! * k.b1) + f(gi * k.c1));
    const vi = f(f(v![i]! * k.b2) + f(f(gi * gi) * k.c2));
    outM![i] = mi;
    outV![i] = vi;
    outX![i] = f(
      f(f(f(mi / k.bias1) / f(f(Math.sqrt(f(vi / k.bias2))) + k.eps)) * k.negLr) + x![i]!,
    );
  }
}

/**
 * The update over 4 floats at a time in WebAssembly SIMD, on tfjs-wasm's own memory (imported, so
 * it sees every tensor without a copy): `adam(x, m, v, g, outX, outM, outV, bytes, b1, c1, b2,
 * c2, bias1, bias2, eps, negLr)`, pointers and `bytes` (a multiple of 16) in bytes, the same
 * operations in the same order as {@link adamRange}. JavaScript cannot vectorise the loop (about
 * 9 ns an element here, no faster than tfjs's ten passes); this does four lanes per instruction.
 * Assembled here rather than shipped as a binary so every instruction can be read.
 */
function adamModuleBytes(shared: boolean): Uint8Array {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      const byte = n & 0x7f;
      n >>>= 7;
      out.push(n === 0 ? byte : byte | 0x80);
    } while (n !== 0);
    return out;
  };
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
  const [I32, F32, V128] = [0x7f, 0x7d, 0x7b];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const simd = (op: number) => [0xfd, ...leb(op)];
  const load = [...simd(0x00), 0, 0]; // v128.load, alignment hint 1, offset 0
  const store = [...simd(0x0b), 0, 0]; // v128.store
  const [splat, sqrt, add, mul, div] = [simd(0x13), simd(0xe3), simd(0xe4), simd(0xe6), simd(0xe7)];
  const [i32add, i32geU, i32const] = [[0x6a], [0x4f], [0x41]];
  const [block, loop, brIf, br, end] = [[0x02, 0x40], [0x03, 0x40], [0x0d], [0x0c], [0x0b]];
  // Locals: params 0-6 pointers, 7 bytes, 8-15 the constants; 16 the byte index; 17 g, 18 m',
  // 19 v'; 20-27 the constants splatted to 4 lanes.
  const [X, M, V, G, OX, OM, OV, BYTES, I, GV, MV, VV] = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19];
  const [B1, C1, B2, C2, BIAS1, BIAS2, EPS, NEGLR] = [20, 21, 22, 23, 24, 25, 26, 27];
  const at = (pointer: number) => [...get(pointer), ...get(I), ...i32add];
  const body = [
    ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((c) => [...get(8 + c), ...splat, ...set(20 + c)]),
    ...[...block, ...loop],
    ...[...get(I), ...get(BYTES), ...i32geU, ...brIf, 1], // i >= bytes: leave the block
    ...[...at(G), ...load, ...set(GV)],
    // m' = m * b1 + g * c1
    ...[...at(M), ...load, ...get(B1), ...mul, ...get(GV), ...get(C1), ...mul, ...add, ...set(MV)],
    ...[...at(OM), ...get(MV), ...store],
    // v' = v * b2 + (g * g) * c2
    ...[...at(V), ...load, ...get(B2), ...mul, ...get(GV), ...get(GV), ...mul, ...get(C2), ...mul],
    ...[...add, ...set(VV), ...at(OV), ...get(VV), ...store],
    // x' = ((m' / bias1) / (sqrt(v' / bias2) + eps)) * negLr + x
    ...[...at(OX), ...get(MV), ...get(BIAS1), ...div, ...get(VV), ...get(BIAS2), ...div, ...sqrt],
    ...[...get(EPS), ...add, ...div, ...get(NEGLR), ...mul, ...at(X), ...load, ...add, ...store],
    ...[...get(I), ...i32const, 16, ...i32add, ...set(I)], // i += 16 (4 floats)
    ...[...br, 0, ...end, ...end, ...end], // back to the loop; end of loop, block, function
  ];
  const code = [2, 1, I32, 11, V128, ...body]; // locals: 1 i32 (index 16), 11 v128 (17-27)
  // The import must say what tfjs's memory is: shared (threaded build, with its maximum) or not.
  const limits = shared ? [0x03, 0, ...leb(65536)] : [0x00, 0];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, [1, 0x60, 16, ...Array(8).fill(I32), ...Array(8).fill(F32), 0]),
    ...section(2, [1, ...name("env"), ...name("memory"), 0x02, ...limits]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name("adam"), 0x00, 0]),
    ...section(10, [1, ...leb(code.length), ...code]),
  ]);
}

type AdamSimd = (...args: number[]) => void;

/** The part of the WebAssembly JavaScript API used here (the package's lib has no types for it). */
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => { readonly buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const webAssembly = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** The SIMD update instantiated on each wasm memory seen; null where it cannot be (no SIMD). */
const simdByMemory = new WeakMap<object, AdamSimd | null>();

function adamSimd(backend: WasmBackend): AdamSimd | null {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (webAssembly === undefined || !(memory instanceof webAssembly.Memory)) return null;
  let fn = simdByMemory.get(memory);
  if (fn === undefined) {
    const shared =
      typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
    try {
      const module = new webAssembly.Module(adamModuleBytes(shared));
      fn = new webAssembly.Instance(module, { env: { memory } }).exports.adam as AdamSimd;
    } catch {
      fn = null;
    }
    simdByMemory.set(memory, fn);
  }
  return fn;
}

/**
 * value, m, v, gradient -> new value, m, v with tfjs's formulas (see {@link adamRange}), the
 * constants rounded to float32 as tfjs's scalars are: multiples of 4 elements in SIMD, the rest
 * (and everything, where wasm SIMD is unavailable) in JavaScript.
 */
const adamUpdateWasm: KernelConfig = {
  kernelName: ADAM_UPDATE_KERNEL,
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { value, m, v, gradient } = inputs as Record<
      "value" | "m" | "v" | "gradient",
      TensorInfo
    >;
    const a = attrs as unknown as AdamUpdateAttrs;
    const size = util.sizeFromShape(value.shape);
    for (const t of [m, v, gradient]) {
      util.assert(
        util.sizeFromShape(t.shape) === size,
        () => `${ADAM_UPDATE_KERNEL}: shapes ${t.shape} and ${value.shape} differ`,
      );
    }
    for (const t of [value, m, v, gradient]) {
      util.assert(t.dtype === "float32", () => `${ADAM_UPDATE_KERNEL}: ${t.dtype} is not float32`);
    }
    const wasm = backend as unknown as WasmBackend;
    const outValue = wasm.makeOutput(value.shape, "float32");
    const outM = wasm.makeOutput(m.shape, "float32");
    const outV = wasm.makeOutput(v.shape, "float32");
    const tensors = [value, m, v, gradient, outValue, outM, outV];
    const f = Math.fround;
    const k: AdamConstants = {
      b1: f(a.beta1),
      c1: f(1 - a.beta1),
      b2: f(a.beta2),
      c2: f(1 - a.beta2),
      bias1: f(a.oneMinusAccBeta1),
      bias2: f(a.oneMinusAccBeta2),
      eps: f(a.epsilon),
      negLr: f(-a.learningRate),
    };
    const simd = adamSimd(wasm);
    const vectorised = simd === null ? 0 : size - (size % 4);
    if (simd !== null && vectorised > 0) {
      const pointers = tensors.map((t) => wasm.getMemoryOffset(t.dataId));
      simd(...pointers, vectorised * 4, k.b1, k.c1, k.b2, k.c2, k.bias1, k.bias2, k.eps, k.negLr);
    }
    // Views only after every allocation: a malloc that grows wasm memory detaches earlier ones.
    if (vectorised < size)
      adamRange(
        k,
        tensors.map((t) => wasm.typedArrayFromHeap(t)),
        vectorised,
        size,
      );
    return [outValue, outM, outV];
  },
};

/** What applyGradients takes: named gradients, as an array or a map by variable name. */
type VariableGradients = Parameters<AdamOptimizer["applyGradients"]>[0];

/** tfjs's private AdamOptimizer state, which the fused update must keep as tfjs does. */
interface AdamState {
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: Variable } | undefined)[];
}

/**
 * tfjs's AdamOptimizer (same constructor, class name `Adam`, config, weights), whose
 * applyGradients on the wasm backend updates each float32 variable with one
 * {@link ADAM_UPDATE_KERNEL} and then assigns the new value and moments.
 */
export class FusedAdamOptimizer extends AdamOptimizer {
  override applyGradients(variableGradients: VariableGradients): void {
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const variables = engine().registeredVariables;
    if (getBackend() !== "wasm" || names.some((name) => variables[name]?.dtype !== "float32")) {
      super.applyGradients(variableGradients);
      return;
    }
    if (getKernel(ADAM_UPDATE_KERNEL, "wasm") === undefined) registerKernel(adamUpdateWasm);
    const state = this as unknown as AdamState;
    // One read of the two scalars a step: 1 - beta^t in float32, as tfjs's sub(1, accBeta) gives.
    const oneMinusAccBeta1 = sub(1, state.accBeta1);
    const oneMinusAccBeta2 = sub(1, state.accBeta2);
    const attrs: AdamUpdateAttrs = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      oneMinusAccBeta1: oneMinusAccBeta1.dataSync()[0]!,
      oneMinusAccBeta2: oneMinusAccBeta2.dataSync()[0]!,
    };
    oneMinusAccBeta1.dispose();
    oneMinusAccBeta2.dispose();
    tidy(() => {
      names.forEach((name, i) => {
        const value = variables[name]!;
        // Accumulators are made on first use, by position, before the gradient is looked at,
        // exactly as tfjs does, so getWeights() lists the same names in the same order.
        state.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tidy(() => zerosLike(value).variable(false)),
        };
        state.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tidy(() => zerosLike(value).variable(false)),
        };
        const gradient = Array.isArray(variableGradients)
          ? variableGradients[i]!.tensor
          : variableGradients[name];
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i]!.variable;
        const v = state.accumulatedSecondMoment[i]!.variable;
        const [newValue, newM, newV] = engine().runKernel(
          ADAM_UPDATE_KERNEL,
          { value, m, v, gradient },
          attrs as unknown as Record<string, number>,
        ) as Tensor[];
        m.assign(newM!);
        v.assign(newV!);
        value.assign(newValue!);
      });
      state.accBeta1.assign(mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** `tf.train.adam` with the same defaults, as a {@link FusedAdamOptimizer}. */
export function adam(
  learningRate = 0.001,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon?: number,
): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}

/** Whether the active wasm backend runs {@link ADAM_UPDATE_KERNEL} in SIMD (else in JavaScript). */
export function wasmAdamUsesSimd(): boolean {
  return getBackend() === "wasm" && adamSimd(engine().backend as unknown as WasmBackend) !== null;
}
