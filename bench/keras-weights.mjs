#!/usr/bin/env node
/**
 * Issue 13's speed target for trained weights: `rsc build specs/resnet50.yaml --target onnx
 * --weights resnet50.h5` (a Keras 2 full-model .h5 of ResNet-50's 94 MB of weights) against the
 * same build with seeded weights and against a bare `node -e 0`, each a whole process. Target:
 * loading the weights adds at most 0.5x to the build (weights / seeded <= 1.5).
 *
 * The .h5 is made here, in a temporary folder removed at the end: the spec is compiled for its
 * layers and weight shapes, and /usr/bin/python3 + h5py writes random float32 arrays in Keras 2's
 * layout (packages/cli/test/fixtures/model-files/keras_files.py: model_config, training_config,
 * model_weights/<layer>/<layer>/<weight>:0 with layer_names and weight_names), as
 * `model.save('resnet50.h5')` does. The three commands run interleaved (A B C, B C A, C A B, ...)
 * so that load drift hits all alike; figures are medians.
 *
 * Usage (after `npx tsc -b && node packages/cli/scripts/bundle.mjs`):
 *   node bench/keras-weights.mjs [--runs 10] [--warmup 2] [--target 1.5] [--spec specs/resnet50.yaml]
 * Exits 1 when the ratio is above the target, 2 when a command fails.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compileFile, OPS } from "../packages/compiler/dist/index.js";
import { BARE_NODE, sampleLine, timeNode } from "./lib/startup.mjs";
import { interleavedOrder, median, ratioInterval } from "./lib/timing.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    target: { type: "string", default: "1.5" },
    spec: { type: "string", default: "specs/resnet50.yaml" },
  },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const target = Number(values.target);

/** Writes the Keras 2 full-model .h5 of a layout (argv: fixtures folder, layout.json, out.h5). */
const PYTHON = `
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import keras_files as kf

doc = json.load(open(sys.argv[2]))
rng = np.random.default_rng(50)
layers, configs = [], []
for layer in doc["layout"]:
    weights = []
    for w in layer["weights"]:
        value = rng.standard_normal(size=w["shape"], dtype=np.float32) * np.float32(0.05)
        if w["name"].endswith("moving_variance"):
            value = np.abs(value) + np.float32(0.5)
        weights.append((w["name"] + ":0", value))
    layers.append((layer["name"], weights))
    inbound = [[[i, 0, 0, {}] for i in layer["inputs"]]] if layer["inputs"] else []
    configs.append({"class_name": layer["className"], "config": {"name": layer["name"], "trainable": True}, "name": layer["name"], "inbound_nodes": inbound})
inputs = [[l["name"], 0, 0] for l in doc["layout"] if not l["inputs"]]
config = {"class_name": "Functional", "config": {"name": doc["name"], "layers": configs, "input_layers": inputs, "output_layers": [[o, 0, 0] for o in doc["outputs"]]}, "keras_version": "2.11.0", "backend": "tensorflow"}
kf.write_keras2_model(sys.argv[3], config, layers)
`;

const tmp = mkdtempSync(join(tmpdir(), "rsc-keras-weights-bench-"));
try {
  // The spec's layers, as a Keras 2 model holds them.
  const { graph } = compileFile(join(root, values.spec));
  if (graph === undefined) throw new Error(`${values.spec} does not compile`);
  const layout = graph.nodes.map((node) => ({
    name: node.name,
    className: OPS[node.op].kerasClass,
    inputs: node.inputs,
    weights: node.params.map((p) => ({ name: p.name, shape: p.shape })),
  }));
  const layoutFile = join(tmp, "layout.json");
  writeFileSync(layoutFile, JSON.stringify({ name: graph.name, layout, outputs: graph.outputs }));
  const h5 = join(tmp, "resnet50.h5");
  const made = spawnSync(
    "/usr/bin/python3",
    [
      "-c",
      PYTHON,
      join(root, "packages", "cli", "test", "fixtures", "model-files"),
      layoutFile,
      h5,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  if (made.status !== 0) {
    process.stderr.write("writing the .h5 with h5py failed\n");
    process.exit(2);
  }
  const bin = join("packages", "cli", "bin", "rsc.js");
  const out = (name) => join(tmp, name);
  const seeded = {
    label: `rsc build ${values.spec} --target onnx`,
    argv: [bin, "build", values.spec, "--target", "onnx", "-o", out("seeded.onnx")],
  };
  const weighted = {
    label: `... --weights resnet50.h5`,
    argv: [
      bin,
      "build",
      values.spec,
      "--target",
      "onnx",
      "-o",
      out("weights.onnx"),
      "--weights",
      h5,
    ],
  };
  const subjects = [BARE_NODE, seeded, weighted];
  for (let i = 0; i < warmup; i++) for (const s of subjects) timeNode(s);
  const samples = subjects.map(() => []);
  for (let i = 0; i < runs; i++)
    for (const k of interleavedOrder(i, subjects.length)) samples[k].push(timeNode(subjects[k]));
  const [bare, plain, loaded] = samples.map(median);
  const ratio = loaded / plain;
  const [lo, hi] = ratioInterval(samples[2], samples[1]);
  const mb = (statSync(h5).size / 1e6).toFixed(1);
  console.log(
    `rsc build --weights from a Keras .h5 (${mb} MB), ${runs} interleaved runs each (node ${process.version}, ${cpus().length}x ${cpus()[0]?.model ?? "cpu"})`,
  );
  for (const [k, s] of subjects.entries()) console.log(sampleLine(s.label, samples[k], 42));
  console.log(
    `  weights / seeded: ${ratio.toFixed(2)} (95% CI ${lo.toFixed(2)}-${hi.toFixed(2)}; target <= ${target.toFixed(2)}); loading adds ${(loaded - plain).toFixed(0)} ms, ${((ratio - 1) * 100).toFixed(0)}%`,
  );
  console.log(
    JSON.stringify({
      bench: "keras-weights",
      runs,
      h5Bytes: statSync(h5).size,
      bareMedianMs: +bare.toFixed(1),
      seededMedianMs: +plain.toFixed(1),
      weightsMedianMs: +loaded.toFixed(1),
      ratio: +ratio.toFixed(3),
      target,
      pass: ratio <= target,
    }),
  );
  process.exitCode = ratio <= target ? 0 : 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
