/**
 * Checked weights that stay in their file until a backend asks for them: a
 * {@link LazyWeightMap} (the compiler's contract for weights that are produced, not held) over
 * deferred HDF5 tensors. The ONNX writer fills each tensor into one buffer it reuses, in ONNX's
 * layout (`perm`), so ResNet-50's 94 MB of weights are read from the file straight into the
 * writer's buffer and never all held at once, as seeded weights are generated.
 */
import type { LazyWeightMap } from "@rsc/compiler";
import type { Hdf5Tensor } from "./hdf5-types.js";

/** A tensor whose values can be read into a caller's buffer. */
export type FillableTensor = Hdf5Tensor & {
  readonly count: number;
  fill(out: Float32Array): void;
};

/** True when a read weight is deferred (its values read on demand). */
export function isFillable(tensor: Hdf5Tensor): tensor is FillableTensor {
  return typeof tensor.fill === "function" && typeof tensor.count === "number";
}

const isIdentity = (perm: readonly number[]) => perm.every((axis, k) => axis === k);

/**
 * Writes `data` (row-major, of `shape`) transposed by `perm` into `out` (out axis k is axis
 * `perm[k]`). HWIO -> OIHW, what every conv kernel needs, goes by blocks of 16 output channels
 * so each source cache line is read once; other permutations by an index odometer.
 */
export function permuteTo(
  data: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
  out: Float32Array,
): void {
  if (shape.length === 4 && perm[0] === 3 && perm[1] === 2 && perm[2] === 0 && perm[3] === 1) {
    const [h, w, i, o] = shape as [number, number, number, number];
    const spatial = h * w;
    const step = i * spatial;
    for (let o0 = 0; o0 < o; o0 += 16) {
      const o1 = Math.min(o0 + 16, o);
      for (let c = 0; c < i; c++) {
        for (let s = 0; s < spatial; s++) {
          const from = (s * i + c) * o;
          let to = (o0 * i + c) * spatial + s;
          for (let k = o0; k < o1; k++) {
            out[to] = data[from + k]!;
            to += step;
          }
        }
      }
    }
    return;
  }
  const strides = shape.map((_, k) => shape.slice(k + 1).reduce((n, d) => n * d, 1));
  const dims = perm.map((axis) => shape[axis]!);
  const steps = perm.map((axis) => strides[axis]!);
  const index = dims.map(() => 0);
  let src = 0;
  for (let t = 0; t < out.length; t++) {
    out[t] = data[src]!;
    for (let k = dims.length - 1; k >= 0; k--) {
      index[k]!++;
      src += steps[k]!;
      if (index[k]! < dims[k]!) break;
      src -= steps[k]! * dims[k]!;
      index[k] = 0;
    }
  }
}

/** A {@link LazyWeightMap} over deferred tensors, keyed by rsc weight name. */
export class FileWeights implements LazyWeightMap {
  readonly #tensors: ReadonlyMap<string, FillableTensor>;
  #scratch = new Float32Array(0);

  constructor(tensors: ReadonlyMap<string, FillableTensor>) {
    this.#tensors = tensors;
  }

  get size(): number {
    return this.#tensors.size;
  }
  has(name: string): boolean {
    return this.#tensors.has(name);
  }
  lengthOf(name: string): number | undefined {
    return this.#tensors.get(name)?.count;
  }
  fill(name: string, out: Float32Array, perm?: readonly number[]): void {
    const t = this.#tensors.get(name);
    if (t === undefined) throw new RangeError(`no weight named '${name}'`);
    if (perm === undefined || isIdentity(perm)) {
      t.fill(out);
      return;
    }
    if (this.#scratch.length < t.count) this.#scratch = new Float32Array(t.count);
    const scratch = this.#scratch.subarray(0, t.count);
    t.fill(scratch);
    permuteTo(scratch, t.shape, perm, out);
  }
  get(name: string): Float32Array | undefined {
    const t = this.#tensors.get(name);
    if (t === undefined) return undefined;
    const out = new Float32Array(t.count);
    t.fill(out);
    return out;
  }
  keys(): MapIterator<string> {
    return this.#tensors.keys();
  }
  entries(): MapIterator<[string, Float32Array]> {
    return this.#materialize().entries();
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
  [Symbol.iterator](): MapIterator<[string, Float32Array]> {
    return this.entries();
  }
  #materialize(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const name of this.#tensors.keys()) out.set(name, this.get(name)!);
    return out;
  }
}
