/**
 * Batch normalization in training mode as two kernels, forward and backward, for tfjs's wasm
 * backend, their passes over the activation in SIMD (wasm-simd-kernels.wat). tfjs-layers
 * computes it as `moments` (Mean, SquaredDifference, Mean) then FusedBatchNorm, and its gradient
 * flows back through all of them: some fifteen kernels per layer, several of them full passes
 * over the activation, for ResNet-50's 53 batch norms (Sum, Mean, FusedBatchNorm and their
 * elementwise work: about 0.8 s of a 4.5 s wasm step). Here:
 *
 *   forward   one pass for the per-channel sum and sum of squares (in double), one writing
 *             y = (x - mean) * gamma * r + beta (r = rsqrt(variance + epsilon)); outputs y, mean,
 *             variance (biased, as tfjs's moments).
 *   backward  one pass for sum(dy) and sum(dy * (x - mean)) (in double), one writing
 *             dx = gamma * r * (dy - sum(dy) / R - (x - mean) * r^2 * sum(dy * (x - mean)) / R),
 *             with dgamma = r * sum(dy * (x - mean)) and dbeta = sum(dy).
 *
 * That is the derivative of the whole normalization, through the batch statistics, which is what
 * tfjs's composition computes (its variance takes the mean as a constant, whose derivative there
 * is zero anyway). Statistics are per channel, the channel the last axis: the layer
 * (keras-layers.ts's TrainingBatchNormalization) keeps tfjs's own path for any other axis, in
 * inference, and on other backends.
 */
import {
  engine,
  type GradConfig,
  getBackend,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  registerGradient,
  type Tensor,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { SimdHeap } from "./wasm-simd.js";

export const BATCH_NORM_TRAINING = "RscBatchNormTraining";
export const BATCH_NORM_TRAINING_GRAD = "RscBatchNormTrainingGrad";

/** Rows (every axis but the last) and channels (the last) of `shape`. */
function rowsAndChannels(shape: number[]): [number, number] {
  const channels = shape[shape.length - 1]!;
  return [util.sizeFromShape(shape) / channels, channels];
}

/** Forward: inputs x [.., C], gamma [C], beta [C]; outputs y, mean [C], variance [C]. */
const forward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const epsilon = (attrs as NamedAttrMap)["epsilon"] as number;
  const [rows, channels] = rowsAndChannels(x.shape);
  const heap = new SimdHeap(backend);
  try {
    const outs = [heap.output(x.shape), heap.output([channels]), heap.output([channels])];
    const [yOut, meanOut, varianceOut] = outs as [TensorInfo, TensorInfo, TensorInfo];
    const sumAt = heap.scratch(16 * channels);
    const scaleAt = heap.scratch(4 * channels);
    heap.kernels.bnStats(heap.offset(x), rows, channels, sumAt, sumAt + 8 * channels);
    const sum = heap.f64(sumAt, 2 * channels);
    const mean = heap.f32(heap.offset(meanOut), channels);
    const variance = heap.f32(heap.offset(varianceOut), channels);
    const scale = heap.f32(scaleAt, channels);
    const g = heap.f32(heap.offset(gamma), channels);
    for (let c = 0; c < channels; c++) {
      const m = sum[c]! / rows;
      // One pass in double: the float32 values' squares lose nothing to cancellation here.
      const v = Math.max(0, sum[channels + c]! / rows - m * m);
      mean[c] = m;
      variance[c] = v;
      scale[c] = g[c]! / Math.sqrt(v + epsilon);
    }
    heap.kernels.bnApply(
      heap.offset(x),
      heap.offset(yOut),
      rows,
      channels,
      heap.offset(meanOut),
      scaleAt,
      heap.offset(beta),
    );
    return outs;
  } finally {
    heap.release();
  }
};

/** Backward: inputs dy, x, mean, variance, gamma; outputs dx, dgamma, dbeta. */
const backward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, mean, variance, gamma } = inputs as Record<string, TensorInfo>;
  const epsilon = (attrs as NamedAttrMap)["epsilon"] as number;
  const [rows, channels] = rowsAndChannels(x!.shape);
  const heap = new SimdHeap(backend);
  try {
    const outs = [heap.output(x!.shape), heap.output([channels]), heap.output([channels])];
    const [dxOut, dgammaOut, dbetaOut] = outs as [TensorInfo, TensorInfo, TensorInfo];
    const sumsAt = heap.scratch(16 * channels);
    // dx = a * dy + b * (x - mean) + k, per channel (centred first, as the forward pass).
    const coefficientsAt = heap.scratch(12 * channels);
    heap.kernels.bnGradStats(
      heap.offset(dy!),
      heap.offset(x!),
      rows,
      channels,
      heap.offset(mean!),
      sumsAt,
      sumsAt + 8 * channels,
    );
    const sums = heap.f64(sumsAt, 2 * channels);
    const coefficients = heap.f32(coefficientsAt, 3 * channels);
    const dgamma = heap.f32(heap.offset(dgammaOut), channels);
    const dbeta = heap.f32(heap.offset(dbetaOut), channels);
    const v = heap.f32(heap.offset(variance!), channels);
    const g = heap.f32(heap.offset(gamma!), channels);
    for (let c = 0; c < channels; c++) {
      const sumDy = sums[c]!;
      const sumDyXc = sums[channels + c]!;
      const r = 1 / Math.sqrt(v[c]! + epsilon);
      dgamma[c] = r * sumDyXc;
      dbeta[c] = sumDy;
      const a = g[c]! * r;
      coefficients[c] = a;
      coefficients[channels + c] = (-a * r * r * sumDyXc) / rows;
      coefficients[2 * channels + c] = (-a * sumDy) / rows;
    }
    heap.kernels.bnGradApply(
      heap.offset(dy!),
      heap.offset(x!),
      heap.offset(dxOut),
      rows,
      channels,
      heap.offset(mean!),
      coefficientsAt,
      coefficientsAt + 4 * channels,
      coefficientsAt + 8 * channels,
    );
    return outs;
  } finally {
    heap.release();
  }
};

/** The two kernels, for the wasm backend. */
export const BATCH_NORM_TRAINING_KERNELS: readonly KernelConfig[] = [
  { kernelName: BATCH_NORM_TRAINING, backendName: "wasm", kernelFunc: forward },
  { kernelName: BATCH_NORM_TRAINING_GRAD, backendName: "wasm", kernelFunc: backward },
];

/** The forward kernel's gradient: one backward kernel for all three inputs. */
export const BATCH_NORM_TRAINING_GRADIENT: GradConfig = {
  kernelName: BATCH_NORM_TRAINING,
  inputsToSave: ["x", "gamma"],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, gamma, mean, variance] = saved as Tensor[];
    // Only y reaches the loss; the statistics feed the moving averages.
    const dy = (dys as Tensor[])[0]!;
    const [dx, dgamma, dbeta] = engine().runKernel(
      BATCH_NORM_TRAINING_GRAD,
      { dy, x: x!, mean: mean!, variance: variance!, gamma: gamma! },
      attrs as NamedAttrMap,
    ) as Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

/** Whether the active backend has the fused kernels (they are registered for wasm's "fast" set). */
export function batchNormTrainingAvailable(): boolean {
  return getKernel(BATCH_NORM_TRAINING, getBackend()) !== undefined;
}

/** Registers the gradient (backend-independent; the kernels decide where it applies). */
export function registerBatchNormTrainingGradient(): void {
  registerGradient(BATCH_NORM_TRAINING_GRADIENT);
}

/**
 * Training-mode batch normalization over the last axis with the fused kernels: y, and the batch
 * mean and (biased) variance for the moving averages.
 */
export function batchNormTraining(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  epsilon: number,
): { y: Tensor; mean: Tensor; variance: Tensor } {
  const [y, mean, variance] = engine().runKernel(
    BATCH_NORM_TRAINING,
    { x, gamma, beta },
    { epsilon },
  ) as Tensor[];
  return { y: y!, mean: mean!, variance: variance! };
}
