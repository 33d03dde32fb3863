/**
 * The tfjs backend object (CONVENTIONS "a backend is a small object"): its lowerings, and `emit`,
 * which returns standard tfjs artifacts as files for the CLI to write.
 */
import type { Diagnostic, Graph, WeightMap } from "@rsc/compiler";
import { type SaveArtifactsOptions, saveArtifacts } from "./artifacts.js";
import { type CompleteLoweringTable, TFJS_LOWERINGS } from "./lowerings.js";
import { lowerGraph } from "./to-layers-model.js";

/** Options of {@link tfjsBackend}'s `emit`. */
export type TfjsEmitOptions = SaveArtifactsOptions;

/** The files of a tfjs model (`model.json`, `group1-shardXofN.bin`), or why there are none. */
export interface TfjsEmitResult {
  /** File name (no folder) to bytes; undefined when there were errors. */
  readonly files?: Map<string, Uint8Array>;
  readonly diagnostics: readonly Diagnostic[];
}

/** A backend: a name, one lowering per IR op, and an emitter. */
export interface TfjsBackend {
  readonly name: "tfjs";
  readonly ops: CompleteLoweringTable;
  /** IR + weights -> tfjs artifacts (model.json + weight shards), in memory. */
  emit(graph: Graph, weights: WeightMap, options: TfjsEmitOptions): Promise<TfjsEmitResult>;
}

/** The tfjs backend. Needs an active tfjs runtime (see selectRuntime; cpu is always there). */
export const tfjsBackend: TfjsBackend = {
  name: "tfjs",
  ops: TFJS_LOWERINGS,
  async emit(graph, weights, options) {
    const { model, diagnostics } = lowerGraph(graph, weights, { ops: this.ops });
    if (model === undefined) return { diagnostics };
    try {
      return { files: await saveArtifacts(model, options), diagnostics };
    } finally {
      model.dispose();
    }
  },
};
