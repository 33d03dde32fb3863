#!/usr/bin/env node
/**
 * Issue 4's speed record: time of one training step (batch 32, Adam, categorical cross-entropy)
 * of the ResNet-50 spec on each tfjs runtime available here, against PyTorch's step on the same
 * architecture (/work/shared/reference/torch_resnet50.py train-step), side by side in one run.
 *
 * Each runtime: the model is built from specs/resnet50.yaml with the compiler's seeded weights,
 * compiled as `rsc train` compiles it, then one warm-up step (not counted) and --steps timed
 * `trainOnBatch` calls on one fixed random batch; the median is reported. Torch runs its own
 * steps in a child process afterwards (so the two never share the 2 cores); its first step is
 * dropped as warm-up too. Ratios are tfjs median / torch median.
 *
 * Usage (after `npx tsc -b`): node bench/tfjs-train-step.mjs [--steps 5] [--cpu-steps 3]
 *   [--runtimes wasm,cpu] [--torch-steps 6] [--python /usr/bin/python3]
 * `--cpu-steps 0` times the cpu runtime's first step alone (no warm-up): one step takes tens of
 * minutes there, and the first step's extra cost (tracing the graph once) is small beside it.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
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
  },
});
const load = (p) => import(pathToFileURL(join(root, p)).href);
const compiler = await load("packages/compiler/dist/index.js");
const backend = await load("packages/backend-tfjs/dist/index.js");
const { tf } = backend;

const compiled = compiler.compileFile(join(root, values.spec));
if (!compiled.graph) {
  console.error(compiled.diagnostics.map(compiler.formatDiagnostic).join("\n"));
  process.exit(2);
}
const graph = compiled.graph;
const weights = compiler.initWeights(graph, compiled.info.seed);
const inputShape = graph.nodes.find((n) => n.name === graph.inputs[0]).outputShape;
const classes = graph.nodes.find((n) => n.name === graph.outputs[0]).outputShape[0];
const batch = 32;

console.log(
  `# tfjs train step, ${values.spec}, batch ${batch}; ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`,
);
const results = [];
for (const runtime of values.runtimes.split(",")) {
  try {
    await backend.selectRuntime(runtime);
  } catch (error) {
    console.log(`${runtime}: unavailable (${error.message})`);
    continue;
  }
  const steps = Number(runtime === "cpu" ? values["cpu-steps"] : values.steps);
  const model = backend.toLayersModel(graph, weights);
  model.compile({
    optimizer: tf.train.adam(0.001),
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
    console.log(
      `${runtime} step ${i}${i === 0 && steps > 0 ? " (warm-up)" : ""}: ${s.toFixed(2)} s, loss ${loss.toFixed(4)}`,
    );
  }
  let threads = "";
  if (runtime === "wasm")
    threads = ` (multithread: ${await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")}, simd: ${await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")})`;
  results.push({ runtime: runtime + threads, median: median(times), times });
  tf.dispose([x, y]);
  model.dispose();
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

console.log("\n| runtime | median s/step | steps | vs torch |");
console.log("|---|---|---|---|");
for (const r of results) {
  console.log(
    `| tfjs ${r.runtime} | ${r.median.toFixed(2)} | ${r.times.length} | ${torch ? `${(r.median / torch).toFixed(2)}x` : "-"} |`,
  );
}
if (torch)
  console.log(
    `| torch ${spawnSync(values.python, ["-c", "import torch;print(torch.__version__)"], { encoding: "utf8" }).stdout.trim()} (2 threads) | ${torch.toFixed(2)} | ${Number(values["torch-steps"]) - 1} | 1.00x |`,
  );
