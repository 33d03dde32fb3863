/**
 * IR -> IR: a global pooling (keepdims false, `[h, w, c] -> [c]`) read only by a `reshape` to
 * `[1, 1, c]` is the same pooling with keepdims (keras.applications' squeeze-and-excitation
 * blocks write `GlobalAveragePooling2D` + `Reshape((1, 1, c))`). The pooling takes the reshape's
 * output shape and the reshape leaves the graph; its readers read the pooling. Exact: the same
 * values in the same order. Not folded when either layer is a graph output or the pooling has
 * other readers.
 */
import { type Graph, graphReaders, type Node } from "../ir.js";

type GlobalPool = Extract<
  Node,
  { readonly op: "global_average_pooling2d" | "global_max_pooling2d" }
>;

const isGlobalPool = (n: Node): n is GlobalPool =>
  n.op === "global_average_pooling2d" || n.op === "global_max_pooling2d";

/** `graph` with each such pooling + reshape pair folded; the same graph if none. */
export function foldPoolReshape(graph: Graph): Graph {
  const readers = graphReaders(graph);
  const outputs = new Set(graph.outputs);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  /** reshape name -> the pooling it folds into. */
  const folded = new Map<string, GlobalPool>();
  for (const node of graph.nodes) {
    if (node.op !== "reshape" || outputs.has(node.name)) continue;
    const pool = byName.get(node.inputs[0]!);
    if (pool === undefined || !isGlobalPool(pool) || pool.attrs.keepdims === true) continue;
    if (outputs.has(pool.name) || (readers.get(pool.name) ?? []).length !== 1) continue;
    const [h, w, c] = node.outputShape;
    if (node.outputShape.length !== 3 || h !== 1 || w !== 1 || c !== pool.outputShape[0]) continue;
    folded.set(node.name, pool);
  }
  if (folded.size === 0) return graph;
  const pools = new Map([...folded.values()].map((p) => [p.name, p]));
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (folded.has(node.name)) continue;
    if (pools.has(node.name)) {
      nodes.push({
        ...node,
        attrs: { ...(node as GlobalPool).attrs, keepdims: true },
        outputShape: [1, 1, node.outputShape[0]!],
      } as Node);
      continue;
    }
    nodes.push({
      ...node,
      inputs: node.inputs.map((i) => folded.get(i)?.name ?? i),
    } as Node);
  }
  return { ...graph, nodes };
}
