/**
 * `rsc train --profile <file>`: the kernels of one training step, from tfjs's profiler, so a user
 * can see what is slow. The step runs on a COPY of the model (same initial weights, its own Adam),
 * after one unprofiled warm-up step, so the training itself is exactly what it would be without
 * the flag. Written as JSON (kernels by total time, with their call counts); the slowest are
 * also shown as a short table on stderr.
 */
import type { Graph, WeightMap } from "@rsc/compiler";
import { writeFileAtomic } from "../fs-atomic.js";
import { printable, say } from "../output.js";

/** One kernel's share of the profiled step. */
export interface KernelTime {
  readonly kernel: string;
  /** Total milliseconds of all its calls. */
  readonly ms: number;
  readonly count: number;
}

/** The profile file's content. */
export interface StepProfile {
  readonly runtime: string;
  /** wasm's thread count (absent on other runtimes). */
  readonly threads?: number;
  readonly batchSize: number;
  /** Wall-clock time of the profiled step (profiling adds a little). */
  readonly stepMs: number;
  /** Every kernel run, by total time, largest first. */
  readonly kernels: readonly KernelTime[];
  readonly note: string;
}

/** Kernels shown on stderr. */
const TABLE_ROWS = 10;

/**
 * Profiles one training step of a copy of `graph` on `x`, `y` (one batch, already sliced) and
 * writes the profile to `file`.
 */
export async function profileTrainingStep(
  graph: Graph,
  weights: WeightMap,
  batch: { readonly x: unknown; readonly y: unknown },
  options: {
    readonly file: string;
    readonly runtime: string;
    readonly threads?: number;
    readonly learningRate: number;
    readonly batchSize: number;
    readonly quiet: boolean;
    /** The command's inputs, which the profile must never replace. */
    readonly inputs: readonly string[];
  },
): Promise<StepProfile> {
  const { adam, tf, lowerGraph } = await import("@rsc/backend-tfjs");
  const model = lowerGraph(graph, weights).model;
  if (model === undefined) throw new Error("the model cannot be built with tfjs");
  const x = batch.x as InstanceType<typeof tf.Tensor>;
  const y = batch.y as InstanceType<typeof tf.Tensor>;
  model.compile({
    optimizer: adam(options.learningRate),
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  await model.trainOnBatch(x, y); // warm-up: operator set-up, memory growth
  const started = performance.now();
  const info = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  const stepMs = performance.now() - started;
  model.dispose();
  const byName = new Map<string, { ms: number; count: number }>();
  for (const k of info.kernels) {
    const ms = await k.kernelTimeMs;
    const entry = byName.get(k.name) ?? { ms: 0, count: 0 };
    entry.ms += typeof ms === "number" ? ms : 0;
    entry.count += 1;
    byName.set(k.name, entry);
  }
  const kernels = [...byName]
    .map(([kernel, { ms, count }]) => ({ kernel, ms: Number(ms.toFixed(3)), count }))
    .sort((a, b) => b.ms - a.ms);
  const profile: StepProfile = {
    runtime: options.runtime,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    batchSize: options.batchSize,
    stepMs: Number(stepMs.toFixed(1)),
    kernels,
    note: "times are per kernel name, summed over its calls; a kernel composed of others (on wasm: Conv2DBackpropFilter, Conv2DBackpropInput, the depthwise gradients) includes the time of the kernels it runs, which are listed too",
  };
  await writeFileAtomic(options.file, `${JSON.stringify(profile, null, 2)}\n`, {
    inputs: options.inputs,
  });
  if (!options.quiet) {
    say(
      `profile of one training step (${stepMs.toFixed(0)} ms, ${options.runtime}) written to ${printable(options.file)}:`,
    );
    const width = Math.max(6, ...kernels.slice(0, TABLE_ROWS).map((k) => k.kernel.length));
    say(`  ${"kernel".padEnd(width)}  ${"ms".padStart(9)}  ${"calls".padStart(6)}`);
    for (const k of kernels.slice(0, TABLE_ROWS))
      say(
        `  ${k.kernel.padEnd(width)}  ${k.ms.toFixed(1).padStart(9)}  ${String(k.count).padStart(6)}`,
      );
  }
  return profile;
}
