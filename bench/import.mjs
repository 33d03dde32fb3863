#!/usr/bin/env node
/**
 * Issue 13's `rsc import` speed: importing a MobileNetV2-sized Keras model as a whole process,
 * against a bare `node -e 0`, measured side by side on the same machine.
 *
 * The model: keras.applications.MobileNetV2 (alpha 1.0, 224x224x3, 1000 classes; 155 layers,
 * 3,538,984 parameters, Keras's summary count) written here as the Keras 2 `to_json()` config
 * Keras would write (every layer's full config, initializers and all: ~72 kB), into a temporary
 * folder the script removes. The script checks the imported spec's parameter total against
 * Keras's. Timed, interleaved (A B C D, B C D A, ...): `node -e 0`, `rsc import model.json -o
 * spec.yaml`, the same with `--blocks`, and `rsc check` of the imported spec (a spec command on
 * the same model, for scale).
 *
 * Usage (after `npx tsc -b && node packages/cli/scripts/bundle.mjs`):
 *   node bench/import.mjs [--runs 15] [--warmup 2]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BARE_NODE, sampleLine, timeNode } from "./lib/startup.mjs";
import { interleavedOrder, median, ratioInterval } from "./lib/timing.mjs";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "15" }, warmup: { type: "string", default: "2" } },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);

/** keras.applications' MobileNetV2 as a Keras 2 Functional config (tf.keras 2.13's to_json()). */
function mobilenetV2Config() {
  const layers = [];
  const glorot = { class_name: "GlorotUniform", config: { seed: null } };
  const zeros = { class_name: "Zeros", config: {} };
  const ones = { class_name: "Ones", config: {} };
  const add = (class_name, name, config, inputs) =>
    layers.push({
      class_name,
      config: { name, trainable: true, dtype: "float32", ...config },
      name,
      inbound_nodes: inputs.length === 0 ? [] : [inputs.map((i) => [i, 0, 0, {}])],
    });
  const regularized = {
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
  };
  const conv = (name, x, filters, k, strides = 1, padding = "same") => {
    add(
      "Conv2D",
      name,
      {
        filters,
        kernel_size: [k, k],
        strides: [strides, strides],
        padding,
        data_format: "channels_last",
        dilation_rate: [1, 1],
        groups: 1,
        activation: "linear",
        use_bias: false,
        kernel_initializer: glorot,
        bias_initializer: zeros,
        ...regularized,
      },
      [x],
    );
    return name;
  };
  const depthwise = (name, x, strides, padding) => {
    add(
      "DepthwiseConv2D",
      name,
      {
        kernel_size: [3, 3],
        strides: [strides, strides],
        padding,
        data_format: "channels_last",
        dilation_rate: [1, 1],
        groups: 1,
        activation: "linear",
        use_bias: false,
        bias_initializer: zeros,
        bias_regularizer: null,
        activity_regularizer: null,
        bias_constraint: null,
        depth_multiplier: 1,
        depthwise_initializer: glorot,
        depthwise_regularizer: null,
        depthwise_constraint: null,
      },
      [x],
    );
    return name;
  };
  const bn = (name, x) => {
    add(
      "BatchNormalization",
      name,
      {
        axis: [3],
        momentum: 0.999,
        epsilon: 0.001,
        center: true,
        scale: true,
        beta_initializer: zeros,
        gamma_initializer: ones,
        moving_mean_initializer: zeros,
        moving_variance_initializer: ones,
        beta_regularizer: null,
        gamma_regularizer: null,
        beta_constraint: null,
        gamma_constraint: null,
      },
      [x],
    );
    return name;
  };
  const relu6 = (name, x) => {
    add("ReLU", name, { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, [x]);
    return name;
  };
  add(
    "InputLayer",
    "input_1",
    { batch_input_shape: [null, 224, 224, 3], sparse: false, ragged: false },
    [],
  );
  let x = relu6("Conv1_relu", bn("bn_Conv1", conv("Conv1", "input_1", 32, 3, 2)));
  let channels = 32;
  let block = 0;
  const blockOf = (t, filters, stride) => {
    const p = block === 0 ? "expanded_conv_" : `block_${block}_`;
    const input = x;
    let y = x;
    if (t !== 1)
      y = relu6(`${p}expand_relu`, bn(`${p}expand_BN`, conv(`${p}expand`, y, channels * t, 1)));
    if (stride === 2) {
      // keras.applications' correct_pad for an even input: ((0, 1), (0, 1)).
      add(
        "ZeroPadding2D",
        `${p}pad`,
        {
          padding: [
            [0, 1],
            [0, 1],
          ],
          data_format: "channels_last",
        },
        [y],
      );
      y = `${p}pad`;
    }
    y = depthwise(`${p}depthwise`, y, stride, stride === 2 ? "valid" : "same");
    y = relu6(`${p}depthwise_relu`, bn(`${p}depthwise_BN`, y));
    y = bn(`${p}project_BN`, conv(`${p}project`, y, filters, 1));
    if (stride === 1 && channels === filters) {
      add("Add", `${p}add`, {}, [input, y]);
      y = `${p}add`;
    }
    channels = filters;
    block++;
    x = y;
  };
  blockOf(1, 16, 1);
  for (const [t, c, n, s] of [
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ])
    for (let i = 0; i < n; i++) blockOf(t, c, i === 0 ? s : 1);
  x = relu6("out_relu", bn("Conv_1_bn", conv("Conv_1", x, 1280, 1, 1, "valid")));
  add(
    "GlobalAveragePooling2D",
    "global_average_pooling2d",
    { data_format: "channels_last", keepdims: false },
    [x],
  );
  add(
    "Dense",
    "predictions",
    {
      units: 1000,
      activation: "softmax",
      use_bias: true,
      kernel_initializer: glorot,
      bias_initializer: zeros,
      ...regularized,
    },
    ["global_average_pooling2d"],
  );
  return {
    class_name: "Functional",
    config: {
      name: "mobilenetv2_1.00_224",
      layers,
      input_layers: [["input_1", 0, 0]],
      output_layers: [["predictions", 0, 0]],
    },
    keras_version: "2.13.1",
    backend: "tensorflow",
  };
}

const dir = mkdtempSync(join(tmpdir(), "rsc-import-bench-"));
try {
  const model = join(dir, "mobilenet_v2.json");
  const text = JSON.stringify(mobilenetV2Config());
  writeFileSync(model, text);
  const spec = join(dir, "mobilenet_v2.yaml");
  const bin = join("packages", "cli", "bin", "rsc.js");
  const flat = { label: "rsc import (flat)", argv: [bin, "import", model, "-o", spec] };
  const blocks = {
    label: "rsc import --blocks",
    argv: [bin, "import", model, "--blocks", "-o", join(dir, "blocks.yaml")],
  };
  timeNode(flat);
  const check = { label: "rsc check <imported spec>", argv: [bin, "check", spec] };
  // Keras's model.summary() of MobileNetV2: 3,538,984 params.
  const header = readFileSync(spec, "utf8").split("\n")[1];
  if (!header.includes("3,538,984 parameters")) {
    process.stderr.write(`the imported spec does not count Keras's 3,538,984 params: ${header}\n`);
    process.exit(2);
  }
  const subjects = [BARE_NODE, flat, blocks, check];
  for (let i = 0; i < warmup; i++) for (const s of subjects) timeNode(s);
  const samples = subjects.map(() => []);
  for (let i = 0; i < runs; i++)
    for (const k of interleavedOrder(i, subjects.length)) samples[k].push(timeNode(subjects[k]));

  console.log(
    `rsc import of MobileNetV2 (${(text.length / 1024).toFixed(0)} kB Keras 2 config, 155 layers), ${runs} interleaved runs each (node ${process.version}, ${cpus().length}x ${cpus()[0]?.model ?? "cpu"})`,
  );
  for (const [k, s] of subjects.entries()) console.log(sampleLine(s.label, samples[k], 28));
  const results = {};
  for (const [k, s] of subjects.entries()) {
    if (k === 0) continue;
    const ratio = median(samples[k]) / median(samples[0]);
    const [lo, hi] = ratioInterval(samples[k], samples[0]);
    console.log(
      `  ${s.label} / node -e 0: ${ratio.toFixed(2)} (95% CI ${lo.toFixed(2)}-${hi.toFixed(2)})`,
    );
    results[s.label] = { medianMs: +median(samples[k]).toFixed(1), ratio: +ratio.toFixed(3) };
  }
  console.log(
    JSON.stringify({
      bench: "import",
      runs,
      bareMedianMs: +median(samples[0]).toFixed(1),
      results,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
