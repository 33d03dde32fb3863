/**
 * Every op of the compiler's registry trains on the webgpu runtime, and computes what tfjs-cpu
 * computes. For each op (and each option that takes another code path) a tiny classifier is built
 * (input [5, 5, 4], batch 2 -> the op -> dense softmax), and on both backends, from the same
 * weights and data:
 *
 * - the inference output and the training-mode loss (categorical cross-entropy, the loss step 0
 *   of `rsc train` computes) agree within 1e-4;
 * - the gradients of that loss, with respect to every trainable weight and to the input, agree
 *   within the rule of {@link gradientBound}: the cpu backend's own float32 noise, measured by
 *   perturbing the input by 1e-7 relative and recomputing, times 10, plus a floor of 1e-5 times the
 *   gradient's largest magnitude (a smooth gradient barely moves under a 1-ulp perturbation, but
 *   its float32 sums still round differently on another backend).
 *
 * Dropout's masks come from Math.random (tfjs draws them on the CPU whatever the backend), which
 * is replaced by one seeded sequence for both backends, so the training-mode comparison covers
 * dropout too. The case table is keyed by op name: an op added to the registry fails the coverage
 * test until it has a case here.
 *
 * tfjs 4.22 has no gradient of a dilated Conv2D on any backend (its fused conv2d gradient asserts
 * dilation 1): that case checks the forward pass and that both backends refuse the gradient with
 * the same error naming the convolution.
 */
import {
  ACTIVATIONS,
  graphFromLayers,
  initWeights,
  type LayerDescription,
  OP_NAMES,
  type OpName,
} from "@rsc/compiler";
import { webgpuForTests } from "@rsc/test-support";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { selectRuntime, tf, toLayersModel } from "../src/index.js";

const [N, H, W, C] = [2, 5, 5, 4];
const CLASSES = 3;

interface Case {
  readonly title: string;
  /** The layers after `x` (the input [H, W, C]); the last one's output feeds the head. */
  readonly layers: readonly LayerDescription[];
  /** The case's output is rank 4 (a flatten is added before the head). */
  readonly spatial?: boolean;
  /** Why the gradient cannot be computed on any tfjs backend (asserted to fail alike). */
  readonly noGradient?: RegExp;
}

/** A 3x3 same conv of `inputs` (default: the layer before). */
const conv = (name: string, inputs?: string[]): LayerDescription => ({
  name,
  op: "conv2d",
  attrs: { filters: 4, kernel_size: 3, padding: "same" },
  ...(inputs ? { inputs } : {}),
});
const two = [conv("a", ["x"]), conv("b", ["x"])];
const merge = (op: OpName): Case => ({
  title: "of two convs",
  layers: [...two, { name: "m", op, inputs: ["a", "b"] }],
  spatial: true,
});

const CASES: Record<OpName, readonly Case[]> = {
  input: [{ title: "alone", layers: [], spatial: true }],
  zero_padding2d: [
    {
      title: "asymmetric",
      layers: [
        {
          op: "zero_padding2d",
          attrs: {
            padding: [
              [1, 2],
              [0, 1],
            ],
          },
        },
      ],
      spatial: true,
    },
  ],
  conv2d: [
    {
      title: "3x3 stride 2 valid relu",
      layers: [
        { op: "conv2d", attrs: { filters: 4, kernel_size: 3, strides: 2, activation: "relu" } },
      ],
      spatial: true,
    },
    {
      title: "3x3 same, no bias",
      layers: [
        { op: "conv2d", attrs: { filters: 3, kernel_size: 3, padding: "same", use_bias: false } },
      ],
      spatial: true,
    },
    {
      title: "1x1 stride 2 same",
      layers: [
        { op: "conv2d", attrs: { filters: 3, kernel_size: 1, strides: 2, padding: "same" } },
      ],
      spatial: true,
    },
    {
      title: "groups 2",
      layers: [{ op: "conv2d", attrs: { filters: 4, kernel_size: 3, groups: 2 } }],
      spatial: true,
    },
    {
      title: "dilation 2",
      layers: [{ op: "conv2d", attrs: { filters: 3, kernel_size: 2, dilation_rate: 2 } }],
      spatial: true,
    },
  ],
  batch_normalization: [
    {
      title: "after a conv (training-mode batch statistics)",
      layers: [conv("c"), { op: "batch_normalization", attrs: { epsilon: 1e-3, momentum: 0.9 } }],
      spatial: true,
    },
  ],
  activation: ACTIVATIONS.map((activation) => ({
    title: activation,
    layers: [conv("c"), { op: "activation", attrs: { activation } }],
    spatial: true,
  })),
  max_pooling2d: [
    {
      title: "3x3 stride 1 same",
      layers: [
        conv("c"),
        { op: "max_pooling2d", attrs: { pool_size: 3, strides: 1, padding: "same" } },
      ],
      spatial: true,
    },
    {
      title: "2x2 valid",
      layers: [conv("c"), { op: "max_pooling2d", attrs: { pool_size: 2 } }],
      spatial: true,
    },
  ],
  average_pooling2d: [
    {
      title: "2x2 stride 2 same",
      layers: [
        conv("c"),
        { op: "average_pooling2d", attrs: { pool_size: 2, strides: 2, padding: "same" } },
      ],
      spatial: true,
    },
  ],
  global_average_pooling2d: [
    { title: "", layers: [conv("c"), { op: "global_average_pooling2d" }] },
    {
      title: "keepdims",
      layers: [conv("c"), { op: "global_average_pooling2d", attrs: { keepdims: true } }],
      spatial: true,
    },
  ],
  global_max_pooling2d: [
    { title: "", layers: [conv("c"), { op: "global_max_pooling2d" }] },
    {
      title: "keepdims",
      layers: [conv("c"), { op: "global_max_pooling2d", attrs: { keepdims: true } }],
      spatial: true,
    },
  ],
  add: [merge("add")],
  subtract: [merge("subtract")],
  multiply: [merge("multiply")],
  average: [merge("average")],
  maximum: [merge("maximum")],
  concatenate: [
    {
      title: "on channels",
      layers: [...two, { op: "concatenate", attrs: { axis: -1 }, inputs: ["a", "b"] }],
      spatial: true,
    },
  ],
  flatten: [{ title: "", layers: [conv("c"), { op: "flatten" }] }],
  dense: [
    {
      title: "tanh, then no bias",
      layers: [
        { op: "flatten" },
        { op: "dense", attrs: { units: 6, activation: "tanh" } },
        { op: "dense", attrs: { units: 5, use_bias: false } },
      ],
    },
  ],
  dropout: [
    {
      title: "rate 0.5",
      layers: [conv("c"), { op: "dropout", attrs: { rate: 0.5 } }],
      spatial: true,
    },
    {
      title: "noise_shape [null, 1, 1, null]",
      layers: [conv("c"), { op: "dropout", attrs: { rate: 0.3, noise_shape: [null, 1, 1, null] } }],
      spatial: true,
    },
  ],
  reshape: [
    {
      title: "to [1, 1, -1]",
      layers: [conv("c"), { op: "reshape", attrs: { target_shape: [1, 1, -1] } }],
      spatial: true,
    },
  ],
  permute: [
    {
      title: "[2, 1, 3]",
      layers: [conv("c"), { op: "permute", attrs: { dims: [2, 1, 3] } }],
      spatial: true,
    },
  ],
  rescaling: [
    {
      title: "",
      layers: [{ op: "rescaling", attrs: { scale: 0.5, offset: 0.1 } }, conv("c")],
      spatial: true,
    },
  ],
  normalization: [
    {
      title: "",
      layers: [
        { op: "normalization", attrs: { mean: [0, 0.1, 0.2, 0.3], variance: [1, 2, 0.5, 4] } },
        conv("c"),
      ],
      spatial: true,
    },
  ],
  layer_normalization: [
    { title: "", layers: [conv("c"), { op: "layer_normalization" }], spatial: true },
  ],
  re_lu: [
    {
      title: "max_value, negative_slope, threshold",
      layers: [
        conv("c"),
        { op: "re_lu", attrs: { max_value: 0.5, negative_slope: 0.1, threshold: 0.1 } },
      ],
      spatial: true,
    },
  ],
  leaky_relu: [
    {
      title: "",
      layers: [conv("c"), { op: "leaky_relu", attrs: { negative_slope: 0.2 } }],
      spatial: true,
    },
  ],
  elu: [{ title: "", layers: [conv("c"), { op: "elu", attrs: { alpha: 0.5 } }], spatial: true }],
  depthwise_conv2d: [
    {
      title: "stride 2 same, multiplier 2",
      layers: [
        {
          op: "depthwise_conv2d",
          attrs: { kernel_size: 3, strides: 2, padding: "same", depth_multiplier: 2 },
        },
      ],
      spatial: true,
    },
    {
      title: "dilation 2",
      layers: [
        { op: "depthwise_conv2d", attrs: { kernel_size: 2, dilation_rate: 2, padding: "same" } },
      ],
      spatial: true,
    },
  ],
  separable_conv2d: [
    {
      title: "3x3 same relu",
      layers: [
        {
          op: "separable_conv2d",
          attrs: { filters: 3, kernel_size: 3, padding: "same", activation: "relu" },
        },
      ],
      spatial: true,
    },
    {
      title: "dilation 2",
      layers: [{ op: "separable_conv2d", attrs: { filters: 3, kernel_size: 2, dilation_rate: 2 } }],
      spatial: true,
    },
  ],
  conv2d_transpose: [
    {
      title: "stride 2 same",
      layers: [
        {
          op: "conv2d_transpose",
          attrs: { filters: 3, kernel_size: 3, strides: 2, padding: "same" },
        },
      ],
      spatial: true,
    },
    {
      title: "output_padding",
      layers: [
        {
          op: "conv2d_transpose",
          attrs: { filters: 2, kernel_size: 2, strides: 3, output_padding: [1, 2] },
        },
      ],
      spatial: true,
    },
    {
      title: "dilation 2",
      layers: [{ op: "conv2d_transpose", attrs: { filters: 2, kernel_size: 2, dilation_rate: 2 } }],
      spatial: true,
    },
  ],
  up_sampling2d: [
    {
      title: "nearest 2",
      layers: [conv("c"), { op: "up_sampling2d", attrs: { size: 2 } }],
      spatial: true,
    },
    {
      title: "bilinear [1, 2]",
      layers: [
        conv("c"),
        { op: "up_sampling2d", attrs: { size: [1, 2], interpolation: "bilinear" } },
      ],
      spatial: true,
    },
  ],
  cropping2d: [
    {
      title: "",
      layers: [
        conv("c"),
        {
          op: "cropping2d",
          attrs: {
            cropping: [
              [1, 0],
              [2, 1],
            ],
          },
        },
      ],
      spatial: true,
    },
  ],
};

/** The case's classifier: x [H, W, C] -> layers -> (flatten) -> dense softmax. */
function caseGraph(op: string, c: Case) {
  return graphFromLayers(`${op}_case`, [
    { name: "x", op: "input", attrs: { shape: [H, W, C] } },
    ...c.layers,
    ...(c.spatial ? [{ op: "flatten" } as const] : []),
    { name: "head", op: "dense", attrs: { units: CLASSES, activation: "softmax" } },
  ]);
}

/** A seeded Math.random (dropout's masks), the same sequence on each backend. */
function seedMathRandom(seed: number) {
  let s = seed >>> 0;
  vi.spyOn(Math, "random").mockImplementation(() => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
}

interface Run {
  readonly output: Float32Array;
  readonly loss: number;
  /** Gradients of the loss: each trainable weight's, in order, then the input's. */
  readonly grads: Float32Array[];
}

/** The values of `t` (read asynchronously: tfjs-webgpu cannot read synchronously in Node). */
async function values(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from(await t.data());
}

/** Output, step-0 loss and gradients of the case's model on the active backend. */
async function run(op: string, c: Case, pixels: Float32Array, gradients: boolean): Promise<Run> {
  const graph = caseGraph(op, c);
  const model = toLayersModel(graph, initWeights(graph, 1));
  const x = tf.variable(tf.tensor4d(pixels, [N, H, W, C]), true, `x_${op}_${tf.getBackend()}`);
  const y = tf.oneHot(tf.tensor1d([0, 2], "int32"), CLASSES).cast("float32");
  try {
    const output = await values(model.predict(x) as tf.Tensor);
    seedMathRandom(7);
    const lossOf = () =>
      tf.mean(
        tf.neg(
          tf.sum(
            tf.mul(
              y,
              tf.log(tf.clipByValue(model.apply(x, { training: true }) as tf.Tensor, 1e-7, 1)),
            ),
            -1,
          ),
        ),
      ) as tf.Scalar;
    if (!gradients) return { output, loss: (await values(lossOf()))[0]!, grads: [] };
    const vars = [...model.trainableWeights.map((w) => w.read() as tf.Variable), x];
    const { value, grads } = tf.variableGrads(lossOf, vars);
    const out = {
      output,
      loss: (await values(value))[0]!,
      grads: await Promise.all(vars.map((v) => values(grads[v.name]!))),
    };
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  } finally {
    vi.restoreAllMocks();
    tf.dispose([x, y]);
    model.dispose();
  }
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/**
 * The largest webgpu-vs-cpu difference a gradient may show: 10x the spread a 1e-7 relative input
 * perturbation causes on the cpu backend itself, plus 1e-5 of the gradient's largest magnitude.
 */
function gradientBound(cpu: Float32Array, perturbed: Float32Array): number {
  return 10 * maxDiff(cpu, perturbed) + 1e-5 * maxAbs(cpu);
}

const gpu = await webgpuForTests();
const inputs = Float32Array.from(
  { length: N * H * W * C },
  (_, i) => Math.sin(i * 12.9898) * 0.5 + 0.5,
);
// The same input, each value moved by 1e-7 relative (alternating sign).
const perturbedInputs = inputs.map((v, i) => v * (1 + (i % 2 === 0 ? 1e-7 : -1e-7)));
const figures: string[] = [];

describe("the per-op case table", () => {
  it("covers every op of the registry", () => {
    expect(Object.keys(CASES).sort()).toEqual([...OP_NAMES].sort());
  });
});

const table = OP_NAMES.flatMap((op) =>
  CASES[op].map((c) => [`${op}${c.title ? ` ${c.title}` : ""}`, op, c] as const),
);

describe.runIf(gpu.adapter)(`every op trains on tfjs-webgpu like tfjs-cpu: ${gpu.title}`, () => {
  beforeAll(async () => {
    await selectRuntime("webgpu");
    await selectRuntime("cpu");
  }, 60_000);
  afterAll(() => {
    console.log(figures.join("\n"));
  });

  it.each(table)("%s", async (title, op, c) => {
    await tf.setBackend("cpu");
    const gradients = c.noGradient === undefined;
    const cpu = await run(op, c, inputs, gradients);
    const cpuPerturbed = gradients ? await run(op, c, perturbedInputs, true) : undefined;
    await tf.setBackend("webgpu");
    const webgpu = await run(op, c, inputs, gradients);
    const outDiff = maxDiff(webgpu.output, cpu.output);
    expect(outDiff, "output").toBeLessThanOrEqual(1e-4);
    expect(Math.abs(webgpu.loss - cpu.loss), "loss").toBeLessThanOrEqual(1e-4);
    if (c.noGradient !== undefined) {
      for (const backend of ["cpu", "webgpu"]) {
        await tf.setBackend(backend);
        await expect(run(op, c, inputs, true), backend).rejects.toThrow(c.noGradient);
      }
      figures.push(`${title}: output ${outDiff.toExponential(1)}; no gradient on any tfjs backend`);
      return;
    }
    let worst = { ratio: 0, diff: 0, spread: 0, relBound: 0 };
    let loosest = 0;
    cpu.grads.forEach((g, i) => {
      const diff = maxDiff(webgpu.grads[i]!, g);
      const spread = maxDiff(cpuPerturbed!.grads[i]!, g);
      const bound = gradientBound(g, cpuPerturbed!.grads[i]!);
      expect(Number.isFinite(diff), `gradient ${i} finite`).toBe(true);
      expect(diff, `gradient ${i} of ${cpu.grads.length} (bound ${bound})`).toBeLessThanOrEqual(
        bound,
      );
      const relBound = bound / maxAbs(g);
      loosest = Math.max(loosest, relBound);
      if (diff / bound >= worst.ratio) worst = { ratio: diff / bound, diff, spread, relBound };
    });
    // A model that trains: some weight's gradient is not zero.
    expect(Math.max(...cpu.grads.map(maxAbs))).toBeGreaterThan(0);
    figures.push(
      `${title}: output ${outDiff.toExponential(1)}, loss ${Math.abs(webgpu.loss - cpu.loss).toExponential(1)}, worst gradient diff ${worst.diff.toExponential(1)} = ${(worst.ratio * 100).toFixed(1)}% of its bound (cpu spread ${worst.spread.toExponential(1)}); loosest bound ${loosest.toExponential(1)} of max |g|`,
    );
  });
});
