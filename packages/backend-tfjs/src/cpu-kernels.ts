/**
 * A tfjs-backend-cpu 4.22 kernel that computes the wrong numbers, replaced. Found by the webgpu
 * parity test (test/webgpu-ops.test.ts): tfjs-webgpu and tfjs-wasm agree, tfjs-cpu does not.
 *
 * - `ResizeNearestNeighborGrad` (the gradient of nearest-neighbour `up_sampling2d`) offsets its
 *   reads of dy by the example index times the INPUT's batch stride instead of dy's, so every
 *   example after the first sums the wrong output rows. The stock kernel is right for one
 *   example: a batch is computed one example at a time and concatenated.
 */
import {
  concat,
  engine,
  getKernel,
  type KernelFunc,
  registerKernel,
  slice,
  Tensor,
  type TensorInfo,
  tidy,
  unregisterKernel,
} from "@tensorflow/tfjs-core";

/** Kernels receive Tensors from ops; a bare TensorInfo is wrapped (sharing its data). */
function asTensor(t: TensorInfo): Tensor {
  return t instanceof Tensor ? t : engine().makeTensorFromTensorInfo(t);
}

/** Registers the corrected kernels for the cpu backend (idempotent). */
export function registerCpuKernelFixes(): void {
  const stock = getKernel("ResizeNearestNeighborGrad", "cpu");
  if (stock === undefined || (stock.kernelFunc as { rsc?: true }).rsc) return;
  const stockGrad = stock.kernelFunc;
  const grad: KernelFunc & { rsc?: true } = (args) => {
    const { images, dy } = args.inputs as { images: TensorInfo; dy: TensorInfo };
    const batch = images.shape[0]!;
    if (batch === 1) return stockGrad(args);
    return tidy(() => {
      const parts: Tensor[] = [];
      for (let b = 0; b < batch; b++) {
        const one = (t: TensorInfo) => slice(asTensor(t), [b, 0, 0, 0], [1, -1, -1, -1]);
        const inputs = { images: one(images), dy: one(dy) };
        parts.push(asTensor(stockGrad({ ...args, inputs }) as TensorInfo));
      }
      return concat(parts, 0);
    });
  };
  grad.rsc = true;
  unregisterKernel("ResizeNearestNeighborGrad", "cpu");
  registerKernel({ kernelName: "ResizeNearestNeighborGrad", backendName: "cpu", kernelFunc: grad });
}
