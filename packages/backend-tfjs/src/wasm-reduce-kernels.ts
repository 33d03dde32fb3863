/**
 * Sum and Mean over the LEADING axes (batch, height, width of an NHWC tensor: batch norm's
 * statistics and gradient, a bias gradient) as one pass over the values, accumulating each
 * channel in double precision. tfjs-wasm reduces only innermost axes, so for these it first
 * transposes the whole tensor (element by element), then reduces. Other reductions, and
 * non-float ones, keep wasm's own kernels.
 */
import {
  engine,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  tensor,
  util,
} from "@tensorflow/tfjs-core";

/** How many leading axes `axis` reduces when they are exactly 0..k-1 with k < rank; else 0. */
function leadingAxes(x: TensorInfo, axis: number | number[]): number {
  const axes = [...util.parseAxisParam(axis, x.shape)].sort((a, b) => a - b);
  const k = axes.length;
  if (k === 0 || k >= x.shape.length || axes.some((a, i) => a !== i)) return 0;
  return k;
}

/** The values of `x` without a copy where the backend allows it (wasm: a view of its heap). */
function values(x: TensorInfo, backend: unknown): Float32Array {
  const wasm = backend as { typedArrayFromHeap?: (t: TensorInfo) => Float32Array };
  if (typeof wasm.typedArrayFromHeap === "function") return wasm.typedArrayFromHeap(x);
  return engine().readSync(x.dataId) as Float32Array;
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
    const src = values(x, args.backend);
    const acc = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      for (let c = 0; c < cols; c++) acc[c]! += src[base + c]!;
    }
    const out = new Float32Array(cols);
    const scale = mean ? 1 / rows : 1;
    for (let c = 0; c < cols; c++) out[c] = acc[c]! * scale;
    const shape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...kept] : kept;
    return tensor(out, shape, "float32");
  };
  return { ...stock, kernelFunc };
}

/** Sum and Mean kernels for wasm built on wasm's own `Sum` and `Mean` configs. */
export function leadingReductionKernels(stockSum: KernelConfig, stockMean: KernelConfig) {
  return [leadingReduction(stockSum, false), leadingReduction(stockMean, true)];
}
