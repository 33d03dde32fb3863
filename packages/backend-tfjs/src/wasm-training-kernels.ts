/**
 * The tfjs wasm backend (4.22) has every forward kernel our ops need and most gradients, but not
 * `Conv2DBackpropFilter` (the kernel gradient of a convolution), so it cannot train a conv net.
 * This registers that kernel for wasm, composed of kernels wasm does have: the strided input
 * patches of each kernel tap are concatenated (im2col, in HWIO order) and multiplied by the output
 * gradient in ONE matrix product, which XNNPACK runs fast.
 */
import {
  backend_util,
  concat,
  engine,
  getKernel,
  matMul,
  type NamedAttrMap,
  pad,
  registerKernel,
  reshape,
  stridedSlice,
  Tensor,
  type Tensor4D,
  type TensorInfo,
  tidy,
} from "@tensorflow/tfjs-core";

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

/** Registers the composite kernel for wasm unless wasm already has one (a later tfjs might). */
export function registerWasmTrainingKernels(): void {
  if (getKernel("Conv2DBackpropFilter", "wasm") !== undefined) return;
  registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs }) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      // Gradient functions pass Tensors; a bare TensorInfo is wrapped (sharing its data).
      const asTensor = (t: TensorInfo) =>
        (t instanceof Tensor ? t : engine().makeTensorFromTensorInfo(t)) as Tensor4D;
      return conv2dBackpropFilterComposite(
        asTensor(x),
        asTensor(dy),
        attrs as unknown as BackpropFilterAttrs & NamedAttrMap,
      );
    },
  });
}
