/**
 * The gradient of FusedBatchNorm (y = (x - mean) * rsqrt(variance + eps) * scale + offset) with
 * per-channel statistics, by broadcasting. tfjs-core's own gradient tiles rsqrt(variance) to the
 * full shape of x (a `Tile` as large as the activation, slow on wasm) and multiplies the full-size
 * products for each of its five inputs separately; this one computes the two full-size
 * reductions the five share, sum(dy) and sum(dy * (x - mean)), once:
 *
 *   dx = dy * r * scale                   dmean = -r * scale * sum(dy)
 *   dvariance = -r^3 / 2 * scale * sum(dy * (x - mean))
 *   dscale = r * sum(dy * (x - mean))     doffset = sum(dy)          (r = rsqrt(variance + eps))
 *
 * Statistics of another rank (not per channel) keep tfjs's gradient.
 */
import {
  add,
  type GradConfig,
  getGradient,
  mul,
  type NamedAttrMap,
  neg,
  reshape,
  rsqrt,
  scalar,
  sub,
  sum,
  type Tensor,
  tidy,
} from "@tensorflow/tfjs-core";

/** The broadcasting gradient; `fallback` is tfjs's, for statistics that are not per channel. */
export function batchNormGradient(fallback: GradConfig["gradFunc"]): GradConfig["gradFunc"] {
  return (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as Tensor[];
    const d = dy as Tensor;
    if (x === undefined || mean === undefined || variance === undefined || mean.rank !== 1)
      return fallback(dy, saved, attrs);
    const eps = (attrs as NamedAttrMap)["varianceEpsilon"] as number;
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const shape = mean.shape;
    // [C]-sized, kept until the whole backward pass ends (the tape's scope); the full-size
    // temporaries die inside these tidies.
    const r = rsqrt(add(variance, scalar(eps)));
    const rs = scale === undefined ? r : mul(r, scale);
    const sumDy = sum(d, axes);
    const sumDyXc = tidy(() => sum(mul(d, sub(x, mean)), axes));
    return {
      x: () => mul(d, rs),
      mean: () => reshape(neg(mul(rs, sumDy)), shape),
      variance: () => reshape(mul(mul(mul(mul(r, r), rs), scalar(-0.5)), sumDyXc), shape),
      scale: () => reshape(mul(r, sumDyXc), shape),
      offset: () => reshape(sumDy, shape),
    };
  };
}

/** tfjs-core's registered FusedBatchNorm gradient (to delegate to and to restore). */
export function stockBatchNormGradient(): GradConfig {
  const config = getGradient("FusedBatchNorm");
  if (config === undefined) throw new Error("tfjs-core registers no FusedBatchNorm gradient");
  return config;
}
