/**
 * `rsc run <model.onnx> [--ep auto|cuda|webgpu|cpu] [--batch N] [--input x.npy] [--runs N] [--top K] [--all]`:
 * runs an ONNX model with onnxruntime-node on a seeded random input (or a .npy file) and prints
 * the output shapes, the top classes and the latency. `--ep auto` says in one line (stderr) which
 * provider it took and why; a GPU provider it took that fails during the run gives way to the CPU
 * (one more line), while an explicit `--ep cuda|webgpu` that cannot run is an error (exit 2). The text shows the top classes of the first
 * {@link SHOWN_EXAMPLES} examples and says how many it leaves out (`--all` shows every one);
 * `--json` always holds every example. onnxruntime loads inside the action only.
 */
import { readFileSync, statSync } from "node:fs";
import { shapeSize } from "@rsc/compiler";
import type { Command } from "commander";
import { action, outputOptions, requireReadable } from "../command-kit.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { BATCH_RANGE, choiceOption, integerOption, seedOption } from "../flags.js";
import { printable, printJson, printOut, say, style } from "../output.js";

/**
 * Most input `rsc run` makes or reads: `--batch` is capped (flags.ts), but a batch of 65536 large
 * images is still 39 GB; over this the run is refused (exit 2) before anything is allocated.
 */
export const MAX_INPUT_BYTES = 2 ** 30;

/** A .npy file may hold float64 (converted): twice the float32 bytes, plus its header. */
const MAX_NPY_FILE_BYTES = 2 * MAX_INPUT_BYTES + 2 ** 20;

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** Examples whose top classes the text shows without `--all` (one line each). */
export const SHOWN_EXAMPLES = 3;

/** `--ep` values: auto (CUDA, else WebGPU on a real GPU, else the CPU), cuda, webgpu, cpu. */
const EXECUTION_PROVIDERS = ["auto", "cuda", "webgpu", "cpu"] as const;

/** Flags of `rsc run`, parsed. */
interface RunFlags {
  readonly ep: (typeof EXECUTION_PROVIDERS)[number];
  readonly batch: number;
  readonly input?: string;
  readonly runs: number;
  readonly top: number;
  /** Show the top classes of every example, not the first {@link SHOWN_EXAMPLES}. */
  readonly all?: boolean;
  readonly seed: number;
  /** onnxruntime intra-op threads on the CPU; 0 for its default (one per core). */
  readonly threads: number;
  readonly json?: boolean;
  readonly color?: boolean;
  /** `--verbose`: with `--ep auto`, also how to enable the providers it could not use. */
  readonly verbose?: boolean;
}

/** Top-K classes of one example. */
export interface TopClasses {
  /** 0-based example index in the batch. */
  readonly example: number;
  /** Classes by decreasing score: 0-based class index and its output value. */
  readonly classes: readonly { readonly index: number; readonly score: number }[];
}

/** What `rsc run --json` reports. */
export interface RunResult {
  readonly model: string;
  /** `--ep` as given: `auto`, `cuda`, `webgpu` or `cpu`. */
  readonly requestedEp: string;
  /** Execution provider the outputs and latency came from: `cuda`, `webgpu` or `cpu`. */
  readonly ep: string;
  /** The WebGPU adapter Dawn reported, when it was probed (`--ep webgpu`, or `auto` without CUDA). */
  readonly adapter?: {
    readonly name: string;
    readonly vendor: string;
    readonly architecture: string;
    readonly description: string;
    /** A software renderer (lavapipe, SwiftShader): `auto` does not use it. */
    readonly software: boolean;
  };
  /** The lines the text output prints on stderr: which provider and why, a fall back. */
  readonly notes: readonly string[];
  /** Intra-op threads asked for (`--threads`); 0 for onnxruntime's default. */
  readonly threads: number;
  readonly inputs: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    readonly source: string;
  }[];
  readonly outputs: readonly {
    readonly name: string;
    readonly shape: readonly number[];
    /** The top classes of every example of a `[batch, classes]` output, in batch order. */
    readonly top?: readonly TopClasses[];
  }[];
  /** First run, in milliseconds. */
  readonly firstRunMs: number;
  /** Median of the timed runs after the first, in milliseconds. */
  readonly medianMs: number;
  /** Number of timed runs after the first. */
  readonly runs: number;
}

/** Registers `rsc run`. */
export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run an ONNX model with onnxruntime: output shapes, top classes, latency")
    .argument("<model>", "model file (.onnx)")
    .addOption(
      choiceOption(
        "--ep <auto|cuda|webgpu|cpu>",
        "onnxruntime execution provider; auto: CUDA, else WebGPU on a real (not software) GPU, else the CPU, and says which",
        EXECUTION_PROVIDERS,
        { fallback: "auto" },
      ),
    )
    .addOption(integerOption("--batch <n>", "batch size of the random input", BATCH_RANGE, 1))
    .option(
      "--input <file.npy>",
      "input tensor (float32, NHWC with the batch first) instead of random",
    )
    .addOption(
      integerOption("--runs <n>", "timed runs after the first", { min: 0, max: 1_000_000 }, 10),
    )
    .addOption(
      integerOption("--top <k>", "classes to show per example", { min: 1, max: 1_000_000 }, 5),
    )
    .option(
      "--all",
      `show the top classes of every example (default: the first ${SHOWN_EXAMPLES}; --json has all)`,
    )
    .addOption(seedOption("--seed <n>", "seed of the random input", 0))
    .addOption(
      integerOption(
        "--threads <n>",
        "threads per operator on the CPU (0: one per core)",
        { min: 0, max: 1024 },
        0,
      ),
    )
    .option("--verbose", "with --ep auto, also say how to enable the providers it could not use")
    .option("--json", "print one JSON envelope on stdout instead of text")
    .option("--no-color", "never colour the output")
    .action(action((model: string, flags: RunFlags) => run(model, flags)));
}

function dataError(file: string, code: "RSC500" | "RSC501", message: string): CliError {
  return new CliError(message, ExitCode.SpecError, [
    { severity: "error", code, message, file, line: 1, column: 1 },
  ]);
}

async function run(model: string, flags: RunFlags): Promise<number> {
  const out = outputOptions(flags);
  const { batch, runs, top, seed, threads } = flags;
  requireReadable(model, "model");
  if (flags.input !== undefined) requireReadable(flags.input, "input");

  const runtime = await import("@rsc/backend-onnx/runtime");
  let selected: Awaited<ReturnType<typeof runtime.createSession>>;
  try {
    selected = await runtime.createSession(model, flags.ep, threads, {
      verbose: flags.verbose === true,
    });
  } catch (error) {
    if (error instanceof runtime.RuntimeUnavailableError) throw new CliError(error.message);
    const reason = String((error as Error).message ?? error).split("\n")[0];
    throw dataError(model, "RSC500", `onnxruntime cannot load ${model}: ${reason}`);
  }
  const { session } = selected;
  const notes: string[] = [];
  const note = (text: string) => {
    notes.push(text);
    if (!out.json) say(style.dim(`note: ${text}`, out.color));
  };
  if (selected.notice !== undefined) note(selected.notice);
  if (selected.hint !== undefined && !out.json) say(style.dim(`hint: ${selected.hint}`, out.color));

  const ort = runtime.ort();
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  const inputs: { name: string; shape: number[]; source: string }[] = [];
  /** Bytes of the inputs made or read so far (bounded by {@link MAX_INPUT_BYTES}). */
  let inputBytes = 0;
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) throw new CliError(`input '${meta.name}' is not a tensor`);
    // An `rsc build --precision fp16 --io fp16` model takes float16 (as Uint16Array bits).
    if (meta.type !== "float32" && meta.type !== "float16")
      throw dataError(
        model,
        "RSC500",
        `input '${meta.name}' is ${meta.type}; rsc run feeds float32 or float16 tensors`,
      );
    const dims = meta.shape.map((d) => (typeof d === "number" && d >= 0 ? d : batch));
    let data: Float32Array;
    let source = `random (seed ${seed})`;
    if (flags.input !== undefined) {
      if (session.inputNames.length !== 1)
        throw new CliError(
          `--input gives one tensor; the model has ${session.inputNames.length} inputs`,
        );
      const { NpyError, parseNpy } = await import("../npy.js");
      let array: { shape: readonly number[]; data: Float32Array };
      try {
        array = parseNpy(readInputFile(flags.input));
      } catch (error) {
        if (error instanceof NpyError)
          throw dataError(flags.input, "RSC500", `${flags.input}: ${error.message}`);
        throw error;
      }
      const fits =
        array.shape.length === meta.shape.length &&
        meta.shape.every((d, i) => typeof d !== "number" || d < 0 || d === array.shape[i]);
      if (!fits) {
        const want = meta.shape
          .map((d) => (typeof d === "number" && d >= 0 ? d : String(d)))
          .join(", ");
        throw dataError(
          flags.input,
          "RSC501",
          `${flags.input} has shape (${array.shape.join(", ")}); input '${meta.name}' needs (${want}) (NHWC, batch first)`,
        );
      }
      dims.splice(0, dims.length, ...array.shape);
      data = array.data;
      source = flags.input;
    } else {
      const { uniformStream } = await import("@rsc/compiler");
      checkInputBytes(inputBytes + shapeSize(dims) * 4, `--batch ${batch}`);
      const next = uniformStream(seed, meta.name);
      data = new Float32Array(shapeSize(dims));
      for (let i = 0; i < data.length; i++) data[i] = next();
    }
    inputBytes += data.byteLength;
    checkInputBytes(
      inputBytes,
      flags.input === undefined ? `--batch ${batch}` : `--input ${flags.input}`,
    );
    feeds[meta.name] =
      meta.type === "float16"
        ? new ort.Tensor("float16", (await import("@rsc/backend-onnx")).toFloat16(data), dims)
        : new ort.Tensor("float32", data, dims);
    inputs.push({ name: meta.name, shape: dims, source });
  }

  let ran: Awaited<ReturnType<typeof runtime.runWithFallback>>;
  try {
    ran = await runtime.runWithFallback(selected, feeds, runs, {
      model,
      choice: flags.ep,
      intraOpThreads: threads,
    });
  } catch (error) {
    if (error instanceof runtime.RuntimeUnavailableError) throw new CliError(error.message);
    const reason = String((error as Error).message ?? error).split("\n")[0];
    throw dataError(model, "RSC500", `onnxruntime cannot run ${model}: ${reason}`);
  }
  const { outputs, latency, fallback } = ran;
  const { ep, adapter } = ran.selected;
  if (fallback !== undefined) note(fallback);
  const { float16Value } = await import("@rsc/backend-onnx");
  const results = ran.selected.session.outputNames.map((name) => {
    const tensor = outputs[name]!;
    const shape = tensor.dims.map(Number);
    const values =
      tensor.type === "float16"
        ? Float32Array.from(tensor.data as Uint16Array, float16Value)
        : (tensor.data as Float32Array);
    return {
      name,
      shape,
      ...(shape.length === 2 ? { top: topClasses(values, shape, top) } : {}),
    };
  });
  await ran.selected.session.release();

  const result: RunResult = {
    model,
    requestedEp: flags.ep,
    ep,
    ...(adapter
      ? {
          adapter: {
            name: adapter.name,
            vendor: adapter.vendor,
            architecture: adapter.architecture,
            description: adapter.description,
            software: adapter.software,
          },
        }
      : {}),
    notes,
    threads,
    inputs,
    outputs: results,
    firstRunMs: round(latency.firstMs),
    medianMs: round(latency.medianMs),
    runs,
  };
  if (out.json) {
    printJson({ command: "run", ok: true, diagnostics: [], result });
    return ExitCode.Ok;
  }
  const lines: string[] = [];
  const perOp = threads > 0 ? `, ${threads} thread${threads === 1 ? "" : "s"} per op` : "";
  const provider =
    ep === "webgpu" ? `WebGPU on ${adapter?.name ?? "an unnamed adapter"}` : ep.toUpperCase();
  lines.push(`model   ${printable(model)} (onnxruntime-node, ${printable(provider)}${perOp})`);
  for (const i of inputs)
    lines.push(`input   ${printable(i.name)} [${i.shape.join(", ")}] ${printable(i.source)}`);
  for (const o of results) {
    lines.push(`output  ${printable(o.name)} [${o.shape.join(", ")}]`);
    const top = o.top ?? [];
    const shown = flags.all === true ? top : top.slice(0, SHOWN_EXAMPLES);
    for (const t of shown) {
      const classes = t.classes.map((c) => `${c.index} (${c.score.toFixed(4)})`).join(", ");
      lines.push(`  example ${t.example}: top ${t.classes.length}: ${classes}`);
    }
    const hidden = top.length - shown.length;
    if (hidden > 0) lines.push(`  … ${hidden} more example${hidden === 1 ? "" : "s"} (use --all)`);
  }
  lines.push(
    `latency first run ${latency.firstMs.toFixed(2)} ms, median ${latency.medianMs.toFixed(2)} ms of ${runs} runs (batch ${inputs[0]?.shape[0] ?? batch})`,
  );
  printOut(lines.join("\n"));
  return ExitCode.Ok;
}

/** Fails (exit 2) when the inputs would exceed {@link MAX_INPUT_BYTES}; `cause` names the flag. */
function checkInputBytes(bytes: number, cause: string): void {
  if (bytes > MAX_INPUT_BYTES)
    throw new CliError(
      `${cause} makes ${gib(bytes)} of input, more than rsc run's ${gib(MAX_INPUT_BYTES)}: use a smaller batch`,
    );
}

/** Reads an --input file: a regular file of a size that can be an input (a FIFO or /dev/zero is refused). */
function readInputFile(path: string): Buffer {
  const stats = statSync(path);
  if (!stats.isFile()) throw new CliError(`input ${path}: is not a regular file`);
  if (stats.size > MAX_NPY_FILE_BYTES)
    throw new CliError(
      `input ${path}: is ${gib(stats.size)}, more than rsc run's ${gib(MAX_INPUT_BYTES)} of input`,
    );
  return readFileSync(path);
}

const round = (ms: number) => Number(ms.toFixed(3));

/** Largest `k` for which {@link topClasses} keeps the best in one scan; past it, rows are sorted. */
const SCAN_UP_TO = 16;

/** Orders classes by decreasing score, then increasing index; NaN after every number. */
function better(a: number, ai: number, b: number, bi: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return !Number.isNaN(a) || (Number.isNaN(b) && ai < bi);
  return a > b || (a === b && ai < bi);
}

/** The indices of the `keep` best scores of a row, best first, in one scan of the row. */
function scanBest(row: Float32Array, keep: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    const score = row[i]!;
    const worst = best.at(-1);
    if (best.length === keep && !better(score, i, row[worst!]!, worst!)) continue;
    // Insert in order; when full, the worst falls off the end.
    let at = best.length === keep ? keep - 1 : best.length;
    while (at > 0 && better(score, i, row[best[at - 1]!]!, best[at - 1]!)) {
      best[at] = best[at - 1]!;
      at--;
    }
    best[at] = i;
  }
  return best;
}

/** The indices of the `keep` best scores of a row, best first, by sorting the row. */
function sortBest(row: Float32Array, keep: number): number[] {
  const order = Array.from(row, (_, i) => i);
  order.sort((i, j) => (better(row[i]!, i, row[j]!, j) ? -1 : 1));
  return order.slice(0, keep);
}

/**
 * The `k` best classes of every example of a `[batch, classes]` output, best first (ties by
 * lower index). For a small `k` (the default 5) each row is scanned once, so a batch of 65,536
 * examples of 1,000 classes costs no sort of each row; a larger `k` sorts the row.
 */
export function topClasses(
  data: Float32Array,
  [n, classes]: readonly number[],
  k: number,
): TopClasses[] {
  const out: TopClasses[] = [];
  const keep = Math.min(k, classes!);
  for (let e = 0; e < n!; e++) {
    const row = data.subarray(e * classes!, (e + 1) * classes!);
    const best = keep > SCAN_UP_TO ? sortBest(row, keep) : scanBest(row, keep);
    out.push({ example: e, classes: best.map((index) => ({ index, score: row[index]! })) });
  }
  return out;
}
