/**
 * The ONNX backend as the compiler's one backend contract: `emit` lowers a graph with its weights
 * into the model file and, when the weights are too large for one protobuf message, its
 * `<output>.data` sibling. Both are streamed tensor by tensor when the CLI writes them.
 */
import {
  type ArtifactFile,
  type Backend,
  type Graph,
  graphParamCounts,
  type WeightMap,
} from "@rsc/compiler";
import { type EmitOptions, type EmitResult, emitOnnx, type Precision } from "./emit.js";
import { ONNX_BACKEND_INFO } from "./info.js";
import type { LoweringTable } from "./lowering.js";
import { ONNX_LOWERINGS } from "./lowerings.js";
import type { EncodedFile } from "./model-writer.js";

function artifactFile(name: string, file: EncodedFile): ArtifactFile {
  return { name, size: file.byteLength, writeTo: (sink) => file.writeTo(sink) };
}

/** How {@link onnxBackend} stores and computes floats (`rsc build --precision`, `--io`). */
export interface OnnxPrecision {
  /** Weights and activations (default fp32). */
  readonly precision?: Precision;
  /** The graph's inputs and outputs (default fp32; fp16 needs `precision` fp16). */
  readonly io?: Precision;
}

/**
 * The ONNX backend at one precision. `flags.externalDataThreshold` (bytes) overrides the default
 * threshold above which initializers go to external data; stats are `{ params, nodes,
 * initializers }`. Throws when `io` is fp16 and `precision` is not (the CLI refuses it first).
 */
export function onnxBackend({
  precision = "fp32",
  io = "fp32",
}: OnnxPrecision = {}): Backend<LoweringTable> {
  if (io === "fp16" && precision !== "fp16")
    throw new Error("onnxBackend: io fp16 needs precision fp16");
  return {
    ...ONNX_BACKEND_INFO,
    ops: ONNX_LOWERINGS,
    async emit(graph, weights, options) {
      const threshold = options.flags["externalDataThreshold"];
      const dataName = `${options.outputName}.data`;
      const result = emitOnnx(
        graph,
        weights,
        {
          producerVersion: options.producerVersion,
          specHash: options.specHash,
          ...(options.seed === undefined ? {} : { seed: options.seed }),
          ...(options.weightsSource === undefined ? {} : { weightsSource: options.weightsSource }),
          ...(options.inputScaling === undefined ? {} : { inputScaling: options.inputScaling }),
          ...(threshold === undefined ? {} : { externalDataThreshold: threshold }),
          ...(precision === "fp32" ? {} : { precision, ioPrecision: io }),
          externalDataName: dataName,
        },
        this.ops,
      );
      const stats = {
        params: result.stats?.params ?? graphParamCounts(graph).total,
        nodes: result.stats?.nodes ?? 0,
        initializers: result.stats?.initializers ?? 0,
      };
      if (result.model === undefined) return { diagnostics: result.diagnostics, stats };
      const files = [artifactFile(options.outputName, result.model)];
      if (result.externalData !== undefined)
        files.push(artifactFile(dataName, result.externalData));
      return { files, diagnostics: result.diagnostics, stats };
    },
  };
}

/** The ONNX backend at the default precision (float32 throughout). */
export const ONNX_BACKEND: Backend<LoweringTable> = onnxBackend();

/**
 * The model in memory (the same bytes {@link ONNX_BACKEND} writes), for tests and programmatic
 * use: emitOnnx with the ONNX lowerings.
 */
export function emitOnnxModel(
  graph: Graph,
  weights: WeightMap,
  options: EmitOptions = {},
): EmitResult {
  return emitOnnx(graph, weights, options, ONNX_LOWERINGS);
}
