/**
 * The per-layer counts a picture shows: in each layer's box and tooltip, and summed over a
 * collapsed block's layers. This list is the one place to add a count: an entry here appears in
 * every label, tooltip and block total of every format (DOT, SVG, PNG, Mermaid).
 */
import { formatCount, type Graph, layerMacs, type Node, nodeParamCounts } from "@rsc/compiler";

/** One count of a layer, e.g. its parameters. */
export interface Measure {
  /** The word after the number, plural: `params`. */
  readonly unit: string;
  /** The count for one layer (0 when it has none). */
  readonly count: (node: Node) => number;
  /** The number as text; default thousands separators (`23,587,712`). */
  readonly format?: (count: number) => string;
}

/** The counts every picture shows, in this order. */
export const MEASURES: readonly Measure[] = [
  { unit: "params", count: (node) => nodeParamCounts(node).total },
];

/**
 * The counts of a picture of `graph`: {@link MEASURES}, then multiply-accumulates per example
 * (the compiler's count, which needs each layer's input shapes, hence the graph).
 */
export function graphMeasures(graph: Graph): readonly Measure[] {
  const macs = layerMacs(graph);
  return [...MEASURES, { unit: "MACs", count: (node) => macs.get(node.name) ?? 0 }];
}

/** One measured count, ready to print. */
export interface Measured {
  readonly unit: string;
  readonly count: number;
  /** The count formatted: `224`. */
  readonly value: string;
  /** `224 params`. */
  readonly text: string;
}

/** Every measure of some layers (one layer, or a block's), summed. */
export function measure(nodes: readonly Node[], measures = MEASURES): Measured[] {
  return measures.map((m) => {
    const count = nodes.reduce((sum, node) => sum + m.count(node), 0);
    const value = (m.format ?? formatCount)(count);
    return { unit: m.unit, count, value, text: `${value} ${m.unit}` };
  });
}
