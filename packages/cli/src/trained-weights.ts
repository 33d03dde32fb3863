/**
 * Trained weights for a command: read with the one reader of the tfjs artifacts format
 * (@rsc/backend-tfjs/artifacts-format, which loads no tfjs) and checked against the model with the
 * compiler's one check, before any backend runs. Errors, the same for every command:
 * - a file that cannot be read (model.json or a shard): exit 2, `<what> <path>: no such file`;
 * - malformed artifacts: RSC500 at the entry of model.json at fault, exit 1;
 * - weights that do not fit the model (missing, extra, wrong shape): one RSC401 each, exit 1.
 */
import { join } from "node:path";
import {
  ArtifactsError,
  layersTopology,
  locateIn,
  MODEL_JSON,
  readArtifacts,
  type TfjsArtifacts,
} from "@rsc/backend-tfjs/artifacts-format";
import {
  checkWeights,
  type Diagnostic,
  describeReadError,
  type ExpectedWeight,
  expectedWeights,
  type Graph,
  type WeightMap,
} from "@rsc/compiler";
import { CliError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";
import {
  type BuildIdentity,
  provenanceDiagnostics,
  readWeightsRecord,
  type WeightsRecord,
} from "./provenance.js";

/**
 * Reads tfjs artifacts (`path`: a model.json or its folder). `what` names model.json in I/O
 * errors, e.g. `weights file`; with `layersModel`, model.json must hold a layers-model topology.
 */
export function readTrainedArtifacts(
  path: string,
  what: string,
  { layersModel = false }: { readonly layersModel?: boolean } = {},
): TfjsArtifacts {
  try {
    const artifacts = readArtifacts(path);
    if (layersModel) layersTopology(artifacts);
    return artifacts;
  } catch (error) {
    if (!(error instanceof ArtifactsError)) throw error;
    if (error.kind === "unreadable") {
      const reason =
        error.errno === undefined ? error.reason : describeReadError({ code: error.errno });
      const modelJson = error.file === path || error.file === join(path, MODEL_JSON);
      const which = modelJson ? what : "weight shard";
      throw new CliError(`${which} ${error.file}: ${reason}`);
    }
    const d: Diagnostic = {
      severity: "error",
      code: "RSC500",
      message: error.reason,
      file: error.file,
      line: error.line,
      column: error.column,
    };
    throw new CliError(`${error.file}: ${error.reason}`, ExitCode.SpecError, [d]);
  }
}

/**
 * Checks read weights against the weights a model needs; throws CliError (exit 1) listing every
 * problem. Returns the weights in the model's order.
 */
export function checkTrainedWeights(
  artifacts: TfjsArtifacts,
  model: { readonly name: string; readonly weights: readonly ExpectedWeight[] },
): WeightMap {
  const { file, text } = artifacts;
  const check = checkWeights(model, artifacts.weights, {
    file,
    locate: (needle) => locateIn(text, needle),
  });
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

/**
 * Reads and checks the trained weights of `graph` (`rsc build --weights`): first that the file's
 * record (provenance.ts) is of this spec and these --set values (else RSC530: an error, or a
 * warning with `allowSpecChange`), then every weight's name and shape. Errors of both kinds are
 * reported together, so a changed spec shows its cause and what it breaks.
 */
export function loadGraphWeights(
  path: string,
  graph: Graph,
  {
    build,
    allowSpecChange = false,
  }: { readonly build?: BuildIdentity; readonly allowSpecChange?: boolean } = {},
): {
  readonly file: string;
  /** The shard files read (inputs an output must not replace). */
  readonly shards: readonly string[];
  readonly weights: WeightMap;
  /** What the file records of how it was made, if anything. */
  readonly record: WeightsRecord | undefined;
  /** Warnings to print (a spec change allowed by `allowSpecChange`). */
  readonly warnings: readonly Diagnostic[];
} {
  const artifacts = readTrainedArtifacts(path, "weights file");
  const record = readWeightsRecord(artifacts.json.userDefinedMetadata);
  const provenance =
    build === undefined
      ? []
      : provenanceDiagnostics(
          record,
          build,
          { file: artifacts.file, ...locateIn(artifacts.text, '"specHash"') },
          allowSpecChange,
        );
  const refused = provenance.filter((d) => d.severity === "error");
  let weights: WeightMap;
  try {
    weights = checkTrainedWeights(artifacts, { name: graph.name, weights: expectedWeights(graph) });
  } catch (error) {
    if (!(error instanceof CliError) || refused.length === 0) throw error;
    throw new CliError(error.message, ExitCode.SpecError, [...refused, ...error.diagnostics]);
  }
  if (refused.length > 0) throw new CliError(refused[0]!.message, ExitCode.SpecError, refused);
  return { file: artifacts.file, shards: artifacts.shards, weights, record, warnings: provenance };
}
