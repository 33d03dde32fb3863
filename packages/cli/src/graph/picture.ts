/**
 * The picture's model: boxes and arrows drawn from an IR graph, like Keras's
 * `plot_model(show_shapes=True)`: each layer's name and Keras class, its key attributes, output
 * shape and counts (measures.ts), with every attribute in its tooltip. With `collapse`, each
 * block-template instance becomes one box (block, label, layer count, counts, input and output
 * shapes; its layers in the tooltip). Every text a reader sees names layers, never box ids.
 */
import { blockInstances, type Graph, type Node } from "@rsc/compiler";
import { allAttrs, kerasShape, keyAttrs, layerTitle, wrapParts } from "./layer-text.js";
import { graphMeasures, type Measure, type Measured, measure } from "./measures.js";

/** One box of the picture. */
export interface PictureNode {
  /** Key of the box in edges and in Mermaid text (`n12`, `b3`); never shown. */
  readonly id: string;
  /** The box's unique name: its layer's, or `block label`; DOT's node id (so SVG titles read it). */
  readonly name: string;
  /** `layer` for one IR node, `block` for a collapsed block instance. */
  readonly kind: "layer" | "block";
  /** Fields of the box, top to bottom, each of one or more lines: title, attributes, shapes, counts. */
  readonly fields: readonly (readonly string[])[];
  /** The tooltip, line by line: every attribute, the inputs, the output shape, the counts. */
  readonly tooltip: readonly string[];
}

/** One arrow between two boxes. */
export interface PictureEdge {
  /** Box ids. */
  readonly from: string;
  readonly to: string;
  /** `stem → unita_conv` and the shape of the tensor it carries. */
  readonly tooltip: readonly string[];
}

/** The boxes and arrows of a picture, in graph order. */
export interface Picture {
  readonly name: string;
  readonly nodes: readonly PictureNode[];
  /** Arrows between boxes, one per pair, in graph order. */
  readonly edges: readonly PictureEdge[];
}

/** The counts of a box, `616 params`, as one field (none when every count is 0). */
function countsField(counts: readonly Measured[]): string[][] {
  const shown = counts.filter((c) => c.count !== 0).map((c) => c.text);
  return shown.length === 0 ? [] : [wrapParts(shown)];
}

const countLines = (counts: readonly Measured[]) => counts.map((c) => `${c.unit}: ${c.value}`);

/** The box of one layer. */
function layerBox(id: string, node: Node, measures: readonly Measure[]): PictureNode {
  const attrs = keyAttrs(node);
  const counts = measure([node], measures);
  return {
    id,
    name: node.name,
    kind: "layer",
    fields: [
      [layerTitle(node)],
      ...(attrs.length === 0 ? [] : [wrapParts(attrs)]),
      [kerasShape(node.outputShape)],
      ...countsField(counts),
    ],
    tooltip: [
      layerTitle(node),
      ...(node.inputs.length === 0 ? [] : [`from: ${node.inputs.join(", ")}`]),
      ...allAttrs(node),
      `output: ${kerasShape(node.outputShape)}`,
      ...countLines(counts),
    ],
  };
}

/** `name` made unique among `taken` (`unit a`, `unit a (2)`), and taken. */
function uniqueName(name: string, taken: Set<string>): string {
  let unique = name;
  for (let i = 2; taken.has(unique); i++) unique = `${name} (${i})`;
  taken.add(unique);
  return unique;
}

/** Options of {@link buildPicture}. */
export interface PictureOptions {
  /** Draw each block instance as one box. */
  readonly collapse?: boolean;
  /** The counts to show; default {@link graphMeasures} of the graph (params, MACs). */
  readonly measures?: readonly Measure[];
}

/** Builds the picture of a graph. */
export function buildPicture(
  graph: Graph,
  { collapse = false, measures = graphMeasures(graph) }: PictureOptions = {},
): Picture {
  const boxOf = new Map<string, PictureNode>();
  const nodes: PictureNode[] = [];
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const taken = new Set(graph.nodes.map((n) => n.name));
  const instances = collapse ? blockInstances(graph) : [];
  const firstOf = new Map(instances.map((inst, i) => [inst.nodes[0]!, i]));
  const instanceOf = new Map<string, number>();
  for (const [i, inst] of instances.entries()) {
    for (const name of inst.nodes) instanceOf.set(name, i);
  }
  for (const [index, node] of graph.nodes.entries()) {
    const instanceIndex = firstOf.get(node.name);
    if (instanceIndex !== undefined) {
      const inst = instances[instanceIndex]!;
      const members = new Set(inst.nodes);
      const inner = inst.nodes.map((n) => byName.get(n)!);
      const sources = [...new Set(inner.flatMap((n) => n.inputs).filter((i) => !members.has(i)))];
      const inputs = sources.map((i) => kerasShape(byName.get(i)!.outputShape));
      const output = kerasShape(inner.at(-1)!.outputShape);
      const counts = measure(inner, measures);
      const layers = `${inner.length} layer${inner.length === 1 ? "" : "s"}`;
      const name = uniqueName(`${inst.block} ${inst.label}`, taken);
      const box: PictureNode = {
        id: `b${instanceIndex}`,
        name,
        kind: "block",
        fields: [
          [name],
          wrapParts([layers, ...counts.filter((c) => c.count !== 0).map((c) => c.text)]),
          [`${inputs.join(", ") || "()"} → ${output}`],
        ],
        tooltip: [
          `${name}: block ${inst.block}, ${layers}`,
          ...(sources.length === 0 ? [] : [`from: ${sources.join(", ")}`]),
          `input: ${inputs.join(", ") || "()"}`,
          `output: ${output}`,
          ...countLines(counts),
          "layers:",
          ...inner.map((n) => {
            const attrs = keyAttrs(n);
            return `- ${layerTitle(n)}${attrs.length === 0 ? "" : ` (${attrs.join(", ")})`}`;
          }),
        ],
      };
      for (const member of inst.nodes) boxOf.set(member, box);
      nodes.push(box);
      continue;
    }
    if (instanceOf.has(node.name)) continue;
    const box = layerBox(`n${index}`, node, measures);
    boxOf.set(node.name, box);
    nodes.push(box);
  }
  return { name: graph.name, nodes, edges: edgesOf(graph, boxOf) };
}

/** One arrow per pair of boxes, in graph order, each naming the shapes it carries. */
function edgesOf(graph: Graph, boxOf: ReadonlyMap<string, PictureNode>): PictureEdge[] {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const edges = new Map<string, { from: PictureNode; to: PictureNode; shapes: Set<string> }>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      const from = boxOf.get(input)!;
      const to = boxOf.get(node.name)!;
      if (from === to) continue;
      const key = `${from.id}>${to.id}`;
      const edge = edges.get(key) ?? { from, to, shapes: new Set() };
      edge.shapes.add(kerasShape(byName.get(input)!.outputShape));
      edges.set(key, edge);
    }
  }
  return [...edges.values()].map(({ from, to, shapes }) => ({
    from: from.id,
    to: to.id,
    tooltip: [`${from.name} → ${to.name}`, ...shapes],
  }));
}
