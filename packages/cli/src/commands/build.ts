/**
 * `rsc build <spec> --target onnx|... [-o out] [--seed N] [--weights model.json]`: compiles a spec
 * and writes a backend's artifact. Targets are a small table of lazily imported modules, so the
 * command registers without loading any backend; the weights (seeded or loaded) are decided here,
 * once, for every target.
 */
import { basename, extname } from "node:path";
import {
  type Diagnostic,
  type Graph,
  MAX_SEED,
  type SpecInfo,
  type WeightMap,
} from "@rsc/compiler";
import type { Command } from "commander";
import {
  action,
  compileOrThrow,
  outputOptions,
  type SpecFlags,
  withSpecFlags,
} from "../command-kit.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { emitJson, type OutputOptions, printDiagnostics, say } from "../output.js";

/** Flags of `rsc build`. */
export interface BuildFlags extends SpecFlags {
  /** `--target`: a key of {@link BUILD_TARGETS}. */
  readonly target: string;
  /** `-o, --output`: where to write; the target's default under `build/` when absent. */
  readonly output?: string;
  /** `--seed`: weight seed overriding the spec's `seed:`. */
  readonly seed?: string;
  /** `--weights`: tfjs model.json (or its folder) to load weights from instead of seeding them. */
  readonly weights?: string;
  /** `--external-data-threshold`: ONNX initializer bytes above which weights go to a .data file. */
  readonly externalDataThreshold?: string;
}

/** Everything a target needs to write its artifact. */
export interface BuildRequest {
  /** The spec path as given. */
  readonly spec: string;
  readonly graph: Graph;
  readonly info: SpecInfo;
  /** Weights by Keras name, in Keras layout (seeded, or loaded with --weights). */
  readonly weights: WeightMap;
  /** The seed the weights came from; undefined when they were loaded from a file. */
  readonly seed: number | undefined;
  /** The weights file's name (no folder) when loaded with --weights. */
  readonly weightsSource: string | undefined;
  /** Output path (file or folder, as the target writes). */
  readonly output: string;
  readonly flags: BuildFlags;
  readonly out: OutputOptions;
}

/** A file a target wrote. */
export interface BuiltFile {
  readonly path: string;
  /** Size in bytes. */
  readonly bytes: number;
}

/** What a target reports after writing its artifact atomically. */
export interface BuildProduct {
  readonly files: readonly BuiltFile[];
  /** Target-specific figures for the JSON envelope (e.g. ONNX node count). */
  readonly details?: Readonly<Record<string, string | number>>;
  readonly diagnostics?: readonly Diagnostic[];
}

/** One `--target`: its default output and its writer. */
export interface BuildTarget {
  /** Default output path for a spec whose file stem is `stem`, e.g. `build/resnet50.onnx`. */
  defaultOutput(stem: string): string;
  /** Emits and writes (atomically) the artifact; throws CliError on bad input. */
  build(request: BuildRequest): Promise<BuildProduct>;
}

/** The build targets, each imported only when chosen (start-up stays fast). */
export const BUILD_TARGETS: Readonly<Record<string, () => Promise<BuildTarget>>> = {
  onnx: async () => (await import("./build-onnx.js")).onnxTarget,
  tfjs: async () => (await import("./build-tfjs.js")).tfjsTarget,
};

/** Registers `rsc build`. */
export function registerBuild(program: Command): void {
  withSpecFlags(
    program
      .command("build")
      .description("compile a spec and write a backend artifact (an .onnx model, ...)")
      .argument("<spec>", "spec file (YAML)")
      .requiredOption("-t, --target <target>", `backend: ${Object.keys(BUILD_TARGETS).join(", ")}`)
      .option("-o, --output <path>", "output path (default: build/<spec name>.<ext>)")
      .option("--seed <n>", "weight seed (overrides the spec's seed:)")
      .option(
        "--weights <path>",
        "load weights by Keras name from a tfjs model.json (or its folder)",
      )
      .option(
        "--external-data-threshold <bytes>",
        "onnx: weight bytes above which tensors go to <model>.onnx.data (default ~1.9 GB)",
      ),
  ).action(action((spec: string, flags: BuildFlags) => build(spec, flags)));
}

function parseSeed(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > MAX_SEED)
    throw new CliError(`--seed expects an integer from 0 to ${MAX_SEED}, got '${text}'`);
  return Number(text);
}

async function build(spec: string, flags: BuildFlags): Promise<number> {
  const started = performance.now();
  const out = outputOptions(flags);
  const load = BUILD_TARGETS[flags.target];
  if (load === undefined) {
    throw new CliError(
      `unknown --target '${flags.target}' (expected ${Object.keys(BUILD_TARGETS).join(" or ")})`,
    );
  }
  const seedFlag = parseSeed(flags.seed);
  if (seedFlag !== undefined && flags.weights !== undefined)
    throw new CliError("--seed and --weights exclude each other (loaded weights have no seed)");
  const { graph, info, diagnostics } = compileOrThrow(spec, flags);
  const target = await load();

  let weights: WeightMap;
  let seed: number | undefined;
  let weightsSource: string | undefined;
  if (flags.weights !== undefined) {
    const { loadWeightsForGraph } = await import("../weights-file.js");
    const loaded = loadWeightsForGraph(flags.weights, graph);
    weights = loaded.weights;
    weightsSource = basename(loaded.file);
  } else {
    const { seededWeights } = await import("@rsc/compiler");
    seed = seedFlag ?? info.seed;
    // Generated tensor by tensor as the target consumes them, never all held at once.
    weights = seededWeights(graph, seed);
  }

  const stem = basename(spec, extname(spec));
  const output = flags.output ?? target.defaultOutput(stem);
  const product = await target.build({
    spec,
    graph,
    info,
    weights,
    seed,
    weightsSource,
    output,
    flags,
    out,
  });
  const seconds = (performance.now() - started) / 1000;
  const all = [...diagnostics, ...(product.diagnostics ?? [])];
  const params = product.details?.["params"];
  if (out.json) {
    emitJson({
      command: "build",
      ok: true,
      diagnostics: all,
      result: {
        target: flags.target,
        spec,
        files: product.files,
        seed: seed ?? null,
        weights: flags.weights ?? null,
        specHash: info.hash,
        seconds: Number(seconds.toFixed(3)),
        ...product.details,
      },
    });
  } else {
    printDiagnostics(all, out);
    for (const file of product.files) say(`wrote ${file.path} (${formatBytes(file.bytes)})`);
    const what = [
      typeof params === "number" ? `${params.toLocaleString("en-US")} params` : undefined,
      seed === undefined ? `weights from ${flags.weights}` : `seed ${seed}`,
      `${seconds.toFixed(2)} s`,
    ].filter((x) => x !== undefined);
    say(`built ${graph.name} for ${flags.target}: ${what.join(", ")}`);
  }
  return ExitCode.Ok;
}

/** `94.4 MB`-style sizes (decimal units, as `ls -h --si`). */
export function formatBytes(bytes: number): string {
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
