/** What the Keras readers need of an HDF5 file, whichever reader provides it (hdf5.ts). */

/** One numeric dataset, as float32 (Keras weights are floats; ints, e.g. a count, widened). */
export interface Hdf5Tensor {
  readonly shape: readonly number[];
  /** The values (a deferred tensor reads them on first access, while its file is open). */
  readonly data: Float32Array;
  /** Deferred tensors: the number of values, and a read of them into `out` (that long). */
  readonly count?: number;
  fill?(out: Float32Array): void;
}

/** A read-only HDF5 file: paths are absolute (`/model_weights/conv1`). */
export interface Hdf5Reader {
  /** True when `path` is a group. */
  isGroup(path: string): boolean;
  /** True when `path` names a group or dataset. */
  has(path: string): boolean;
  /** Names of a group's members, as stored (h5py: sorted). */
  keys(path: string): string[];
  /** Names of the attributes of a group or dataset. */
  attrNames(path: string): string[];
  /** An attribute's value as h5wasm decodes it (strings, string arrays, typed arrays). */
  attr(path: string, name: string): unknown;
  /** A numeric dataset as float32. */
  tensor(path: string): Hdf5Tensor;
  close(): void;
}
