/**
 * The one reader of the tfjs artifacts format: `model.json` (a `weightsManifest` of groups, each
 * naming its `.bin` shards and its weights in order) plus the shards, as `tf.LayersModel.save`,
 * tfjs-converter and `rsc build --target tfjs` write them. It imports no tfjs runtime, so
 * `rsc build --target onnx --weights` reads trained weights without loading tfjs; the tfjs side
 * (artifacts.ts) turns what it reads into `tf.io.ModelArtifacts`.
 *
 * The behaviour, for every reader of trained weights (build --weights, evaluate, tfjs handlers):
 * - A group's shards are concatenated in order and hold exactly its weights' bytes, little-endian,
 *   each weight `shapeSize(shape) * width(stored dtype)` bytes; any other total is malformed.
 * - A model weight (dtype `float32`) is read as float32. Quantized weights (tfjs-converter's
 *   `quantization: { dtype: uint8 | uint16, scale, min }`, or `{ dtype: float16 }`) are
 *   dequantized to float32 (`q * scale + min`; float16 widened).
 * - Entries of the `optimizer` group (tfjs `includeOptimizer`) are skipped: not model weights.
 * - Any other dtype of a model weight (int32, bool, ...) is malformed: Keras layers hold floats.
 * - A shard path is a file name beside model.json, never a way out of the folder: on disk, a
 *   shard must be a regular file whose real path (symlinks resolved) is inside the real path of
 *   model.json's folder, and the shards' sizes must add up to what the manifest describes before
 *   a byte is read (a shard that is a FIFO, `/dev/zero` or a 100 GB file is refused, not read).
 *   model.json itself must be a regular file of at most {@link MAX_MODEL_JSON_BYTES}.
 * Errors are {@link ArtifactsError}s: `unreadable` (a file cannot be read: an I/O error) or
 * `malformed` (located in model.json at the entry at fault).
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { endianness } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { type LoadedWeight, shapeSize } from "@rsc/compiler";

/** The file of a model folder holding the topology and the weights manifest. */
export const MODEL_JSON = "model.json";

/** model.json holds a topology and a manifest: ResNet-101's is ~0.5 MB; more is not a model.json. */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

/** One weight of a weights-manifest group, as model.json lists it. */
export interface WeightsManifestEntry {
  /** Keras weight name, e.g. `conv1/kernel`. */
  readonly name: string;
  readonly shape: readonly number[];
  /** The weight's dtype (after dequantization): `float32` for every Keras layer weight. */
  readonly dtype: string;
  /** `optimizer` for optimizer state saved with `includeOptimizer`. */
  readonly group?: string;
  /** How the stored bytes encode the values, when quantized. */
  readonly quantization?: {
    readonly dtype: string;
    readonly scale?: number;
    readonly min?: number;
  };
}

/** One group of a weights manifest: its shard files and its weights, in byte order. */
export interface WeightsGroup {
  readonly paths: readonly string[];
  readonly weights: readonly WeightsManifestEntry[];
}

/** The parsed model.json of a layers model. */
export interface ModelJson {
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string | null;
  readonly modelTopology?: unknown;
  readonly weightsManifest: readonly WeightsGroup[];
  readonly trainingConfig?: unknown;
  readonly userDefinedMetadata?: { [key: string]: NonNullable<unknown> };
}

/** What was read: model.json and its model weights. */
export interface TfjsArtifacts {
  /** The model.json path that was read (or `<label>/model.json` for in-memory files). */
  readonly file: string;
  /** The model.json text (diagnostics point into it). */
  readonly text: string;
  readonly json: ModelJson;
  /** Model weights by Keras name, in manifest order, float32 in Keras layout. */
  readonly weights: ReadonlyMap<string, LoadedWeight>;
  /** The shard files read, in manifest order (paths beside `file`). */
  readonly shards: readonly string[];
}

/** What is wrong with tfjs artifacts, naming the file (and, when malformed, the place in it). */
export class ArtifactsError extends Error {
  constructor(
    /** The file at fault (model.json or a shard). */
    readonly file: string,
    /** What is wrong with it, without the file name. */
    readonly reason: string,
    /** `unreadable`: an I/O failure (see `errno`); `malformed`: the content is wrong. */
    readonly kind: "unreadable" | "malformed",
    /** 1-based line and column in the file (1:1 when not located). */
    readonly line = 1,
    readonly column = 1,
    /** The I/O error's code (`ENOENT`, ...), for `unreadable`. */
    readonly errno?: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = "ArtifactsError";
  }
}

/**
 * The model topology of a layers model (what `tf.models.modelFromJSON` builds); throws a
 * `malformed` {@link ArtifactsError} when model.json is not a layers model.
 */
export function layersTopology(read: TfjsArtifacts): object {
  const { format, modelTopology } = read.json;
  if (format !== "layers-model" || typeof modelTopology !== "object" || modelTopology === null)
    throw new ArtifactsError(read.file, "is not a tfjs layers-model model.json", "malformed");
  return modelTopology;
}

/** 1-based line and column of the first occurrence of `needle` in `text` (1:1 when absent). */
export function locateIn(text: string, needle: string): { line: number; column: number } {
  const at = text.indexOf(needle);
  if (at < 0) return { line: 1, column: 1 };
  const before = text.slice(0, at);
  return { line: before.split("\n").length, column: at - before.lastIndexOf("\n") };
}

/** Bytes per stored value of each dtype a manifest may hold. */
const WIDTH: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

const littleEndian = endianness() === "LE";

function unreadable(file: string, error: unknown): ArtifactsError {
  const errno = (error as NodeJS.ErrnoException).code;
  return new ArtifactsError(file, "cannot be read", "unreadable", 1, 1, errno);
}

/** Where shard bytes come from: their sizes first (checked against the manifest), then bytes. */
interface ShardSource {
  /** Size in bytes of shard `name` (at `path`); throws when it is not a readable shard. */
  size(name: string, path: string): number;
  read(name: string, path: string): Uint8Array;
}

/**
 * Reads a whole regular file of at most `limit` bytes, from one open descriptor (so what was
 * checked is what is read). A device, FIFO or folder is refused before any read.
 */
function readRegularFile(path: string, limit: number): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw unreadable(path, error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile())
      throw new ArtifactsError(path, "is not a regular file", "unreadable", 1, 1, undefined);
    if (stats.size > limit)
      throw new ArtifactsError(
        path,
        `is ${stats.size} bytes, more than the ${limit} expected`,
        "malformed",
      );
    const bytes = Buffer.alloc(stats.size);
    for (let done = 0; done < bytes.byteLength; ) {
      const n = readSync(fd, bytes, done, bytes.byteLength - done, done);
      if (n === 0) throw new ArtifactsError(path, "changed while being read", "unreadable");
      done += n;
    }
    return bytes;
  } catch (error) {
    if (error instanceof ArtifactsError) throw error;
    throw unreadable(path, error);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads tfjs artifacts from disk: `path` is a model.json or the folder holding one. Throws
 * {@link ArtifactsError}.
 */
export function readArtifacts(path: string): TfjsArtifacts {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, MODEL_JSON);
  } catch {
    // Reading `path` below reports it.
  }
  const text = readRegularFile(file, MAX_MODEL_JSON_BYTES).toString("utf8");
  let folder: string | undefined;
  const inFolder = (path: string): string => {
    try {
      folder ??= realpathSync(dirname(file));
      const real = realpathSync(path);
      const inside = relative(folder, real);
      if (inside === "" || inside.startsWith(`..${sep}`) || inside === ".." || inside.includes(sep))
        throw new ArtifactsError(path, "leads out of the model folder (a symlink?)", "unreadable");
      return real;
    } catch (error) {
      if (error instanceof ArtifactsError) throw error;
      throw unreadable(path, error);
    }
  };
  const sizes = new Map<string, number>();
  return decodeArtifacts(file, text, {
    size: (_name, path) => {
      const real = inFolder(path);
      let stats: ReturnType<typeof statSync>;
      try {
        stats = statSync(real);
      } catch (error) {
        throw unreadable(path, error);
      }
      if (!stats.isFile()) throw new ArtifactsError(path, "is not a regular file", "unreadable");
      sizes.set(path, stats.size);
      return stats.size;
    },
    read: (_name, path) => readRegularFile(inFolder(path), sizes.get(path) ?? 0),
  });
}

/** Reads tfjs artifacts from in-memory files (model.json + shards by file name). */
export function parseArtifacts(files: ReadonlyMap<string, Uint8Array>, label = "."): TfjsArtifacts {
  const file = join(label, MODEL_JSON);
  const bytes = files.get(MODEL_JSON);
  if (bytes === undefined) throw new ArtifactsError(file, "missing", "unreadable", 1, 1, "ENOENT");
  const shard = (name: string, path: string): Uint8Array => {
    const data = files.get(name);
    if (data === undefined)
      throw new ArtifactsError(path, "missing weight shard", "unreadable", 1, 1, "ENOENT");
    return data;
  };
  return decodeArtifacts(file, new TextDecoder().decode(bytes), {
    size: (name, path) => shard(name, path).byteLength,
    read: shard,
  });
}

function parseModelJson(file: string, text: string): ModelJson {
  const malformed = (reason: string, needle?: string) => {
    const { line, column } = needle === undefined ? { line: 1, column: 1 } : locateIn(text, needle);
    return new ArtifactsError(file, reason, "malformed", line, column);
  };
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (error) {
    throw malformed(`is not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null || !Array.isArray(json.weightsManifest))
    throw malformed("has no weightsManifest (is it a tfjs model.json?)");
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights))
      throw malformed("a weightsManifest group needs 'paths' and 'weights' arrays", '"paths"');
  }
  return json;
}

function decodeArtifacts(file: string, text: string, source: ShardSource): TfjsArtifacts {
  const json = parseModelJson(file, text);
  const malformed = (reason: string, needle: string) => {
    const { line, column } = locateIn(text, needle);
    return new ArtifactsError(file, reason, "malformed", line, column);
  };
  const dir = dirname(file);
  const weights = new Map<string, LoadedWeight>();
  const shardFiles: string[] = [];
  for (const group of json.weightsManifest) {
    for (const path of group.paths) {
      // A manifest path is a file name beside model.json, never a way out of the folder.
      if (typeof path !== "string" || /[/\\]/.test(path) || path.startsWith("."))
        throw malformed(`weights path '${path}' is not a file in the model folder`, `"${path}"`);
    }
    let needed = 0;
    for (const entry of group.weights) {
      const stored = entry?.quantization?.dtype ?? entry?.dtype;
      const width = WIDTH[stored];
      if (width === undefined || !Array.isArray(entry.shape))
        throw malformed(
          entry?.quantization === undefined
            ? `weight '${entry?.name}' has unsupported dtype '${stored}'`
            : `weight '${entry?.name}' is quantized as '${stored}', which tfjs does not define (uint8, uint16 or float16)`,
          `"${entry?.name}"`,
        );
      needed += shapeSize(entry.shape) * width;
    }
    // Sizes before bytes: a shard of the wrong size is never read.
    let held = 0;
    for (const path of group.paths) {
      try {
        held += source.size(path, join(dir, path));
      } catch (error) {
        // A shard the manifest lists but the folder lacks: the model is incomplete.
        if (!(error instanceof ArtifactsError) || error.errno !== "ENOENT") throw error;
        throw malformed(
          `weight file '${path}' is missing from the model folder (it holds weights of ${layersOf(shardRange(group, path, source, dir))})`,
          `"${path}"`,
        );
      }
    }
    if (needed !== held) {
      const cut = group.weights.filter((_, i) => weightEnd(group, i) > held);
      throw malformed(
        needed > held
          ? `the manifest describes ${needed} bytes of weights but the shards hold ${held}: weights of ${layersOf(cut)} are cut off (a shard is truncated?)`
          : `the manifest describes ${needed} bytes of weights but the shards hold ${held}, more than its weights`,
        `"${group.paths[0] ?? "paths"}"`,
      );
    }
    const bytes = concat(group.paths.map((path) => source.read(path, join(dir, path))));
    shardFiles.push(...group.paths.map((path) => join(dir, path)));
    let offset = 0;
    for (const entry of group.weights) {
      const stored = entry.quantization?.dtype ?? entry.dtype;
      const count = shapeSize(entry.shape);
      const slice = bytes.subarray(offset, offset + count * WIDTH[stored]!);
      offset += slice.byteLength;
      // Optimizer state (tfjs `includeOptimizer`) is not a model weight.
      if (entry.group === "optimizer") continue;
      if (entry.dtype !== "float32")
        throw malformed(
          `weight '${entry.name}' is ${entry.dtype}, expected float32`,
          `"${entry.name}"`,
        );
      weights.set(entry.name, { shape: entry.shape, data: decode(slice, stored, count, entry) });
    }
  }
  return { file, text, json, weights, shards: shardFiles };
}

/** Byte offset where weight `index` of a group ends. */
function weightEnd(group: WeightsGroup, index: number): number {
  let end = 0;
  for (let i = 0; i <= index; i++) {
    const entry = group.weights[i]!;
    end += shapeSize(entry.shape) * WIDTH[entry.quantization?.dtype ?? entry.dtype]!;
  }
  return end;
}

/** The weights of a group stored in shard `path`, when the other shards' sizes are known. */
function shardRange(
  group: WeightsGroup,
  path: string,
  source: ShardSource,
  dir: string,
): readonly WeightsManifestEntry[] {
  let start = 0;
  for (const p of group.paths) {
    if (p === path) break;
    try {
      start += source.size(p, join(dir, p));
    } catch {
      return group.weights;
    }
  }
  let end = Number.POSITIVE_INFINITY;
  try {
    // Every converter shard but the last has one size: another full shard's.
    const full = group.paths.find((p) => p !== path && p !== group.paths.at(-1));
    if (path !== group.paths.at(-1) && full !== undefined)
      end = start + source.size(full, join(dir, full));
  } catch {
    // Unknown: up to the end.
  }
  return group.weights.filter((_, i) => {
    const stop = weightEnd(group, i);
    const width = WIDTH[group.weights[i]!.quantization?.dtype ?? group.weights[i]!.dtype]!;
    const begin = stop - shapeSize(group.weights[i]!.shape) * width;
    return stop > start && begin < end;
  });
}

/** `layer 'conv1' (conv1/kernel), layer 'fc' (fc/kernel, fc/bias)`: weights by layer. */
function layersOf(entries: readonly WeightsManifestEntry[]): string {
  const byLayer = new Map<string, string[]>();
  for (const e of entries) {
    const layer = e.name.includes("/") ? e.name.slice(0, e.name.lastIndexOf("/")) : e.name;
    byLayer.set(layer, [...(byLayer.get(layer) ?? []), e.name]);
  }
  return [...byLayer].map(([layer, names]) => `layer '${layer}' (${names.join(", ")})`).join(", ");
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Stored bytes -> float32 values (copied: shard bytes need not be 4-byte aligned). */
function decode(
  bytes: Uint8Array,
  stored: string,
  count: number,
  entry: WeightsManifestEntry,
): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  if (stored === "float32") {
    // One copy into an aligned buffer; little-endian hosts then read it as is.
    if (littleEndian) return new Float32Array(Uint8Array.from(bytes).buffer);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  if (stored === "float16") {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
    return out;
  }
  // tfjs affine quantization: value = q * scale + min.
  const scale = entry.quantization?.scale ?? 1;
  const min = entry.quantization?.min ?? 0;
  for (let i = 0; i < count; i++) {
    const q = stored === "uint8" ? view.getUint8(i) : view.getUint16(i * 2, true);
    out[i] = q * scale + min;
  }
  return out;
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
