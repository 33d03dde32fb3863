/**
 * The IR: an immutable, typed, topologically ordered graph in Keras's logical layout
 * (NHWC activations, HWIO conv kernels, [in, out] dense kernels). Backends lower it; `rsc diff`,
 * golden files and hashes work on its canonical JSON form (see canonical.ts).
 */
import type { CallSite, SourceLocation } from "./diagnostics.js";
import type { OpAttrs, OpName } from "./ops/types.js";
import { type ParamSpec, type Shape, shapeSize } from "./tensor.js";

export { type Initializer, type ParamSpec, type Shape, shapeSize } from "./tensor.js";

/** Where a node came from: its layer line, and each template call site that produced it. */
export interface Origin extends SourceLocation {
  /** Call sites, innermost first: a node made from a block template knows the `bottleneck:` call. */
  readonly callSites: readonly CallSite[];
}

/** One layer of the model. `attrs` is typed by `op` (a tagged union over the op registry). */
export type Node = {
  [K in OpName]: {
    /** Unique layer name (the Keras layer name). */
    readonly name: string;
    readonly op: K;
    /** Names of the nodes feeding this one, in order. Empty only for `input`. */
    readonly inputs: readonly string[];
    /** Normalised attributes: every default filled in, every pair expanded. */
    readonly attrs: OpAttrs[K];
    readonly params: readonly ParamSpec[];
    /** Inferred output shape (batch excluded). */
    readonly outputShape: Shape;
    readonly origin: Origin;
  };
}[OpName];

/** A model graph; `nodes` are topologically ordered, inputs first. */
export interface Graph {
  /** Model name from the spec (`name:`), e.g. `resnet50`. */
  readonly name: string;
  /** Names of the `input` nodes, in declaration order. */
  readonly inputs: readonly string[];
  /** Names of the output nodes (by default the last layer). */
  readonly outputs: readonly string[];
  readonly nodes: readonly Node[];
}

/** Parameter totals, counted as Keras's `model.summary()` counts them. */
export interface ParamCounts {
  readonly total: number;
  readonly trainable: number;
  readonly nonTrainable: number;
}

/** Counts a node's parameters. */
export function nodeParamCounts(node: Node): ParamCounts {
  let trainable = 0;
  let nonTrainable = 0;
  for (const p of node.params) {
    if (p.trainable) trainable += shapeSize(p.shape);
    else nonTrainable += shapeSize(p.shape);
  }
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

/** Counts a graph's parameters. */
export function graphParamCounts(graph: Graph): ParamCounts {
  let trainable = 0;
  let nonTrainable = 0;
  for (const node of graph.nodes) {
    const c = nodeParamCounts(node);
    trainable += c.trainable;
    nonTrainable += c.nonTrainable;
  }
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

/** The nodes that read each node's output, by its name, in graph order (a node reading twice is listed twice). */
export function graphReaders(graph: Graph): Map<string, Node[]> {
  const readers = new Map<string, Node[]>();
  for (const node of graph.nodes)
    for (const input of node.inputs) {
      const list = readers.get(input);
      if (list === undefined) readers.set(input, [node]);
      else list.push(node);
    }
  return readers;
}

/** Every parameter of the graph in node order. */
export function graphParams(graph: Graph): ParamSpec[] {
  return graph.nodes.flatMap((n) => n.params);
}
