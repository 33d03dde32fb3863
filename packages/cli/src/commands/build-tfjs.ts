/**
 * `rsc build --target tfjs`: the spec's model as standard tfjs artifacts, a folder with
 * `model.json` (format `layers-model`) + `group1-shardXofN.bin` weight shards (<= 4 MB each), that
 * `tf.loadLayersModel` loads unchanged. The folder is written atomically (replaced whole).
 */
import { join } from "node:path";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { writeDirAtomic } from "../fs-atomic.js";
import { RSC_VERSION } from "../version.js";
import type { BuildProduct, BuildRequest, BuildTarget } from "./build.js";
import { activateRuntime } from "./train-shared.js";

/** The tfjs build target. */
export const tfjsTarget: BuildTarget = {
  defaultOutput: (stem) => join("build", `${stem}-tfjs`),
  async build(request: BuildRequest): Promise<BuildProduct> {
    // Building and serialising need no speed: the always-present cpu backend, chosen silently.
    await activateRuntime("cpu", { quiet: true });
    const { tfjsBackend } = await import("@rsc/backend-tfjs");
    const result = await tfjsBackend.emit(request.graph, request.weights, {
      convertedBy: `rsc ${RSC_VERSION}`,
      metadata: {
        rsc: {
          spec: request.info.name,
          specHash: request.info.hash,
          ...(request.seed === undefined ? {} : { seed: request.seed }),
          ...(request.weightsSource === undefined ? {} : { weightsSource: request.weightsSource }),
        },
      },
    });
    if (result.files === undefined) {
      throw new CliError(
        "the model cannot be built with tfjs",
        ExitCode.SpecError,
        result.diagnostics,
      );
    }
    writeDirAtomic(request.output, result.files);
    const params = request.graph.nodes.reduce(
      (n, node) => n + node.params.reduce((m, p) => m + p.shape.reduce((a, d) => a * d, 1), 0),
      0,
    );
    const bytes = [...result.files.values()].reduce((n, b) => n + b.byteLength, 0);
    // One entry for the folder: ResNet-50 has 24 files, listing each says nothing more.
    return {
      files: [{ path: request.output, bytes }],
      details: { params, files: result.files.size, shards: result.files.size - 1 },
      diagnostics: result.diagnostics,
    };
  },
};
