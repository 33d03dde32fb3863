/**
 * The convolution family (Keras semantics, NHWC):
 * - Conv2D: kernel HWIO `[kh, kw, in / groups, filters]`, bias `[filters]`.
 * - DepthwiseConv2D: `depthwise_kernel` `[kh, kw, in, depth_multiplier]`, bias `[in * mult]`;
 *   output channel `c * mult + m` comes from input channel `c` (TensorFlow's order).
 * - SeparableConv2D: a depthwise conv, then a 1x1 conv: `depthwise_kernel`
 *   `[kh, kw, in, mult]`, `pointwise_kernel` `[1, 1, in * mult, filters]`, bias `[filters]`.
 * - Conv2DTranspose: kernel `[kh, kw, filters, in]` (Keras's order: out before in), bias
 *   `[filters]`; the output size is Keras's `deconv_output_length`.
 */
import type { Shape } from "../tensor.js";
import { shapeSize } from "../tensor.js";
import { type ActivationName, activationSchema } from "./activation.js";
import {
  imageInput,
  isError,
  nonNegativePair,
  paddingSchema,
  positiveInt,
  positivePair,
  toPair,
  windowShape,
  withDefaults,
} from "./common.js";
import type {
  AbsorbsZeroPadding,
  InferResult,
  OpDef,
  Padding,
  Pair,
  ParamTemplate,
} from "./op-def.js";

/** Attributes of `conv2d` (Keras Conv2D's names). */
export interface Conv2dAttrs extends AbsorbsZeroPadding {
  readonly filters: number;
  readonly kernel_size: Pair;
  readonly strides: Pair;
  readonly padding: Padding;
  readonly dilation_rate: Pair;
  /**
   * Input channels and filters split into this many independent convolutions (Keras `groups`).
   * Absent means 1: left out of the IR at its default, so the canonical form (and the hash) of
   * every spec written before conv2d had `groups` is unchanged.
   */
  readonly groups?: number;
  readonly use_bias: boolean;
  readonly activation: ActivationName;
}

const conv2dDefaults = {
  strides: 1,
  padding: "valid",
  dilation_rate: 1,
  groups: 1,
  use_bias: true,
  activation: "linear",
} as const;

/** Keras refuses strides > 1 together with dilation_rate > 1 for every conv of the family. */
function stridesWithDilation(op: string, strides: Pair, dilation: Pair): InferResult | undefined {
  if ((strides[0] > 1 || strides[1] > 1) && (dilation[0] > 1 || dilation[1] > 1)) {
    return {
      ok: false,
      code: "RSC307",
      message: `${op} cannot combine strides > 1 with dilation_rate > 1 (as in Keras)`,
      attr: "dilation_rate",
    };
  }
  return undefined;
}

/** The spatial output of a sliding-window conv, or a located error. */
function convWindow(
  op: string,
  inputs: readonly Shape[],
  a: { kernel_size: Pair; strides: Pair; padding: Padding; dilation_rate: Pair },
): { x: Shape; h: number; w: number } | InferResult {
  const x = imageInput(inputs, op);
  if (isError(x)) return x;
  const combined = stridesWithDilation(op, a.strides, a.dilation_rate);
  if (combined !== undefined) return combined;
  const hw = windowShape(op, x as Shape, a.kernel_size, a.strides, a.padding, a.dilation_rate);
  if (isError(hw)) return hw;
  const [h, w] = hw as Pair;
  return { x: x as Shape, h, w };
}

/** Schema of the window attributes every conv shares (in the order specs and docs list them). */
const WINDOW_SCHEMA = {
  kernel_size: positivePair,
  strides: positivePair,
  padding: paddingSchema,
} as const;

/** The window attributes every conv shares, normalised: pairs expanded (`a` has its defaults). */
function windowAttrs(a: { readonly [attr: string]: unknown }): {
  kernel_size: Pair;
  strides: Pair;
  padding: Padding;
} {
  return {
    kernel_size: toPair(a["kernel_size"], [1, 1]),
    strides: toPair(a["strides"], [1, 1]),
    padding: a["padding"] as Padding,
  };
}

/** Taps of one kernel window: `kh x kw`. */
function convTaps(kernel: Pair): number {
  return kernel[0] * kernel[1];
}

function glorot(suffix: string, shape: Shape): ParamTemplate {
  return { suffix, shape, initializer: "glorot_uniform", trainable: true };
}

function withBias(useBias: boolean, size: number, ...kernels: ParamTemplate[]): ParamTemplate[] {
  if (!useBias) return kernels;
  return [...kernels, { suffix: "bias", shape: [size], initializer: "zeros", trainable: true }];
}

/** `conv2d: { filters, kernel_size, strides: 1, padding: valid, groups: 1, use_bias: true, activation: linear }`. */
export const conv2dOp: OpDef<"conv2d", Conv2dAttrs> = {
  op: "conv2d",
  kerasClass: "Conv2D",
  doc: "2-D convolution over NHWC input (Keras Conv2D); kernel HWIO [kh, kw, in / groups, filters], optional bias.",
  attrs: {
    properties: {
      filters: positiveInt,
      ...WINDOW_SCHEMA,
      dilation_rate: positivePair,
      groups: positiveInt,
      use_bias: { type: "boolean" },
      activation: activationSchema,
    },
    required: ["filters", "kernel_size"],
  },
  defaults: conv2dDefaults,
  arity: { min: 1, max: 1 },
  absorbsZeroPadding: true,
  normalize(raw) {
    const a = withDefaults(raw, conv2dDefaults);
    return {
      filters: a["filters"] as number,
      ...windowAttrs(a),
      dilation_rate: toPair(a["dilation_rate"], [1, 1]),
      ...(a["groups"] === 1 ? {} : { groups: a["groups"] as number }),
      use_bias: a["use_bias"] as boolean,
      activation: a["activation"] as ActivationName,
    };
  },
  infer(inputs, a) {
    const r = convWindow("conv2d", inputs, a);
    if (isError(r)) return r;
    const { x, h, w } = r as { x: Shape; h: number; w: number };
    const channels = x[2]!;
    const groups = a.groups ?? 1;
    if (channels % groups !== 0 || a.filters % groups !== 0) {
      return {
        ok: false,
        code: "RSC310",
        message: `conv2d groups ${groups} must divide both the input channels (${channels}) and filters (${a.filters})`,
        attr: "groups",
      };
    }
    return { ok: true, shape: [h, w, a.filters] };
  },
  params(inputs, a) {
    const channels = inputs[0]![2]!;
    const kernel = [a.kernel_size[0], a.kernel_size[1], channels / (a.groups ?? 1), a.filters];
    return withBias(a.use_bias, a.filters, glorot("kernel", kernel));
  },
  /**
   * Each output element sums `in / groups` channels x `kh x kw` taps: padding and dilation
   * change which input pixels a tap reads, not how many taps there are.
   */
  macs: (inputs, a, output) =>
    convTaps(a.kernel_size) * (inputs[0]![2]! / (a.groups ?? 1)) * shapeSize(output),
};

/** Attributes of `depthwise_conv2d` (Keras DepthwiseConv2D's names). */
export interface DepthwiseConv2dAttrs extends AbsorbsZeroPadding {
  readonly kernel_size: Pair;
  readonly strides: Pair;
  readonly padding: Padding;
  /** Output channels per input channel. */
  readonly depth_multiplier: number;
  readonly dilation_rate: Pair;
  readonly use_bias: boolean;
  readonly activation: ActivationName;
}

const depthwiseDefaults = {
  strides: 1,
  padding: "valid",
  depth_multiplier: 1,
  dilation_rate: 1,
  use_bias: true,
  activation: "linear",
} as const;

/** `depthwise_conv2d: { kernel_size, strides: 1, padding: valid, depth_multiplier: 1, ... }`. */
export const depthwiseConv2dOp: OpDef<"depthwise_conv2d", DepthwiseConv2dAttrs> = {
  op: "depthwise_conv2d",
  kerasClass: "DepthwiseConv2D",
  doc: "Depthwise 2-D convolution (Keras DepthwiseConv2D): each input channel convolved with its own depth_multiplier filters; depthwise_kernel [kh, kw, in, depth_multiplier].",
  attrs: {
    properties: {
      ...WINDOW_SCHEMA,
      depth_multiplier: positiveInt,
      dilation_rate: positivePair,
      use_bias: { type: "boolean" },
      activation: activationSchema,
    },
    required: ["kernel_size"],
  },
  defaults: depthwiseDefaults,
  shorthand: "kernel_size",
  arity: { min: 1, max: 1 },
  absorbsZeroPadding: true,
  normalize(raw) {
    const a = withDefaults(raw, depthwiseDefaults);
    return {
      ...windowAttrs(a),
      depth_multiplier: a["depth_multiplier"] as number,
      dilation_rate: toPair(a["dilation_rate"], [1, 1]),
      use_bias: a["use_bias"] as boolean,
      activation: a["activation"] as ActivationName,
    };
  },
  infer(inputs, a) {
    const r = convWindow("depthwise_conv2d", inputs, a);
    if (isError(r)) return r;
    const { x, h, w } = r as { x: Shape; h: number; w: number };
    return { ok: true, shape: [h, w, x[2]! * a.depth_multiplier] };
  },
  params(inputs, a) {
    const channels = inputs[0]![2]!;
    const kernel = [a.kernel_size[0], a.kernel_size[1], channels, a.depth_multiplier];
    return withBias(a.use_bias, channels * a.depth_multiplier, glorot("depthwise_kernel", kernel));
  },
  /** Each output element reads one input channel through `kh x kw` taps. */
  macs: (_inputs, a, output) => convTaps(a.kernel_size) * shapeSize(output),
};

/** Attributes of `separable_conv2d` (Keras SeparableConv2D's names). */
export interface SeparableConv2dAttrs extends AbsorbsZeroPadding {
  readonly filters: number;
  readonly kernel_size: Pair;
  readonly strides: Pair;
  readonly padding: Padding;
  readonly depth_multiplier: number;
  readonly dilation_rate: Pair;
  readonly use_bias: boolean;
  readonly activation: ActivationName;
}

/** `separable_conv2d: { filters, kernel_size, strides: 1, padding: valid, depth_multiplier: 1, ... }`. */
export const separableConv2dOp: OpDef<"separable_conv2d", SeparableConv2dAttrs> = {
  op: "separable_conv2d",
  kerasClass: "SeparableConv2D",
  doc: "Depthwise conv then a 1x1 conv (Keras SeparableConv2D); depthwise_kernel [kh, kw, in, depth_multiplier], pointwise_kernel [1, 1, in * depth_multiplier, filters].",
  attrs: {
    properties: {
      filters: positiveInt,
      ...WINDOW_SCHEMA,
      depth_multiplier: positiveInt,
      dilation_rate: positivePair,
      use_bias: { type: "boolean" },
      activation: activationSchema,
    },
    required: ["filters", "kernel_size"],
  },
  defaults: depthwiseDefaults,
  arity: { min: 1, max: 1 },
  // The depthwise step reads the input with zero padding, so explicit zero padding folds into it.
  absorbsZeroPadding: true,
  normalize(raw) {
    const a = withDefaults(raw, depthwiseDefaults);
    return {
      filters: a["filters"] as number,
      ...windowAttrs(a),
      depth_multiplier: a["depth_multiplier"] as number,
      dilation_rate: toPair(a["dilation_rate"], [1, 1]),
      use_bias: a["use_bias"] as boolean,
      activation: a["activation"] as ActivationName,
    };
  },
  infer(inputs, a) {
    const r = convWindow("separable_conv2d", inputs, a);
    if (isError(r)) return r;
    const { h, w } = r as { x: Shape; h: number; w: number };
    return { ok: true, shape: [h, w, a.filters] };
  },
  params(inputs, a) {
    const channels = inputs[0]![2]!;
    const m = a.depth_multiplier;
    return withBias(
      a.use_bias,
      a.filters,
      glorot("depthwise_kernel", [a.kernel_size[0], a.kernel_size[1], channels, m]),
      glorot("pointwise_kernel", [1, 1, channels * m, a.filters]),
    );
  },
  /**
   * Both steps: the depthwise conv (`kh x kw` taps for each of `h x w x in * mult` values), then
   * the 1x1 conv (`in * mult` for each of `h x w x filters` outputs).
   */
  macs(inputs, a, output) {
    const [h, w, filters] = output as [number, number, number];
    const between = inputs[0]![2]! * a.depth_multiplier; // channels of the depthwise output
    return h * w * between * (convTaps(a.kernel_size) + filters);
  },
};

/** Attributes of `conv2d_transpose` (Keras Conv2DTranspose's names). */
export interface Conv2dTransposeAttrs {
  readonly filters: number;
  readonly kernel_size: Pair;
  readonly strides: Pair;
  readonly padding: Padding;
  /** Extra rows/columns at the bottom/right, each < its stride; absent: Keras infers the size. */
  readonly output_padding?: Pair;
  readonly dilation_rate: Pair;
  readonly use_bias: boolean;
  readonly activation: ActivationName;
}

const transposeDefaults = {
  strides: 1,
  padding: "valid",
  dilation_rate: 1,
  use_bias: true,
  activation: "linear",
} as const;

/**
 * Keras's `deconv_output_length` along one axis: without output_padding, `valid` gives
 * `in * stride + max(window - stride, 0)` and `same` gives `in * stride`; with it,
 * `(in - 1) * stride + window - 2 * pad + output_padding`, pad `window // 2` for `same`, 0 for
 * `valid` (window = the dilated kernel).
 */
export function deconvOutputLength(
  input: number,
  kernel: number,
  stride: number,
  padding: Padding,
  dilation: number,
  outputPadding: number | undefined,
): number {
  const window = (kernel - 1) * dilation + 1;
  if (outputPadding === undefined) {
    return padding === "valid" ? input * stride + Math.max(window - stride, 0) : input * stride;
  }
  const pad = padding === "same" ? Math.floor(window / 2) : 0;
  return (input - 1) * stride + window - 2 * pad + outputPadding;
}

/**
 * TensorFlow's `conv2d_transpose` is the gradient of a conv from the output back to the input:
 * a size is valid only when that conv maps `output` back to `input` (else TensorFlow fails at
 * run time), which is what this checks.
 */
function forwardMatches(
  output: number,
  input: number,
  kernel: number,
  stride: number,
  padding: Padding,
  dilation: number,
): boolean {
  const window = (kernel - 1) * dilation + 1;
  if (padding === "same") return Math.ceil(output / stride) === input;
  return output >= window && Math.floor((output - window) / stride) + 1 === input;
}

/** `conv2d_transpose: { filters, kernel_size, strides: 1, padding: valid, output_padding, ... }`. */
export const conv2dTransposeOp: OpDef<"conv2d_transpose", Conv2dTransposeAttrs> = {
  op: "conv2d_transpose",
  kerasClass: "Conv2DTranspose",
  doc: "Transposed 2-D convolution (Keras Conv2DTranspose); kernel [kh, kw, filters, in]; output size as Keras's deconv_output_length; output_padding (each < its stride) has no default: absent, Keras infers the size.",
  attrs: {
    properties: {
      filters: positiveInt,
      ...WINDOW_SCHEMA,
      output_padding: nonNegativePair,
      dilation_rate: positivePair,
      use_bias: { type: "boolean" },
      activation: activationSchema,
    },
    required: ["filters", "kernel_size"],
  },
  defaults: transposeDefaults,
  arity: { min: 1, max: 1 },
  normalize(raw) {
    const a = withDefaults(raw, transposeDefaults);
    return {
      filters: a["filters"] as number,
      ...windowAttrs(a),
      ...(a["output_padding"] === undefined
        ? {}
        : { output_padding: toPair(a["output_padding"], [0, 0]) }),
      dilation_rate: toPair(a["dilation_rate"], [1, 1]),
      use_bias: a["use_bias"] as boolean,
      activation: a["activation"] as ActivationName,
    };
  },
  infer(inputs, a) {
    const x = imageInput(inputs, "conv2d_transpose");
    if (isError(x)) return x;
    const combined = stridesWithDilation("conv2d_transpose", a.strides, a.dilation_rate);
    if (combined !== undefined) return combined;
    const op = a.output_padding;
    if (op !== undefined && (op[0] >= a.strides[0] || op[1] >= a.strides[1])) {
      return {
        ok: false,
        code: "RSC307",
        message: `conv2d_transpose output_padding [${op.join(", ")}] must be smaller than strides [${a.strides.join(", ")}] (as in Keras)`,
        attr: "output_padding",
      };
    }
    const out: number[] = [];
    for (const axis of [0, 1] as const) {
      const input = (x as Shape)[axis]!;
      const size = deconvOutputLength(
        input,
        a.kernel_size[axis],
        a.strides[axis],
        a.padding,
        a.dilation_rate[axis],
        op?.[axis],
      );
      const fits = forwardMatches(
        size,
        input,
        a.kernel_size[axis],
        a.strides[axis],
        a.padding,
        a.dilation_rate[axis],
      );
      if (size < 1 || !fits) {
        return {
          ok: false,
          code: "RSC302",
          message: `conv2d_transpose output ${axis === 0 ? "height" : "width"} ${size} (from ${input} with this kernel_size, strides, padding '${a.padding}' and output_padding) is not a size whose '${a.padding}' conv gives back ${input}`,
          attr: op === undefined ? "kernel_size" : "output_padding",
        };
      }
      out.push(size);
    }
    return { ok: true, shape: [out[0]!, out[1]!, a.filters] };
  },
  params(inputs, a) {
    const channels = inputs[0]![2]!;
    const kernel = [a.kernel_size[0], a.kernel_size[1], a.filters, channels];
    return withBias(a.use_bias, a.filters, glorot("kernel", kernel));
  },
  /**
   * fvcore's count for a transposed conv: every input value is multiplied by the whole kernel
   * (`kh x kw x filters` products each), whatever the output padding or cropping keeps.
   */
  macs: (inputs, a) => shapeSize(inputs[0]!) * convTaps(a.kernel_size) * a.filters,
};
