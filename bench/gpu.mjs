#!/usr/bin/env node
/**
 * Issue 15's GPU benchmark, side by side in one run:
 *   1. ResNet-50 inference latency (specs/resnet50.yaml built to ONNX) at batch 1 and 32 on
 *      onnxruntime-node's CPU provider vs its WebGPU provider (and CUDA where its provider is
 *      installed), sessions with identical options, runs interleaved, first run not counted;
 *   2. one ResNet-50 training step at batch 32 on tfjs webgpu vs wasm vs PyTorch's CPU step
 *      (bench/tfjs-train-step.mjs, run as a child so the two parts never share the cores).
 *
 * It names the WebGPU adapter first (Dawn via the webgpu package). On a software adapter
 * (lavapipe in CI) the figures only prove the code path; on a machine with a GPU the same command
 * gives the real figures. Targets on a real GPU: WebGPU faster than CPU at batch 32; a
 * tfjs-webgpu step faster than PyTorch's CPU step.
 *
 * The model is built in fp32 and fp16 (`rsc build --precision fp16`, float32 inputs and outputs):
 * their file sizes, and every provider's latency for each, are reported against fp32 on the CPU.
 *
 * Usage (after `pnpm run build`): node bench/gpu.mjs [--runs 10] [--batches 1,32]
 *   [--spec specs/resnet50.yaml] [--precisions fp32,fp16] [--train-steps 2] [--torch-steps 4]
 *   [--no-train]
 * Exits 2 when the model cannot be built.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { interleavedOrder, median, ratioInterval } from "./lib/timing.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    batches: { type: "string", default: "1,32" },
    spec: { type: "string", default: "specs/resnet50.yaml" },
    "train-steps": { type: "string", default: "2" },
    "torch-steps": { type: "string", default: "4" },
    precisions: { type: "string", default: "fp32,fp16" },
    "no-train": { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const batches = values.batches.split(",").map(Number);
const load = (p) => import(pathToFileURL(join(root, p)).href);
const gpu = await load("packages/gpu/dist/index.js");
const onnxRuntime = await load("packages/backend-onnx/dist/runtime.js");
const ort = createRequire(join(root, "packages", "backend-onnx", "package.json"))(
  "onnxruntime-node",
);

const probe = await gpu.probeAdapter();
const adapter = probe.found
  ? `${probe.adapter.name} (${probe.adapter.software ? "SOFTWARE renderer: these figures prove the code path, not GPU speed" : "hardware"})`
  : `none (${probe.reason})`;
console.log(
  `# GPU bench; ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load ${loadavg()[0].toFixed(2)}`,
);
console.log(`# WebGPU adapter: ${adapter}`);

const work = mkdtempSync(join(tmpdir(), "rsc-gpu-bench-"));
try {
  const precisions = values.precisions.split(",");
  const sizes = [];
  const models = precisions.map((precision) => {
    const model = join(work, `model-${precision}.onnx`);
    const built = spawnSync(
      process.execPath,
      [
        join(root, "packages", "cli", "bin", "rsc.js"),
        "build",
        values.spec,
        "--target",
        "onnx",
        "--precision",
        precision,
        "-o",
        model,
      ],
      { cwd: root, encoding: "utf8" },
    );
    if (built.status !== 0) {
      console.error(built.stderr);
      process.exit(2);
    }
    sizes.push(`${precision}: ${statSync(model).size.toLocaleString("en-US")} B`);
    return { precision, model };
  });
  console.log(`# model file sizes: ${sizes.join(", ")}`);

  const providers = ["cpu"];
  if (probe.found) providers.push("webgpu");
  if (onnxRuntime.cudaProvider().installed) providers.push("cuda");
  const sessions = [];
  for (const { precision, model } of models) {
    for (const ep of providers) {
      try {
        sessions.push({
          ep,
          precision,
          session: await ort.InferenceSession.create(model, onnxRuntime.sessionOptions(ep)),
        });
      } catch (error) {
        console.log(`${ep} ${precision}: unavailable (${String(error.message).split("\n")[0]})`);
      }
    }
  }
  const input = sessions[0].session.inputNames[0];
  const compiled = (await load("packages/compiler/dist/index.js")).compileFile(
    join(root, values.spec),
  );
  const [h, w, c] = compiled.graph.nodes.find(
    (n) => n.name === compiled.graph.inputs[0],
  ).outputShape;
  const rows = [];
  for (const batch of batches) {
    const shape = [batch, h, w, c];
    const data = Float32Array.from(
      { length: batch * h * w * c },
      (_, i) => Math.sin(i) * 0.5 + 0.5,
    );
    const feeds = { [input]: new ort.Tensor("float32", data, shape) };
    const samples = sessions.map(() => []);
    // Warm-up (shader compilation, allocations), not counted; outputs compared with the CPU's.
    const first = [];
    for (const { session } of sessions) {
      const out = await session.run(feeds);
      first.push(out[session.outputNames[0]].data);
    }
    for (let i = 0; i < runs; i++) {
      for (const k of interleavedOrder(i, sessions.length)) {
        const t = performance.now();
        await sessions[k].session.run(feeds);
        samples[k].push(performance.now() - t);
      }
    }
    sessions.forEach(({ ep, precision }, k) => {
      const diff = first[k].reduce((m, v, j) => Math.max(m, Math.abs(v - first[0][j])), 0);
      const ratio = median(samples[k]) / median(samples[0]);
      const [lo, hi] = ratioInterval(samples[k], samples[0]);
      rows.push(
        `| ${ep} | ${precision} | ${batch} | ${median(samples[k]).toFixed(1)} | ${k === 0 ? "1.00" : `${ratio.toFixed(2)} [${lo.toFixed(2)}, ${hi.toFixed(2)}]`} | ${diff.toExponential(1)} |`,
      );
    });
  }
  console.log(
    `\n## onnxruntime-node ${ort.env.versions?.node ?? ""} inference, ${values.spec}, ${runs} runs each\n`,
  );
  console.log(
    "| provider | precision | batch | median ms | vs CPU fp32 [95% CI] | max abs diff vs CPU fp32 |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const row of rows) console.log(row);
  for (const { session } of sessions) await session.release();
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (!values["no-train"]) {
  console.log("\n## one training step, batch 32 (bench/tfjs-train-step.mjs)\n");
  const step = spawnSync(
    process.execPath,
    [
      join(root, "bench", "tfjs-train-step.mjs"),
      "--runtimes",
      "webgpu,wasm",
      "--steps",
      values["train-steps"],
      "--torch-steps",
      values["torch-steps"],
      "--spec",
      values.spec,
    ],
    { cwd: root, stdio: "inherit" },
  );
  if (step.status !== 0) console.log(`tfjs-train-step.mjs exited ${step.status}`);
}
process.exit(0);
