/**
 * Deterministic initial weights. Every backend gets its initial values from here, so the tfjs
 * and ONNX models built from one spec and seed compute the same function.
 *
 * The generator, exactly (so other tools can reproduce it):
 * - Each value is a pure function of (global seed, Keras weight name, index), where the index is
 *   the value's row-major position in the Keras-layout tensor (HWIO for conv kernels). Any value
 *   can be computed alone, so a backend generates a tensor straight into its own layout (the ONNX
 *   backend writes OIHW kernels with no transpose pass).
 * - `mix32` is splitmix32's output function (MurmurHash3's 32-bit finaliser): a bijection of
 *   32-bit words. The seed is an unsigned 32-bit integer ({@link MAX_SEED}). The tensor's key is
 *   `key = fnv1a(name) ^ mix32(seed)`, where fnv1a is 32-bit FNV-1a (offset basis `0x811c9dc5`)
 *   of the name's UTF-8 bytes, and its two key words are `k0 = mix32(key + φ)` and
 *   `k1 = mix32(key + 2φ)` (the first two splitmix32 outputs from `key`), `φ = 0x9e3779b9`.
 * - Value i (0 <= i < 2^32) is the word `w = mix32(((k0 + i * φ) mod 2^32) ^ k1)`, and its uniform
 *   float in [0, 1) is `u = (w >>> 8) / 2^24` (24 bits: exact in float32).
 *   Adding, removing or renaming one layer therefore changes no other layer's weights, and
 *   distinct seeds give a tensor distinct values.
 * - glorot_uniform: `U(-limit, limit)` with `limit = sqrt(6 / (fan_in + fan_out))`, where for a
 *   kernel of shape `[...receptive, in, out]`, `fan_in = in * prod(receptive)` and
 *   `fan_out = out * prod(receptive)` (Keras's rule). Computed as `(2u - 1) * limit` in float64,
 *   stored as float32.
 * - zeros, ones: constant.
 * - `{ constant: [...] }`: the values the spec gives, in row-major Keras order (stored as float32).
 */
import { type Graph, graphParams } from "./ir.js";
import { type Initializer, type ParamSpec, type Shape, shapeSize } from "./tensor.js";

/** Named float32 tensors in Keras layout, keyed by Keras weight name (`conv1/kernel`). */
export type WeightMap = ReadonlyMap<string, Float32Array>;

/** Default global seed (the spec's `seed:` or `--seed` override it). */
export const DEFAULT_SEED = 0;

/** The largest seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffffffff;

/** The most values one tensor (or one stream) has: indices are 32-bit words. */
export const MAX_TENSOR_VALUES = 2 ** 32;

/** The golden ratio's 32-bit Weyl increment. */
const PHI = 0x9e3779b9;

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** splitmix32's output function: a bijection of 32-bit words with good avalanche. */
function mix32(word: number): number {
  let z = word >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** The two key words of one tensor's values, from (seed, name). */
interface TensorKey {
  readonly k0: number;
  readonly k1: number;
}

function tensorKey(seed: number, name: string): TensorKey {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)
    throw new RangeError(`seed must be an integer from 0 to ${MAX_SEED}, got ${seed}`);
  const key = (fnv1a(name) ^ mix32(seed)) >>> 0;
  return { k0: mix32(key + PHI), k1: mix32(key + 2 * PHI) };
}

/** The 24-bit word of value `index` of a key's values (`w >>> 8` in the header's terms). */
function word24({ k0, k1 }: TensorKey, index: number): number {
  return mix32((k0 + Math.imul(index, PHI)) ^ k1) >>> 8;
}

/**
 * Writes `(2u - 1) * limit` of values `start + r * rowStep + c * colStep` of a key's values to
 * `out[at + r * cols + c]`, for `r < rows`, `c < cols`; returns the next free index of `out`.
 * This loop produces ResNet-50's 23.6 M values, so {@link word24} (and its mix32) is inlined and
 * the Weyl term `k0 + index * φ` is advanced by addition.
 */
function fillBlock(
  { k0, k1 }: TensorKey,
  out: Float32Array,
  at: number,
  start: number,
  rows: number,
  rowStep: number,
  cols: number,
  colStep: number,
  limit: number,
): number {
  const colPhi = Math.imul(colStep, PHI);
  let t = at;
  for (let r = 0; r < rows; r++) {
    let weyl = (k0 + Math.imul(start + r * rowStep, PHI)) | 0;
    const end = t + cols;
    for (; t < end; t++) {
      let z = weyl ^ k1;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      // (2u - 1) with u = w24 / 2^24 is w24 / 2^23 - 1: exact in float64.
      out[t] = (((z ^ (z >>> 16)) >>> 8) / 8388608 - 1) * limit;
      weyl = (weyl + colPhi) | 0;
    }
  }
  return t;
}

/**
 * Writes `(2u - 1) * limit` for every value of a tensor of Keras shape `shape` into `out`, with
 * the tensor's axes permuted: `out` is the tensor transposed by `perm` (out axis k is Keras
 * axis `perm[k]`, as numpy's transpose). Axes are reduced first (size-1 axes dropped, axes that
 * stay contiguous in the source merged), so a 1x1 kernel's HWIO -> OIHW is two loops, and a
 * 3x3 kernel's is three.
 */
function fillPermuted(
  key: TensorKey,
  shape: Shape,
  perm: readonly number[],
  out: Float32Array,
  limit: number,
): void {
  if (out.length === 0) return;
  const sourceStrides = shape.map((_, k) => shapeSize(shape.slice(k + 1)));
  const dims: number[] = [];
  const strides: number[] = [];
  for (const axis of perm) {
    const size = shape[axis]!;
    const stride = sourceStrides[axis]!;
    if (size === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides[last] === stride * size) {
      dims[last] = dims[last]! * size;
      strides[last] = stride;
    } else {
      dims.push(size);
      strides.push(stride);
    }
  }
  while (dims.length < 2) {
    dims.unshift(1);
    strides.unshift(0);
  }
  const outer = dims.slice(0, -2);
  const [rows, cols] = dims.slice(-2) as [number, number];
  const [rowStep, colStep] = strides.slice(-2) as [number, number];
  const counter = outer.map(() => 0);
  let at = 0;
  let start = 0;
  for (;;) {
    at = fillBlock(key, out, at, start, rows, rowStep, cols, colStep, limit);
    // Advance the outer axes like an odometer, the last fastest.
    let k = outer.length - 1;
    for (; k >= 0; k--) {
      counter[k]!++;
      start += strides[k]!;
      if (counter[k]! < outer[k]!) break;
      start -= strides[k]! * outer[k]!;
      counter[k] = 0;
    }
    if (k < 0) return;
  }
}

/**
 * The uniform [0, 1) values of one (seed, name) in index order, one per call: the `u` of values
 * 0, 1, 2, ... (for inputs, shuffles and other seeded data that is not a tensor).
 */
export function uniformStream(seed: number, name: string): () => number {
  const key = tensorKey(seed, name);
  let index = 0;
  return () => {
    if (index >= MAX_TENSOR_VALUES) throw new RangeError(`stream '${name}' has no more values`);
    return word24(key, index++) / 16777216;
  };
}

/** Keras's fan_in / fan_out for a kernel shape `[...receptive, in, out]` (dense: `[in, out]`). */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    const n = shape[0] ?? 1;
    return { fanIn: n, fanOut: n };
  }
  const receptive = shapeSize(shape.slice(0, -2));
  return { fanIn: shape.at(-2)! * receptive, fanOut: shape.at(-1)! * receptive };
}

/** The identity permutation of `rank` axes. */
function identity(rank: number): number[] {
  return Array.from({ length: rank }, (_, k) => k);
}

/** Writes spec-given values (row-major Keras order) into `out`, axes permuted by `perm`. */
function fillConstant(
  name: string,
  shape: Shape,
  values: readonly number[],
  out: Float32Array,
  perm: readonly number[],
): void {
  if (values.length !== out.length)
    throw new RangeError(
      `weight '${name}' has ${out.length} values, the spec gives ${values.length}`,
    );
  const sourceStrides = shape.map((_, k) => shapeSize(shape.slice(k + 1)));
  const dims = perm.map((axis) => shape[axis]!);
  const index = dims.map(() => 0);
  for (let t = 0; t < out.length; t++) {
    let source = 0;
    for (let k = 0; k < dims.length; k++) source += index[k]! * sourceStrides[perm[k]!]!;
    out[t] = values[source]!;
    for (let k = dims.length - 1; k >= 0; k--) {
      index[k]!++;
      if (index[k]! < dims[k]!) break;
      index[k] = 0;
    }
  }
}

/**
 * Writes one tensor's initial values into `out` (exactly its size), as its initializer says,
 * with its axes permuted by `perm` (out axis k is Keras axis `perm[k]`; identity by default).
 */
function fillTensor(
  seed: number,
  name: string,
  shape: Shape,
  initializer: Initializer,
  out: Float32Array,
  perm: readonly number[] = identity(shape.length),
): void {
  const size = shapeSize(shape);
  if (out.length !== size)
    throw new RangeError(`weight '${name}' has ${size} values, not ${out.length}`);
  if (perm.length !== shape.length || [...perm].sort((a, b) => a - b).some((a, k) => a !== k))
    throw new RangeError(`[${perm.join(", ")}] is not a permutation of ${shape.length} axes`);
  if (typeof initializer === "object") {
    fillConstant(name, shape, initializer.constant, out, perm);
    return;
  }
  if (initializer !== "glorot_uniform") {
    out.fill(initializer === "ones" ? 1 : 0);
    return;
  }
  const { fanIn, fanOut } = fans(shape);
  fillPermuted(tensorKey(seed, name), shape, perm, out, Math.sqrt(6 / (fanIn + fanOut)));
}

/** One tensor's initial values, as its initializer says. */
export function initTensor(
  seed: number,
  name: string,
  shape: Shape,
  initializer: Initializer,
): Float32Array {
  const out = new Float32Array(shapeSize(shape));
  fillTensor(seed, name, shape, initializer, out);
  return out;
}

/**
 * A {@link WeightMap} whose tensors are generated when asked for, not held: `get` returns a new
 * tensor each call, and a writer that streams weights uses `lengthOf` and `fill` to generate each
 * tensor into a buffer it reuses, so ResNet-50's 94 MB of weights never exist at once.
 */
export interface LazyWeightMap extends WeightMap {
  /** Number of values of tensor `name` (without generating it); undefined when there is none. */
  lengthOf(name: string): number | undefined;
  /**
   * Generates tensor `name` into `out`, which must have exactly {@link lengthOf} values. With
   * `perm`, the tensor's axes are permuted on the way (out axis k is Keras axis `perm[k]`, as
   * numpy's transpose): the ONNX writer gets OIHW kernels with `[3, 2, 0, 1]` and no transpose.
   */
  fill(name: string, out: Float32Array, perm?: readonly number[]): void;
}

/** True for weights that can be generated into a caller's buffer ({@link LazyWeightMap}). */
export function isLazyWeightMap(weights: WeightMap): weights is LazyWeightMap {
  const lazy = weights as Partial<LazyWeightMap>;
  return typeof lazy.fill === "function" && typeof lazy.lengthOf === "function";
}

class SeededWeights implements LazyWeightMap {
  readonly #params: ReadonlyMap<string, ParamSpec>;
  readonly #seed: number;

  constructor(params: readonly ParamSpec[], seed: number) {
    this.#params = new Map(params.map((p) => [p.name, p]));
    this.#seed = seed;
  }

  get size(): number {
    return this.#params.size;
  }
  has(name: string): boolean {
    return this.#params.has(name);
  }
  lengthOf(name: string): number | undefined {
    const p = this.#params.get(name);
    return p === undefined ? undefined : shapeSize(p.shape);
  }
  fill(name: string, out: Float32Array, perm?: readonly number[]): void {
    const p = this.#param(name);
    fillTensor(this.#seed, name, p.shape, p.initializer, out, perm);
  }
  #param(name: string): ParamSpec {
    const p = this.#params.get(name);
    if (p === undefined) throw new RangeError(`no weight named '${name}'`);
    return p;
  }
  get(name: string): Float32Array | undefined {
    const p = this.#params.get(name);
    return p === undefined ? undefined : initTensor(this.#seed, name, p.shape, p.initializer);
  }
  // Iteration generates every tensor up front with a plain loop: a caller that iterates a weight
  // map keeps the tensors anyway, and V8 runs the generator's inner loop about half as fast when
  // it is inlined into a generator function (measured: initWeights 260 ms vs 130 ms).
  entries(): MapIterator<[string, Float32Array]> {
    return this.#materialize().entries();
  }
  keys(): MapIterator<string> {
    return this.#params.keys();
  }
  values(): MapIterator<Float32Array> {
    return this.#materialize().values();
  }
  forEach(
    callback: (value: Float32Array, key: string, map: ReadonlyMap<string, Float32Array>) => void,
    thisArg?: unknown,
  ): void {
    for (const [name, value] of this.#materialize()) callback.call(thisArg, value, name, this);
  }
  #materialize(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, p] of this.#params)
      out.set(name, initTensor(this.#seed, name, p.shape, p.initializer));
    return out;
  }
  [Symbol.iterator](): MapIterator<[string, Float32Array]> {
    return this.entries();
  }
}

/**
 * The initial weights of every parameter of `params`, generated on demand: the same values as
 * {@link initParams}, without holding them (see {@link LazyWeightMap}).
 */
export function seededParams(params: readonly ParamSpec[], seed = DEFAULT_SEED): LazyWeightMap {
  return new SeededWeights(params, seed);
}

/** {@link seededParams} for every parameter of a graph. */
export function seededWeights(graph: Graph, seed = DEFAULT_SEED): LazyWeightMap {
  return seededParams(graphParams(graph), seed);
}

/** Initial values of every parameter of `params`, keyed by Keras weight name. */
export function initParams(
  params: readonly ParamSpec[],
  seed = DEFAULT_SEED,
): Map<string, Float32Array> {
  const weights = new Map<string, Float32Array>();
  for (const p of params) weights.set(p.name, initTensor(seed, p.name, p.shape, p.initializer));
  return weights;
}

/** Initial values of every parameter of a graph, keyed by Keras weight name. */
export function initWeights(graph: Graph, seed = DEFAULT_SEED): Map<string, Float32Array> {
  return initParams(graphParams(graph), seed);
}
