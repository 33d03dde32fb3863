/**
 * Reads weights from tfjs artifacts (`model.json` with a `weightsManifest`, plus its `.bin`
 * shards), as `tf.LayersModel.save` and `rsc build --target tfjs` write them, without loading
 * tfjs: the format is JSON plus little-endian tensors concatenated across each group's shards.
 * tfjs-layers names a layer weight `<layer>/<weight>` (`conv1/kernel`, `bn_conv1/moving_mean`),
 * which is the Keras name the IR uses, so weights match by name.
 */
import { readFileSync, statSync } from "node:fs";
import { endianness } from "node:os";
import { dirname, join } from "node:path";
import { type Diagnostic, type Graph, graphParams } from "@rsc/compiler";
import { CliError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";

/** One entry of a tfjs weights manifest group. */
interface WeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly group?: string;
  readonly quantization?: {
    readonly dtype: string;
    readonly scale?: number;
    readonly min?: number;
  };
}

/** A weight read from a tfjs model.json, in Keras layout. */
export interface TfjsWeight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Weights read from tfjs artifacts. */
export interface TfjsWeights {
  /** The model.json path that was read. */
  readonly file: string;
  /** Weights by Keras name, in manifest order. */
  readonly weights: ReadonlyMap<string, TfjsWeight>;
  /** The model.json text (diagnostics point into it). */
  readonly text: string;
}

const littleEndian = endianness() === "LE";

const BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
};

/** 1-based line and column of the first occurrence of `needle` in `text` (1:1 when absent). */
function locate(text: string, needle: string): { line: number; column: number } {
  const at = text.indexOf(needle);
  if (at < 0) return { line: 1, column: 1 };
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return { line, column: at - before.lastIndexOf("\n") };
}

function fileError(file: string, text: string, message: string, needle?: string): CliError {
  const where = needle === undefined ? { line: 1, column: 1 } : locate(text, needle);
  const d: Diagnostic = { severity: "error", code: "RSC500", message, file, ...where };
  return new CliError(message, ExitCode.SpecError, [d]);
}

function readOrFail(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`${what} ${path}: ${code === "ENOENT" ? "no such file" : "cannot be read"}`);
  }
}

/**
 * Reads every weight of a tfjs model.json (or of the model.json in a folder). Unreadable files
 * are usage/IO errors (exit 2); a malformed manifest or shard is RSC500 (exit 1).
 */
export function readTfjsWeights(path: string): TfjsWeights {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, "model.json");
  } catch {
    // readOrFail reports the missing path.
  }
  const text = readOrFail(file, "weights file").toString("utf8");
  let json: { weightsManifest?: unknown };
  try {
    json = JSON.parse(text) as { weightsManifest?: unknown };
  } catch (error) {
    throw fileError(file, text, `${file} is not JSON: ${(error as Error).message}`);
  }
  const manifest = json?.weightsManifest;
  if (!Array.isArray(manifest))
    throw fileError(file, text, `${file} has no weightsManifest (is it a tfjs model.json?)`);

  const weights = new Map<string, TfjsWeight>();
  for (const group of manifest as { paths?: unknown; weights?: unknown }[]) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights))
      throw fileError(
        file,
        text,
        "a weightsManifest group needs 'paths' and 'weights' arrays",
        '"paths"',
      );
    const shards = (group.paths as string[]).map((p) =>
      readOrFail(join(dirname(file), p), "weight shard"),
    );
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const entry of group.weights as WeightEntry[]) {
      const name = String(entry?.name);
      const shape = Array.isArray(entry?.shape) ? entry.shape : [];
      const count = shape.reduce((a, b) => a * b, 1);
      const stored = entry.quantization?.dtype ?? entry.dtype;
      const width = BYTES[stored];
      if (width === undefined)
        throw fileError(
          file,
          text,
          `weight '${name}' has unsupported dtype '${stored}'`,
          `"${name}"`,
        );
      const size = count * width;
      if (offset + size > bytes.byteLength)
        throw fileError(
          file,
          text,
          `weight '${name}' needs bytes ${offset}..${offset + size} but the shards of its group hold ${bytes.byteLength}`,
          `"${name}"`,
        );
      const slice = bytes.subarray(offset, offset + size);
      offset += size;
      // Optimizer state (tfjs `includeOptimizer`) is not a model weight.
      if (entry.group === "optimizer") continue;
      if (entry.dtype !== "float32")
        throw fileError(
          file,
          text,
          `weight '${name}' is ${entry.dtype}, expected float32`,
          `"${name}"`,
        );
      weights.set(name, { shape, data: decode(slice, stored, count, entry.quantization) });
    }
  }
  return { file, weights, text };
}

function decode(
  bytes: Buffer,
  stored: string,
  count: number,
  q: WeightEntry["quantization"],
): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  if (stored === "float32") {
    // One copy into an aligned buffer; little-endian hosts then read it as is.
    if (littleEndian) return new Float32Array(Uint8Array.from(bytes).buffer);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  }
  // tfjs affine quantization: value = q * scale + min.
  const scale = q?.scale ?? 1;
  const min = q?.min ?? 0;
  for (let i = 0; i < count; i++) {
    const v = stored === "uint8" ? view.getUint8(i) : view.getUint16(i * 2, true);
    out[i] = v * scale + min;
  }
  return out;
}

/**
 * Reads tfjs weights and checks them against the graph's parameters: every missing, extra or
 * wrong-shaped weight is one RSC401 diagnostic naming it (missing ones at the layer's spec line,
 * the others at their entry in model.json). Throws CliError (exit 1) listing them all.
 */
export function loadWeightsForGraph(
  path: string,
  graph: Graph,
): { file: string; weights: Map<string, Float32Array> } {
  const { file, weights, text } = readTfjsWeights(path);
  const diagnostics: Diagnostic[] = [];
  const out = new Map<string, Float32Array>();
  const expected = new Set<string>();
  for (const node of graph.nodes) {
    for (const p of node.params) {
      expected.add(p.name);
      const w = weights.get(p.name);
      if (w === undefined) {
        const { file: specFile, line, column } = node.origin;
        diagnostics.push({
          severity: "error",
          code: "RSC401",
          message: `weight '${p.name}' [${p.shape.join(", ")}] of layer '${node.name}' is missing from ${file}`,
          file: specFile,
          line,
          column,
        });
      } else if (w.shape.length !== p.shape.length || w.shape.some((d, i) => d !== p.shape[i])) {
        diagnostics.push({
          severity: "error",
          code: "RSC401",
          message: `weight '${p.name}' has shape [${w.shape.join(", ")}] in ${file}, the model needs [${p.shape.join(", ")}]`,
          file,
          ...locate(text, `"${p.name}"`),
        });
      } else {
        out.set(p.name, w.data);
      }
    }
  }
  for (const name of weights.keys()) {
    if (expected.has(name)) continue;
    diagnostics.push({
      severity: "error",
      code: "RSC401",
      message: `weight '${name}' in ${file} is not a weight of model '${graph.name}'`,
      file,
      ...locate(text, `"${name}"`),
    });
  }
  if (diagnostics.length > 0) {
    const n = diagnostics.length;
    throw new CliError(
      `${n} weight${n === 1 ? "" : "s"} of ${file} do not match the model`,
      ExitCode.SpecError,
      diagnostics,
    );
  }
  // Keep graph order: the same map a seeded build would give.
  const ordered = new Map<string, Float32Array>();
  for (const p of graphParams(graph)) ordered.set(p.name, out.get(p.name)!);
  return { file, weights: ordered };
}
