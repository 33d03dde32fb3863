/**
 * `rsc build <spec> --target onnx|tfjs [-o out] [--seed N] [--weights model.h5|.keras|model.json]
 * [--precision fp32|fp16] [--io fp16]`: compiles a
 * spec and writes a backend's artifact. One path for every backend (the compiler's Backend
 * contract): the weights are decided here, once (seeded, or loaded and checked against the graph
 * before any backend runs), the backend returns files, and the CLI writes them atomically. Each
 * target is imported only when chosen; its flags are registered from its BackendInfo, which
 * loads no backend, so start-up stays fast.
 */
import { basename, extname } from "node:path";
import { ONNX_BACKEND_INFO } from "@rsc/backend-onnx/info";
import { TFJS_BACKEND_INFO } from "@rsc/backend-tfjs/info";
import type { Backend, BackendInfo, Graph, WeightMap } from "@rsc/compiler";
import type { Command } from "commander";
import {
  action,
  compileOrThrow,
  outputOptions,
  type SpecFlags,
  withSpecFlags,
} from "../command-kit.js";
import { setKept } from "../early-exit.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { choiceOption, integerOption, seedOption } from "../flags.js";
import { printable, printDiagnostics, printJson, say } from "../output.js";
import { type RecordedScaling, TRAIN_INPUT_SCALING } from "../provenance.js";
import { RSC_VERSION } from "../version.js";

/** `--precision` and `--io`: the float type of weights and activations, and of inputs and outputs. */
const PRECISIONS = ["fp32", "fp16"] as const;
type Precision = (typeof PRECISIONS)[number];

/** A build's float types (`--precision`, `--io`), both fp32 unless given. */
interface BuildPrecision {
  readonly precision: Precision;
  readonly io: Precision;
}

/** One `--target`: what is known before loading its backend, and how to load it. */
interface BuildTarget {
  readonly info: BackendInfo;
  /** The `--precision` values it builds (fp32 alone for a target without a choice). */
  readonly precisions: readonly Precision[];
  load(precision: BuildPrecision): Promise<Backend>;
}

/** The build targets, each backend imported only when chosen. */
const BUILD_TARGETS: readonly BuildTarget[] = [
  {
    info: ONNX_BACKEND_INFO,
    precisions: PRECISIONS,
    load: async (precision) => (await import("@rsc/backend-onnx")).onnxBackend(precision),
  },
  {
    info: TFJS_BACKEND_INFO,
    precisions: ["fp32"],
    load: async () => (await import("@rsc/backend-tfjs")).TFJS_BACKEND,
  },
];

const TARGET_NAMES = BUILD_TARGETS.map((t) => t.info.name);
const PRECISION_TARGETS = BUILD_TARGETS.filter((t) => t.precisions.length > 1).map(
  (t) => t.info.name,
);

/** Flags of `rsc build`, parsed. */
interface BuildFlags extends SpecFlags {
  /** `--target`: one of {@link BUILD_TARGETS}' names. */
  readonly target: string;
  /** `-o, --output`: where to write; the target's default under `build/` when absent. */
  readonly output?: string;
  /** `--seed`: weight seed overriding the spec's `seed:`. */
  readonly seed?: number;
  /**
   * `--weights`: a model file to load weights from instead of seeding them (Keras .h5,
   * .weights.h5, .keras, tfjs model.json or its folder; told by content).
   */
  readonly weights?: string;
  /** `--allow-spec-change`: use weights recorded for another spec or --set values (a warning). */
  readonly allowSpecChange?: boolean;
  /** `--bake-preprocessing`: put the input scaling into the graph (raw 0-255 pixels in). */
  readonly bakePreprocessing?: boolean;
  /** `--precision`: float type of weights and activations; fp32 when absent. */
  readonly precision?: Precision;
  /** `--io`: float type of the graph's inputs and outputs; fp32 when absent (fp16 needs --precision fp16). */
  readonly io?: Precision;
  /** The backends' own flags (BackendFlag.key), e.g. `externalDataThreshold`. */
  readonly [backendFlag: string]: unknown;
}

/** Registers `rsc build`. */
export function registerBuild(program: Command): void {
  const command = program
    .command("build")
    .description("compile a spec and write a backend artifact (an .onnx model, ...)")
    .argument("<spec>", "spec file (YAML)")
    .addOption(
      choiceOption(
        "-t, --target <target>",
        `backend: ${TARGET_NAMES.join(", ")}`,
        TARGET_NAMES,
      ).makeOptionMandatory(),
    )
    .option("-o, --output <path>", "output path (default: build/<spec name>.<ext>)")
    .addOption(seedOption("--seed <n>", "weight seed (overrides the spec's seed:)"))
    .option(
      "--weights <path>",
      "load trained weights by Keras layer name from a Keras .h5, .weights.h5 or .keras, or a tfjs model.json (or its folder)",
    )
    .option(
      "--allow-spec-change",
      "use --weights trained for another spec or other --set values (warns instead of refusing)",
    )
    .option(
      "--bake-preprocessing",
      "put the input scaling training used (x / 255) into the graph: the model takes raw 0-255 pixels",
    )
    .addOption(
      choiceOption(
        "--precision <p>",
        `${PRECISION_TARGETS.join(", ")}: float type of weights and activations: fp32 (default) or fp16`,
        PRECISIONS,
      ),
    )
    .addOption(
      choiceOption(
        "--io <p>",
        "float type of the model's inputs and outputs: fp32 (default) or fp16 (needs --precision fp16)",
        PRECISIONS,
      ),
    );
  for (const { info } of BUILD_TARGETS)
    for (const flag of info.flags)
      command.addOption(integerOption(flag.flag, flag.description, flag));
  withSpecFlags(command).action(action((spec: string, flags: BuildFlags) => build(spec, flags)));
}

async function build(spec: string, flags: BuildFlags): Promise<number> {
  const started = performance.now();
  const out = outputOptions(flags);
  const target = BUILD_TARGETS.find((t) => t.info.name === flags.target)!;
  if (flags.seed !== undefined && flags.weights !== undefined)
    throw new CliError("--seed and --weights exclude each other (loaded weights have no seed)");
  if (flags.allowSpecChange === true && flags.weights === undefined)
    throw new CliError("--allow-spec-change needs --weights (it allows weights of another spec)");
  const precision = buildPrecision(flags, target);
  const compiled = compileOrThrow(spec, flags);
  const { info } = compiled;
  let { graph } = compiled;
  const diagnostics = [...compiled.diagnostics];
  const output = flags.output ?? target.info.defaultOutput(basename(spec, extname(spec)));
  // What the output must never replace; checked now, before minutes of emitting, and again at
  // the commit.
  const inputs = [spec, ...info.files, ...(flags.weights === undefined ? [] : [flags.weights])];
  const { checkOutputDir, checkOutputFile } = await import("../output-checks.js");
  if (target.info.artifact === "folder") checkOutputDir(output, inputs);
  else checkOutputFile(output, inputs);

  let weights: WeightMap;
  let seed: number | undefined;
  let weightsSource: string | undefined;
  let scaling: RecordedScaling | undefined;
  // Closes a weights file kept open for deferred reads (on an error, the exit closes it).
  let release = () => {};
  if (flags.weights !== undefined) {
    // Read and checked against the graph (and the spec it was made for) before any backend loads.
    const { loadGraphWeights } = await import("../trained-weights.js");
    const { parseSet } = await import("../command-kit.js");
    // Deferred: an .h5's tensors are read as the backend writes each one (file kept open).
    const loaded = await loadGraphWeights(flags.weights, graph, {
      deferred: true,
      build: { spec: info.name, specHash: info.hash, set: parseSet(flags.set) },
      allowSpecChange: flags.allowSpecChange === true,
    });
    release = () => loaded.release();
    weights = loaded.weights;
    weightsSource = basename(loaded.file);
    scaling = loaded.record?.inputScaling;
    diagnostics.push(...loaded.warnings);
    inputs.push(...loaded.files);
  } else {
    const { seededWeights } = await import("@rsc/compiler");
    seed = flags.seed ?? info.seed;
    // Generated tensor by tensor as the backend consumes them, never all held at once.
    weights = seededWeights(graph, seed);
  }
  if (flags.bakePreprocessing === true) {
    const baked = await bakePreprocessing(graph, scaling, flags.weights);
    graph = baked.graph;
    scaling = baked.scaling;
  }
  const backend = await target.load(precision);

  const backendFlags: Record<string, number> = {};
  for (const flag of backend.flags) {
    const value = flags[flag.key];
    if (typeof value === "number") backendFlags[flag.key] = value;
  }
  const result = await backend.emit(graph, weights, {
    outputName: basename(output),
    producerVersion: RSC_VERSION,
    specHash: info.hash,
    ...(seed === undefined ? {} : { seed }),
    ...(weightsSource === undefined ? {} : { weightsSource }),
    ...(scaling === undefined ? {} : { inputScaling: scaling }),
    flags: backendFlags,
  });
  if (result.files === undefined) {
    throw new CliError(
      `the model cannot be lowered for --target ${backend.name}`,
      ExitCode.SpecError,
      result.diagnostics,
    );
  }
  const { writeArtifact } = await import("../write-artifact.js");
  const files = await writeArtifact(backend.artifact, output, result.files, out, inputs);
  release();
  setKept(`wrote ${output}`);
  const seconds = (performance.now() - started) / 1000;
  const all = [...diagnostics, ...result.diagnostics];
  const params = result.stats["params"];
  if (out.json) {
    printJson({
      command: "build",
      ok: true,
      diagnostics: all,
      result: {
        // A backend's stats never replace the envelope's own fields.
        ...result.stats,
        target: flags.target,
        ...(target.precisions.length > 1 ? precision : {}),
        spec,
        files,
        seed: seed ?? null,
        weights: flags.weights ?? null,
        inputScaling: scaling ?? null,
        specHash: info.hash,
        seconds: Number(seconds.toFixed(3)),
      },
    });
  } else {
    printDiagnostics(all, out);
    for (const file of files) say(`wrote ${printable(file.path)} (${formatBytes(file.bytes)})`);
    const what = [
      typeof params === "number" ? `${params.toLocaleString("en-US")} params` : undefined,
      seed === undefined ? `weights from ${printable(flags.weights ?? "")}` : `seed ${seed}`,
      `${seconds.toFixed(2)} s`,
    ].filter((x) => x !== undefined);
    const float = precision.precision === "fp32" ? "" : ` (${describePrecision(precision)})`;
    say(`built ${printable(graph.name)} for ${flags.target}${float}: ${what.join(", ")}`);
  }
  return ExitCode.Ok;
}

/**
 * The float types `--precision` and `--io` ask for, checked before any work: `--io fp16` needs
 * `--precision fp16` (a float16 graph edge around float32 weights would only lose precision), and
 * a target builds only the precisions it lists (tfjs models are float32).
 */
function buildPrecision(flags: BuildFlags, target: BuildTarget): BuildPrecision {
  const precision = flags.precision ?? "fp32";
  const io = flags.io ?? "fp32";
  for (const [flag, value] of [
    ["--precision", precision],
    ["--io", io],
  ] as const) {
    if (!target.precisions.includes(value))
      throw new CliError(
        `${flag} ${value} is not available for --target ${target.info.name} (its models are ${target.precisions.join(", ")}; ${value} is for --target ${PRECISION_TARGETS.join(", ")})`,
      );
  }
  if (io !== "fp32" && precision === "fp32")
    throw new CliError(`--io ${io} needs --precision ${io} (the model's weights are fp32)`);
  return { precision, io };
}

/** `fp16, fp32 inputs and outputs`-style text for the build line. */
function describePrecision({ precision, io }: BuildPrecision): string {
  return `${precision}, ${io} inputs and outputs`;
}

/**
 * `--bake-preprocessing`: the graph with the input scaling as a layer after each input. The
 * scaling is the one the weights record (`rsc train`'s x / 255); seeded weights get the scaling
 * rsc train would use. Loaded weights that record none (not trained by rsc train, or already
 * baked) cannot be baked: that is a usage error, as is a spec that already has the layer's name.
 */
async function bakePreprocessing(
  graph: Graph,
  recorded: RecordedScaling | undefined,
  weightsFile: string | undefined,
): Promise<{ graph: Graph; scaling: RecordedScaling }> {
  if (recorded?.baked === true)
    throw new CliError(`--bake-preprocessing: ${printable(weightsFile ?? "")} is already baked`);
  if (recorded === undefined && weightsFile !== undefined)
    throw new CliError(
      `--bake-preprocessing: ${printable(weightsFile)} does not record the input scaling it was trained with (only weights from rsc train do)`,
    );
  const scaling = recorded ?? TRAIN_INPUT_SCALING;
  const { bakeInputScaling } = await import("@rsc/compiler");
  const baked = bakeInputScaling(graph, scaling);
  if ("clash" in baked)
    throw new CliError(
      `--bake-preprocessing: the spec already has a layer named '${printable(baked.clash)}'`,
      ExitCode.SpecError,
    );
  return {
    graph: baked.graph,
    scaling: { scale: scaling.scale, offset: scaling.offset, baked: true },
  };
}

/** `94.4 MB`-style sizes (decimal units, as `ls -h --si`). */
function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
