/**
 * The compute cost of a graph for one example: multiply-accumulates (each op's `macs`, counted
 * as torchvision's GFLOPS and fvcore's conv/linear handles count them) and activation memory
 * (every layer's output, float32). Reporting only: nothing here changes the IR or an artifact.
 * What is and is not counted: docs/architecture-review.md, "Compute cost".
 */
import type { Graph, Node } from "./ir.js";
import type { OpDef } from "./ops/op-def.js";
import { OPS } from "./ops/registry.js";
import { type Shape, shapeSize } from "./tensor.js";

/** Bytes of one activation value: the backends compute in float32. */
export const BYTES_PER_ACTIVATION = 4;

/** A graph's cost for one example (batch 1). */
export interface GraphCost {
  /** Multiply-accumulates of every layer, summed (exact below 2^53, as every count here). */
  readonly macs: number;
  /** Values of every layer's output tensor, summed: the model's inputs (the `input` layers) included. */
  readonly activations: number;
  /** `activations * 4` bytes (float32). */
  readonly activationBytes: number;
}

/**
 * Multiply-accumulates of one layer for one example, given the output shapes of the layers it
 * reads (`node.inputs`, in order).
 */
export function nodeMacs(node: Node, inputShapes: readonly Shape[]): number {
  const def = OPS[node.op] as unknown as OpDef;
  return def.macs(inputShapes, node.attrs, node.outputShape);
}

/** Multiply-accumulates of every layer for one example, by layer name, in graph order. */
export function layerMacs(graph: Graph): ReadonlyMap<string, number> {
  const shapes = new Map(graph.nodes.map((n) => [n.name, n.outputShape]));
  return new Map(
    graph.nodes.map((n) => [
      n.name,
      nodeMacs(
        n,
        n.inputs.map((i) => shapes.get(i)!),
      ),
    ]),
  );
}

/** The cost of a whole graph for one example. */
export function graphCost(graph: Graph): GraphCost {
  let macs = 0;
  for (const m of layerMacs(graph).values()) macs += m;
  let activations = 0;
  for (const n of graph.nodes) activations += shapeSize(n.outputShape);
  return { macs, activations, activationBytes: activations * BYTES_PER_ACTIVATION };
}
