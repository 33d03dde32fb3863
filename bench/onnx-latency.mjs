#!/usr/bin/env node
/**
 * Issue 3's latency target: the rsc-built ResNet-50 in onnxruntime-node (CPU, graph optimisation
 * 'all') no slower than the `torch.onnx.export` model of the same architecture: median latency
 * ratio <= 1.00 at batch 1 and batch 32.
 *
 * Both models are loaded in this one process with identical session options (CPU provider,
 * graphOptimizationLevel 'all', the same intra-op thread count) and run interleaved (rotating
 * who goes first) on the same random data, laid out as each model expects: NHWC [N, H, W, 3]
 * for rsc's (it transposes to NCHW inside), NCHW [N, 3, H, W] for torch's. Warm-up runs are
 * not counted. Each ratio of medians comes with a 95% bootstrap interval.
 *
 * A third model is timed alongside as a control: rsc's own model with its input Transpose taken
 * out (input NCHW, the rest byte for byte the same). rsc-without-Transpose / torch compares the
 * two graphs proper; rsc / rsc-without-Transpose is what the NHWC input costs. Last, both models
 * are saved after onnxruntime's optimisation and their nodes compared (op, kernel shape, strides,
 * pads, fused activation), and onnxruntime's profiler gives the input Transpose's share of rsc's
 * node time, a finer figure than wall times.
 *
 * `--family mobilenet_v2` (or efficientnet_b0, densenet121, vgg16) times specs/<family>.yaml
 * against torchvision's model of the same family at 224x224 (bench/torchvision_export.py).
 *
 * Usage (after `npx tsc -b`): node bench/onnx-latency.mjs [--runs 30] [--batches 1,32] [--threads 0]
 *   [--family resnet50] [--rsc build/resnet50.onnx] [--torch torch.onnx]   (both are built/exported
 *   when not given)
 * Exits 1 when a ratio is above 1.00, 2 when a model cannot be built or loaded.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { REFERENCE_FAMILIES, referenceFor } from "./lib/reference.mjs";
import { interleavedOrder, median, ratioInterval } from "./lib/timing.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    batches: { type: "string", default: "1,32" },
    threads: { type: "string", default: "0" },
    rsc: { type: "string" },
    torch: { type: "string" },
    target: { type: "string", default: "1.0" },
    family: { type: "string", default: "resnet50" },
  },
});
const reference = referenceFor(values.family, root);
if (reference === undefined) {
  console.error(`--family: one of ${REFERENCE_FAMILIES.join(", ")}`);
  process.exit(2);
}
const size = reference.size;
const runs = Number(values.runs);
const batches = values.batches.split(",").map(Number);
const threads = Number(values.threads);
const target = Number(values.target);
const ort = createRequire(join(root, "packages", "backend-onnx", "package.json"))(
  "onnxruntime-node",
);
// The backend's protobuf bindings, to edit and read ONNX models below.
const { onnx } = await import(join(root, "packages", "backend-onnx", "dist", "onnx-proto.js"));
const tmp = mkdtempSync(join(tmpdir(), "rsc-bench-onnx-latency-"));

function run(argv, label) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, encoding: "utf8" });
  if (r.status !== 0) {
    console.error(`${label} failed:\n${r.stderr}`);
    process.exit(2);
  }
}

const rscPath = values.rsc ?? join(tmp, "rsc.onnx");
const torchPath = values.torch ?? join(tmp, "torch.onnx");
if (!values.rsc)
  run(
    [
      process.execPath,
      join(root, "packages/cli/bin/rsc.js"),
      "build",
      reference.spec,
      "-t",
      "onnx",
      "-o",
      rscPath,
    ],
    "rsc build",
  );
if (!values.torch) run(reference.argv(torchPath), "torch export");

const options = {
  executionProviders: ["cpu"],
  graphOptimizationLevel: "all",
  ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
};

/**
 * rsc's model without its input Transpose: the graph input becomes the Transpose's NCHW output.
 * Everything else (nodes, names, initializer bytes) is left as it is.
 */
async function withoutInputTranspose(path) {
  const model = onnx.ModelProto.decode(readFileSync(path));
  const graph = model.graph;
  const input = graph.input[0];
  const first = graph.node[0];
  if (first?.opType !== "Transpose" || first.input[0] !== input.name) {
    console.error(`${path}: the first node is not the input's Transpose`);
    process.exit(2);
  }
  graph.node.shift();
  const [n, h, w, c] = input.type.tensorType.shape.dim;
  input.name = first.output[0];
  input.type.tensorType.shape.dim = [n, c, h, w];
  graph.valueInfo = graph.valueInfo.filter((v) => v.name !== input.name);
  return onnx.ModelProto.encode(model).finish();
}

const models = [
  {
    label: "rsc",
    session: await ort.InferenceSession.create(rscPath, options),
    nhwc: true,
  },
  {
    label: "torch",
    session: await ort.InferenceSession.create(torchPath, options),
    nhwc: false,
  },
  {
    label: "rsc without its input Transpose",
    session: await ort.InferenceSession.create(await withoutInputTranspose(rscPath), options),
    nhwc: false,
  },
];

/** The same pseudo-random image batch in both layouts. */
function inputs(batch) {
  const nhwc = new Float32Array(batch * size * size * 3);
  let x = 12345;
  for (let i = 0; i < nhwc.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    nhwc[i] = x / 2 ** 32;
  }
  const nchw = new Float32Array(nhwc.length);
  for (let n = 0; n < batch; n++)
    for (let h = 0; h < size; h++)
      for (let w = 0; w < size; w++)
        for (let c = 0; c < 3; c++)
          nchw[((n * 3 + c) * size + h) * size + w] = nhwc[((n * size + h) * size + w) * 3 + c];
  return {
    nhwc: new ort.Tensor("float32", nhwc, [batch, size, size, 3]),
    nchw: new ort.Tensor("float32", nchw, [batch, 3, size, size]),
  };
}

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, onnxruntime-node ${ort.env.versions?.common ?? "?"}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
console.log(
  `${reference.spec} vs ${reference.label}, ${size}x${size}; session: CPU, graphOptimizationLevel 'all', intraOpNumThreads ${threads || "default"}; ${runs} interleaved runs per batch and model after 3 warm-ups; [95% bootstrap interval]`,
);
let failed = false;
for (const batch of batches) {
  const x = inputs(batch);
  const feeds = models.map((m) => ({ [m.session.inputNames[0]]: m.nhwc ? x.nhwc : x.nchw }));
  const outputs = [];
  for (let w = 0; w < 3; w++)
    for (const [k, m] of models.entries()) outputs[k] = await m.session.run(feeds[k]);
  const times = models.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const k of interleavedOrder(i, models.length)) {
      const t = performance.now();
      await models[k].session.run(feeds[k]);
      times[k].push(performance.now() - t);
    }
  }
  // The control computes the same function as rsc's model (same weights, same input).
  const [a, c] = [0, 2].map((k) => outputs[k][models[k].session.outputNames[0]].data);
  const drift = a.reduce((m, v, i) => Math.max(m, Math.abs(v - c[i])), 0);
  if (drift > 1e-5) {
    console.error(`the control's outputs differ from rsc's by ${drift}`);
    process.exit(2);
  }
  const med = times.map(median);
  const ratio = med[0] / med[1];
  failed ||= ratio > target;
  const dims = models.map((m, k) => outputs[k][m.session.outputNames[0]].dims.join("x"));
  const interval = (a, b) =>
    `${(med[a] / med[b]).toFixed(3)} [${ratioInterval(times[a], times[b])
      .map((r) => r.toFixed(3))
      .join(", ")}]`;
  console.log(
    `batch ${String(batch).padStart(2)}: medians rsc ${med[0].toFixed(2)} ms, torch ${med[1].toFixed(2)} ms, rsc without Transpose ${med[2].toFixed(2)} ms; outputs ${dims.join(" / ")}`,
  );
  console.log(`  rsc / torch ${interval(0, 1)} (target <= ${target})`);
  console.log(`  rsc without Transpose / torch ${interval(2, 1)}: the graphs proper`);
  console.log(`  rsc / rsc without Transpose ${interval(0, 2)}: the NHWC input's Transpose`);
}
for (const m of models) await m.session.release();

/**
 * The input Transpose's share of rsc's node time, from onnxruntime's own profiler (per-node
 * kernel times, median over `profileRuns` runs): far finer than whole-run wall times, which
 * scatter by a few percent on a shared machine.
 */
async function transposeShare(batch, profileRuns = 30) {
  const session = await ort.InferenceSession.create(rscPath, {
    ...options,
    enableProfiling: true,
    profileFilePrefix: join(tmp, "profile"),
  });
  const feed = { [session.inputNames[0]]: inputs(batch).nhwc };
  for (let i = 0; i < profileRuns + 3; i++) await session.run(feed);
  session.endProfiling();
  await session.release();
  const file = readdirSync(tmp).find((f) => f.startsWith("profile") && f.endsWith(".json"));
  const events = JSON.parse(readFileSync(join(tmp, file), "utf8"));
  rmSync(join(tmp, file));
  const perNode = new Map();
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
    const key = `${e.name}|${e.args.op_name}`;
    perNode.set(key, [...(perNode.get(key) ?? []), e.dur]);
  }
  let total = 0;
  let transpose = 0;
  for (const [key, durations] of perNode) {
    const us = median(durations.slice(3)); // the warm-up runs are profiled too
    total += us;
    if (key.split("|")[0].endsWith("/to_nchw_kernel_time")) transpose += us;
  }
  return { total, transpose };
}
/**
 * The nodes of a model after onnxruntime's optimisation (the session saves it), as a multiset of
 * op type + the attributes that decide a kernel's work (names and order aside).
 */
async function optimisedNodes(path) {
  const saved = join(tmp, `optimised-${Math.random().toString(36).slice(2)}.onnx`);
  const session = await ort.InferenceSession.create(path, {
    ...options,
    optimizedModelFilePath: saved,
    logSeverityLevel: 3, // no warning that an NCHWc-optimised model is hardware-specific
  });
  await session.release();
  const model = onnx.ModelProto.decode(readFileSync(saved));
  rmSync(saved);
  const counts = new Map();
  for (const node of model.graph.node) {
    const attrs = node.attribute
      .filter((a) => ["kernel_shape", "strides", "pads", "activation"].includes(a.name))
      .map(
        (a) => `${a.name}=${a.ints?.length ? a.ints.join(",") : Buffer.from(a.s ?? []).toString()}`,
      )
      .sort()
      .join(" ");
    const key = `${node.domain ? `${node.domain}.` : ""}${node.opType}${attrs ? ` {${attrs}}` : ""}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
/** What `a` has beyond `b`, as "count x node" strings. */
function beyond(a, b) {
  return [...a]
    .filter(([key, n]) => n > (b.get(key) ?? 0))
    .map(([key, n]) => `${n - (b.get(key) ?? 0)} x ${key}`);
}
{
  const [rscNodes, torchNodes] = [await optimisedNodes(rscPath), await optimisedNodes(torchPath)];
  const total = (m) => [...m.values()].reduce((x, y) => x + y, 0);
  console.log(
    `after onnxruntime's optimisation: rsc ${total(rscNodes)} nodes, torch ${total(torchNodes)}; rsc's beyond torch's: ${beyond(rscNodes, torchNodes).join("; ") || "none"}; torch's beyond rsc's: ${beyond(torchNodes, rscNodes).join("; ") || "none"}`,
  );
}
for (const batch of batches) {
  const { total, transpose } = await transposeShare(batch);
  console.log(
    `batch ${String(batch).padStart(2)}: onnxruntime profiler, rsc's nodes ${(total / 1000).toFixed(2)} ms, of which the input Transpose ${(transpose / 1000).toFixed(3)} ms (${((100 * transpose) / total).toFixed(2)}%)`,
  );
}
rmSync(tmp, { recursive: true, force: true });
if (failed) process.exitCode = 1;
