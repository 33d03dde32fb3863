/** Conv2D: HWIO kernel `[kh, kw, in_channels, filters]`, bias `[filters]`. */
import type { Shape } from "../tensor.js";
import { type ActivationName, activationSchema } from "./activation.js";
import {
  imageInput,
  isError,
  paddingSchema,
  positiveInt,
  positivePair,
  toPair,
  windowShape,
  withDefaults,
} from "./common.js";
import type { AbsorbsZeroPadding, OpDef, Padding, Pair } from "./op-def.js";

/** Attributes of `conv2d` (Keras Conv2D's names). */
export interface Conv2dAttrs extends AbsorbsZeroPadding {
  readonly filters: number;
  readonly kernel_size: Pair;
  readonly strides: Pair;
  readonly padding: Padding;
  readonly dilation_rate: Pair;
  readonly use_bias: boolean;
  readonly activation: ActivationName;
}

const conv2dDefaults = {
  strides: 1,
  padding: "valid",
  dilation_rate: 1,
  use_bias: true,
  activation: "linear",
} as const;

/** `conv2d: { filters, kernel_size, strides: 1, padding: valid, use_bias: true, activation: linear }`. */
export const conv2dOp: OpDef<"conv2d", Conv2dAttrs> = {
  op: "conv2d",
  kerasClass: "Conv2D",
  doc: "2-D convolution over NHWC input (Keras Conv2D); kernel HWIO, optional bias.",
  attrs: {
    properties: {
      filters: positiveInt,
      kernel_size: positivePair,
      strides: positivePair,
      padding: paddingSchema,
      dilation_rate: positivePair,
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
      kernel_size: toPair(a["kernel_size"], [1, 1]),
      strides: toPair(a["strides"], [1, 1]),
      padding: a["padding"] as Padding,
      dilation_rate: toPair(a["dilation_rate"], [1, 1]),
      use_bias: a["use_bias"] as boolean,
      activation: a["activation"] as ActivationName,
    };
  },
  infer(inputs, a) {
    const x = imageInput(inputs, "conv2d");
    if (isError(x)) return x;
    if (
      (a.strides[0] > 1 || a.strides[1] > 1) &&
      (a.dilation_rate[0] > 1 || a.dilation_rate[1] > 1)
    ) {
      return {
        ok: false,
        code: "RSC307",
        message: "conv2d cannot combine strides > 1 with dilation_rate > 1 (as in Keras)",
        attr: "dilation_rate",
      };
    }
    const hw = windowShape(
      "conv2d",
      x as Shape,
      a.kernel_size,
      a.strides,
      a.padding,
      a.dilation_rate,
    );
    if (isError(hw)) return hw;
    const [h, w] = hw as Pair;
    return { ok: true, shape: [h, w, a.filters] };
  },
  params(inputs, a) {
    const channels = inputs[0]![2]!;
    const kernel = {
      suffix: "kernel",
      shape: [a.kernel_size[0], a.kernel_size[1], channels, a.filters],
      initializer: "glorot_uniform",
      trainable: true,
    } as const;
    if (!a.use_bias) return [kernel];
    return [kernel, { suffix: "bias", shape: [a.filters], initializer: "zeros", trainable: true }];
  },
};
