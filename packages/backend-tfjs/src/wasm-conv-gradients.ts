/**
 * Both gradients of a 2-D convolution written as FORWARD convolutions (or, for 1x1 kernels, as
 * untransposed matrix products), because those are what tfjs-wasm hands to XNNPACK. Its own
 * `Conv2DBackpropInput` is a naive loop, and a `matMul` with a transposed operand or a batch runs
 * as a scalar triple loop; a forward conv2d or a plain batch-1 `matMul` runs XNNPACK's packed GEMM.
 *
 * Filter gradient: dW[kh, kw, ci, co] = sum over (n, oh, ow) of xPad[n, oh*s + kh, ow*s + kw, ci] *
 * dy[n, oh, ow, co]. Read with ci as the batch, n as the input channels and dy as a filter of
 * `[oh, ow, n, co]` taps spaced s apart, that is a forward conv2d with dilation = stride, whose
 * output is [ci, kh, kw, co].
 *
 * Input gradient: dx[i] = sum over taps k of dyDilated[i + pt - k] * w[k], the correlation of the
 * zero-dilated (stride s), padded output gradient with the flipped kernel whose in and out
 * channels are swapped: a forward conv2d, stride 1, 'valid'.
 *
 * Both take the attributes of tfjs's kernels: strides, pad (`same`, `valid`, a number or explicit
 * pairs), dimRoundingMode, NHWC. tfjs's conv2d gradient refuses dilation rates > 1 before it gets
 * here, so these kernels never see one (the compiler trains dilated convs with dilated kernels).
 */
import {
  backend_util,
  conv2d,
  engine,
  matMul,
  pad,
  reshape,
  slice,
  type Tensor,
  type Tensor4D,
  tidy,
  zeros,
} from "@tensorflow/tfjs-core";
import { SimdHeap } from "./wasm-simd.js";

/** The attributes Conv2DBackpropFilter and Conv2DBackpropInput share. */
export interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

type Shape4 = [number, number, number, number];

function convInfo(xShape: Shape4, filterShape: Shape4, attrs: ConvGradAttrs) {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NHWC")
    throw new Error("conv2d gradient (wasm): only NHWC is supported");
  return backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

/**
 * `t` shifted along spatial axes 1 and 2 and cut or zero-filled to `[.., rows, cols, ..]`:
 * result[:, i, j] = t[:, i + top, j + left], zero where that lies outside `t`.
 */
function window(t: Tensor4D, top: number, left: number, rows: number, cols: number): Tensor4D {
  const [n, h, w, c] = t.shape;
  // The part of t that lands inside the result, then zeros around it.
  const r0 = Math.max(0, top);
  const c0 = Math.max(0, left);
  const r1 = Math.min(h, top + rows);
  const c1 = Math.min(w, left + cols);
  if (r1 <= r0 || c1 <= c0) return zeros([n, rows, cols, c]);
  const inner =
    r0 === 0 && c0 === 0 && r1 === h && c1 === w
      ? t
      : (slice(t, [0, r0, c0, 0], [n, r1 - r0, c1 - c0, c]) as Tensor4D);
  const before = [r0 - top, c0 - left];
  const after = [rows - before[0]! - (r1 - r0), cols - before[1]! - (c1 - c0)];
  if (before[0] === 0 && before[1] === 0 && after[0] === 0 && after[1] === 0) return inner;
  return pad(inner, [
    [0, 0],
    [before[0]!, after[0]!],
    [before[1]!, after[1]!],
    [0, 0],
  ]);
}

/**
 * Inserts `sh - 1` zero rows after every row and `sw - 1` zero columns after every column (a
 * gradient at stride spacing): [n, h, 1, w, 1, c] padded to [n, h, sh, w, sw, c], flattened.
 */
export function spread(t: Tensor4D, sh: number, sw: number): Tensor4D {
  if (sh === 1 && sw === 1) return t;
  const [n, h, w, c] = t.shape;
  return reshape(
    pad(reshape(t, [n, h, 1, w, 1, c]), [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]),
    [n, h * sh, w * sw, c],
  );
}

/**
 * The kernel `[kh, kw, ci, co]` as `[kh, kw, co, ci]` (in and out channels swapped), its taps in
 * reverse order along both spatial axes when `flip` (w[kh - 1 - i, kw - 1 - j]): one blocked
 * transpose per tap on the heap (wasm-simd-kernels.wat's swapChannels). wasm's Transpose, Reverse
 * and GatherV2 are element-by-element loops several times slower, and its Slice copies the whole
 * input per slice.
 */
function swapChannels(filter: Tensor4D, flip: boolean): Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  return onHeap([kh, kw, co, ci], (heap, out) =>
    heap.kernels.swapChannels(heap.offset(filter), out, kh * kw, ci, co, flip ? 1 : 0),
  ) as Tensor4D;
}

/** A new tensor of `shape` that `write` fills on the wasm heap (given its byte offset). */
function onHeap(shape: number[], write: (heap: SimdHeap, out: number) => void): Tensor {
  const e = engine();
  const heap = new SimdHeap(e.backend);
  const out = heap.output(shape);
  write(heap, heap.offset(out));
  return e.makeTensorFromTensorInfo(out);
}

/** `t` viewed as [a, m, b] as [b, m, a] (wasm-simd-kernels.wat's tiled transposeOuter). */
function transposeOuter(t: Tensor, a: number, m: number, b: number): Tensor {
  return onHeap([b, m, a], (heap, out) =>
    heap.kernels.transposeOuter(heap.offset(t), out, a, m, b),
  );
}

/** `t` viewed as [a, m, b] as [m, a, b] (whole rows of b moved: swapLeading). */
function swapLeading(t: Tensor, a: number, m: number, b: number): Tensor {
  return onHeap([m, a, b], (heap, out) => heap.kernels.swapLeading(heap.offset(t), out, a, m, b));
}

/** Patch sizes (kh * kw * ci) up to which the filter gradient is one product of the patches. */
const IM2COL_MAX_PATCH = 256;

/** dW of conv2d(x, W) for output gradient dy: `filterShape` `[kh, kw, ci, co]`. */
export function conv2dBackpropFilterAsConv(
  x: Tensor4D,
  dy: Tensor4D,
  attrs: ConvGradAttrs & { filterShape: Shape4 },
): Tensor4D {
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  const [kh, kw, ci, co] = attrs.filterShape;
  const n = x.shape[0];
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  return tidy(() => {
    if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && oh === x.shape[1] && ow === x.shape[2]) {
      // Each output reads its own input pixel: x^T dy, one transpose and an untransposed
      // product. XNNPACK packs the product's second operand afresh each call, single-threaded at
      // ~10 ns a value, so the smaller of x and dy takes that place: dy^T x then a transpose of
      // the small [co, ci] result when ci < co. A strided or padded 1x1 kernel takes the conv
      // below, whose indirection does the striding (wasm's StridedSlice is an element loop).
      const rows = n * oh * ow;
      if (ci < co) {
        const dyT = reshape(transposeOuter(dy, rows, 1, co), [co, rows]);
        const dwT = matMul(dyT, reshape(x, [rows, ci])); // [co, ci]
        return reshape(transposeOuter(dwT, co, 1, ci), [1, 1, ci, co]) as Tensor4D;
      }
      const xT = reshape(transposeOuter(x, rows, 1, ci), [ci, rows]);
      return reshape(matMul(xT, reshape(dy, [rows, co])), [1, 1, ci, co]) as Tensor4D;
    }
    if (kh * kw * ci <= IM2COL_MAX_PATCH) {
      // Few input channels (a first layer: ResNet's 7x7 conv1 over 3): the conv below would run
      // with ci as its batch, badly (~6 GFLOP/s). The patches, transposed, times dy instead.
      const rows = n * oh * ow;
      const [, h, w] = x.shape;
      const p = onHeap([kh * kw * ci, rows], (heap, out) =>
        heap.kernels.im2colT(heap.offset(x), out, n, h, w, ci, oh, ow, kh, kw, sh, sw, top, left),
      );
      return reshape(matMul(p, reshape(dy, [rows, co])), [kh, kw, ci, co]) as Tensor4D;
    }
    // Every row of the padded input a tap can read, and no more: kh + (oh - 1) * sh rows.
    const [rowsIn, colsIn] = [kh + (oh - 1) * sh, kw + (ow - 1) * sw];
    const xPad = window(x, -top, -left, rowsIn, colsIn); // [n, R, C, ci]
    const xT = reshape(transposeOuter(xPad, n, rowsIn * colsIn, ci), [ci, rowsIn, colsIn, n]);
    const dyT = reshape(swapLeading(dy, n, oh * ow, co), [oh, ow, n, co]);
    const g = conv2d(xT as Tensor4D, dyT as Tensor4D, 1, "valid", "NHWC", [sh, sw]); // [ci, kh, kw, co]
    return reshape(swapLeading(g, ci, kh * kw, co), [kh, kw, ci, co]) as Tensor4D;
  });
}

/** dx of conv2d(x, W) for output gradient dy, x of `inputShape` `[n, h, w, ci]`. */
export function conv2dBackpropInputAsConv(
  dy: Tensor4D,
  filter: Tensor4D,
  attrs: ConvGradAttrs & { inputShape: Shape4 },
): Tensor4D {
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  const [n, h, w, ci] = attrs.inputShape;
  const [kh, kw, , co] = filter.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  return tidy(() => {
    if (kh === 1 && kw === 1) {
      // dy W^T as an untransposed product (W^T is small), then each output's value placed at its
      // input position oh*s - top.
      const wt = reshape(swapChannels(filter, false), [co, ci]);
      const g = reshape(matMul(reshape(dy, [n * oh * ow, co]), wt), [n, oh, ow, ci]) as Tensor4D;
      return window(spread(g, sh, sw), top, left, h, w);
    }
    // dyDilated padded by kh - 1 - top before; the result is h + kh - 1 rows, so the conv gives h.
    const dyPad = window(
      spread(dy, sh, sw),
      top - (kh - 1),
      left - (kw - 1),
      h + kh - 1,
      w + kw - 1,
    );
    const flipped = swapChannels(filter, true); // [kh, kw, co, ci]
    return conv2d(dyPad, flipped, 1, "valid");
  });
}
