/**
 * Graphs built in code (graphFromLayers), so the backend is tested independently of the spec
 * front-end. Layers stand one a line in `test.yaml` at column 3, so diagnostics' positions can be
 * checked.
 */
import { type Graph, graphFromLayers, type LayerDescription } from "@rsc/compiler";

/** 16x16x3 input -> `body` -> `fc<classes>` softmax, its layers one a line in test.yaml. */
function classifier(name: string, classes: number, body: readonly LayerDescription[]): Graph {
  return graphFromLayers(
    name,
    [
      { name: "input_1", op: "input", attrs: { shape: [16, 16, 3] } },
      ...body,
      { name: `fc${classes}`, op: "dense", attrs: { units: classes, activation: "softmax" } },
    ],
    { firstLayerAt: { file: "test.yaml", line: 1, column: 3 } },
  );
}

/** A small model using every op of the registry (16x16x3 input, `classes` softmax outputs). */
export function everyOpGraph(classes = 3, name = "every_op"): Graph {
  return classifier(name, classes, [
    {
      name: "pad",
      op: "zero_padding2d",
      attrs: {
        padding: [
          [1, 2],
          [0, 1],
        ],
      },
    },
    {
      name: "conv1",
      op: "conv2d",
      attrs: { filters: 8, kernel_size: 3, strides: 2, activation: "relu" },
    },
    { name: "bn1", op: "batch_normalization", attrs: { epsilon: 1e-3, momentum: 0.9 } },
    { name: "relu1", op: "activation", attrs: { activation: "relu" } },
    {
      name: "conv_s2",
      op: "conv2d",
      attrs: { filters: 8, kernel_size: 3, strides: 2, padding: "same", use_bias: false },
    },
    {
      name: "pool_max",
      op: "max_pooling2d",
      attrs: { pool_size: 3, strides: 1, padding: "same" },
    },
    {
      name: "conv_d",
      op: "conv2d",
      attrs: { filters: 8, kernel_size: 3, padding: "same", dilation_rate: 2 },
      inputs: ["relu1"],
    },
    {
      name: "pool_avg",
      op: "average_pooling2d",
      attrs: { pool_size: 2, strides: 2, padding: "same" },
    },
    { name: "add", op: "add", inputs: ["pool_max", "pool_avg"] },
    { name: "tanh", op: "activation", attrs: { activation: "tanh" }, inputs: ["add"] },
    { name: "sigmoid", op: "activation", attrs: { activation: "sigmoid" }, inputs: ["add"] },
    { name: "concat", op: "concatenate", attrs: { axis: -1 }, inputs: ["tanh", "sigmoid"] },
    { name: "bn2", op: "batch_normalization" },
    { name: "pool_max2", op: "max_pooling2d", attrs: { pool_size: 2, strides: 1 } },
    { name: "pool_avg2", op: "average_pooling2d", attrs: { pool_size: 2 } },
    { name: "flatten", op: "flatten" },
    { name: "fc_a", op: "dense", attrs: { units: 5, activation: "tanh" } },
    { name: "drop", op: "dropout", attrs: { rate: 0.5 } },
    { name: "fc_b", op: "dense", attrs: { units: 5, use_bias: false } },
    { name: "gap", op: "global_average_pooling2d", inputs: ["bn2"] },
    { name: "fc_gap", op: "dense", attrs: { units: 5, activation: "linear" } },
    { name: "sum2", op: "add", inputs: ["fc_b", "fc_gap"] },
    ...ISSUE12_OPS,
    { name: "sum3", op: "add", inputs: ["sum2", "fc_silu"] },
    ...convFamilyLayers("input_1", "sum3"),
  ]);
}

/**
 * Issue 12's element-wise, activation, shape and normalization ops: a branch from `relu1`
 * ([h, w, 8]) with a squeeze-excitation multiply, ending in `fc_silu` ([5]).
 */
const ISSUE12_OPS: readonly LayerDescription[] = [
  { name: "rescale", op: "rescaling", attrs: { scale: 0.5, offset: 0.1 }, inputs: ["relu1"] },
  {
    name: "norm",
    op: "normalization",
    attrs: { mean: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], variance: [1, 2, 0.5, 1, 2, 0.5, 1, 4] },
  },
  { name: "ln", op: "layer_normalization" },
  { name: "se_pool", op: "global_average_pooling2d" },
  { name: "se_dense", op: "dense", attrs: { units: 8, activation: "hard_sigmoid" } },
  { name: "se_reshape", op: "reshape", attrs: { target_shape: [1, 1, -1] } },
  { name: "se_scale", op: "multiply", inputs: ["ln", "se_reshape"] },
  {
    name: "relu_full",
    op: "re_lu",
    attrs: { max_value: 2, negative_slope: 0.1, threshold: 0.1 },
  },
  { name: "leaky", op: "leaky_relu", attrs: { negative_slope: 0.1 }, inputs: ["se_scale"] },
  { name: "elu_a", op: "elu", attrs: { alpha: 0.5 }, inputs: ["se_scale"] },
  { name: "diff", op: "subtract", inputs: ["relu_full", "leaky"] },
  { name: "avg", op: "average", inputs: ["diff", "elu_a"] },
  { name: "max", op: "maximum", inputs: ["avg", "se_reshape"] },
  { name: "permute", op: "permute", attrs: { dims: [2, 1, 3] } },
  { name: "to_sequence", op: "reshape", attrs: { target_shape: [-1, 8] } },
  { name: "act_hard_swish", op: "activation", attrs: { activation: "hard_swish" } },
  { name: "act_leaky_fn", op: "activation", attrs: { activation: "leaky_relu" } },
  { name: "act_exp", op: "activation", attrs: { activation: "exponential" } },
  { name: "act_gelu", op: "activation", attrs: { activation: "gelu" } },
  { name: "act_relu6", op: "activation", attrs: { activation: "relu6" } },
  { name: "act_selu", op: "activation", attrs: { activation: "selu" } },
  { name: "act_softplus", op: "activation", attrs: { activation: "softplus" } },
  { name: "act_elu_fn", op: "activation", attrs: { activation: "elu" } },
  { name: "flatten_seq", op: "flatten" },
  { name: "fc_silu", op: "dense", attrs: { units: 5, activation: "silu" } },
];

/**
 * Issue 12's ops after a conv, for training tests (everyOpGraph's dilated conv has no gradient
 * in tfjs 4.22): 16x16x3 -> conv1 -> relu1 -> the issue 12 branch -> `fc<classes>` softmax.
 */
export function issue12Graph(classes = 3, name = "issue12"): Graph {
  return classifier(name, classes, [
    { name: "conv1", op: "conv2d", attrs: { filters: 8, kernel_size: 3, strides: 2 } },
    { name: "relu1", op: "activation", attrs: { activation: "relu" } },
    ...ISSUE12_OPS,
  ]);
}

/**
 * The conv family (issue 12), a branch from `from` ending in a [5] vector added to `into`: every
 * option tfjs-layers 4.22 lacks and rsc's subclasses add (groups, output_padding, dilated
 * transpose, half-pixel bilinear, keepdims) beside the stock configurations.
 */
function convFamilyLayers(from: string, into?: string): LayerDescription[] {
  return [
    {
      name: "dw",
      op: "depthwise_conv2d",
      attrs: { kernel_size: 3, strides: 2, padding: "same", depth_multiplier: 2 },
      inputs: [from],
    },
    {
      name: "sep",
      op: "separable_conv2d",
      attrs: { filters: 4, kernel_size: 3, padding: "same", dilation_rate: 2, activation: "relu" },
    },
    { name: "grouped", op: "conv2d", attrs: { filters: 4, kernel_size: 3, groups: 2 } },
    { name: "up_n", op: "up_sampling2d", attrs: { size: 2 } },
    {
      name: "up_b",
      op: "up_sampling2d",
      attrs: { size: [1, 2], interpolation: "bilinear" },
      inputs: ["grouped"],
    },
    {
      name: "crop",
      op: "cropping2d",
      attrs: {
        cropping: [
          [1, 0],
          [2, 1],
        ],
      },
    },
    {
      name: "tconv",
      op: "conv2d_transpose",
      attrs: { filters: 3, kernel_size: 3, strides: 2, padding: "same" },
    },
    {
      name: "tconv_op",
      op: "conv2d_transpose",
      attrs: { filters: 3, kernel_size: 2, strides: 3, output_padding: [1, 2] },
      inputs: ["up_n"],
    },
    {
      name: "tconv_d",
      op: "conv2d_transpose",
      attrs: { filters: 3, kernel_size: 3, dilation_rate: 2 },
      inputs: ["crop"],
    },
    { name: "gmp_k", op: "global_max_pooling2d", attrs: { keepdims: true }, inputs: ["tconv"] },
    {
      name: "gap_k",
      op: "global_average_pooling2d",
      attrs: { keepdims: true },
      inputs: ["tconv_op"],
    },
    { name: "pooled", op: "add", inputs: ["gmp_k", "gap_k"] },
    { name: "gmp", op: "global_max_pooling2d", inputs: ["pooled"] },
    { name: "gmp_d", op: "global_max_pooling2d", inputs: ["tconv_d"] },
    { name: "conv_feats", op: "add", inputs: ["gmp", "gmp_d"] },
    { name: "fc_conv", op: "dense", attrs: { units: 5 } },
    ...(into === undefined ? [] : [{ name: "sum_conv", op: "add", inputs: [into, "fc_conv"] }]),
  ];
}

/** The conv family alone as a classifier (16x16x3 -> conv family branch -> softmax), for training tests. */
export function convFamilyGraph(classes = 3): Graph {
  return classifier("conv_family", classes, convFamilyLayers("input_1"));
}

/** A tiny conv net for training tests: 16x16x3 -> conv -> bn -> relu -> pool -> dense softmax. */
export function tinyConvGraph(classes = 3, name = "tiny"): Graph {
  return classifier(name, classes, [
    {
      name: "conv1",
      op: "conv2d",
      attrs: { filters: 4, kernel_size: 3, strides: 2, padding: "same" },
    },
    { name: "bn_conv1", op: "batch_normalization" },
    { name: "relu", op: "activation", attrs: { activation: "relu" } },
    { name: "pool", op: "max_pooling2d", attrs: { pool_size: 2 } },
    { name: "flatten", op: "flatten" },
  ]);
}
