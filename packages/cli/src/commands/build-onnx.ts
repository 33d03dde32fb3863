/**
 * `rsc build --target onnx`: lowers the graph with the ONNX backend and writes `<out>.onnx`
 * (plus `<out>.onnx.data` when the weights need external data), each file atomically, the data
 * file first so a model never points at a missing one.
 */
import { basename, join } from "node:path";
import { type EncodedFile, onnxBackend } from "@rsc/backend-onnx";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { writeFileAtomicChunks } from "../fs-atomic.js";
import type { OutputOptions } from "../output.js";
import { RSC_VERSION } from "../version.js";
import { writeProgress } from "../write-progress.js";
import type { BuildProduct, BuildRequest, BuildTarget } from "./build.js";

function parseThreshold(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text))
    throw new CliError(`--external-data-threshold expects a byte count, got '${text}'`);
  return Number(text);
}

/**
 * Writes an encoded file atomically, streamed tensor by tensor: no 94 MB model buffer for
 * ResNet-50 (faster and smaller), and no 4 GB Buffer limit for external data. A file of
 * hundreds of MB gets a progress bar on a terminal.
 */
async function write(path: string, file: EncodedFile, out: OutputOptions): Promise<void> {
  const progress = await writeProgress(basename(path), file.byteLength, out);
  try {
    writeFileAtomicChunks(path, (sink) => file.writeTo(progress?.track(sink) ?? sink));
  } finally {
    progress?.stop();
  }
}

/** The ONNX build target. */
export const onnxTarget: BuildTarget = {
  defaultOutput: (stem) => join("build", `${stem}.onnx`),
  async build(request: BuildRequest): Promise<BuildProduct> {
    const threshold = parseThreshold(request.flags.externalDataThreshold);
    const result = onnxBackend.emit(request.graph, request.weights, {
      producerVersion: RSC_VERSION,
      specHash: request.info.hash,
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.weightsSource === undefined ? {} : { weightsSource: request.weightsSource }),
      ...(threshold === undefined ? {} : { externalDataThreshold: threshold }),
      externalDataName: `${basename(request.output)}.data`,
    });
    if (result.model === undefined) {
      throw new CliError(
        "the model cannot be lowered to ONNX",
        ExitCode.SpecError,
        result.diagnostics,
      );
    }
    const files = [];
    if (result.externalData !== undefined) {
      const path = `${request.output}.data`;
      await write(path, result.externalData, request.out);
      files.push({ path, bytes: result.externalData.byteLength });
    }
    await write(request.output, result.model, request.out);
    files.unshift({ path: request.output, bytes: result.model.byteLength });
    return {
      files,
      details: {
        params: result.stats?.params ?? 0,
        nodes: result.stats?.nodes ?? 0,
        initializers: result.stats?.initializers ?? 0,
      },
      diagnostics: result.diagnostics,
    };
  },
};
