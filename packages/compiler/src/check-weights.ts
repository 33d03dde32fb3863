/**
 * The one check of loaded (trained) weights against a model, run before any backend sees them:
 * every missing, extra and wrong-shaped weight is one RSC401 diagnostic naming it, all reported at
 * once. A missing weight is located at its layer (the spec line, when the model came from a spec);
 * the others at their entry in the weights file.
 */
import { type Diagnostic, locatedError, type SourceLocation } from "./diagnostics.js";
import type { Graph } from "./ir.js";
import type { Shape } from "./tensor.js";
import type { WeightMap } from "./weights.js";

/** A weight as read from a file: its shape and float32 values, in Keras layout. */
export interface LoadedWeight {
  readonly shape: Shape;
  readonly data: Float32Array;
}

/** A weight the model needs. */
export interface ExpectedWeight {
  /** Keras weight name, e.g. `conv1/kernel`. */
  readonly name: string;
  /** Keras-layout shape (HWIO conv kernels, `[in, out]` dense kernels). */
  readonly shape: Shape;
  /** The layer it belongs to. */
  readonly layer: string;
  /** Where the layer is written (1-based line and column); absent when it has no source. */
  readonly origin?: SourceLocation;
}

/** Where loaded weights came from, for the diagnostics. */
export interface WeightsSource {
  /** The weights file (a tfjs model.json), as the user named it or as found in a folder. */
  readonly file: string;
  /** 1-based line and column of a text in the file (a weight's name), 1:1 when unknown. */
  locate(text: string): { readonly line: number; readonly column: number };
}

/** The outcome: the weights in the model's order, or the diagnostics that prevented them. */
export interface WeightsCheck {
  /** Weights by Keras name in the model's order; absent when there were errors. */
  readonly weights?: WeightMap;
  /** RSC401 errors, one per problem. */
  readonly diagnostics: readonly Diagnostic[];
}

/** The weights a graph needs, in graph order, each located at its layer's spec line. */
export function expectedWeights(graph: Graph): ExpectedWeight[] {
  return graph.nodes.flatMap((node) =>
    node.params.map((p) => ({
      name: p.name,
      shape: p.shape,
      layer: node.name,
      origin: { file: node.origin.file, line: node.origin.line, column: node.origin.column },
    })),
  );
}

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Checks loaded weights against the weights a model needs (`model`: its name, and the list, e.g.
 * {@link expectedWeights} of a graph).
 */
export function checkWeights(
  model: { readonly name: string; readonly weights: readonly ExpectedWeight[] },
  loaded: ReadonlyMap<string, LoadedWeight>,
  source: WeightsSource,
): WeightsCheck {
  const diagnostics: Diagnostic[] = [];
  const error = (message: string, where: SourceLocation): Diagnostic =>
    locatedError("RSC401", message, where);
  const at = (name: string): SourceLocation => ({
    file: source.file,
    ...source.locate(`"${name}"`),
  });
  const out = new Map<string, Float32Array>();
  const expected = new Set<string>();
  for (const p of model.weights) {
    expected.add(p.name);
    const w = loaded.get(p.name);
    if (w === undefined) {
      diagnostics.push(
        error(
          `weight '${p.name}' [${p.shape.join(", ")}] of layer '${p.layer}' is missing from ${source.file}`,
          p.origin ?? at(p.layer),
        ),
      );
    } else if (!sameShape(w.shape, p.shape)) {
      diagnostics.push(
        error(
          `weight '${p.name}' has shape [${w.shape.join(", ")}] in ${source.file}, the model needs [${p.shape.join(", ")}]`,
          at(p.name),
        ),
      );
    } else {
      out.set(p.name, w.data);
    }
  }
  for (const name of loaded.keys()) {
    if (expected.has(name)) continue;
    diagnostics.push(
      error(
        `weight '${name}' in ${source.file} is not a weight of model '${model.name}'`,
        at(name),
      ),
    );
  }
  return diagnostics.length > 0 ? { diagnostics } : { weights: out, diagnostics };
}
