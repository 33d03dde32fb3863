/**
 * HDF5 access for the Keras readers, through h5wasm: a file on disk is opened by h5wasm's Node
 * build (which reads the file in place, so ResNet-50's 94 MB are not copied first), and bytes
 * from a `.keras` archive by its ESM build, whose file system is in memory (MEMFS): nothing of
 * an archive is ever written to disk.
 *
 * libhdf5's errors become exceptions (h5wasm's throwing error handler) and its error stack is
 * kept off stderr; each exception becomes a {@link Hdf5Error} that the Keras readers turn into a
 * RSC500 naming the file and the layer being read.
 */
import { quietly } from "../data-h5.js";
import { CliError } from "../errors.js";
import { openLiteBytes, openLiteFile } from "./hdf5-lite.js";
import type { Hdf5Reader, Hdf5Tensor } from "./hdf5-types.js";

export type { Hdf5Reader, Hdf5Tensor } from "./hdf5-types.js";

/** A failure of libhdf5 (a corrupt or truncated file), or a dataset rsc cannot decode. */
export class Hdf5Error extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "Hdf5Error";
  }
}

interface H5Metadata {
  readonly type: number;
  readonly size: number;
  readonly littleEndian: boolean;
  readonly shape: number[] | null;
  readonly total_size: number;
}

interface H5Node {
  readonly type?: string;
  readonly metadata?: H5Metadata;
  readonly shape?: number[] | null;
  readonly value?: unknown;
  readonly attrs?: Record<string, { readonly value: unknown }>;
  keys?(): string[];
}

interface H5File extends H5Node {
  get(path: string): H5Node | null;
  close(): unknown;
}

interface H5Module {
  activate_throwing_error_handler(): void;
  readonly H5T_class_t: {
    readonly H5T_INTEGER: { value: number };
    readonly H5T_FLOAT: { value: number };
  };
  get_dataset_data(file: bigint, path: string, a: null, b: null, c: null, ptr: bigint): void;
  readonly HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(ptr: number): void;
}

interface H5Api {
  readonly ready: Promise<H5Module>;
  readonly File: new (path: string, mode: string) => H5File;
  readonly FS?: { writeFile(path: string, data: Uint8Array): void; unlink(path: string): void };
}

/** Runs an h5wasm call with libhdf5 quiet; its failures become {@link Hdf5Error}s. */
function h5<T>(fn: () => T): T {
  try {
    return quietly(fn);
  } catch (error) {
    if (error instanceof Hdf5Error) throw error;
    throw new Hdf5Error("cannot be read as HDF5 (corrupt or truncated?)");
  }
}

const H5T_INTEGER = 0;
const H5T_FLOAT = 1;

/** IEEE 754 binary16 -> number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

class Reader implements Hdf5Reader {
  constructor(
    private readonly file: H5File,
    private readonly module: H5Module,
    private readonly onClose: () => void = () => {},
  ) {}

  #get(path: string): H5Node | null {
    return h5(() => this.file.get(path));
  }
  isGroup(path: string): boolean {
    if (path === "/") return true;
    const node = this.#get(path);
    return node !== null && node !== undefined && node.type === "Group";
  }
  has(path: string): boolean {
    if (path === "/") return true;
    const node = this.#get(path);
    return node !== null && node !== undefined;
  }
  keys(path: string): string[] {
    const node = path === "/" ? this.file : this.#get(path);
    return node?.keys === undefined ? [] : h5(() => node.keys!());
  }
  attrNames(path: string): string[] {
    const node = path === "/" ? this.file : this.#get(path);
    return node?.attrs === undefined ? [] : h5(() => Object.keys(node.attrs!));
  }
  attr(path: string, name: string): unknown {
    const node = path === "/" ? this.file : this.#get(path);
    const attrs = node?.attrs;
    if (attrs === undefined || !(name in attrs)) return undefined;
    return h5(() => attrs[name]!.value);
  }
  tensor(path: string): Hdf5Tensor {
    const node = this.#get(path);
    if (node === null || node === undefined || node.type !== "Dataset")
      throw new Hdf5Error(`'${path}' is not a dataset`);
    const meta = h5(() => node.metadata!);
    const shape = meta.shape ?? [];
    if (meta.type !== H5T_INTEGER && meta.type !== H5T_FLOAT)
      throw new Hdf5Error(`'${path}' does not hold numbers`);
    if (!meta.littleEndian && meta.size > 1)
      throw new Hdf5Error(`'${path}' is stored big-endian, which rsc does not read`);
    if (meta.type === H5T_FLOAT && meta.size === 2) {
      // float16 (Keras mixed precision): h5wasm has no float16 array; read the raw halves.
      const raw = this.#raw(path, meta);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      const data = new Float32Array(meta.total_size);
      for (let i = 0; i < data.length; i++) data[i] = halfToFloat(view.getUint16(i * 2, true));
      return { shape, data };
    }
    const value = h5(() => node.value);
    if (value instanceof Float32Array) return { shape, data: value };
    if (
      value instanceof Float64Array ||
      value instanceof Int8Array ||
      value instanceof Uint8Array ||
      value instanceof Int16Array ||
      value instanceof Uint16Array ||
      value instanceof Int32Array ||
      value instanceof Uint32Array
    )
      return { shape, data: Float32Array.from(value) };
    if (value instanceof BigInt64Array || value instanceof BigUint64Array)
      return { shape, data: Float32Array.from(value, (v) => Number(v)) };
    if (typeof value === "number" || typeof value === "bigint")
      return { shape, data: Float32Array.of(Number(value)) };
    throw new Hdf5Error(`'${path}' cannot be decoded`);
  }
  #raw(path: string, meta: H5Metadata): Uint8Array {
    const bytes = meta.size * meta.total_size;
    const module = this.module;
    const ptr = module._malloc(Math.max(1, bytes));
    try {
      const fileId = (this.file as unknown as { file_id: bigint }).file_id;
      h5(() => module.get_dataset_data(fileId, path, null, null, null, BigInt(ptr)));
      return module.HEAPU8.slice(ptr, ptr + bytes);
    } finally {
      module._free(ptr);
    }
  }
  close(): void {
    try {
      h5(() => this.file.close());
    } catch {
      // A file that failed to read may fail to close: it is read-only, nothing is lost.
    } finally {
      this.onClose();
    }
  }
}

async function nodeApi(): Promise<{ api: H5Api; module: H5Module }> {
  const { default: api } = (await import("h5wasm/node")) as unknown as { default: H5Api };
  const module = await api.ready;
  module.activate_throwing_error_handler();
  return { api, module };
}

/** Opens an HDF5 file on disk (read-only). Throws {@link Hdf5Error}. */
export async function openHdf5File(path: string): Promise<Hdf5Reader> {
  const { api, module } = await nodeApi();
  const file = h5(() => new api.File(path, "r"));
  return new Reader(file, module);
}

let memoryFiles = 0;

/**
 * Opens HDF5 bytes (read-only) in h5wasm's in-memory file system; the in-memory file is removed
 * on close. Throws {@link Hdf5Error}.
 */
export async function openHdf5Bytes(bytes: Uint8Array): Promise<Hdf5Reader> {
  const { default: api } = (await import("h5wasm")) as unknown as { default: H5Api };
  const module = await api.ready;
  module.activate_throwing_error_handler();
  const fs = api.FS ?? (module as unknown as { FS: NonNullable<H5Api["FS"]> }).FS;
  const name = `/rsc-in-memory-${process.pid}-${memoryFiles++}.h5`;
  fs.writeFile(name, bytes);
  try {
    const file = h5(() => new api.File(name, "r"));
    return new Reader(file, module, () => fs.unlink(name));
  } catch (error) {
    fs.unlink(name);
    throw error;
  }
}

/** What {@link withHdf5File} gives back: `fn`'s value, and the close of a file kept open. */
export interface Hdf5Result<T> {
  readonly value: T;
  /** Closes the file when `keepOpen` kept it open (deferred tensors); a no-op otherwise. */
  close(): void;
}

/**
 * Runs `fn` on an HDF5 source: first with the lite reader (hdf5-lite.ts), and when that cannot
 * read the file (a feature it lacks, or anything it finds wrong), again with h5wasm, whose
 * verdict stands. Errors `fn` raises about the content (CliError) are final. With `keepOpen`,
 * the lite reader's file stays open for the deferred tensors `fn` returned (close it with the
 * result's `close`); h5wasm's tensors are never deferred.
 */
async function withReader<T>(
  lite: () => Hdf5Reader,
  full: () => Promise<Hdf5Reader>,
  fn: (h5: Hdf5Reader) => T,
  keepOpen: boolean,
): Promise<Hdf5Result<T>> {
  let fast: Hdf5Reader | undefined;
  try {
    fast = lite();
    const value = fn(fast);
    const reader = fast;
    fast = undefined;
    if (!keepOpen) {
      reader.close();
      return { value, close: () => {} };
    }
    return { value, close: () => reader.close() };
  } catch (error) {
    if (error instanceof CliError) throw error;
  } finally {
    fast?.close();
  }
  const h5 = await full();
  try {
    return { value: fn(h5), close: () => {} };
  } finally {
    h5.close();
  }
}

/** {@link withReader} on a file on disk; h5wasm's open failure is thrown as {@link Hdf5Error}. */
export function withHdf5File<T>(
  path: string,
  fn: (h5: Hdf5Reader) => T,
  { keepOpen = false }: { readonly keepOpen?: boolean } = {},
): Promise<Hdf5Result<T>> {
  return withReader(
    () => openLiteFile(path),
    () => openHdf5File(path),
    fn,
    keepOpen,
  );
}

/** {@link withReader} on bytes (a `.keras` archive's model.weights.h5). */
export function withHdf5Bytes<T>(
  bytes: Uint8Array,
  fn: (h5: Hdf5Reader) => T,
  { keepOpen = false }: { readonly keepOpen?: boolean } = {},
): Promise<Hdf5Result<T>> {
  return withReader(
    () => openLiteBytes(bytes),
    () => openHdf5Bytes(bytes),
    fn,
    keepOpen,
  );
}
