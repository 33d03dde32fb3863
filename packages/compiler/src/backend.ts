/**
 * The one backend contract (protobuf-es's plugin shape: a backend returns files, the CLI writes
 * them). A backend takes a graph, its weights (Keras names and layouts) and options, and returns
 * the files of its artifact, each with its size and a streaming writer, plus diagnostics and
 * stats. It never touches the file system: the CLI has one build path for every backend, which
 * writes the files atomically and shows progress.
 */
import type { Diagnostic } from "./diagnostics.js";
import type { Graph } from "./ir.js";
import type { OpName } from "./ops/types.js";
import type { InputScaling } from "./passes/bake-input-scaling.js";
import type { WeightMap } from "./weights.js";

/** Receives a file's bytes in order; a chunk may be a reused buffer, consumed before returning. */
export type ByteSink = (chunk: Uint8Array) => void;

/** One file of an artifact, produced on demand (streamed, so no file need fit in one buffer). */
export interface ArtifactFile {
  /**
   * File name, relative to the artifact's folder: for a `file` artifact the first file is the
   * output itself (its name is {@link BackendOptions.outputName}) and the others are its siblings;
   * for a `folder` artifact every file is inside the output folder.
   */
  readonly name: string;
  /** Size in bytes, known before writing (progress bars, `--json`). */
  readonly size: number;
  /** Streams the whole file to `sink`, in order; may be called once per write. */
  writeTo(sink: ByteSink): void;
}

/** A file given whole, as an {@link ArtifactFile}. */
export function bytesFile(name: string, bytes: Uint8Array): ArtifactFile {
  return { name, size: bytes.byteLength, writeTo: (sink) => sink(bytes) };
}

/** What every backend is told about the build, whatever its target. */
export interface BackendOptions {
  /** The output's file or folder name (no path), e.g. `resnet50.onnx`: names sibling files. */
  readonly outputName: string;
  /** rsc version, recorded in the artifact's metadata. */
  readonly producerVersion: string;
  /** sha256 (hex) of the spec's canonical IR (SpecInfo.hash). */
  readonly specHash: string;
  /** Seed the weights came from; absent for loaded weights. */
  readonly seed?: number;
  /** Where loaded weights came from (a file name, no folder, so bytes never depend on paths). */
  readonly weightsSource?: string;
  /**
   * How inputs are scaled before the model sees them (x * scale + offset), when known: recorded
   * by `rsc train` with the weights. `baked`: the scaling is a layer of the graph (the deployed
   * model takes raw pixels); otherwise the caller must apply it. Recorded in the artifact's metadata.
   */
  readonly inputScaling?: InputScaling & { readonly baked: boolean };
  /** Values of the backend's own {@link BackendFlag}s that were given, by `key`. */
  readonly flags: Readonly<Record<string, number>>;
}

/**
 * A command-line flag of one backend, registered on `rsc build` by the CLI. Its value is a whole
 * number (a byte count, a size): the CLI parses it once and passes it in {@link BackendOptions.flags}.
 */
export interface BackendFlag {
  /** Key in {@link BackendOptions.flags}, e.g. `externalDataThreshold`. */
  readonly key: string;
  /** Flag spelling with its value, e.g. `--external-data-threshold <bytes>`. */
  readonly flag: string;
  /** Help text. */
  readonly description: string;
  /** Smallest accepted value (inclusive). */
  readonly min: number;
  /** Largest accepted value (inclusive); at most `Number.MAX_SAFE_INTEGER`. */
  readonly max: number;
  /** Unit of the value, named in the CLI's errors, e.g. `bytes`. */
  readonly unit?: string;
}

/** What a backend returns: the artifact's files, or the diagnostics that prevented them. */
export interface BackendResult {
  /**
   * The files, main file first (for a `file` artifact, the output itself), then its siblings;
   * absent when there were errors. The CLI writes a `file` artifact's siblings before the main
   * file, so a model never points at a data file that is not there yet.
   */
  readonly files?: readonly ArtifactFile[];
  /** Warnings, and the errors that made `files` absent (located at spec lines). */
  readonly diagnostics: readonly Diagnostic[];
  /** Figures for the build report and `--json`, e.g. `{ params, nodes, initializers }`. */
  readonly stats: Readonly<Record<string, number>>;
}

/**
 * What the CLI knows of a backend before loading it: enough to register `rsc build --target` and
 * the backend's flags. A backend package exports it from a module that imports no runtime, so
 * `rsc` starts without loading any backend.
 */
export interface BackendInfo {
  /** Target name, as `rsc build --target` spells it. */
  readonly name: string;
  /** `file`: the output path is the main file (siblings beside it); `folder`: a folder of files. */
  readonly artifact: "file" | "folder";
  /** Default output path for a spec whose file stem is `stem`, e.g. `build/resnet50.onnx`. */
  defaultOutput(stem: string): string;
  /** Flags of its own, e.g. ONNX's `--external-data-threshold`. */
  readonly flags: readonly BackendFlag[];
}

/** A backend: its {@link BackendInfo}, one lowering per IR op, and an emitter. */
export interface Backend<Lowerings = { readonly [K in OpName]: unknown }> extends BackendInfo {
  /** One lowering per IR op (the registry's every op; a test checks none is missing). */
  readonly ops: Lowerings;
  /** Lowers a graph with its weights into the artifact's files. */
  emit(graph: Graph, weights: WeightMap, options: BackendOptions): Promise<BackendResult>;
}
