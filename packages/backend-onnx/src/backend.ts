/** The ONNX backend as one object: its name, its lowering table and its emitter. */
import type { Graph, WeightMap } from "@rsc/compiler";
import { type EmitOptions, type EmitResult, emitOnnx } from "./emit.js";
import type { LoweringTable } from "./lowering.js";
import { ONNX_LOWERINGS } from "./lowerings.js";

/** A backend: lowers IR graphs with one lowering per op. */
export interface OnnxBackend {
  /** Target name, as `rsc build --target` spells it. */
  readonly name: "onnx";
  /** One lowering per IR op. */
  readonly ops: LoweringTable;
  /** Lowers and encodes a graph with its weights (Keras names and layouts). */
  emit(graph: Graph, weights: WeightMap, options?: EmitOptions): EmitResult;
}

/** The ONNX backend. */
export const onnxBackend: OnnxBackend = {
  name: "onnx",
  ops: ONNX_LOWERINGS,
  emit: (graph, weights, options = {}) => emitOnnx(graph, weights, options, ONNX_LOWERINGS),
};
