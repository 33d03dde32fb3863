/**
 * The tfjs backend as the compiler's one backend contract: `emit` lowers a graph with its weights
 * to a `tf.LayersModel` and returns standard tfjs artifacts (model.json + weight shards of at most
 * 4 MB) as the files of a folder, for the CLI to write.
 */
import { type Backend, type BackendResult, bytesFile, graphParamCounts } from "@rsc/compiler";
import { saveArtifacts } from "./artifacts.js";
import { TFJS_BACKEND_INFO } from "./info.js";
import { type CompleteLoweringTable, TFJS_LOWERINGS } from "./lowerings.js";
import { ensureRuntime } from "./runtime.js";
import { lowerGraph } from "./to-layers-model.js";

/**
 * The tfjs backend. It uses the active tfjs runtime, or activates the always-present cpu backend
 * when none was selected (building and serialising need no speed). model.json records
 * `convertedBy: rsc <version>` and `userDefinedMetadata.rsc` (spec name and hash, seed or weights
 * source); stats are `{ params, files, shards }`.
 */
export const TFJS_BACKEND: Backend<CompleteLoweringTable> = {
  ...TFJS_BACKEND_INFO,
  ops: TFJS_LOWERINGS,
  async emit(graph, weights, options): Promise<BackendResult> {
    await ensureRuntime();
    const params = graphParamCounts(graph).total;
    const { model, diagnostics } = lowerGraph(graph, weights, { ops: this.ops });
    if (model === undefined) return { diagnostics, stats: { params } };
    try {
      const files = await saveArtifacts(model, {
        convertedBy: `rsc ${options.producerVersion}`,
        metadata: {
          rsc: {
            spec: graph.name,
            specHash: options.specHash,
            ...(options.seed === undefined ? {} : { seed: options.seed }),
            ...(options.weightsSource === undefined
              ? {}
              : { weightsSource: options.weightsSource }),
            ...(options.inputScaling === undefined ? {} : { inputScaling: options.inputScaling }),
          },
        },
      });
      return {
        files: [...files].map(([name, bytes]) => bytesFile(name, bytes)),
        diagnostics,
        stats: { params, shards: files.size - 1 },
      };
    } finally {
      model.dispose();
    }
  },
};
