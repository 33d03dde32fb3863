/**
 * A small read-only HDF5 reader for the files h5py writes with its default settings, which is
 * how Keras writes `.h5` and `.weights.h5` files: superblock version 0 or 1, version-1 object
 * headers, groups as symbol tables (a version-1 B-tree and a local heap), attributes in the
 * object header (fixed-length and variable-length strings, numbers), and datasets stored
 * contiguously or compactly, without filters. A dataset's bytes are read from the file straight
 * into the Float32Array that holds them.
 *
 * Why it exists: h5wasm (the general reader) spends ~250 ms compiling its 4 MB of WebAssembly
 * and ~700 ms reading ResNet-50's 320 weights (per-object calls through embind, a copy out of
 * the wasm heap); this reads them in a fraction of that (bench/keras-weights.mjs). Anything else
 * (chunked or compressed datasets, new-style groups, dense attribute storage, big-endian data, a
 * newer superblock) throws {@link Hdf5Unsupported}, and the caller reads the file with h5wasm
 * instead (hdf5.ts), so this is a fast path, never a second opinion: every structure it reads is
 * bounds-checked against the file, and a file it finds malformed goes to h5wasm too.
 *
 * Layout references: the HDF5 File Format Specification, version 2 (superblock, object header
 * messages 0x0001 dataspace, 0x0003 datatype, 0x0008 data layout, 0x000B filter pipeline, 0x000C
 * attribute, 0x0010 continuation, 0x0011 symbol table; B-tree v1 `TREE`, symbol table node
 * `SNOD`, local heap `HEAP`, global heap collection `GCOL`).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { isHdf5Signature } from "./detect.js";
import type { Hdf5Reader, Hdf5Tensor } from "./hdf5-types.js";

/** The file uses a feature this reader does not implement (or is malformed): use h5wasm. */
export class Hdf5Unsupported extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "Hdf5Unsupported";
  }
}

const unsupported = (reason: string): never => {
  throw new Hdf5Unsupported(reason);
};

/** Random access to the file's bytes. */
interface Source {
  readonly size: number;
  /** `length` bytes at `offset` (a view that may be shared: do not keep or modify it). */
  bytes(offset: number, length: number): Uint8Array;
  /** Reads `target.byteLength` bytes at `offset` into `target`. */
  into(offset: number, target: Uint8Array): void;
  close(): void;
}

const PAGE = 64 * 1024;

function fileSource(path: string): Source {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const size = fstatSync(fd).size;
  const pages = new Map<number, Buffer>();
  const page = (index: number): Buffer => {
    let buf = pages.get(index);
    if (buf === undefined) {
      const start = index * PAGE;
      buf = Buffer.alloc(Math.min(PAGE, size - start));
      readFully(fd, buf, start);
      pages.set(index, buf);
    }
    return buf;
  };
  return {
    size,
    bytes(offset, length) {
      check(offset, length, size);
      const first = Math.floor(offset / PAGE);
      const last = Math.floor((offset + length - 1) / PAGE);
      if (length === 0) return new Uint8Array(0);
      if (first === last) {
        const p = page(first);
        return p.subarray(offset - first * PAGE, offset - first * PAGE + length);
      }
      const out = Buffer.alloc(length);
      for (let i = first, at = 0; i <= last; i++) {
        const p = page(i);
        const from = i === first ? offset - first * PAGE : 0;
        const n = Math.min(p.length - from, length - at);
        p.copy(out, at, from, from + n);
        at += n;
      }
      return out;
    },
    into(offset, target) {
      check(offset, target.byteLength, size);
      readFully(fd, target, offset);
    },
    close: () => closeSync(fd),
  };
}

function bytesSource(data: Uint8Array): Source {
  return {
    size: data.byteLength,
    bytes(offset, length) {
      check(offset, length, data.byteLength);
      return data.subarray(offset, offset + length);
    },
    into(offset, target) {
      check(offset, target.byteLength, data.byteLength);
      target.set(data.subarray(offset, offset + target.byteLength));
    },
    close: () => {},
  };
}

function readFully(fd: number, target: Uint8Array, offset: number): void {
  for (let done = 0; done < target.byteLength; ) {
    const n = readSync(fd, target, done, target.byteLength - done, offset + done);
    if (n === 0) unsupported("the file ends early");
    done += n;
  }
}

function check(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > size)
    unsupported(`a structure at ${offset} (+${length}) lies outside the file (${size} bytes)`);
}

/** Little-endian reads from a byte view. */
class Cursor {
  readonly view: DataView;
  constructor(
    readonly data: Uint8Array,
    public at = 0,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  u8(): number {
    return this.view.getUint8(this.at++);
  }
  u16(): number {
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  /** An unsigned integer of `n` (2, 4 or 8) bytes; all-ones (undefined address) as -1. */
  uint(n: number): number {
    if (n === 4) {
      const v = this.u32();
      return v === 0xffffffff ? -1 : v;
    }
    if (n === 2) return this.u16();
    const lo = this.u32();
    const hi = this.u32();
    if (lo === 0xffffffff && hi === 0xffffffff) return -1;
    const v = hi * 2 ** 32 + lo;
    if (!Number.isSafeInteger(v)) unsupported("an address beyond 2^53");
    return v;
  }
  skip(n: number): void {
    this.at += n;
  }
}

interface Datatype {
  readonly cls: number;
  readonly size: number;
  readonly littleEndian: boolean;
  readonly signed: boolean;
  /** Variable-length strings. */
  readonly vlenString: boolean;
}

interface Dataspace {
  readonly shape: number[];
  readonly count: number;
}

interface Attribute {
  readonly name: string;
  readonly type: Datatype;
  readonly space: Dataspace;
  readonly data: Uint8Array;
}

interface ObjectInfo {
  readonly attributes: Attribute[];
  readonly symbolTable?: { readonly btree: number; readonly heap: number };
  readonly type?: Datatype;
  readonly space?: Dataspace;
  readonly layout?:
    | { readonly kind: "contiguous"; readonly address: number; readonly size: number }
    | { readonly kind: "compact"; readonly data: Uint8Array };
  readonly filtered: boolean;
}

const CLASS_INT = 0;
const CLASS_FLOAT = 1;
const CLASS_STRING = 3;
const CLASS_VLEN = 9;

const pad8 = (n: number) => (n + 7) & ~7;

class LiteReader implements Hdf5Reader {
  readonly #src: Source;
  readonly #O: number;
  readonly #L: number;
  readonly #base: number;
  readonly #root: number;
  readonly #objects = new Map<number, ObjectInfo>();
  readonly #children = new Map<number, Map<string, number>>();
  readonly #heaps = new Map<number, Map<number, Uint8Array>>();

  constructor(src: Source) {
    this.#src = src;
    let at = -1;
    for (let offset = 0; offset + 8 <= src.size; offset = offset === 0 ? 512 : offset * 2) {
      if (isHdf5Signature(src.bytes(offset, 8))) {
        at = offset;
        break;
      }
    }
    if (at < 0) unsupported("no HDF5 signature");
    const c = new Cursor(src.bytes(at, Math.min(src.size - at, 128)));
    c.skip(8);
    const version = c.u8();
    if (version > 1) unsupported(`superblock version ${version}`);
    c.skip(4);
    this.#O = c.u8();
    this.#L = c.u8();
    if ((this.#O !== 4 && this.#O !== 8) || (this.#L !== 4 && this.#L !== 8))
      unsupported("unusual offset or length sizes");
    c.skip(1 + 2 + 2 + 4 + (version === 1 ? 4 : 0));
    const base = c.uint(this.#O);
    this.#base = base < 0 ? at : base;
    c.skip(this.#O); // free space
    const end = c.uint(this.#O);
    // A file shorter than its superblock says is truncated: h5wasm says so (hdf5OpenFailure).
    if (end < 0 || this.#base + end > src.size) unsupported("the file is shorter than it declares");
    c.skip(this.#O); // driver info
    c.skip(this.#O); // root entry: link name offset
    this.#root = c.uint(this.#O);
    if (this.#root < 0) unsupported("no root group");
  }

  #addr(a: number): number {
    return this.#base + a;
  }

  #parseType(c: Cursor): Datatype {
    const start = c.at;
    const b0 = c.u8();
    const cls = b0 & 0x0f;
    const bits = [c.u8(), c.u8(), c.u8()] as const;
    const size = c.u32();
    let vlenString = false;
    if (cls === CLASS_VLEN) {
      vlenString = (bits[0] & 0x03) === 1;
      if (!vlenString) unsupported("variable-length sequences");
    } else if (cls !== CLASS_INT && cls !== CLASS_FLOAT && cls !== CLASS_STRING) {
      unsupported(`datatype class ${cls}`);
    }
    const littleEndian = (bits[0] & 0x01) === 0 && (cls !== CLASS_FLOAT || (bits[0] & 0x40) === 0);
    const signed = cls === CLASS_INT && (bits[0] & 0x08) !== 0;
    c.at = start;
    return { cls, size, littleEndian, signed, vlenString };
  }

  #parseSpace(c: Cursor): Dataspace {
    const version = c.u8();
    const rank = c.u8();
    const flags = c.u8();
    let isNull = false;
    if (version === 1) c.skip(5);
    else if (version === 2) isNull = c.u8() === 2;
    else unsupported(`dataspace version ${version}`);
    const shape: number[] = [];
    for (let i = 0; i < rank; i++) shape.push(c.uint(this.#L));
    if (flags & 0x02 && version === 1) unsupported("dataspace permutations");
    const count = isNull ? 0 : shape.reduce((n, d) => n * d, 1);
    return { shape, count };
  }

  #object(address: number): ObjectInfo {
    const cached = this.#objects.get(address);
    if (cached !== undefined) return cached;
    const head = new Cursor(this.#src.bytes(this.#addr(address), 16));
    const version = head.u8();
    if (version !== 1) unsupported(`object header version ${version}`);
    head.skip(1);
    let remaining = head.u16();
    head.skip(4);
    const headerSize = head.u32();
    const blocks: [number, number][] = [[this.#addr(address) + 16, headerSize]];
    const info: {
      attributes: Attribute[];
      symbolTable?: { btree: number; heap: number };
      type?: Datatype;
      space?: Dataspace;
      layout?: ObjectInfo["layout"];
      filtered: boolean;
    } = { attributes: [], filtered: false };
    for (let b = 0; b < blocks.length && remaining > 0; b++) {
      const [start, length] = blocks[b]!;
      const c = new Cursor(this.#src.bytes(start, length));
      while (c.at + 8 <= length && remaining > 0) {
        const type = c.u16();
        const size = c.u16();
        const flags = c.u8();
        c.skip(3);
        const at = c.at;
        if (at + size > length) unsupported("an object header message overruns its block");
        remaining--;
        if (flags & 0x02 && (type === 0x01 || type === 0x03)) unsupported("shared messages");
        const m = new Cursor(c.data.subarray(at, at + size));
        switch (type) {
          case 0x01:
            info.space = this.#parseSpace(m);
            break;
          case 0x03:
            info.type = this.#parseType(m);
            break;
          case 0x08:
            info.layout = this.#parseLayout(m);
            break;
          case 0x0b:
            info.filtered = true;
            break;
          case 0x0c:
            info.attributes.push(this.#parseAttribute(m, size));
            break;
          case 0x10: {
            const offset = m.uint(this.#O);
            const len = m.uint(this.#L);
            blocks.push([this.#addr(offset), len]);
            break;
          }
          case 0x11:
            info.symbolTable = { btree: m.uint(this.#O), heap: m.uint(this.#O) };
            break;
          case 0x02:
          case 0x06:
          case 0x0a:
            unsupported("new-style groups (link messages)");
            break;
          case 0x15: {
            // Attribute info: dense storage when its fractal heap is defined.
            m.skip(2);
            const flagsByte = m.data[1]!;
            if (flagsByte & 0x01) m.skip(2);
            if (m.uint(this.#O) >= 0) unsupported("dense attribute storage");
            break;
          }
          default:
            break;
        }
        c.at = at + size;
      }
    }
    this.#objects.set(address, info);
    return info;
  }

  #parseLayout(m: Cursor): ObjectInfo["layout"] {
    const version = m.u8();
    if (version !== 3) unsupported(`data layout version ${version}`);
    const cls = m.u8();
    if (cls === 0) {
      const size = m.u16();
      return { kind: "compact", data: m.data.subarray(m.at, m.at + size) };
    }
    if (cls === 1) return { kind: "contiguous", address: m.uint(this.#O), size: m.uint(this.#L) };
    return unsupported("chunked datasets");
  }

  #parseAttribute(m: Cursor, size: number): Attribute {
    const version = m.u8();
    if (version < 1 || version > 3) unsupported(`attribute version ${version}`);
    const flags = m.u8();
    if (flags & 0x03) unsupported("shared attribute types");
    const nameSize = m.u16();
    const typeSize = m.u16();
    const spaceSize = m.u16();
    if (version === 3) m.skip(1);
    const fit = (n: number) => (version === 1 ? pad8(n) : n);
    const nameBytes = m.data.subarray(m.at, m.at + nameSize);
    const end = nameBytes.indexOf(0);
    const name = new TextDecoder().decode(end < 0 ? nameBytes : nameBytes.subarray(0, end));
    m.skip(fit(nameSize));
    const type = this.#parseType(new Cursor(m.data, m.at));
    m.skip(fit(typeSize));
    const space = this.#parseSpace(new Cursor(m.data, m.at));
    m.skip(fit(spaceSize));
    const bytes = type.vlenString ? 4 + this.#O + 4 : type.size;
    const dataLength = space.count * bytes;
    if (m.at + dataLength > size) unsupported(`attribute '${name}' overruns its message`);
    return { name, type, space, data: m.data.subarray(m.at, m.at + dataLength) };
  }

  /** The members of a group object: name -> object header address (sorted by name). */
  #members(address: number): Map<string, number> {
    const cached = this.#children.get(address);
    if (cached !== undefined) return cached;
    const table = this.#object(address).symbolTable;
    const out = new Map<string, number>();
    if (table !== undefined) {
      const heap = new Cursor(this.#src.bytes(this.#addr(table.heap), 8 + 2 * this.#L + this.#O));
      if (new TextDecoder().decode(heap.data.subarray(0, 4)) !== "HEAP")
        unsupported("bad local heap");
      heap.skip(8);
      const heapSize = heap.uint(this.#L);
      heap.skip(this.#L);
      const data = this.#src.bytes(this.#addr(heap.uint(this.#O)), heapSize);
      const nameAt = (offset: number) => {
        const end = data.indexOf(0, offset);
        if (offset >= data.length || end < 0) unsupported("a link name outside its heap");
        return new TextDecoder().decode(data.subarray(offset, end));
      };
      const walk = (node: number, depth: number) => {
        if (depth > 32) unsupported("a B-tree too deep");
        const headLength = 8 + 2 * this.#O;
        const head = new Cursor(this.#src.bytes(this.#addr(node), headLength));
        if (new TextDecoder().decode(head.data.subarray(0, 4)) !== "TREE")
          unsupported("bad B-tree node");
        head.skip(4);
        if (head.u8() !== 0) unsupported("not a group B-tree");
        const level = head.u8();
        const used = head.u16();
        const entries = new Cursor(
          this.#src.bytes(this.#addr(node) + headLength, this.#L + used * (this.#O + this.#L)),
        );
        entries.skip(this.#L);
        for (let i = 0; i < used; i++) {
          const child = entries.uint(this.#O);
          entries.skip(this.#L);
          if (level > 0) walk(child, depth + 1);
          else this.#symbols(child, nameAt, out);
        }
      };
      walk(table.btree, 0);
    }
    this.#children.set(address, out);
    return out;
  }

  #symbols(node: number, nameAt: (offset: number) => string, out: Map<string, number>): void {
    const head = new Cursor(this.#src.bytes(this.#addr(node), 8));
    if (new TextDecoder().decode(head.data.subarray(0, 4)) !== "SNOD")
      unsupported("bad symbol node");
    head.skip(6);
    const count = head.u16();
    const entry = 2 * this.#O + 24;
    const c = new Cursor(this.#src.bytes(this.#addr(node) + 8, count * entry));
    for (let i = 0; i < count; i++) {
      const start = c.at;
      const name = nameAt(c.uint(this.#O));
      out.set(name, c.uint(this.#O));
      c.at = start + entry;
    }
  }

  /** The object at an absolute path, or undefined. */
  #resolve(path: string): number | undefined {
    let at = this.#root;
    for (const part of path.split("/")) {
      if (part === "") continue;
      const next = this.#members(at).get(part);
      if (next === undefined) return undefined;
      at = next;
    }
    return at;
  }

  isGroup(path: string): boolean {
    const at = this.#resolve(path);
    return at !== undefined && this.#object(at).symbolTable !== undefined;
  }
  has(path: string): boolean {
    return this.#resolve(path) !== undefined;
  }
  keys(path: string): string[] {
    const at = this.#resolve(path);
    return at === undefined ? [] : [...this.#members(at).keys()];
  }
  attrNames(path: string): string[] {
    const at = this.#resolve(path);
    // Sorted by name, as h5wasm (and h5py) list them.
    return at === undefined
      ? []
      : this.#object(at)
          .attributes.map((a) => a.name)
          .sort();
  }
  attr(path: string, name: string): unknown {
    const at = this.#resolve(path);
    const attribute =
      at === undefined ? undefined : this.#object(at).attributes.find((a) => a.name === name);
    if (attribute === undefined) return undefined;
    const { type, space, data } = attribute;
    if (type.cls === CLASS_STRING || type.vlenString) {
      const strings: string[] = [];
      const width = type.vlenString ? 4 + this.#O + 4 : type.size;
      for (let i = 0; i < space.count; i++) {
        const element = data.subarray(i * width, (i + 1) * width);
        const raw = type.vlenString ? this.#vlen(element) : element;
        const end = raw.indexOf(0);
        strings.push(new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end)));
      }
      return space.shape.length === 0 ? strings[0] : strings;
    }
    const values = decodeNumbers(type, data, space.count);
    return space.shape.length === 0 ? values[0] : values;
  }

  /** The bytes of one variable-length element (length, then its global heap id). */
  #vlen(element: Uint8Array): Uint8Array {
    const c = new Cursor(element);
    const length = c.u32();
    const collection = c.uint(this.#O);
    const index = c.u32();
    if (length === 0) return new Uint8Array(0);
    const object = this.#globalHeap(collection).get(index);
    if (object === undefined || object.length < length)
      return unsupported("a dangling global heap id");
    return object.subarray(0, length);
  }

  #globalHeap(address: number): Map<number, Uint8Array> {
    const cached = this.#heaps.get(address);
    if (cached !== undefined) return cached;
    const head = new Cursor(this.#src.bytes(this.#addr(address), 8 + this.#L));
    if (new TextDecoder().decode(head.data.subarray(0, 4)) !== "GCOL")
      unsupported("bad global heap");
    head.skip(8);
    const size = head.uint(this.#L);
    const c = new Cursor(this.#src.bytes(this.#addr(address), size));
    c.at = 8 + this.#L;
    const objects = new Map<number, Uint8Array>();
    while (c.at + 8 + this.#L <= size) {
      const index = c.u16();
      c.skip(6);
      const length = c.uint(this.#L);
      if (index === 0) break;
      if (c.at + length > size) unsupported("a global heap object overruns its collection");
      objects.set(index, c.data.subarray(c.at, c.at + length));
      c.at += pad8(length);
    }
    this.#heaps.set(address, objects);
    return objects;
  }

  tensor(path: string): Hdf5Tensor {
    const at = this.#resolve(path);
    if (at === undefined) return unsupported(`'${path}' is missing`);
    const info = this.#object(at);
    const { type, space, layout } = info;
    if (type === undefined || space === undefined || layout === undefined)
      return unsupported(`'${path}' is not a dataset`);
    if (info.filtered) unsupported("filtered (compressed) datasets");
    if (type.cls !== CLASS_INT && type.cls !== CLASS_FLOAT) unsupported("non-numeric datasets");
    if (!type.littleEndian && type.size > 1) unsupported("big-endian datasets");
    const count = space.count;
    const bytes = count * type.size;
    const shape = space.shape;
    let fill: (out: Float32Array) => void;
    if (layout.kind === "compact") {
      if (layout.data.byteLength < bytes) unsupported("a compact dataset shorter than its shape");
      const values = decodeNumbers(type, layout.data, count);
      fill = (out) => out.set(values);
    } else if (layout.address < 0) {
      // Never written: HDF5's default fill value, zeros.
      fill = (out) => out.fill(0);
    } else {
      if (layout.size < bytes) unsupported("a contiguous dataset shorter than its shape");
      const address = this.#addr(layout.address);
      check(address, bytes, this.#src.size);
      fill =
        type.cls === CLASS_FLOAT && type.size === 4
          ? (out) => this.#src.into(address, new Uint8Array(out.buffer, out.byteOffset, bytes))
          : (out) => {
              const raw = new Uint8Array(bytes);
              this.#src.into(address, raw);
              out.set(decodeNumbers(type, raw, count));
            };
    }
    // Read when first asked for (a deferred read, see Hdf5Tensor.fill), straight into `out`.
    let values: Float32Array | undefined;
    return {
      shape,
      count,
      fill: (out: Float32Array) => {
        if (out.length !== count)
          throw new RangeError(`'${path}' has ${count} values, not ${out.length}`);
        if (values === undefined) fill(out);
        else out.set(values);
      },
      get data(): Float32Array {
        if (values === undefined) {
          values = new Float32Array(count);
          fill(values);
        }
        return values;
      },
    };
  }

  close(): void {
    this.#src.close();
  }
}

/** IEEE 754 binary16 -> number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Little-endian numbers of a datatype as float64 values (ints above 2^53 lose precision). */
function decodeNumbers(type: Datatype, data: Uint8Array, count: number): Float64Array {
  if (data.byteLength < count * type.size) unsupported("numbers shorter than their count");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float64Array(count);
  const s = type.size;
  for (let i = 0; i < count; i++) {
    const at = i * s;
    if (type.cls === CLASS_FLOAT) {
      out[i] =
        s === 4
          ? view.getFloat32(at, true)
          : s === 8
            ? view.getFloat64(at, true)
            : s === 2
              ? halfToFloat(view.getUint16(at, true))
              : unsupported(`${s * 8}-bit floats`);
    } else if (s === 1) out[i] = type.signed ? view.getInt8(at) : view.getUint8(at);
    else if (s === 2) out[i] = type.signed ? view.getInt16(at, true) : view.getUint16(at, true);
    else if (s === 4) out[i] = type.signed ? view.getInt32(at, true) : view.getUint32(at, true);
    else if (s === 8)
      out[i] = Number(type.signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true));
    else unsupported(`${s * 8}-bit integers`);
  }
  return out;
}

/** Opens an HDF5 file on disk with the lite reader. Throws {@link Hdf5Unsupported}. */
export function openLiteFile(path: string): Hdf5Reader {
  let src: Source;
  try {
    src = fileSource(path);
  } catch (error) {
    throw new Hdf5Unsupported(`cannot open: ${(error as Error).message}`);
  }
  try {
    return new LiteReader(src);
  } catch (error) {
    src.close();
    throw error instanceof Hdf5Unsupported ? error : new Hdf5Unsupported(String(error));
  }
}

/** Opens HDF5 bytes with the lite reader. Throws {@link Hdf5Unsupported}. */
export function openLiteBytes(data: Uint8Array): Hdf5Reader {
  try {
    return new LiteReader(bytesSource(data));
  } catch (error) {
    throw error instanceof Hdf5Unsupported ? error : new Hdf5Unsupported(String(error));
  }
}
