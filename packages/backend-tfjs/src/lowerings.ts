/**
 * One lowering per IR op: each builds the tfjs-layers layer Keras would build for it, named as the
 * spec names it, and applies it to its inputs (functional API). Initial weights are never drawn by
 * tfjs: every initializer is `zeros` (cheap) and the compiler's values are set afterwards.
 */
import type { ActivationName, Node, OpName } from "@rsc/compiler";
import { layers, type SymbolicTensor } from "@tensorflow/tfjs-layers";
import {
  GroupedConv2D,
  KerasConv2DTranspose,
  KerasGlobalAveragePooling2D,
  KerasGlobalMaxPooling2D,
  KerasUpSampling2D,
  TrainableDilatedDepthwiseConv2D,
  TrainableDilatedSeparableConv2D,
} from "./keras-conv-layers.js";
import {
  KerasELU,
  KerasMaximum,
  KerasReLU,
  Normalization,
  Subtract,
  TFJS_ACTIVATIONS,
  TrainingBatchNormalization,
} from "./keras-layers.js";

/** The IR node of one op. */
export type NodeOf<K extends OpName> = Extract<Node, { op: K }>;

/** Builds the layer of one node and applies it to the node's inputs (in `node.inputs` order). */
export type Lowering<K extends OpName> = (
  node: NodeOf<K>,
  inputs: readonly SymbolicTensor[],
) => SymbolicTensor;

/** Lowerings keyed by op; optional so a partial table (an older backend) is representable. */
export type LoweringTable = { readonly [K in OpName]?: Lowering<K> };

/** A complete table: the type checker fails when an op of the registry has no lowering. */
export type CompleteLoweringTable = { readonly [K in OpName]: Lowering<K> };

// tfjs never generates random numbers for a layer built here: the compiler's weights replace these.
const noInit = { kernelInitializer: "zeros", biasInitializer: "zeros" } as const;

function one(inputs: readonly SymbolicTensor[]): SymbolicTensor {
  return inputs[0]!;
}

function applied(result: unknown): SymbolicTensor {
  return result as SymbolicTensor;
}

/** The tfjs activation of a Keras activation (tfjs-layers' identifier, or one of keras-layers.ts). */
function activation(name: ActivationName): "linear" {
  // tfjs types its identifiers as a closed union; ours are registered the same way (keras-layers.ts).
  return TFJS_ACTIVATIONS[name] as "linear";
}

/** Max and average pooling take the same attributes: only the tfjs layer differs. */
function windowPooling(
  layer: typeof layers.maxPooling2d | typeof layers.averagePooling2d,
): (
  node: NodeOf<"max_pooling2d" | "average_pooling2d">,
  inputs: readonly SymbolicTensor[],
) => SymbolicTensor {
  return (node, inputs) =>
    applied(
      layer({
        name: node.name,
        poolSize: [...node.attrs.pool_size],
        strides: [...node.attrs.strides],
        padding: node.attrs.padding,
        dataFormat: "channelsLast",
      }).apply(one(inputs)),
    );
}

/** True when a dilation rate is above 1 along either axis. */
function dilated(rate: readonly [number, number]): boolean {
  return rate[0] > 1 || rate[1] > 1;
}

/** The attributes every Keras sliding-window conv shares, as tfjs-layers' constructor args. */
function convArgs(
  name: string,
  a: {
    readonly kernel_size: readonly [number, number];
    readonly strides: readonly [number, number];
    readonly padding: "valid" | "same";
    readonly use_bias: boolean;
    readonly activation: ActivationName;
  },
) {
  return {
    name,
    kernelSize: [...a.kernel_size] as [number, number],
    strides: [...a.strides] as [number, number],
    padding: a.padding,
    useBias: a.use_bias,
    activation: activation(a.activation),
    dataFormat: "channelsLast" as const,
  };
}

/**
 * Whether `t` is computed from a trainable weight (else only from the model's inputs, through
 * weightless layers or ones with non-trainable weights only).
 */
function dependsOnWeights(t: SymbolicTensor, seen = new Map<SymbolicTensor, boolean>()): boolean {
  const known = seen.get(t);
  if (known !== undefined) return known;
  const layer = t.sourceLayer;
  // An InputLayer's node lists its own output as its input.
  const inputs =
    layer.getClassName() === "InputLayer"
      ? []
      : (layer.inboundNodes[t.nodeIndex]?.inputTensors ?? []);
  const result =
    layer.trainableWeights.length > 0 || inputs.some((input) => dependsOnWeights(input, seen));
  seen.set(t, result);
  return result;
}

/** The tfjs lowering of every IR op (Keras semantics: NHWC, TF 'same' padding). */
export const TFJS_LOWERINGS: CompleteLoweringTable = {
  input() {
    // Inputs are created by the model builder (tf.input), never lowered as layers.
    throw new Error("input nodes are created by toLayersModel, not lowered");
  },
  zero_padding2d: (node, inputs) =>
    applied(
      layers
        .zeroPadding2d({
          name: node.name,
          padding: [[...node.attrs.padding[0]], [...node.attrs.padding[1]]],
          dataFormat: "channelsLast",
        })
        .apply(one(inputs)),
    ),
  conv2d: (node, inputs) => {
    const a = node.attrs;
    const args = {
      ...convArgs(node.name, a),
      filters: a.filters,
      dilationRate: [...a.dilation_rate] as [number, number],
      ...noInit,
    };
    // tfjs's Conv2D has no groups and no gradient when dilated: the subclass adds both, and
    // skips the input gradient a first layer does not need (it is the stock layer otherwise).
    const x = one(inputs);
    const dataInput = !dependsOnWeights(x);
    const layer =
      a.groups === undefined && a.dilation_rate.every((d) => d === 1) && !dataInput
        ? layers.conv2d(args)
        : new GroupedConv2D({ ...args, groups: a.groups, dataInput });
    return applied(layer.apply(x));
  },
  batch_normalization: (node, inputs) =>
    applied(
      new TrainingBatchNormalization({
        name: node.name,
        axis: node.attrs.axis,
        epsilon: node.attrs.epsilon,
        momentum: node.attrs.momentum,
        center: node.attrs.center,
        scale: node.attrs.scale,
        betaInitializer: "zeros",
        gammaInitializer: "zeros",
        movingMeanInitializer: "zeros",
        movingVarianceInitializer: "zeros",
      }).apply(one(inputs)),
    ),
  activation: (node, inputs) =>
    applied(
      layers
        .activation({ name: node.name, activation: activation(node.attrs.activation) })
        .apply(one(inputs)),
    ),
  max_pooling2d: windowPooling(layers.maxPooling2d),
  average_pooling2d: windowPooling(layers.averagePooling2d),
  global_average_pooling2d: (node, inputs) => {
    const args = { name: node.name, dataFormat: "channelsLast" } as const;
    const layer = node.attrs.keepdims
      ? new KerasGlobalAveragePooling2D({ ...args, keepdims: true })
      : layers.globalAveragePooling2d(args);
    return applied(layer.apply(one(inputs)));
  },
  add: (node, inputs) => applied(layers.add({ name: node.name }).apply([...inputs])),
  concatenate: (node, inputs) =>
    applied(layers.concatenate({ name: node.name, axis: node.attrs.axis }).apply([...inputs])),
  flatten: (node, inputs) =>
    applied(layers.flatten({ name: node.name, dataFormat: "channelsLast" }).apply(one(inputs))),
  dense: (node, inputs) =>
    applied(
      layers
        .dense({
          name: node.name,
          units: node.attrs.units,
          activation: activation(node.attrs.activation),
          useBias: node.attrs.use_bias,
          ...noInit,
        })
        .apply(one(inputs)),
    ),
  dropout: (node, inputs) => {
    const noise = node.attrs.noise_shape;
    // tfjs-layers' Dropout takes Keras's noise_shape (null entries: the input's size), typed
    // number[] though its getNoiseShape reads null as Keras does.
    const noiseShape = noise === undefined ? {} : { noiseShape: [...noise] as number[] };
    return applied(
      layers.dropout({ name: node.name, rate: node.attrs.rate, ...noiseShape }).apply(one(inputs)),
    );
  },

  // Issue 12, item 1: element-wise, activation, shape and normalization ops.
  multiply: (node, inputs) => applied(layers.multiply({ name: node.name }).apply([...inputs])),
  subtract: (node, inputs) => applied(new Subtract({ name: node.name }).apply([...inputs])),
  average: (node, inputs) => applied(layers.average({ name: node.name }).apply([...inputs])),
  maximum: (node, inputs) => applied(new KerasMaximum({ name: node.name }).apply([...inputs])),
  reshape: (node, inputs) =>
    applied(
      layers.reshape({ name: node.name, targetShape: [...node.outputShape] }).apply(one(inputs)),
    ),
  permute: (node, inputs) =>
    applied(layers.permute({ name: node.name, dims: [...node.attrs.dims] }).apply(one(inputs))),
  rescaling: (node, inputs) =>
    applied(
      layers
        // tfjs's Rescaling multiplies and adds with tf.mul / tf.add, which take a per-channel list too.
        .rescaling({
          name: node.name,
          scale: node.attrs.scale as number,
          offset: node.attrs.offset as number,
        })
        .apply(one(inputs)),
    ),
  normalization: (node, inputs) =>
    applied(new Normalization({ name: node.name, axis: node.attrs.axis }).apply(one(inputs))),
  layer_normalization: (node, inputs) =>
    applied(
      layers
        .layerNormalization({
          name: node.name,
          axis: node.attrs.axis,
          epsilon: node.attrs.epsilon,
          center: node.attrs.center,
          scale: node.attrs.scale,
          betaInitializer: "zeros",
          gammaInitializer: "zeros",
        })
        .apply(one(inputs)),
    ),
  re_lu: (node, inputs) =>
    applied(
      new KerasReLU({
        name: node.name,
        maxValue: node.attrs.max_value,
        negativeSlope: node.attrs.negative_slope,
        threshold: node.attrs.threshold,
      }).apply(one(inputs)),
    ),
  leaky_relu: (node, inputs) =>
    applied(
      layers.leakyReLU({ name: node.name, alpha: node.attrs.negative_slope }).apply(one(inputs)),
    ),
  elu: (node, inputs) =>
    applied(new KerasELU({ name: node.name, alpha: node.attrs.alpha }).apply(one(inputs))),
  // --- Conv family (issue 12 item 1) ---
  depthwise_conv2d: (node, inputs) => {
    const a = node.attrs;
    const args = {
      ...convArgs(node.name, a),
      depthMultiplier: a.depth_multiplier,
      dilationRate: [...a.dilation_rate] as [number, number],
      depthwiseInitializer: "zeros" as const,
      biasInitializer: "zeros" as const,
    };
    // tfjs has no gradient of a dilated depthwise conv: the subclass trains one.
    const layer = dilated(a.dilation_rate)
      ? new TrainableDilatedDepthwiseConv2D(args)
      : layers.depthwiseConv2d(args);
    return applied(layer.apply(one(inputs)));
  },
  separable_conv2d: (node, inputs) => {
    const a = node.attrs;
    const args = {
      ...convArgs(node.name, a),
      filters: a.filters,
      depthMultiplier: a.depth_multiplier,
      dilationRate: [...a.dilation_rate] as [number, number],
      depthwiseInitializer: "zeros" as const,
      pointwiseInitializer: "zeros" as const,
      biasInitializer: "zeros" as const,
    };
    const layer = dilated(a.dilation_rate)
      ? new TrainableDilatedSeparableConv2D(args)
      : layers.separableConv2d(args);
    return applied(layer.apply(one(inputs)));
  },
  conv2d_transpose: (node, inputs) => {
    const a = node.attrs;
    const args = { ...convArgs(node.name, a), filters: a.filters, ...noInit };
    const stock =
      a.output_padding === undefined && a.dilation_rate[0] === 1 && a.dilation_rate[1] === 1;
    const layer = stock
      ? layers.conv2dTranspose(args)
      : new KerasConv2DTranspose({
          ...args,
          dilationRate: [...a.dilation_rate],
          ...(a.output_padding === undefined ? {} : { outputPadding: [...a.output_padding] }),
        });
    return applied(layer.apply(one(inputs)));
  },
  up_sampling2d: (node, inputs) => {
    const args = {
      name: node.name,
      size: [...node.attrs.size],
      interpolation: node.attrs.interpolation,
      dataFormat: "channelsLast" as const,
    };
    // tfjs's own bilinear resizes without half-pixel centres; Keras's has them.
    const layer =
      node.attrs.interpolation === "bilinear"
        ? new KerasUpSampling2D(args)
        : layers.upSampling2d(args);
    return applied(layer.apply(one(inputs)));
  },
  cropping2d: (node, inputs) =>
    applied(
      layers
        .cropping2D({
          name: node.name,
          cropping: [[...node.attrs.cropping[0]], [...node.attrs.cropping[1]]],
          dataFormat: "channelsLast",
        })
        .apply(one(inputs)),
    ),
  global_max_pooling2d: (node, inputs) => {
    const args = { name: node.name, dataFormat: "channelsLast" } as const;
    const layer = node.attrs.keepdims
      ? new KerasGlobalMaxPooling2D({ ...args, keepdims: true })
      : layers.globalMaxPooling2d(args);
    return applied(layer.apply(one(inputs)));
  },
};
