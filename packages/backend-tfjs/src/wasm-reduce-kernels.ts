/**
 * Sum and Mean over the LEADING axes (batch, height, width of an NHWC tensor: a bias gradient,
 * batch statistics outside batch norm) as one SIMD pass over the values (wasm-simd-kernels.wat),
 * accumulating each channel in double precision. tfjs-wasm reduces only innermost axes, so for
 * these it first transposes the whole tensor (element by element), then reduces. Other
 * reductions, and non-float ones, keep wasm's own kernels.
 */
import { type KernelConfig, type KernelFunc, type TensorInfo, util } from "@tensorflow/tfjs-core";
import { SimdHeap } from "./wasm-simd.js";

/** How many leading axes `axis` reduces when they are exactly 0..k-1 with k < rank; else 0. */
function leadingAxes(x: TensorInfo, axis: number | number[]): number {
  const axes = [...util.parseAxisParam(axis, x.shape)].sort((a, b) => a - b);
  const k = axes.length;
  if (k === 0 || k >= x.shape.length || axes.some((a, i) => a !== i)) return 0;
  return k;
}

/** A reduction kernel that takes the leading-axes pass when it can, else `stock`. */
function leadingReduction(stock: KernelConfig, mean: boolean): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = (args.inputs as { x: TensorInfo }).x;
    const { axis, keepDims } = args.attrs as unknown as {
      axis: number | number[];
      keepDims: boolean;
    };
    const k = x.dtype === "float32" ? leadingAxes(x, axis) : 0;
    const rows = util.sizeFromShape(x.shape.slice(0, k));
    if (k === 0 || rows < 2) return stock.kernelFunc(args);
    const kept = x.shape.slice(k);
    const cols = util.sizeFromShape(kept);
    const shape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...kept] : kept;
    const heap = new SimdHeap(args.backend);
    try {
      const out = heap.output(shape);
      const sumAt = heap.scratch(8 * cols);
      heap.kernels.columnSums(heap.offset(x), rows, cols, sumAt);
      const sums = heap.f64(sumAt, cols);
      const values = heap.f32(heap.offset(out), cols);
      const scale = mean ? 1 / rows : 1;
      for (let c = 0; c < cols; c++) values[c] = sums[c]! * scale;
      return out;
    } finally {
      heap.release();
    }
  };
  return { ...stock, kernelFunc };
}

/** Sum and Mean kernels for wasm built on wasm's own `Sum` and `Mean` configs. */
export function leadingReductionKernels(stockSum: KernelConfig, stockMean: KernelConfig) {
  return [leadingReduction(stockSum, false), leadingReduction(stockMean, true)];
}
