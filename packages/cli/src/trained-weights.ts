/**
 * Trained weights for a command: read from any model file rsc reads (model-files/: Keras 2
 * `.h5`, Keras 3 `.weights.h5` and `.keras`, tfjs model.json + shards, the last with the one
 * reader of the tfjs artifacts format, which loads no tfjs) and checked against the model with
 * the compiler's one check, before any backend runs. Errors, the same for every command:
 * - a file that cannot be read (the file, a shard): exit 2, `<what> <path>: no such file`;
 * - a malformed file: RSC500 naming the file (and the layer, or the entry of model.json), exit 1;
 * - weights that do not fit the model (missing, extra, wrong shape): one RSC401 each, exit 1.
 */
import {
  ArtifactsError,
  layersTopology,
  locateIn,
  type TfjsArtifacts,
} from "@rsc/backend-tfjs/artifacts-format";
import {
  checkWeights,
  type Diagnostic,
  type ExpectedWeight,
  expectedWeights,
  type Graph,
  type LoadedWeight,
  type WeightMap,
} from "@rsc/compiler";
import { CliError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";
import { malformedFile } from "./model-files/errors.js";
import { FileWeights, type FillableTensor, isFillable } from "./model-files/file-weights.js";
import {
  type ExpectedLayer,
  graphLayers,
  type ModelWeights,
  readModelWeights,
  readTfjsArtifacts,
} from "./model-files/index.js";
import {
  type BuildIdentity,
  provenanceDiagnostics,
  readWeightsRecord,
  type WeightsRecord,
} from "./provenance.js";

/**
 * Reads tfjs artifacts (`path`: a model.json or its folder). `what` names model.json in I/O
 * errors, e.g. `model file`; with `layersModel`, model.json must hold a layers-model topology.
 */
export function readTrainedArtifacts(
  path: string,
  what: string,
  { layersModel = false }: { readonly layersModel?: boolean } = {},
): TfjsArtifacts {
  const artifacts = readTfjsArtifacts(path, what);
  if (layersModel) {
    try {
      layersTopology(artifacts);
    } catch (error) {
      if (!(error instanceof ArtifactsError)) throw error;
      throw malformedFile(artifacts.file, error.reason);
    }
  }
  return artifacts;
}

/** Weights read from a file, with what the diagnostics need to point into it. */
export interface WeightsInFile {
  readonly file: string;
  readonly weights: ReadonlyMap<string, LoadedWeight>;
  /** Line and column of a text (a quoted weight name) in the file. */
  locate(text: string): { readonly line: number; readonly column: number };
}

/** The weights of tfjs artifacts, located in their model.json. */
export function artifactsWeights(artifacts: TfjsArtifacts): WeightsInFile {
  return {
    file: artifacts.file,
    weights: artifacts.weights,
    locate: (text) => locateIn(artifacts.text, text),
  };
}

/**
 * Checks read weights against the weights a model needs; throws CliError (exit 1) listing every
 * problem. Returns the weights in the model's order.
 */
export function checkTrainedWeights(
  read: WeightsInFile,
  model: { readonly name: string; readonly weights: readonly ExpectedWeight[] },
): WeightMap {
  const { file } = read;
  const check = checkWeights(model, read.weights, { file, locate: (text) => read.locate(text) });
  if (check.weights === undefined) {
    const n = check.diagnostics.length;
    throw new CliError(
      `${n} weight${n === 1 ? "" : "s"} of ${file} do not match the model`,
      ExitCode.SpecError,
      check.diagnostics,
    );
  }
  return check.weights;
}

/** Reads trained weights for a model whose layers are `expected` (any model-file format). */
export function readTrainedWeights(
  path: string,
  expected: readonly ExpectedLayer[],
  what = "weights file",
): Promise<ModelWeights> {
  return readModelWeights(path, { expected, what });
}

/**
 * Reads and checks the trained weights of `graph` (`rsc build --weights`, `rsc train --weights`):
 * first that the file's record (provenance.ts; tfjs models rsc trained) is of this spec and these
 * --set values (else RSC530: an error, or a warning with `allowSpecChange`), then every weight's
 * name and shape; errors of both kinds are reported together, so a changed spec shows its cause
 * and what it breaks. With `deferred`, the weights of an HDF5 file are read only as the backend
 * asks for each (FileWeights), from the file kept open until `release`; call it when done.
 */
export async function loadGraphWeights(
  path: string,
  graph: Graph,
  {
    deferred = false,
    build,
    allowSpecChange = false,
  }: {
    readonly deferred?: boolean;
    readonly build?: BuildIdentity;
    readonly allowSpecChange?: boolean;
  } = {},
): Promise<{
  readonly file: string;
  /** Every file read (inputs an output must not replace). */
  readonly files: readonly string[];
  readonly weights: WeightMap;
  /** What the file records of how it was made, if anything. */
  readonly record: WeightsRecord | undefined;
  /** Warnings to print (a spec change allowed by `allowSpecChange`). */
  readonly warnings: readonly Diagnostic[];
  /** Closes a file kept open for deferred weights (a no-op otherwise). */
  release(): void;
}> {
  const read = await readModelWeights(path, { expected: graphLayers(graph), deferred });
  try {
    const artifacts = read.artifacts;
    const record = readWeightsRecord(artifacts?.json.userDefinedMetadata);
    const provenance =
      build === undefined || artifacts === undefined
        ? []
        : provenanceDiagnostics(
            record,
            build,
            { file: artifacts.file, ...locateIn(artifacts.text, '"specHash"') },
            allowSpecChange,
          );
    const refused = provenance.filter((d) => d.severity === "error");
    const tensors = [...read.weights].filter(([, w]) => isFillable(w));
    const lazy = deferred && tensors.length === read.weights.size;
    // The check needs names and shapes only: deferred values are not read for it.
    let checked: WeightMap;
    try {
      checked = checkTrainedWeights(
        lazy
          ? {
              ...read,
              weights: new Map(
                [...read.weights].map(([n, w]) => [n, { shape: w.shape, data: EMPTY }]),
              ),
            }
          : read,
        { name: graph.name, weights: expectedWeights(graph) },
      );
    } catch (error) {
      if (!(error instanceof CliError) || refused.length === 0) throw error;
      throw new CliError(error.message, ExitCode.SpecError, [...refused, ...error.diagnostics]);
    }
    if (refused.length > 0) throw new CliError(refused[0]!.message, ExitCode.SpecError, refused);
    const weights = lazy
      ? new FileWeights(new Map(tensors as [string, FillableTensor][]))
      : checked;
    return {
      file: read.file,
      files: read.files,
      weights,
      record,
      warnings: provenance,
      release: () => read.release(),
    };
  } catch (error) {
    read.release();
    throw error;
  }
}

const EMPTY = new Float32Array(0);
