/**
 * Deterministic initial weights. Every backend gets its initial values from here, so the tfjs
 * and ONNX models built from one spec and seed compute the same function.
 *
 * The generator, exactly (so other tools can reproduce it):
 * - Each tensor has its own stream, seeded from (global seed, Keras weight name). The seed is an
 *   unsigned 32-bit integer ({@link MAX_SEED}). The name's UTF-8 bytes are hashed with 32-bit
 *   FNV-1a (offset basis `0x811c9dc5`); the seed goes through splitmix32's finaliser (a bijection
 *   of 32-bit words, so distinct seeds stay distinct); the two are XORed and expanded by four
 *   rounds of splitmix32 into the four words of an xoshiro128** state.
 *   Adding, removing or renaming one layer therefore changes no other layer's weights, and every
 *   seed gives a tensor its own stream.
 * - A uniform float in [0, 1) is `(next() >>> 8) / 2^24` (24 bits: exact in float32).
 * - glorot_uniform: `U(-limit, limit)` with `limit = sqrt(6 / (fan_in + fan_out))`, where for a
 *   kernel of shape `[...receptive, in, out]`, `fan_in = in * prod(receptive)` and
 *   `fan_out = out * prod(receptive)` (Keras's rule). Computed as `(2u - 1) * limit` in float64,
 *   stored as float32.
 * - zeros, ones: constant.
 */
import type { Graph, Initializer, ParamSpec, Shape } from "./ir.js";
import { graphParams, shapeSize } from "./ir.js";

/** Named float32 tensors in Keras layout, keyed by Keras weight name (`conv1/kernel`). */
export type WeightMap = ReadonlyMap<string, Float32Array>;

/** Default global seed (the spec's `seed:` or `--seed` override it). */
export const DEFAULT_SEED = 0;

/** The largest seed: seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffffffff;

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

function splitmix32(state: number): [next: number, value: number] {
  const next = (state + 0x9e3779b9) >>> 0;
  return [next, mix32(next)];
}

/** The four xoshiro128** state words of one tensor's stream, seeded from (seed, name). */
function streamState(seed: number, name: string): Uint32Array {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)
    throw new RangeError(`seed must be an integer from 0 to ${MAX_SEED}, got ${seed}`);
  let sm = (fnv1a(name) ^ mix32(seed)) >>> 0;
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const [next, value] = splitmix32(sm);
    sm = next;
    s[i] = value;
  }
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  return s;
}

/**
 * Writes `scale * (2u - 1)` for the next uniform u in [0, 1) of the stream into each element of
 * `out`, and saves the advanced state. The xoshiro128** step is inlined: this loop produces
 * ResNet-50's 23.6 M values.
 */
function fillFromState(state: Uint32Array, out: Float32Array | Float64Array, scale: number): void {
  let s0 = state[0]!;
  let s1 = state[1]!;
  let s2 = state[2]!;
  let s3 = state[3]!;
  for (let i = 0; i < out.length; i++) {
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    out[i] = (2 * ((result >>> 8) / 16777216) - 1) * scale;
  }
  state.set([s0, s1, s2, s3]);
}

/** The uniform [0, 1) stream of one tensor, seeded from (seed, name), one value per call. */
export function uniformStream(seed: number, name: string): () => number {
  const state = streamState(seed, name);
  const buffer = new Float64Array(1024);
  let next = buffer.length;
  return () => {
    if (next === buffer.length) {
      fillFromState(state, buffer, 1);
      next = 0;
    }
    // 2u - 1 and back are exact in float64 for a 24-bit u.
    return (buffer[next++]! + 1) / 2;
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

/**
 * Fills successive blocks of one tensor with its initial values, as its initializer says: each
 * call writes the next `out.length` values (a glorot stream continues where it stopped).
 */
function tensorFiller(
  seed: number,
  name: string,
  shape: Shape,
  initializer: Initializer,
): (out: Float32Array) => void {
  if (initializer !== "glorot_uniform") {
    const value = initializer === "ones" ? 1 : 0;
    return (out) => out.fill(value);
  }
  const { fanIn, fanOut } = fans(shape);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const state = streamState(seed, name);
  return (out) => fillFromState(state, out, limit);
}

/** Writes one tensor's initial values into `out` (exactly its size), as its initializer says. */
export function fillTensor(
  seed: number,
  name: string,
  shape: Shape,
  initializer: Initializer,
  out: Float32Array,
): void {
  tensorFiller(seed, name, shape, initializer)(out);
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
  /** Generates tensor `name` into `out`, which must have exactly {@link lengthOf} values. */
  fill(name: string, out: Float32Array): void;
  /**
   * Reads tensor `name` in order, block by block: each call of the returned function fills
   * `out` with the tensor's next `out.length` values (the same values {@link fill} gives), so a
   * writer can reorder a tensor from a small cache-resident block instead of a whole copy.
   */
  reader(name: string): (out: Float32Array) => void;
}

/** True for weights that can be generated into a caller's buffer ({@link LazyWeightMap}). */
export function isLazyWeightMap(weights: WeightMap): weights is LazyWeightMap {
  const lazy = weights as Partial<LazyWeightMap>;
  return (
    typeof lazy.fill === "function" &&
    typeof lazy.lengthOf === "function" &&
    typeof lazy.reader === "function"
  );
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
  fill(name: string, out: Float32Array): void {
    const p = this.#param(name);
    if (out.length !== shapeSize(p.shape))
      throw new RangeError(`weight '${name}' has ${shapeSize(p.shape)} values, not ${out.length}`);
    fillTensor(this.#seed, name, p.shape, p.initializer, out);
  }
  reader(name: string): (out: Float32Array) => void {
    const p = this.#param(name);
    return tensorFiller(this.#seed, name, p.shape, p.initializer);
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
