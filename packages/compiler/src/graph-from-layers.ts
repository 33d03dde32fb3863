/**
 * Building an IR graph in code, from a list of layer descriptions, without writing a spec: for
 * tests (backends checked on graphs the front-end never made) and programmatic users. The layers
 * go through the compiler's own build (buildGraph: names, references, each op's strict attribute
 * schema, normalisation, shape inference, parameter names), so a graph built in code is the
 * graph a spec with the same layers compiles to.
 */
import { buildGraph } from "./build.js";
import {
  type Diagnostic,
  formatDiagnostic,
  type SourceLocation,
  sortDiagnostics,
} from "./diagnostics.js";
import type { ExpandedLayer, LayerRef } from "./expanded.js";
import type { Graph } from "./ir.js";
import { OPS } from "./ops/registry.js";
import type { OpName } from "./ops/types.js";
import type { LocatedAttr } from "./validate.js";

/** One layer of a graph built in code, as a spec's layer item would give it. */
export interface LayerDescription {
  /** Unique layer name (Keras's); when absent, a Keras-style default (`conv2d`, `conv2d_1`). */
  readonly name?: string;
  /** The op, from the registry (`conv2d`, `dense`, ...). */
  readonly op: OpName;
  /** Attributes as a spec writes them (`kernel_size: 3` for `[3, 3]`); defaults are filled in. */
  readonly attrs?: { readonly [attr: string]: unknown };
  /** Names of the layers feeding this one; default the previous layer (none for an `input`). */
  readonly inputs?: readonly string[];
}

/** Options of {@link graphFromLayers}. */
export interface GraphFromLayersOptions {
  /** Names of the output layers; default the last layer. */
  readonly outputs?: readonly string[];
  /**
   * Where the first layer is said to be written (nodes' origins, diagnostics); layer i (0-based)
   * stands i lines below it, at the same column. Default `<code>`, line 1, column 1.
   */
  readonly firstLayerAt?: SourceLocation;
}

/** The layers do not make a graph; thrown because they are code, so the mistake is a bug. */
export class GraphFromLayersError extends Error {
  constructor(
    /** Every error found, located at the layers' positions ({@link GraphFromLayersOptions.firstLayerAt}). */
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "GraphFromLayersError";
  }
}

/**
 * Builds the graph named `name` from `layers`: inputs are the `input` layers, in order. Throws a
 * {@link GraphFromLayersError} with every diagnostic when a layer is wrong (an unknown or
 * mistyped attribute, an unknown input, shapes that do not fit).
 */
export function graphFromLayers(
  name: string,
  layers: readonly LayerDescription[],
  options: GraphFromLayersOptions = {},
): Graph {
  const first = options.firstLayerAt ?? { file: "<code>", line: 1, column: 1 };
  const expanded = layers.map((layer, id): ExpandedLayer => {
    const loc = { file: first.file, line: first.line + id, column: first.column };
    const byName = (input: string): LayerRef => ({ kind: "name", name: input, loc });
    const previous: LayerRef[] =
      id > 0 && OPS[layer.op].arity.max > 0 ? [{ kind: "id", id: id - 1 }] : [];
    const attrs = new Map<string, LocatedAttr>();
    for (const [key, value] of Object.entries(layer.attrs ?? {}))
      attrs.set(key, { value, loc, keyLoc: loc });
    return {
      id,
      op: layer.op,
      ...(layer.name === undefined ? {} : { name: layer.name, nameLoc: loc }),
      inputs: layer.inputs?.map(byName) ?? previous,
      attrs,
      loc,
      callSites: [],
    };
  });
  const outputs = (options.outputs ?? []).map(
    (output): LayerRef => ({ kind: "name", name: output, loc: first }),
  );
  const built = buildGraph({ name, seed: 0, layers: expanded, outputs });
  if (built.graph === undefined) throw new GraphFromLayersError(sortDiagnostics(built.diagnostics));
  return built.graph;
}
