/**
 * IR -> IR: folds a `zero_padding2d` into the ops that read it when every one of them can pad
 * its own input with zeros (an op definition's `absorbsZeroPadding`, e.g. conv2d's pads). Exact:
 * both pad with zeros. The padding layer leaves the graph; each reader takes the padding layer's
 * input and records the padding as `attrs.folded_padding` (with the folded layer's name).
 *
 * Not folded: a padding layer that is a graph output, that nobody reads, or that feeds any op
 * that cannot absorb it (a pooling window skips padded cells instead of reading zeros). The
 * decision is made once on the given graph, so a chain of two paddings folds only the last.
 */
import { type Graph, graphReaders, type Node } from "../ir.js";
import type { FoldedPadding } from "../ops/op-def.js";
import { OPS } from "../ops/registry.js";

type ZeroPadding = Extract<Node, { readonly op: "zero_padding2d" }>;

/** True when the op's definition declares it can absorb explicit zero padding of its one input. */
export function absorbsZeroPadding(op: Node["op"]): boolean {
  const def = OPS[op];
  return def.absorbsZeroPadding === true && def.arity.max === 1;
}

/** The padding layers to fold, by the name of each op reading them. */
function foldablePaddings(graph: Graph): Map<string, ZeroPadding> {
  const readers = graphReaders(graph);
  const outputs = new Set(graph.outputs);
  const folded = new Map<string, ZeroPadding>();
  for (const node of graph.nodes) {
    if (node.op !== "zero_padding2d" || outputs.has(node.name)) continue;
    const users = readers.get(node.name) ?? [];
    if (users.length === 0 || !users.every((u) => absorbsZeroPadding(u.op))) continue;
    for (const user of users) folded.set(user.name, node);
  }
  return folded;
}

/** `graph` with every foldable `zero_padding2d` folded into its readers; the same graph if none. */
export function foldZeroPadding(graph: Graph): Graph {
  const folded = foldablePaddings(graph);
  if (folded.size === 0) return graph;
  const removed = new Set([...folded.values()].map((p) => p.name));
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (removed.has(node.name)) continue;
    const pad = folded.get(node.name);
    if (pad === undefined) {
      nodes.push(node);
      continue;
    }
    const folding: FoldedPadding = { padding: pad.attrs.padding, layer: pad.name };
    // The op declared it absorbs padding, so its attributes carry `folded_padding`.
    nodes.push({
      ...node,
      inputs: node.inputs.map((input) => (input === pad.name ? pad.inputs[0]! : input)),
      attrs: { ...node.attrs, folded_padding: folding },
    } as Node);
  }
  return { ...graph, nodes };
}
