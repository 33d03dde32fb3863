/**
 * One ONNX lowering per IR op. Images are NCHW inside the graph (see layout.ts); Keras
 * semantics are kept exactly: TensorFlow's 'same' padding (extra pixel at the end), pooling
 * windows that ignore padding, BatchNormalization with the spec's epsilon, Flatten in (H, W, C)
 * order, Dense kernels `[in, out]` as Gemm's B.
 */
import {
  type ActivationName,
  type FoldedPadding,
  type OpAttrs,
  type Padding,
  type Pair,
  type Shape,
  samePadding,
} from "@rsc/compiler";
import { type Attrs, float, int, ints, string } from "./attributes.js";
import { type FloatType, onnxFloatType } from "./float-type.js";
import { isChannelsFirst, onnxAxis, onnxDims, TO_NCHW, TO_NHWC } from "./layout.js";
import type { LoweringTable, LoweringTools } from "./lowering.js";
import { HWIO_TO_OIHW } from "./tensor-data.js";

/** The ONNX op of each activation that is one node with no attributes. */
const ELEMENTWISE_ACTIVATIONS = {
  linear: "Identity",
  relu: "Relu",
  sigmoid: "Sigmoid",
  tanh: "Tanh",
  selu: "Selu",
  softplus: "Softplus",
  exponential: "Exp",
  // ONNX HardSwish is x * max(0, min(1, x / 6 + 1 / 2)): Keras 3's hard_silu exactly.
  hard_silu: "HardSwish",
  hard_swish: "HardSwish",
} as const satisfies { readonly [A in ActivationName]?: string };

/**
 * Applies a Keras activation to `input`, writing `output`. `linear` adds nothing: the caller
 * then writes its result straight to `output` (see {@link preActivation}). Helper nodes and
 * constants are named `<layer>/<suffix>/<part>` (or `<layer>/<part>` without a suffix).
 */
function activate(
  ctx: LoweringTools,
  activation: ActivationName,
  input: string,
  shape: Shape,
  suffix?: string,
): void {
  const options = { output: ctx.output, ...(suffix === undefined ? {} : { suffix }) };
  const part = (name: string) => (suffix === undefined ? name : `${suffix}/${name}`);
  const scalar = (name: string, value: number) =>
    ctx.floatConstant(part(name), [], Float32Array.of(value));
  switch (activation) {
    case "softmax":
      // Keras: softmax over the last axis, which is channels (axis 1) for an NCHW image.
      ctx.add("Softmax", [input], { ...options, attrs: { axis: int(onnxAxis(-1, shape)) } });
      return;
    case "relu6":
      ctx.add("Clip", [input, scalar("min", 0), scalar("max", 6)], options);
      return;
    case "leaky_relu":
      // keras.activations.leaky_relu's default slope (the LeakyReLU layer's is 0.3).
      ctx.add("LeakyRelu", [input], { ...options, attrs: { alpha: float(0.2) } });
      return;
    case "elu":
      ctx.add("Elu", [input], { ...options, attrs: { alpha: float(1) } });
      return;
    case "hard_sigmoid":
      // Keras 3: relu6(x + 3) / 6 = max(0, min(1, x / 6 + 0.5)); ONNX's default alpha is 0.2 (Keras 2's).
      ctx.add("HardSigmoid", [input], {
        ...options,
        attrs: { alpha: float(1 / 6), beta: float(0.5) },
      });
      return;
    case "silu":
    case "swish": {
      const gate = ctx.add("Sigmoid", [input], {
        output: ctx.value(part("sigmoid")),
        suffix: part("sigmoid"),
      });
      ctx.add("Mul", [input, gate], options);
      return;
    }
    case "gelu": {
      // Keras's exact gelu (approximate=False): x * (1 + erf(x / sqrt(2))) / 2; opset 17 has no Gelu.
      const scaled = ctx.add("Div", [input, scalar("sqrt2", Math.SQRT2)], {
        output: ctx.value(part("scaled")),
        suffix: part("scaled"),
      });
      const erf = ctx.add("Erf", [scaled], { output: ctx.value(part("erf")), suffix: part("erf") });
      const plus1 = ctx.add("Add", [erf, scalar("one", 1)], {
        output: ctx.value(part("plus1")),
        suffix: part("plus1"),
      });
      const half = ctx.add("Mul", [input, scalar("half", 0.5)], {
        output: ctx.value(part("half_x")),
        suffix: part("half_x"),
      });
      ctx.add("Mul", [half, plus1], options);
      return;
    }
    default:
      ctx.add(ELEMENTWISE_ACTIVATIONS[activation], [input], options);
  }
}

/** A Cast of `input` to float type `to`, as helper node `<layer>/<suffix>`. */
function cast(ctx: LoweringTools, input: string, to: FloatType, suffix: string): string {
  return ctx.add("Cast", [input], {
    output: ctx.value(suffix),
    attrs: { to: int(onnxFloatType(to)) },
    suffix,
  });
}

/** Where a layer with a fused activation writes its main result. */
function preActivation(ctx: LoweringTools, activation: ActivationName): string {
  return activation === "linear" ? ctx.output : ctx.value("pre_activation");
}

const NO_PADDING: FoldedPadding["padding"] = [
  [0, 0],
  [0, 0],
];

/**
 * ONNX pads `[top, left, bottom, right]` for a 2-D window as TensorFlow pads it, plus the zero
 * padding an IR pass folded into the node (`folded`, `[[top, bottom], [left, right]]`).
 */
function windowPads(
  ctx: LoweringTools,
  window: Pair,
  strides: Pair,
  padding: Padding,
  dilation: Pair = [1, 1],
  folded: FoldedPadding["padding"] = NO_PADDING,
): number[] {
  const [h, w] = ctx.inputShapes[0]!;
  const [[ft, fb], [fl, fr]] = folded;
  const effective: Pair = [(window[0] - 1) * dilation[0] + 1, (window[1] - 1) * dilation[1] + 1];
  // The folded padding is part of the input the window slides over.
  const [top, bottom] = samePadding(h! + ft + fb, effective[0], strides[0], padding);
  const [left, right] = samePadding(w! + fl + fr, effective[1], strides[1], padding);
  return [top + ft, left + fl, bottom + fb, right + fr];
}

/** The doc_string of a node whose pads include a folded `zero_padding2d` layer. */
function foldedPaddingDoc(folded: FoldedPadding): string {
  return `pads include zero_padding2d layer '${folded.layer}', folded into this conv`;
}

/** Pooling; TensorFlow's 'same' pooling ignores the padded cells (count_include_pad 0). */
function pool(ctx: LoweringTools, a: OpAttrs["max_pooling2d"], opType: string): void {
  const attrs = {
    kernel_shape: ints(a.pool_size),
    strides: ints(a.strides),
    pads: ints(windowPads(ctx, a.pool_size, a.strides, a.padding)),
    ...(opType === "AveragePool" ? { count_include_pad: int(0) } : {}),
  };
  ctx.add(opType, [ctx.inputs[0]!], { output: ctx.output, attrs });
}

/**
 * True when transposing a value of IR shape `shape` (batch excluded) by `perm` (batch included)
 * moves only size-1 axes past each other: the memory order is kept, so a Reshape does the same.
 */
function keepsOrder(shape: Shape, perm: readonly number[]): boolean {
  const dims = [Number.POSITIVE_INFINITY, ...shape];
  const moved = perm.filter((axis) => dims[axis]! !== 1);
  return moved.every((axis, i) => i === 0 || axis > moved[i - 1]!);
}

/**
 * A float constant broadcasting over the Keras channels (last) axis of a value of IR shape
 * `shape`: a scalar for a number, `[c, 1, 1]` for a list on an NCHW image, `[c]` otherwise.
 */
function channelConstant(
  ctx: LoweringTools,
  suffix: string,
  value: number | readonly number[],
  shape: Shape,
): string {
  if (typeof value === "number") return ctx.floatConstant(suffix, [], Float32Array.of(value));
  const dims = isChannelsFirst(shape) ? [value.length, 1, 1] : [value.length];
  return ctx.floatConstant(suffix, dims, Float32Array.from(value));
}

/** Global pooling: NCHW [N, C, 1, 1], flattened to [N, C] unless Keras keeps the dims. */
function globalPool(ctx: LoweringTools, a: OpAttrs["global_max_pooling2d"], opType: string): void {
  if (a.keepdims) {
    ctx.add(opType, [ctx.inputs[0]!], { output: ctx.output });
    return;
  }
  const pooled = ctx.value("pooled");
  ctx.add(opType, [ctx.inputs[0]!], { output: pooled });
  ctx.add("Flatten", [pooled], { output: ctx.output, attrs: { axis: int(1) }, suffix: "flatten" });
}

// --- Conv family (issue 12 item 1) -------------------------------------------------------------

/**
 * A depthwise kernel `[kh, kw, in, mult]` as ONNX's grouped Conv weight `[in * mult, 1, kh, kw]`:
 * output channel `c * mult + m` is TensorFlow's order and ONNX's (group c, its m-th output).
 */
function depthwiseKernel(ctx: LoweringTools, kernel: readonly number[]): string {
  const [kh, kw, cin, mult] = kernel as [number, number, number, number];
  return ctx.weight("depthwise_kernel", { perm: [2, 3, 0, 1], dims: [cin * mult, 1, kh, kw] });
}

/** The attributes of a Conv node sliding `a`'s window over the input, folded padding included. */
function convAttrs(
  ctx: LoweringTools,
  a: OpAttrs["conv2d"] | OpAttrs["depthwise_conv2d"] | OpAttrs["separable_conv2d"],
  group: number,
): Attrs {
  const pads = windowPads(
    ctx,
    a.kernel_size,
    a.strides,
    a.padding,
    a.dilation_rate,
    a.folded_padding?.padding,
  );
  return {
    kernel_shape: ints(a.kernel_size),
    strides: ints(a.strides),
    dilations: ints(a.dilation_rate),
    group: int(group),
    pads: ints(pads),
  };
}

/** The Conv attributes of a depthwise step: one group per input channel. */
function depthwiseAttrs(
  ctx: LoweringTools,
  a: OpAttrs["depthwise_conv2d"] | OpAttrs["separable_conv2d"],
): Attrs {
  return convAttrs(ctx, a, ctx.inputShapes[0]![2]!);
}

/**
 * ConvTranspose pads and output_padding for one axis, placing values exactly as TensorFlow's
 * conv2d_transpose (the gradient of a conv from the output back to the input): the full
 * transposed conv is `(in - 1) * stride + window` long; TensorFlow's forward padding of the
 * output (`same`: total `max(full - out, 0)`, the odd pixel at the end; `valid`: none) is
 * cropped, and any remaining rows (valid with stride > window) are zeros at the end.
 */
function transposePads(
  input: number,
  output: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: Padding,
): { before: number; after: number; extra: number } {
  const window = (kernel - 1) * dilation + 1;
  const full = (input - 1) * stride + window;
  const total = padding === "same" ? Math.max(full - output, 0) : 0;
  const before = Math.floor(total / 2);
  const after = total - before;
  return { before, after, extra: output - (full - total) };
}

const CONV_FAMILY_LOWERINGS = {
  depthwise_conv2d(ctx) {
    const { node } = ctx;
    const a = node.attrs;
    const shape = node.params[0]!.shape;
    const inputs = [
      ctx.inputs[0]!,
      depthwiseKernel(ctx, shape),
      ...(a.use_bias ? [ctx.weight("bias")] : []),
    ];
    const out = preActivation(ctx, a.activation);
    const folded = a.folded_padding;
    ctx.add("Conv", inputs, {
      output: out,
      attrs: depthwiseAttrs(ctx, a),
      ...(folded === undefined ? {} : { doc: foldedPaddingDoc(folded) }),
    });
    if (a.activation !== "linear") activate(ctx, a.activation, out, node.outputShape, a.activation);
  },

  separable_conv2d(ctx) {
    const { node } = ctx;
    const a = node.attrs;
    const folded = a.folded_padding;
    const depthwise = ctx.add(
      "Conv",
      [ctx.inputs[0]!, depthwiseKernel(ctx, node.params[0]!.shape)],
      {
        output: ctx.value("depthwise"),
        attrs: depthwiseAttrs(ctx, a),
        suffix: "depthwise",
        ...(folded === undefined ? {} : { doc: foldedPaddingDoc(folded) }),
      },
    );
    const pointwise = ctx.weight("pointwise_kernel", { perm: HWIO_TO_OIHW });
    const out = preActivation(ctx, a.activation);
    ctx.add("Conv", [depthwise, pointwise, ...(a.use_bias ? [ctx.weight("bias")] : [])], {
      output: out,
      attrs: {
        kernel_shape: ints([1, 1]),
        strides: ints([1, 1]),
        dilations: ints([1, 1]),
        group: int(1),
        pads: ints([0, 0, 0, 0]),
      },
    });
    if (a.activation !== "linear") activate(ctx, a.activation, out, node.outputShape, a.activation);
  },

  conv2d_transpose(ctx) {
    const { node } = ctx;
    const a = node.attrs;
    const [h, w] = ctx.inputShapes[0]!;
    const [oh, ow] = node.outputShape;
    const ph = transposePads(
      h!,
      oh!,
      a.kernel_size[0],
      a.strides[0],
      a.dilation_rate[0],
      a.padding,
    );
    const pw = transposePads(
      w!,
      ow!,
      a.kernel_size[1],
      a.strides[1],
      a.dilation_rate[1],
      a.padding,
    );
    // Keras's kernel [kh, kw, filters, in] is ConvTranspose's [in, filters, kh, kw] by HWIO -> OIHW.
    const kernel = ctx.weight("kernel", { perm: HWIO_TO_OIHW });
    const out = preActivation(ctx, a.activation);
    ctx.add(
      "ConvTranspose",
      [ctx.inputs[0]!, kernel, ...(a.use_bias ? [ctx.weight("bias")] : [])],
      {
        output: out,
        attrs: {
          kernel_shape: ints(a.kernel_size),
          strides: ints(a.strides),
          dilations: ints(a.dilation_rate),
          group: int(1),
          pads: ints([ph.before, pw.before, ph.after, pw.after]),
          output_padding: ints([ph.extra, pw.extra]),
        },
      },
    );
    if (a.activation !== "linear") activate(ctx, a.activation, out, node.outputShape, a.activation);
  },

  up_sampling2d(ctx) {
    const a = ctx.node.attrs;
    // Resize's scales are tensor(float) whatever the data's type.
    const scales = ctx.float32Constant("scales", [4], Float32Array.of(1, 1, a.size[0], a.size[1]));
    // Nearest with integer factors repeats pixels (asymmetric + floor); Keras's bilinear is
    // tf.image.resize's half-pixel centres.
    const attrs: Attrs =
      a.interpolation === "nearest"
        ? {
            mode: string("nearest"),
            coordinate_transformation_mode: string("asymmetric"),
            nearest_mode: string("floor"),
          }
        : { mode: string("linear"), coordinate_transformation_mode: string("half_pixel") };
    ctx.add("Resize", [ctx.inputs[0]!, "", scales], { output: ctx.output, attrs });
  },

  cropping2d(ctx) {
    const [[top, bottom], [left, right]] = ctx.node.attrs.cropping;
    const [h, w] = ctx.inputShapes[0]!;
    const inputs = [
      ctx.inputs[0]!,
      ctx.int64Constant("starts", [top, left]),
      ctx.int64Constant("ends", [h! - bottom, w! - right]),
      ctx.int64Constant("axes", [2, 3]),
    ];
    ctx.add("Slice", inputs, { output: ctx.output });
  },

  global_max_pooling2d(ctx) {
    globalPool(ctx, ctx.node.attrs, "GlobalMaxPool");
  },
} satisfies Partial<LoweringTable>;

/** The ONNX lowering of every IR op. */
export const ONNX_LOWERINGS: LoweringTable = {
  input(ctx) {
    const { name, attrs } = ctx.node;
    const image = isChannelsFirst(attrs.shape);
    const input = ctx.graphInput(name, [undefined, ...attrs.shape], image ? undefined : ctx.output);
    // One transpose at the start: Keras feeds NHWC, onnxruntime's kernels want NCHW.
    if (image) {
      ctx.add("Transpose", [input], {
        output: ctx.output,
        attrs: { perm: ints(TO_NCHW) },
        suffix: "to_nchw",
      });
    }
  },

  zero_padding2d(ctx) {
    const [[top, bottom], [left, right]] = ctx.node.attrs.padding;
    const inputs = [
      ctx.inputs[0]!,
      ctx.int64Constant("pads", [0, 0, top, left, 0, 0, bottom, right]),
    ];
    // onnxruntime's PadFusion merges a zero Pad into a following MaxPool/AveragePool's pads,
    // where padded cells are skipped rather than zeros: wrong for Keras (max over negatives,
    // averages that count the zeros). It only fuses a pad value whose bytes are all zero, so
    // pad with -0.0: equal to 0 in every comparison and sum, and left alone by the fusion.
    if (ctx.consumers.some((op) => op === "max_pooling2d" || op === "average_pooling2d")) {
      inputs.push(ctx.floatConstant("value", [], Float32Array.of(-0)));
    }
    ctx.add("Pad", inputs, { output: ctx.output, attrs: { mode: string("constant") } });
  },

  conv2d(ctx) {
    const { node } = ctx;
    const a = node.attrs;
    const kernel = ctx.weight("kernel", { perm: HWIO_TO_OIHW });
    const inputs = [ctx.inputs[0]!, kernel, ...(a.use_bias ? [ctx.weight("bias")] : [])];
    const out = preActivation(ctx, a.activation);
    const folded = a.folded_padding;
    ctx.add("Conv", inputs, {
      output: out,
      attrs: convAttrs(ctx, a, a.groups ?? 1),
      ...(folded === undefined ? {} : { doc: foldedPaddingDoc(folded) }),
    });
    if (a.activation !== "linear") activate(ctx, a.activation, out, node.outputShape, a.activation);
  },

  batch_normalization(ctx) {
    const { node } = ctx;
    const a = node.attrs;
    const shape = ctx.inputShapes[0]!;
    // ONNX normalises axis 1: true of NCHW images and of [batch, features]; other ranks would
    // need transposes around the node.
    if (!isChannelsFirst(shape) && shape.length !== 1) {
      ctx.unsupported(
        `batch_normalization of a rank-${shape.length + 1} input [N, ${shape.join(", ")}] has no ONNX lowering (supported: images [h, w, c] and flat [features])`,
      );
      return;
    }
    const channels = shape.at(-1)!;
    const scale = a.scale
      ? ctx.weight("gamma")
      : ctx.floatConstant("gamma_ones", [channels], new Float32Array(channels).fill(1));
    const bias = a.center
      ? ctx.weight("beta")
      : ctx.floatConstant("beta_zeros", [channels], new Float32Array(channels));
    const inputs = [
      ctx.inputs[0]!,
      scale,
      bias,
      ctx.weight("moving_mean"),
      ctx.weight("moving_variance"),
    ];
    ctx.add("BatchNormalization", inputs, {
      output: ctx.output,
      attrs: { epsilon: float(a.epsilon), momentum: float(a.momentum) },
    });
  },

  activation(ctx) {
    activate(ctx, ctx.node.attrs.activation, ctx.inputs[0]!, ctx.node.outputShape);
  },

  max_pooling2d(ctx) {
    pool(ctx, ctx.node.attrs, "MaxPool");
  },

  average_pooling2d(ctx) {
    pool(ctx, ctx.node.attrs, "AveragePool");
  },

  global_average_pooling2d(ctx) {
    globalPool(ctx, ctx.node.attrs, "GlobalAveragePool");
  },

  add(ctx) {
    // Add is binary; Sum takes any number of same-shaped inputs.
    ctx.add(ctx.inputs.length === 2 ? "Add" : "Sum", ctx.inputs, { output: ctx.output });
  },

  concatenate(ctx) {
    const axis = onnxAxis(ctx.node.attrs.axis, ctx.inputShapes[0]!);
    ctx.add("Concat", ctx.inputs, { output: ctx.output, attrs: { axis: int(axis) } });
  },

  flatten(ctx) {
    const shape = ctx.inputShapes[0]!;
    let input = ctx.inputs[0]!;
    // Keras flattens (H, W, C): back to NHWC first, unless H = W = 1, where both orders agree.
    if (isChannelsFirst(shape) && (shape[0] !== 1 || shape[1] !== 1)) {
      input = ctx.add("Transpose", [input], {
        output: ctx.value("nhwc"),
        attrs: { perm: ints(TO_NHWC) },
        suffix: "to_nhwc",
      });
    }
    ctx.add("Flatten", [input], { output: ctx.output, attrs: { axis: int(1) } });
  },

  dense(ctx) {
    const { node } = ctx;
    const a = node.attrs;
    const inputs = [
      ctx.inputs[0]!,
      ctx.weight("kernel"),
      ...(a.use_bias ? [ctx.weight("bias")] : []),
    ];
    const out = preActivation(ctx, a.activation);
    // Gemm's B is the Keras [in, out] kernel as is (transB 0).
    ctx.add("Gemm", inputs, {
      output: out,
      attrs: { alpha: float(1), beta: float(1), transA: int(0), transB: int(0) },
    });
    if (a.activation !== "linear") activate(ctx, a.activation, out, node.outputShape, a.activation);
  },

  dropout(ctx) {
    // Inference graph: dropout is the identity.
    ctx.add("Identity", [ctx.inputs[0]!], { output: ctx.output });
  },

  // Issue 12, item 1: element-wise, activation, shape and normalization ops.

  multiply(ctx) {
    // Mul is binary (numpy broadcasting, so [n, c, h, w] * [n, c, 1, 1] works channels-first).
    let product = ctx.inputs[0]!;
    for (let i = 1; i < ctx.inputs.length; i++) {
      const last = i === ctx.inputs.length - 1;
      product = ctx.add("Mul", [product, ctx.inputs[i]!], {
        output: last ? ctx.output : ctx.value(`product${i}`),
        ...(last ? {} : { suffix: `product${i}` }),
      });
    }
  },

  subtract(ctx) {
    ctx.add("Sub", ctx.inputs, { output: ctx.output });
  },

  average(ctx) {
    ctx.add("Mean", ctx.inputs, { output: ctx.output });
  },

  maximum(ctx) {
    ctx.add("Max", ctx.inputs, { output: ctx.output });
  },

  reshape(ctx) {
    const from = ctx.inputShapes[0]!;
    const to = ctx.node.outputShape;
    // Keras reshapes row-major over NHWC: an image goes back to NHWC first, and a rank-3 result
    // comes out NHWC and goes channels-first. A transpose that moves only size-1 axes keeps the
    // memory order, so it is folded into the Reshape instead.
    const inputInOrder = !isChannelsFirst(from) || keepsOrder(from, TO_NCHW);
    const outputInOrder = !isChannelsFirst(to) || keepsOrder(to, TO_NCHW);
    let input = ctx.inputs[0]!;
    if (!inputInOrder) {
      input = ctx.add("Transpose", [input], {
        output: ctx.value("nhwc"),
        attrs: { perm: ints(TO_NHWC) },
        suffix: "to_nhwc",
      });
    }
    // Batch dimension 0: copied from the input (ONNX Reshape, allowzero 0).
    const dims = outputInOrder ? onnxDims(to).slice(1) : [...to];
    const shaped = ctx.add(
      "Reshape",
      [input, ctx.int64Constant("shape", [0, ...(dims as number[])])],
      {
        output: outputInOrder ? ctx.output : ctx.value("nhwc_out"),
      },
    );
    if (!outputInOrder) {
      ctx.add("Transpose", [shaped], {
        output: ctx.output,
        attrs: { perm: ints(TO_NCHW) },
        suffix: "to_nchw",
      });
    }
  },

  permute(ctx) {
    const from = ctx.inputShapes[0]!;
    // Keras's permutation over NHWC, batch first; with an image in and out (rank is kept), the
    // ONNX value is NCHW on both sides: NCHW -> NHWC, permute, NHWC -> NCHW in one Transpose.
    const keras = [0, ...ctx.node.attrs.dims];
    const perm = isChannelsFirst(from) ? TO_NCHW.map((axis) => TO_NHWC[keras[axis]!]!) : keras;
    ctx.add("Transpose", [ctx.inputs[0]!], { output: ctx.output, attrs: { perm: ints(perm) } });
  },

  rescaling(ctx) {
    const { scale, offset } = ctx.node.attrs;
    const shape = ctx.inputShapes[0]!;
    const scaled = ctx.add("Mul", [ctx.inputs[0]!, channelConstant(ctx, "scale", scale, shape)], {
      output: offset === 0 ? ctx.output : ctx.value("scaled"),
      ...(offset === 0 ? {} : { suffix: "scale" }),
    });
    if (offset !== 0) {
      ctx.add("Add", [scaled, channelConstant(ctx, "offset", offset, shape)], {
        output: ctx.output,
      });
    }
  },

  normalization(ctx) {
    const shape = ctx.inputShapes[0]!;
    // Keras: (x - mean) / max(sqrt(variance), epsilon()), epsilon() = 1e-7. `count` (Keras's
    // bookkeeping for adapt) takes no part. The weights are [c]; an NCHW image needs [c, 1, 1].
    let mean = ctx.weight("mean");
    let variance = ctx.weight("variance");
    if (isChannelsFirst(shape)) {
      const dims = ctx.int64Constant("channel_shape", [shape[2]!, 1, 1]);
      mean = ctx.add("Reshape", [mean, dims], {
        output: ctx.value("mean_c11"),
        suffix: "mean_c11",
      });
      variance = ctx.add("Reshape", [variance, dims], {
        output: ctx.value("variance_c11"),
        suffix: "variance_c11",
      });
    }
    // In a float16 model the denominator is computed from the variance in float32 and cast back:
    // onnxruntime's CPU provider has no float16 Sqrt to fold the constant chain with (it warns
    // on every session), and 1e-7 is a float16 subnormal (1.2e-7).
    const half = ctx.floatType === "float16";
    if (half) variance = cast(ctx, variance, "float32", "variance_fp32");
    const std = ctx.add("Sqrt", [variance], { output: ctx.value("std"), suffix: "std" });
    const epsilon = half
      ? ctx.float32Constant("epsilon", [], Float32Array.of(1e-7))
      : ctx.floatConstant("epsilon", [], Float32Array.of(1e-7));
    let denominator = ctx.add("Max", [std, epsilon], {
      output: ctx.value("denominator"),
      suffix: "denominator",
    });
    if (half) denominator = cast(ctx, denominator, "float16", "denominator_fp16");
    const centered = ctx.add("Sub", [ctx.inputs[0]!, mean], {
      output: ctx.value("centered"),
      suffix: "centered",
    });
    ctx.add("Div", [centered, denominator], { output: ctx.output });
  },

  layer_normalization(ctx) {
    const a = ctx.node.attrs;
    const shape = ctx.inputShapes[0]!;
    const channels = shape.at(-1)!;
    // ONNX LayerNormalization normalises from `axis` to the last axis: Keras's last axis is the
    // last ONNX axis except for an NCHW image, which goes NHWC around the node.
    let input = ctx.inputs[0]!;
    const image = isChannelsFirst(shape);
    if (image) {
      input = ctx.add("Transpose", [input], {
        output: ctx.value("nhwc"),
        attrs: { perm: ints(TO_NHWC) },
        suffix: "to_nhwc",
      });
    }
    const scale = a.scale
      ? ctx.weight("gamma")
      : ctx.floatConstant("gamma_ones", [channels], new Float32Array(channels).fill(1));
    const inputs = [input, scale, ...(a.center ? [ctx.weight("beta")] : [])];
    const normalized = ctx.add("LayerNormalization", inputs, {
      output: image ? ctx.value("normalized") : ctx.output,
      attrs: { axis: int(-1), epsilon: float(a.epsilon) },
    });
    if (image) {
      ctx.add("Transpose", [normalized], {
        output: ctx.output,
        attrs: { perm: ints(TO_NCHW) },
        suffix: "to_nchw",
      });
    }
  },

  re_lu(ctx) {
    const { max_value: max, negative_slope: slope, threshold } = ctx.node.attrs;
    const x = ctx.inputs[0]!;
    const scalar = (name: string, value: number) =>
      ctx.floatConstant(name, [], Float32Array.of(value));
    if (slope === 0 && threshold === 0) {
      if (max === null) ctx.add("Relu", [x], { output: ctx.output });
      else ctx.add("Clip", [x, scalar("min", 0), scalar("max", max)], { output: ctx.output });
      return;
    }
    if (threshold === 0 && max === null) {
      ctx.add("LeakyRelu", [x], { output: ctx.output, attrs: { alpha: float(slope) } });
      return;
    }
    // Keras's general case: min(x * (x > threshold), max_value) - slope * relu(threshold - x).
    const last = slope === 0 && max === null;
    let thresholdConstant: string | undefined;
    const thresholdValue = () => {
      thresholdConstant ??= scalar("threshold", threshold);
      return thresholdConstant;
    };
    const positiveOutput = {
      output: last ? ctx.output : ctx.value("positive"),
      ...(last ? {} : { suffix: "positive" }),
    };
    let positive: string;
    if (threshold !== 0 && ctx.floatType === "float16") {
      // onnxruntime-node 1.30's WebGPU provider fails on a float16 ThresholdedRelu (fine in
      // float32), so a float16 model spells it out: x where x > threshold, else 0.
      const above = ctx.add("Greater", [x, thresholdValue()], {
        output: ctx.value("above"),
        suffix: "above",
      });
      positive = ctx.add("Where", [above, x, scalar("zero", 0)], positiveOutput);
    } else {
      positive = ctx.add(threshold === 0 ? "Relu" : "ThresholdedRelu", [x], {
        ...positiveOutput,
        ...(threshold === 0 ? {} : { attrs: { alpha: float(threshold) } }),
      });
    }
    if (max !== null) {
      positive = ctx.add("Min", [positive, scalar("max", max)], {
        output: slope === 0 ? ctx.output : ctx.value("clipped"),
        ...(slope === 0 ? {} : { suffix: "clipped" }),
      });
    }
    if (slope === 0) return;
    const below = ctx.add("Sub", [thresholdValue(), x], {
      output: ctx.value("below"),
      suffix: "below",
    });
    const negative = ctx.add("Relu", [below], {
      output: ctx.value("negative"),
      suffix: "negative",
    });
    const sloped = ctx.add("Mul", [negative, scalar("negative_slope", slope)], {
      output: ctx.value("sloped"),
      suffix: "sloped",
    });
    ctx.add("Sub", [positive, sloped], { output: ctx.output });
  },

  leaky_relu(ctx) {
    ctx.add("LeakyRelu", [ctx.inputs[0]!], {
      output: ctx.output,
      attrs: { alpha: float(ctx.node.attrs.negative_slope) },
    });
  },

  elu(ctx) {
    ctx.add("Elu", [ctx.inputs[0]!], {
      output: ctx.output,
      attrs: { alpha: float(ctx.node.attrs.alpha) },
    });
  },
  ...CONV_FAMILY_LOWERINGS,
};
