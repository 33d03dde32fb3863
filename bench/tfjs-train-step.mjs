#!/usr/bin/env node
/**
 * Issues 4 and 16's speed record: time of one training step (batch 32, Adam, categorical
 * cross-entropy) of the ResNet-50 spec on each tfjs runtime available here, against PyTorch's
 * step on the same architecture (/work/shared/reference/torch_resnet50.py train-step), side by
 * side in one run, with a per-kernel profile of one step.
 *
 * `wasm` is measured three ways, each in its own process (wasm's thread pool is fixed when the
 * backend starts): `wasm-old` (the filter gradient as one im2col product, wasm's own input
 * gradient, Sum, Mean, MaxPoolGrad and Identity, tfjs's batch norm and Adam: rsc before issue 16),
 * `wasm-new` (the gradients as forward convs and products, batch norm and Adam as fused SIMD
 * kernels, 1 thread), `wasm-threads` (the same on the threaded binary, one thread per available
 * core). Other runtimes (node, cpu, webgpu, ...)
 * run as given.
 *
 * Each runtime: the model is built from the spec with the compiler's seeded weights, compiled as
 * `rsc train` compiles it, then one warm-up step (not counted) and --steps timed `trainOnBatch`
 * calls on one fixed random batch; the median is reported. The last runtime measured (the
 * fastest wasm one unless --profile-runtime says otherwise) profiles one more step with tfjs's
 * profiler: kernels by total time. Torch runs its own steps in a child process afterwards (so the
 * two never share the cores); its first step is dropped as warm-up too. Ratios are tfjs median /
 * torch median. FLOPs of one step: 3x the forward pass's multiply-adds x 2 (forward, input
 * gradient, filter gradient), from the compiler's MAC count.
 *
 * Usage (after `npx tsc -b`): node bench/tfjs-train-step.mjs [--steps 5] [--cpu-steps 3]
 *   [--runtimes wasm,cpu] [--torch-steps 6] [--python /usr/bin/python3] [--spec specs/resnet50.yaml]
 *   [--threads N] [--profile-runtime wasm-threads] [--no-profile]
 *   [--wasm-peak GFLOP/s] [--native-peak GFLOP/s]
 * The peaks, when given, add a "% of peak" column: wasm's (128-bit SIMD, no FMA in tfjs 4.22's
 * binary: lanes x FP pipes x GHz x threads) and the native one PyTorch and tfjs-node use.
 * `--runtimes wasm` expands to wasm-old,wasm-new,wasm-threads; each can be named alone too.
 * `--cpu-steps 0` times the cpu runtime's first step alone (no warm-up): one step takes tens of
 * minutes there, and the first step's extra cost (tracing the graph once) is small beside it.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { median } from "./lib/timing.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "5" },
    "cpu-steps": { type: "string", default: "3" },
    runtimes: { type: "string", default: "node-gpu,node,wasm,cpu" },
    "torch-steps": { type: "string", default: "6" },
    python: { type: "string", default: "/usr/bin/python3" },
    spec: { type: "string", default: "specs/resnet50.yaml" },
    threads: { type: "string", default: String(availableParallelism()) },
    "profile-runtime": { type: "string" },
    "no-profile": { type: "boolean", default: false },
    "wasm-peak": { type: "string" },
    "native-peak": { type: "string" },
    /** Internal: measure one runtime in this process and print its result as JSON. */
    child: { type: "string" },
    profile: { type: "boolean", default: false },
  },
});
const load = (p) => import(pathToFileURL(join(root, p)).href);
const batch = 32;

/** The runtime variants, as `selectRuntime` and the wasm kernel registry take them. */
function variant(name) {
  const threads = Number(values.threads);
  if (name === "wasm-old") return { runtime: "wasm", kernels: "composite", threads: 1 };
  if (name === "wasm-new") return { runtime: "wasm", kernels: "fast", threads: 1 };
  if (name === "wasm-threads") return { runtime: "wasm", kernels: "fast", threads };
  return { runtime: name, threads };
}

/** Kernels of one profiled step: total ms and count by name, largest first. */
async function profileStep(tf, step) {
  const info = await tf.profile(step);
  const byName = new Map();
  for (const k of info.kernels) {
    const ms = await k.kernelTimeMs;
    const entry = byName.get(k.name) ?? { kernel: k.name, ms: 0, count: 0 };
    entry.ms += typeof ms === "number" ? ms : 0;
    entry.count += 1;
    byName.set(k.name, entry);
  }
  return [...byName.values()].sort((a, b) => b.ms - a.ms);
}

if (values.child !== undefined) {
  const v = variant(values.child);
  const compiler = await load("packages/compiler/dist/index.js");
  const backend = await load("packages/backend-tfjs/dist/index.js");
  const { tf } = backend;
  const compiled = compiler.compileFile(join(root, values.spec));
  const graph = compiled.graph;
  try {
    await backend.selectRuntime(v.runtime, { threads: v.threads });
    const expected = { "node-gpu": "tensorflow", node: "tensorflow" }[v.runtime] ?? v.runtime;
    if (tf.getBackend() !== expected)
      throw new Error(`selectRuntime left tfjs on '${tf.getBackend()}'`);
  } catch (error) {
    console.log(JSON.stringify({ name: values.child, unavailable: error.message }));
    process.exit(0);
  }
  if (v.kernels !== undefined) {
    const kernels = await load("packages/backend-tfjs/dist/wasm-training-kernels.js");
    kernels.registerWasmTrainingKernels(v.kernels);
  }
  const weights = compiler.initWeights(graph, compiled.info.seed);
  const inputShape = graph.nodes.find((n) => n.name === graph.inputs[0]).outputShape;
  const classes = graph.nodes.find((n) => n.name === graph.outputs[0]).outputShape[0];
  const steps = Number(v.runtime === "cpu" ? values["cpu-steps"] : values.steps);
  const model = backend.toLayersModel(graph, weights);
  model.compile({
    // wasm-old is rsc before issue 16, so it keeps tfjs's own Adam; the others use rsc's, whose
    // update is one pass per variable on wasm (fused-adam.ts).
    optimizer: v.kernels === "composite" ? tf.train.adam(0.001) : backend.adam(0.001),
    loss: "categoricalCrossentropy",
    metrics: ["accuracy"],
  });
  const x = tf.randomUniform([batch, ...inputShape], 0, 1, "float32", 1);
  const y = tf
    .oneHot(
      tf.tensor1d(
        Array.from({ length: batch }, (_, i) => i % classes),
        "int32",
      ),
      classes,
    )
    .cast("float32");
  const times = [];
  for (let i = 0; i <= steps; i++) {
    const t = performance.now();
    const [loss] = await model.trainOnBatch(x, y);
    const s = (performance.now() - t) / 1000;
    if (i > 0 || steps === 0) times.push(s);
    console.error(
      `${values.child} step ${i}${i === 0 && steps > 0 ? " (warm-up)" : ""}: ${s.toFixed(2)} s, loss ${loss.toFixed(4)}`,
    );
    if (steps === 0) break;
  }
  const threads = v.runtime === "wasm" ? (backend.wasmThreadInfo()?.threads ?? 1) : undefined;
  const fallback = v.runtime === "wasm" ? backend.wasmThreadInfo()?.fallback : undefined;
  const profile = values.profile
    ? await profileStep(tf, () => model.trainOnBatch(x, y).then(() => undefined))
    : undefined;
  console.log(
    JSON.stringify({
      name: values.child,
      times,
      median: median(times),
      threads,
      fallback,
      profile,
    }),
  );
  process.exit(0);
}

const compiler = await load("packages/compiler/dist/index.js");
const compiled = compiler.compileFile(join(root, values.spec));
if (!compiled.graph) {
  console.error(compiled.diagnostics.map(compiler.formatDiagnostic).join("\n"));
  process.exit(2);
}
const macs = compiler.graphCost?.(compiled.graph)?.macs;
const stepFlops = macs === undefined ? undefined : 3 * 2 * macs * batch;

const names = values.runtimes
  .split(",")
  .flatMap((r) => (r === "wasm" ? ["wasm-old", "wasm-new", "wasm-threads"] : [r]));
const profiled =
  values["no-profile"] === true
    ? undefined
    : (values["profile-runtime"] ??
      (names.includes("wasm-threads") ? "wasm-threads" : names.at(-1)));
console.log(
  `# tfjs train step, ${values.spec}, batch ${batch}; ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load ${loadavg()[0].toFixed(2)} at start`,
);
if (stepFlops !== undefined)
  console.log(
    `# one step: ${(stepFlops / 1e9).toFixed(1)} GFLOP (3 x 2 x ${(macs / 1e6).toFixed(0)} M multiply-adds x batch ${batch})`,
  );
const results = [];
for (const name of names) {
  const run = spawnSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      "--child",
      name,
      "--spec",
      values.spec,
      "--steps",
      values.steps,
      "--cpu-steps",
      values["cpu-steps"],
      "--threads",
      values.threads,
      ...(name === profiled ? ["--profile"] : []),
    ],
    { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26 },
  );
  const line = run.stdout.trim().split("\n").at(-1) ?? "";
  let result;
  try {
    result = JSON.parse(line);
  } catch {
    console.log(`${name}: failed (exit ${run.status}): ${line}`);
    continue;
  }
  if (result.unavailable !== undefined) {
    console.log(`${name}: unavailable (${result.unavailable})`);
    continue;
  }
  if (result.fallback !== undefined) console.log(`${name}: threads fell back: ${result.fallback}`);
  results.push(result);
}

let torch;
const script = "/work/shared/reference/torch_resnet50.py";
if (existsSync(values.python) && existsSync(script)) {
  const run = spawnSync(values.python, [script, "train-step", values["torch-steps"]], {
    encoding: "utf8",
  });
  const times = [...run.stdout.matchAll(/train-step_s=([\d.]+)/g)].map((m) => Number(m[1]));
  if (times.length > 1) {
    torch = median(times.slice(1));
    console.log(
      `torch steps: ${times.map((t) => t.toFixed(2)).join(", ")} s (first dropped as warm-up)`,
    );
  } else {
    console.log(`torch: no timing (${(run.stderr || run.stdout).trim().split("\n").at(-1)})`);
  }
} else {
  console.log("torch: /usr/bin/python3 or the reference script missing");
}

const rate = (s) => (stepFlops === undefined ? "-" : (stepFlops / s / 1e9).toFixed(1));
const peakHead = (values["wasm-peak"] ?? values["native-peak"]) ? " % of peak |" : "";
const ofPeak = (s, peak) => {
  if (!peakHead) return "";
  if (stepFlops === undefined || peak === undefined) return " - |";
  return ` ${((100 * stepFlops) / s / 1e9 / Number(peak)).toFixed(0)}% |`;
};
console.log(`\n| runtime | median s/step | steps | vs torch | GFLOP/s |${peakHead}`);
console.log(`|---|---|---|---|---|${peakHead ? "---|" : ""}`);
for (const r of results) {
  const threads =
    r.threads === undefined ? "" : ` (${r.threads} thread${r.threads === 1 ? "" : "s"})`;
  console.log(
    `| tfjs ${r.name}${threads} | ${r.median.toFixed(2)} | ${r.times.length} | ${torch ? `${(r.median / torch).toFixed(2)}x` : "-"} | ${rate(r.median)} |${ofPeak(r.median, r.name.startsWith("wasm") ? values["wasm-peak"] : values["native-peak"])}`,
  );
}
if (torch) {
  const version = spawnSync(values.python, ["-c", "import torch;print(torch.__version__)"], {
    encoding: "utf8",
  }).stdout.trim();
  console.log(
    `| torch ${version} (${availableParallelism()} threads) | ${torch.toFixed(2)} | ${Number(values["torch-steps"]) - 1} | 1.00x | ${rate(torch)} |${ofPeak(torch, values["native-peak"])}`,
  );
}
const withProfile = results.find((r) => r.profile !== undefined);
if (withProfile) {
  const total = withProfile.profile.reduce((s, k) => s + k.ms, 0);
  console.log(
    `\n## kernels of one ${withProfile.name} step (tfjs profile; Conv2DBackpropFilter/Input and the depthwise gradients are composites: their time includes the Conv2D, Transpose, ... they run, which are listed too)\n`,
  );
  console.log("| kernel | total ms | count | share of listed |");
  console.log("|---|---|---|---|");
  for (const k of withProfile.profile.slice(0, 20))
    console.log(
      `| ${k.kernel} | ${k.ms.toFixed(0)} | ${k.count} | ${((100 * k.ms) / total).toFixed(1)}% |`,
    );
}
