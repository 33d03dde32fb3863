/**
 * What tfjs-backend-webgpu 4.22 gets wrong for rsc's ops, replaced by kernels composed of ones it
 * runs correctly. Every other forward kernel and gradient rsc's ops use is there (the per-op
 * parity test, test/webgpu-ops.test.ts, runs each op's forward and gradients against tfjs-cpu).
 *
 * - `PadV2` of a rank-5 or rank-6 tensor: the shader it generates indexes a `vec5`, which WGSL
 *   has not, so the pipeline is invalid and the output is garbage (Dawn only logs a validation
 *   error). rsc pads rank-5 tensors to dilate kernels with zeros (a dilated depthwise, separable
 *   or transposed conv). The pad is rewritten at rank <= 4: a padded axis merged with the unpadded
 *   axes inside it is padded by the same count times their size, so `[a, b, c, d, e]` padded on
 *   axis 1 only is `[a, b*c*d*e]` padded by `p * c*d*e`. Five or more padded axes (no rsc op)
 *   are padded one axis at a time by concatenation.
 */
import {
  concat,
  engine,
  fill,
  getKernel,
  type KernelFunc,
  pad,
  registerKernel,
  reshape,
  Tensor,
  type TensorInfo,
  tidy,
  unregisterKernel,
} from "@tensorflow/tfjs-core";

interface PadAttrs {
  paddings: [number, number][];
  constantValue: number;
}

/** The rank-<=4 view of a pad: the merged shape and its paddings. */
export function mergedPad(
  shape: readonly number[],
  paddings: readonly (readonly [number, number])[],
): { shape: number[]; paddings: [number, number][] } {
  const merged: number[] = [];
  const mergedPaddings: [number, number][] = [];
  for (let axis = 0; axis < shape.length; axis++) {
    const [before, after] = paddings[axis]!;
    const padded = before !== 0 || after !== 0;
    if (padded || merged.length === 0) {
      merged.push(shape[axis]!);
      mergedPaddings.push([before, after]);
      continue;
    }
    // An unpadded axis joins the axis outside it, scaling that axis's padding.
    const last = merged.length - 1;
    merged[last] = merged[last]! * shape[axis]!;
    mergedPaddings[last] = [
      mergedPaddings[last]![0] * shape[axis]!,
      mergedPaddings[last]![1] * shape[axis]!,
    ];
  }
  return { shape: merged, paddings: mergedPaddings };
}

/** `x` padded one axis at a time: `concat([fill, x, fill], axis)`. */
function padByConcat(x: Tensor, paddings: readonly (readonly [number, number])[], value: number) {
  let y = x;
  paddings.forEach(([before, after], axis) => {
    const parts: Tensor[] = [];
    const side = (count: number) => {
      const shape = [...y.shape];
      shape[axis] = count;
      return fill(shape, value, y.dtype);
    };
    if (before > 0) parts.push(side(before));
    parts.push(y);
    if (after > 0) parts.push(side(after));
    if (parts.length > 1) y = concat(parts, axis);
  });
  return y;
}

/** Kernels receive Tensors from ops; a bare TensorInfo is wrapped (sharing its data). */
function asTensor(t: TensorInfo): Tensor {
  return t instanceof Tensor ? t : engine().makeTensorFromTensorInfo(t);
}

/** Registers the replacement kernels for the webgpu backend (idempotent). */
export function registerWebGpuKernels(): void {
  const stock = getKernel("PadV2", "webgpu");
  if (stock === undefined || (stock.kernelFunc as { rsc?: true }).rsc) return;
  const stockPad = stock.kernelFunc;
  const padV2: KernelFunc & { rsc?: true } = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { paddings, constantValue } = args.attrs as unknown as PadAttrs;
    if (x.shape.length <= 4) return stockPad(args);
    return tidy(() => {
      const input = asTensor(x);
      const outShape = x.shape.map((n, i) => n + paddings[i]![0] + paddings[i]![1]);
      const view = mergedPad(x.shape, paddings);
      const padded =
        view.shape.length <= 4
          ? // pad() of the merged view runs this kernel again, at rank <= 4: the stock shader.
            pad(reshape(input, view.shape), view.paddings, constantValue)
          : padByConcat(input, paddings, constantValue);
      return reshape(padded, outShape);
    });
  };
  padV2.rsc = true;
  unregisterKernel("PadV2", "webgpu");
  registerKernel({ kernelName: "PadV2", backendName: "webgpu", kernelFunc: padV2 });
}
