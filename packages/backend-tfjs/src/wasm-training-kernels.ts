/**
 * The tfjs wasm backend (4.22) has every forward kernel our ops need and most gradients, but not
 * `Conv2DBackpropFilter` (the kernel gradient of a convolution), so it cannot train a conv net,
 * and its `Conv2DBackpropInput` is a naive loop. {@link registerWasmTrainingKernels} registers
 * both as forward convolutions (wasm-conv-gradients.ts, what XNNPACK runs fast), with batch norm
 * in training mode as two fused kernels (wasm-batchnorm-training.ts) and the SIMD kernels of
 * wasm-simd-kernels.wat.
 *
 * The earlier filter gradient stays here for comparison (`composite`): the strided input patches
 * of each kernel tap concatenated (im2col, in HWIO order) and multiplied by the output gradient in
 * one matrix product, whose transposed operand wasm runs as a scalar loop.
 *
 * Nor has wasm either gradient of a depthwise convolution (`DepthwiseConv2dNativeBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropInput`), which depthwise_conv2d and separable_conv2d need: both
 * are registered too, composed tap by tap of strided slices, products and sums.
 */
import {
  addN,
  backend_util,
  concat,
  engine,
  getKernel,
  type KernelBackend,
  type KernelConfig,
  matMul,
  mul,
  type NamedAttrMap,
  pad,
  registerKernel,
  reshape,
  slice,
  stack,
  stridedSlice,
  sum,
  Tensor,
  type Tensor4D,
  type TensorInfo,
  tidy,
  unregisterKernel,
} from "@tensorflow/tfjs-core";
import {
  BATCH_NORM_TRAINING_KERNELS,
  registerBatchNormTrainingGradient,
} from "./wasm-batchnorm-training.js";
import {
  type ConvGradAttrs,
  conv2dBackpropFilterAsConv,
  conv2dBackpropInputAsConv,
  spread,
} from "./wasm-conv-gradients.js";
import { maxPoolGradKernel } from "./wasm-pool-gradient.js";
import { leadingReductionKernels } from "./wasm-reduce-kernels.js";

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  filterShape: [number, number, number, number];
}

/** dW[kh, kw, ci, co] = sum over (n, oh, ow) of xPadded[n, oh*sh + kh, ow*sw + kw, ci] * dy[n, oh, ow, co]. */
export function conv2dBackpropFilterComposite(
  x: Tensor4D,
  dy: Tensor4D,
  attrs: BackpropFilterAttrs,
): Tensor4D {
  if (attrs.dataFormat !== "NHWC")
    throw new Error("Conv2DBackpropFilter (wasm composite): only NHWC is supported");
  const info = backend_util.computeConv2DInfo(
    x.shape,
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
  const [kh, kw, ci, co] = attrs.filterShape;
  const { top, bottom, left, right } = info.padInfo;
  const n = x.shape[0];
  const rows = n * info.outHeight * info.outWidth;
  return tidy(() => {
    const padded =
      top + bottom + left + right > 0
        ? pad(x, [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ])
        : x;
    const patches: Tensor4D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const sameAsInput =
          kh === 1 &&
          kw === 1 &&
          info.strideHeight === 1 &&
          info.strideWidth === 1 &&
          padded.shape[1] === info.outHeight &&
          padded.shape[2] === info.outWidth;
        patches.push(
          sameAsInput
            ? padded
            : (stridedSlice(
                padded,
                [0, i, j, 0],
                [
                  n,
                  i + (info.outHeight - 1) * info.strideHeight + 1,
                  j + (info.outWidth - 1) * info.strideWidth + 1,
                  ci,
                ],
                [1, info.strideHeight, info.strideWidth, 1],
              ) as Tensor4D),
        );
      }
    }
    const columns = patches.length === 1 ? patches[0]! : concat(patches, 3);
    const grad = matMul(
      reshape(columns, [rows, kh * kw * ci]),
      reshape(dy, [rows, co]),
      true,
      false,
    );
    return reshape(grad, [kh, kw, ci, co]) as Tensor4D;
  });
}

interface DepthwiseBackpropAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | backend_util.ExplicitPadding;
  dimRoundingMode?: "floor" | "round" | "ceil";
  dilations?: [number, number] | number;
}

/** The conv geometry of a depthwise conv of `xShape` with `filterShape` (dilation 1, as tfjs's gradient requires). */
function depthwiseInfo(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: DepthwiseBackpropAttrs,
) {
  const d = attrs.dilations ?? 1;
  if (!(d === 1 || (Array.isArray(d) && d[0] === 1 && d[1] === 1)))
    throw new Error(
      "depthwise conv gradient (wasm composite): dilation rates > 1 are not supported",
    );
  return backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
    "channelsLast",
  );
}

/** The strided window of tap (i, j) over the padded input: `[n, outH, outW, c]`. */
function tapPatch(padded: Tensor4D, i: number, j: number, info: backend_util.Conv2DInfo): Tensor4D {
  const [n, , , c] = padded.shape;
  return stridedSlice(
    padded,
    [0, i, j, 0],
    [
      n,
      i + (info.outHeight - 1) * info.strideHeight + 1,
      j + (info.outWidth - 1) * info.strideWidth + 1,
      c,
    ],
    [1, info.strideHeight, info.strideWidth, 1],
  ) as Tensor4D;
}

/** dW[kh, kw, c, m] = sum over (n, oh, ow) of xPadded[n, oh*sh + kh, ow*sw + kw, c] * dy[n, oh, ow, c*M + m]. */
export function depthwiseBackpropFilterComposite(
  x: Tensor4D,
  dy: Tensor4D,
  attrs: DepthwiseBackpropAttrs & { filterShape: [number, number, number, number] },
): Tensor4D {
  const info = depthwiseInfo(x.shape, attrs.filterShape, attrs);
  const [kh, kw, c, m] = attrs.filterShape;
  const { top, bottom, left, right } = info.padInfo;
  return tidy(() => {
    const padded = pad(x, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
    const dy5 = reshape(dy, [x.shape[0], info.outHeight, info.outWidth, c, m]);
    const taps: Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const patch = reshape(tapPatch(padded, i, j, info), [
          x.shape[0],
          info.outHeight,
          info.outWidth,
          c,
          1,
        ]);
        taps.push(sum(mul(patch, dy5), [0, 1, 2]));
      }
    }
    return reshape(stack(taps), [kh, kw, c, m]) as Tensor4D;
  });
}

/** dx: each tap's dy * w[kh, kw] (summed over the multiplier) scattered back to its strided window. */
export function depthwiseBackpropInputComposite(
  dy: Tensor4D,
  filter: Tensor4D,
  attrs: DepthwiseBackpropAttrs & { inputShape: [number, number, number, number] },
): Tensor4D {
  const [n, h, w, c] = attrs.inputShape;
  const info = depthwiseInfo(attrs.inputShape, filter.shape, attrs);
  const [kh, kw, , m] = filter.shape;
  const { top, bottom, left, right } = info.padInfo;
  const [ph, pw] = [h + top + bottom, w + left + right];
  const [oh, ow, sh, sw] = [info.outHeight, info.outWidth, info.strideHeight, info.strideWidth];
  return tidy(() => {
    const dy5 = reshape(dy, [n, oh, ow, c, m]);
    const parts: Tensor4D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const tap = reshape(slice(filter, [i, j, 0, 0], [1, 1, c, m]), [1, 1, 1, c, m]);
        const g = sum(mul(dy5, tap), 4) as Tensor4D; // [n, oh, ow, c]
        const spaced = spread(g, sh, sw); // [n, oh*sh, ow*sw, c]
        // Rows past the padded input are zeros of the spreading; cut them, then place at (i, j).
        const rows = Math.min(oh * sh, ph - i);
        const cols = Math.min(ow * sw, pw - j);
        const cut = slice(spaced, [0, 0, 0, 0], [n, rows, cols, c]);
        parts.push(
          pad(cut, [
            [0, 0],
            [i, ph - i - rows],
            [j, pw - j - cols],
            [0, 0],
          ]) as Tensor4D,
        );
      }
    }
    const total = parts.length === 1 ? parts[0]! : (addN(parts) as Tensor4D);
    return slice(total, [0, top, left, 0], [n, h, w, c]) as Tensor4D;
  });
}

/** Gradient functions pass Tensors; a bare TensorInfo is wrapped (sharing its data). */
function asTensor4D(t: TensorInfo): Tensor4D {
  return (t instanceof Tensor ? t : engine().makeTensorFromTensorInfo(t)) as Tensor4D;
}

/**
 * Identity (tf.clone, and every tensor the tape saves for the backward pass) sharing its input's
 * data, as the cpu and webgl backends' do; wasm's own copies every value (~1,200 calls and
 * ~100 ms of a ResNet-50 step). No wasm kernel writes into its inputs, so sharing is safe.
 */
function sharingIdentity(stock: KernelConfig): KernelConfig {
  return {
    ...stock,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype === "string") return stock.kernelFunc(args);
      (args.backend as KernelBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
}

/** Which training kernels wasm runs: the fast ones, or the earlier composites (for benchmarks). */
export type WasmTrainingKernels = "fast" | "composite";

const stock: {
  backpropInput?: KernelConfig;
  sum?: KernelConfig;
  mean?: KernelConfig;
  maxPoolGrad?: KernelConfig;
  identity?: KernelConfig;
} = {};

/** Registers `config` in place of any kernel of its name; set up now if its backend already runs. */
function replaceKernel(config: KernelConfig): void {
  if (getKernel(config.kernelName, config.backendName) !== undefined)
    unregisterKernel(config.kernelName, config.backendName);
  registerKernel(config);
  // tfjs sets kernels up as their backend starts; one registered later is set up here.
  const running = (engine() as unknown as { registry: Record<string, KernelBackend> }).registry[
    config.backendName
  ];
  if (running !== undefined) config.setupFunc?.(running);
}

/**
 * Registers wasm's training kernels. `fast` (the default): both conv2d gradients as forward convs
 * (wasm-conv-gradients.ts; wasm's own naive Conv2DBackpropInput is replaced), Sum and Mean over
 * leading axes in one SIMD pass (wasm-reduce-kernels.ts), max pooling's gradient
 * (wasm-pool-gradient.ts), an Identity that shares its input's data, and batch norm in training
 * mode as two fused kernels (wasm-batchnorm-training.ts). `composite`: the filter gradient as one
 * im2col product, wasm's own input gradient, Sum, Mean, MaxPoolGrad and Identity, and tfjs's
 * batch-norm path, as rsc trained before. The depthwise gradients are the composites in both.
 */
export function registerWasmTrainingKernels(kernels: WasmTrainingKernels = "fast"): void {
  stock.backpropInput ??= getKernel("Conv2DBackpropInput", "wasm");
  stock.sum ??= getKernel("Sum", "wasm");
  stock.mean ??= getKernel("Mean", "wasm");
  stock.maxPoolGrad ??= getKernel("MaxPoolGrad", "wasm");
  stock.identity ??= getKernel("Identity", "wasm");
  replaceKernel({
    kernelName: "DepthwiseConv2dNativeBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      return depthwiseBackpropFilterComposite(
        asTensor4D(x),
        asTensor4D(dy),
        attrs as unknown as DepthwiseBackpropAttrs & {
          filterShape: [number, number, number, number];
        },
      );
    },
  });
  replaceKernel({
    kernelName: "DepthwiseConv2dNativeBackpropInput",
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs }) => {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      return depthwiseBackpropInputComposite(
        asTensor4D(dy),
        asTensor4D(filter),
        attrs as unknown as DepthwiseBackpropAttrs & {
          inputShape: [number, number, number, number];
        },
      );
    },
  });
  const fast = kernels === "fast";
  replaceKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const a = attrs as unknown as BackpropFilterAttrs & NamedAttrMap;
      return fast
        ? conv2dBackpropFilterAsConv(asTensor4D(x), asTensor4D(dy), a)
        : conv2dBackpropFilterComposite(asTensor4D(x), asTensor4D(dy), a);
    },
  });
  if (fast) {
    replaceKernel({
      kernelName: "Conv2DBackpropInput",
      backendName: "wasm",
      kernelFunc: ({ inputs, attrs }) => {
        const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
        return conv2dBackpropInputAsConv(
          asTensor4D(dy),
          asTensor4D(filter),
          attrs as unknown as ConvGradAttrs & { inputShape: [number, number, number, number] },
        );
      },
    });
    if (stock.sum !== undefined && stock.mean !== undefined)
      for (const config of leadingReductionKernels(stock.sum, stock.mean)) replaceKernel(config);
    if (stock.maxPoolGrad !== undefined) replaceKernel(maxPoolGradKernel(stock.maxPoolGrad));
    if (stock.identity !== undefined) replaceKernel(sharingIdentity(stock.identity));
    for (const config of BATCH_NORM_TRAINING_KERNELS) replaceKernel(config);
    registerBatchNormTrainingGradient();
  } else {
    for (const own of [
      stock.backpropInput,
      stock.sum,
      stock.mean,
      stock.maxPoolGrad,
      stock.identity,
    ])
      if (own !== undefined) replaceKernel(own);
    // Without the fused batch-norm kernels the layer takes tfjs's moments and FusedBatchNorm.
    for (const config of BATCH_NORM_TRAINING_KERNELS)
      if (getKernel(config.kernelName, config.backendName) !== undefined)
        unregisterKernel(config.kernelName, config.backendName);
  }
}
