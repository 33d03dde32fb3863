/**
 * The picture's model: boxes and arrows drawn from an IR graph, like Keras's
 * `plot_model(show_shapes=True)`: each layer's name, Keras class and output shape. With
 * `collapse`, each block-template instance becomes one box (block, label, layer and parameter
 * counts, input and output shapes).
 */
import {
  blockInstances,
  formatCount,
  type Graph,
  nodeParamCounts,
  OPS,
  type Shape,
} from "@rsc/compiler";

/** One box of the picture. */
export interface PictureNode {
  /** Identifier in the generated DOT / Mermaid text (`n12`, `b3`). */
  readonly id: string;
  /** `layer` for one IR node, `block` for a collapsed block instance. */
  readonly kind: "layer" | "block";
  /** Lines of the box, top to bottom: title, kind, shapes. */
  readonly lines: readonly string[];
}

/** The boxes and arrows of a picture, in graph order. */
export interface Picture {
  readonly name: string;
  readonly nodes: readonly PictureNode[];
  /** Arrows between node ids, deduplicated, in graph order. */
  readonly edges: readonly (readonly [from: string, to: string])[];
}

/** A shape as Keras prints it, batch first: `(None, 64, 64, 3)`. */
function kerasShape(shape: Shape): string {
  return `(None, ${shape.join(", ")})`;
}

/** Builds the picture of a graph; `collapse` draws each block instance as one box. */
export function buildPicture(graph: Graph, { collapse = false } = {}): Picture {
  const boxOf = new Map<string, string>();
  const nodes: PictureNode[] = [];
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const instances = collapse ? blockInstances(graph) : [];
  const firstOf = new Map(instances.map((inst, i) => [inst.nodes[0]!, i]));
  for (const [i, inst] of instances.entries()) {
    for (const name of inst.nodes) boxOf.set(name, `b${i}`);
  }
  for (const [index, node] of graph.nodes.entries()) {
    const instanceIndex = firstOf.get(node.name);
    if (instanceIndex !== undefined) {
      const inst = instances[instanceIndex]!;
      const members = new Set(inst.nodes);
      const inner = inst.nodes.map((n) => byName.get(n)!);
      const inputs = [
        ...new Set(inner.flatMap((n) => n.inputs).filter((i) => !members.has(i))),
      ].map((i) => kerasShape(byName.get(i)!.outputShape));
      const params = inner.reduce((s, n) => s + nodeParamCounts(n).total, 0);
      nodes.push({
        id: `b${instanceIndex}`,
        kind: "block",
        lines: [
          `${inst.block} ${inst.label}`,
          `${inner.length} layers, ${formatCount(params)} params`,
          `${inputs.join(", ") || "()"} → ${kerasShape(inner.at(-1)!.outputShape)}`,
        ],
      });
      continue;
    }
    if (boxOf.has(node.name)) continue;
    const id = `n${index}`;
    boxOf.set(node.name, id);
    nodes.push({
      id,
      kind: "layer",
      lines: [`${node.name}: ${OPS[node.op].kerasClass}`, kerasShape(node.outputShape)],
    });
  }
  const seen = new Set<string>();
  const edges: (readonly [string, string])[] = [];
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      const from = boxOf.get(input)!;
      const to = boxOf.get(node.name)!;
      const key = `${from}>${to}`;
      if (from === to || seen.has(key)) continue;
      seen.add(key);
      edges.push([from, to]);
    }
  }
  return { name: graph.name, nodes, edges };
}
