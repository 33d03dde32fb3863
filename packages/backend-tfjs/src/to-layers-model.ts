/**
 * IR + weights -> tf.LayersModel (functional API): one tf.input per `input` node, one layer per
 * other node built by its op's lowering, every layer named as the spec names it, and every weight
 * set from the compiler's values by Keras name (tfjs's own initializers are never used).
 */
import {
  type Diagnostic,
  type Graph,
  locatedError,
  type Node,
  type Origin,
  shapeSize,
  type WeightMap,
} from "@rsc/compiler";
import { type Tensor, tensor } from "@tensorflow/tfjs-core";
import { input, type LayersModel, model, type SymbolicTensor } from "@tensorflow/tfjs-layers";
import { type Lowering, type LoweringTable, TFJS_LOWERINGS } from "./lowerings.js";

/** Options of {@link lowerGraph}. */
export interface LowerOptions {
  /** Lowerings to use; defaults to {@link TFJS_LOWERINGS}. */
  readonly ops?: LoweringTable;
}

/** A lowered model, or the diagnostics that prevented it. */
export interface LowerResult {
  /** The model, when there were no errors. */
  readonly model?: LayersModel;
  readonly diagnostics: readonly Diagnostic[];
}

/** Thrown by {@link toLayersModel} when the graph cannot be lowered; carries located diagnostics. */
export class TfjsLoweringError extends Error {
  constructor(
    /** The located errors (RSC400 no lowering, RSC401 weights do not match). */
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(
      diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.code}: ${d.message}`).join("\n"),
    );
    this.name = "TfjsLoweringError";
  }
}

/** A diagnostic at a node's spec line, with its template call sites as related locations. */
export function nodeDiagnostic(
  origin: Origin,
  code: Diagnostic["code"],
  message: string,
  hint?: string,
): Diagnostic {
  return locatedError(code, message, origin, {
    callSites: origin.callSites,
    ...(hint === undefined ? {} : { hint }),
  });
}

/**
 * Checks that every parameter of the graph has a tensor of the right size in `weights`, and that
 * `weights` holds nothing else (weights of another architecture are an error, not ignored).
 */
export function checkWeights(graph: Graph, weights: WeightMap): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const known = new Set<string>();
  for (const node of graph.nodes) {
    for (const p of node.params) {
      known.add(p.name);
      const value = weights.get(p.name);
      if (value === undefined) {
        diagnostics.push(
          nodeDiagnostic(
            node.origin,
            "RSC401",
            `no weights for '${p.name}' [${p.shape.join(", ")}]`,
          ),
        );
      } else if (value.length !== shapeSize(p.shape)) {
        diagnostics.push(
          nodeDiagnostic(
            node.origin,
            "RSC401",
            `weights for '${p.name}' have ${value.length} values, the layer needs [${p.shape.join(", ")}] = ${shapeSize(p.shape)}`,
          ),
        );
      }
    }
  }
  const extra = [...weights.keys()].filter((name) => !known.has(name));
  const first = graph.nodes[0];
  if (extra.length > 0 && first !== undefined) {
    const shown =
      extra.slice(0, 5).join(", ") + (extra.length > 5 ? `, ... (${extra.length} in all)` : "");
    diagnostics.push(
      nodeDiagnostic(
        first.origin,
        "RSC401",
        `the weights hold tensors this model does not have: ${shown}`,
      ),
    );
  }
  return diagnostics;
}

/** Lowers a graph to a tf.LayersModel with the given weights; never throws for a bad graph. */
export function lowerGraph(
  graph: Graph,
  weights: WeightMap,
  options: LowerOptions = {},
): LowerResult {
  const ops = options.ops ?? TFJS_LOWERINGS;
  const diagnostics: Diagnostic[] = [];
  for (const node of graph.nodes) {
    if (node.op !== "input" && !Object.hasOwn(ops, node.op)) {
      diagnostics.push(
        nodeDiagnostic(
          node.origin,
          "RSC400",
          `the tfjs backend has no lowering for op '${node.op}' (layer '${node.name}')`,
        ),
      );
    }
  }
  diagnostics.push(...checkWeights(graph, weights));
  if (diagnostics.length > 0) return { diagnostics };

  const tensors = new Map<string, SymbolicTensor>();
  for (const node of graph.nodes) {
    try {
      tensors.set(node.name, lowerNode(node, ops, tensors));
    } catch (error) {
      diagnostics.push(
        nodeDiagnostic(
          node.origin,
          "RSC400",
          `tfjs cannot build layer '${node.name}' (${node.op}): ${(error as Error).message}`,
        ),
      );
      return { diagnostics };
    }
  }
  const lowered = model({
    name: graph.name,
    inputs: graph.inputs.map((n) => tensors.get(n)!),
    outputs: graph.outputs.map((n) => tensors.get(n)!),
  });
  setWeights(lowered, graph, weights);
  return { model: lowered, diagnostics };
}

function lowerNode(
  node: Node,
  ops: LoweringTable,
  tensors: ReadonlyMap<string, SymbolicTensor>,
): SymbolicTensor {
  if (node.op === "input") {
    return input({ name: node.name, shape: [...node.attrs.shape], dtype: "float32" });
  }
  const inputs = node.inputs.map((name) => {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`input '${name}' is not defined before this layer`);
    return t;
  });
  const lowering = ops[node.op] as Lowering<typeof node.op>;
  return lowering(node as never, inputs);
}

/** Sets every layer's weights by Keras name (`LayerVariable.originalName`, never the uniquified name). */
function setWeights(lowered: LayersModel, graph: Graph, weights: WeightMap): void {
  const kept = new Set(lowered.layers.map((l) => l.name));
  for (const node of graph.nodes) {
    if (node.params.length === 0) continue;
    // tfjs, like Keras, leaves out a layer that feeds no output (the compiler warns, RSC221).
    if (!kept.has(node.name)) continue;
    const layer = lowered.getLayer(node.name);
    const shapes = new Map(node.params.map((p) => [p.name, p.shape]));
    const values: Tensor[] = layer.weights.map((variable) => {
      const name = variable.originalName;
      const shape = shapes.get(name);
      const data = weights.get(name);
      if (shape === undefined || data === undefined) {
        throw new Error(`tfjs layer '${node.name}' has a weight '${name}' the IR does not declare`);
      }
      return tensor(data, [...shape], "float32");
    });
    layer.setWeights(values);
    for (const t of values) t.dispose();
  }
}

/**
 * The public API: a tf.LayersModel for `graph` with `weights` (e.g. `initWeights(graph, seed)`),
 * ready to compile and fit in your own code. Throws {@link TfjsLoweringError} with located
 * diagnostics when an op has no lowering or the weights do not match.
 */
export function toLayersModel(
  graph: Graph,
  weights: WeightMap,
  options: LowerOptions = {},
): LayersModel {
  const result = lowerGraph(graph, weights, options);
  if (result.model === undefined) throw new TfjsLoweringError(result.diagnostics);
  return result.model;
}
