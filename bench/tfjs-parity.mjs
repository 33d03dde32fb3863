#!/usr/bin/env node
/**
 * Cross-backend parity on the big specs (too slow for CI on the tfjs cpu backend): for each spec,
 * the tfjs model (toLayersModel, cpu or --runtime) and the ONNX model (onnxruntime-node, CPU) built
 * from the same spec and seed, BatchNorm gamma/beta/moving statistics randomised, on the same
 * random input: max absolute difference of the outputs, required <= 1e-4.
 *
 * Usage (after `npx tsc -b`): node bench/tfjs-parity.mjs [--specs resnet18,resnet50,resnet101]
 *   [--batch 2] [--runtime cpu] [--kernel-gain 1]
 * --kernel-gain multiplies every kernel (1.4142 turns glorot's variance into He's, so a deep plain
 * ReLU stack without BatchNorm, such as unet, keeps its signal and the comparison its sensitivity).
 * Exits 1 when a spec is over tolerance.
 */
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    specs: { type: "string", default: "resnet18,resnet50,resnet101" },
    batch: { type: "string", default: "2" },
    runtime: { type: "string", default: "cpu" },
    "kernel-gain": { type: "string", default: "1" },
  },
});
const load = (p) => import(pathToFileURL(join(root, p)).href);
const compiler = await load("packages/compiler/dist/index.js");
const tfjs = await load("packages/backend-tfjs/dist/index.js");
const onnx = await load("packages/backend-onnx/dist/index.js");
const { ort } = await load("packages/backend-onnx/dist/runtime.js");
const { tf } = tfjs;
await tfjs.selectRuntime(values.runtime);
const batch = Number(values.batch);
const TOLERANCE = 1e-4;
const gain = Number(values["kernel-gain"]);

function randomizeBatchNorm(graph, weights) {
  const out = new Map(weights);
  for (const node of graph.nodes) {
    if (node.op !== "batch_normalization") continue;
    for (const p of node.params) {
      const next = compiler.uniformStream(5, `parity-bn/${p.name}`);
      const [lo, hi] =
        p.suffix === "gamma" ? [0.5, 1.5] : p.suffix === "moving_variance" ? [0.2, 2] : [-0.5, 0.5];
      out.set(
        p.name,
        Float32Array.from({ length: compiler.shapeSize(p.shape) }, () => lo + (hi - lo) * next()),
      );
    }
  }
  return out;
}

let failed = false;
console.log(
  `| spec | params | tfjs (${values.runtime}) s | onnxruntime s | max abs diff | max |output| |`,
);
console.log("|---|---|---|---|---|---|");
for (const name of values.specs.split(",")) {
  const { graph, info, diagnostics } = compiler.compileFile(join(root, "specs", `${name}.yaml`));
  if (!graph) {
    console.error(diagnostics.map(compiler.formatDiagnostic).join("\n"));
    process.exit(2);
  }
  const weights = randomizeBatchNorm(graph, compiler.initWeights(graph, info.seed));
  if (gain !== 1)
    for (const node of graph.nodes)
      for (const p of node.params)
        if (p.suffix === "kernel")
          weights.set(
            p.name,
            weights.get(p.name).map((v) => v * gain),
          );
  const inputNode = graph.nodes.find((n) => n.name === graph.inputs[0]);
  const next = compiler.uniformStream(1, "parity-input");
  const input = Float32Array.from(
    { length: batch * compiler.shapeSize(inputNode.outputShape) },
    () => next(),
  );

  let t = performance.now();
  const model = tfjs.toLayersModel(graph, weights);
  const a = model.predict(tf.tensor(input, [batch, ...inputNode.outputShape])).dataSync();
  const tfjsSeconds = (performance.now() - t) / 1000;
  model.dispose();

  t = performance.now();
  const emitted = onnx.emitOnnxModel(graph, weights);
  const session = await ort().InferenceSession.create(emitted.model.bytes());
  const feeds = {
    [graph.inputs[0]]: new (ort().Tensor)("float32", input, [batch, ...inputNode.outputShape]),
  };
  const b = (await session.run(feeds))[graph.outputs[0]].data;
  const onnxSeconds = (performance.now() - t) / 1000;

  let diff = 0;
  let peak = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    peak = Math.max(peak, Math.abs(a[i]));
  }
  if (!(diff <= TOLERANCE) || a.length !== b.length) failed = true;
  const params = compiler.graphParamCounts(graph).total.toLocaleString("en-US");
  console.log(
    `| ${name} | ${params} | ${tfjsSeconds.toFixed(1)} | ${onnxSeconds.toFixed(1)} | ${diff.toExponential(2)} | ${peak.toFixed(3)} |`,
  );
}
process.exit(failed ? 1 : 0);
