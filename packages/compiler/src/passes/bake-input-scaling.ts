/**
 * IR -> IR: puts an input scaling into the graph, so that a deployed model takes what the data
 * file holds (raw 0-255 pixels) instead of what training fed it (pixels / 255). Each image input
 * gets a `rescaling` layer (Keras Rescaling: x * scale + offset, no weights) right after it, and
 * every reader of the input reads the rescaling instead. Weights are untouched: the new layer has
 * none, so trained weights still load by name.
 */
import type { Graph, Node } from "../ir.js";

/** x * scale + offset, applied to every input before the model sees it. */
export interface InputScaling {
  readonly scale: number;
  readonly offset: number;
}

/** The name of the rescaling layer baked after `input`. */
export function bakedScalingName(input: string): string {
  return `${input}_rescaling`;
}

/**
 * `graph` with a `rescaling` layer after each input, or the name that is already taken by a layer
 * of the spec (`<input>_rescaling`), for the caller to report.
 */
export function bakeInputScaling(
  graph: Graph,
  scaling: InputScaling,
): { readonly graph: Graph } | { readonly clash: string } {
  const taken = new Set(graph.nodes.map((n) => n.name));
  const renamed = new Map<string, string>();
  for (const input of graph.inputs) {
    const name = bakedScalingName(input);
    if (taken.has(name)) return { clash: name };
    renamed.set(input, name);
  }
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (node.op === "input") {
      nodes.push(node);
      nodes.push({
        name: renamed.get(node.name)!,
        op: "rescaling",
        inputs: [node.name],
        attrs: { scale: scaling.scale, offset: scaling.offset },
        params: [],
        outputShape: node.outputShape,
        origin: node.origin,
      });
      continue;
    }
    nodes.push({ ...node, inputs: node.inputs.map((i) => renamed.get(i) ?? i) } as Node);
  }
  return {
    graph: {
      ...graph,
      // An input that is also an output stays an output: the baked layer is what it now returns.
      outputs: graph.outputs.map((o) => renamed.get(o) ?? o),
      nodes,
    },
  };
}
