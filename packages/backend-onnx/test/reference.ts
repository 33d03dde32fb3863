/**
 * An independent reference: runs an IR graph in plain loops, in Keras's NHWC layout with
 * TensorFlow's padding rules written out by hand (no transposes, no ONNX), one example at a time.
 * Slow and obvious on purpose: the ONNX models are checked against it.
 */
import type { Graph, Node } from "@rsc/compiler";

/** An NHWC (or flat) tensor of one example. */
interface T {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** TensorFlow's SAME padding along one axis: [before, after], extra at the end. */
export function tfSamePad(size: number, window: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** erf from Numerical Recipes' Chebyshev fit of erfc (relative error below 1.2e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    1 -
    t *
      Math.exp(
        -x * x -
          1.26551223 +
          t *
            (1.00002368 +
              t *
                (0.37409196 +
                  t *
                    (0.09678418 +
                      t *
                        (-0.18628806 +
                          t *
                            (0.27886807 +
                              t *
                                (-1.13520398 +
                                  t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
      );
  return x >= 0 ? y : -y;
}

/** One Keras activation of one value (softmax is handled over rows in {@link act}). */
function activation1(a: string, v: number): number {
  const relu6 = (u: number) => Math.min(Math.max(u, 0), 6);
  switch (a) {
    case "relu":
      return Math.max(0, v);
    case "sigmoid":
      return 1 / (1 + Math.exp(-v));
    case "tanh":
      return Math.tanh(v);
    case "relu6":
      return relu6(v);
    case "leaky_relu":
      return v >= 0 ? v : 0.2 * v;
    case "elu":
      return v > 0 ? v : Math.exp(v) - 1;
    case "selu":
      return 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1));
    case "gelu":
      return 0.5 * v * (1 + erf(v / Math.SQRT2));
    case "silu":
    case "swish":
      return v / (1 + Math.exp(-v));
    case "hard_sigmoid":
      return relu6(v + 3) / 6;
    case "hard_silu":
    case "hard_swish":
      return (v * relu6(v + 3)) / 6;
    case "softplus":
      return Math.log1p(Math.exp(v));
    case "exponential":
      return Math.exp(v);
    default:
      return v;
  }
}

function act(x: T, a: string): T {
  const d = Float64Array.from(x.data);
  if (a !== "softmax") for (let i = 0; i < d.length; i++) d[i] = activation1(a, d[i]!);
  if (a === "softmax") {
    const c = x.shape.at(-1)!;
    for (let r = 0; r < d.length; r += c) {
      const row = d.subarray(r, r + c);
      const m = Math.max(...row);
      let s = 0;
      for (let i = 0; i < c; i++) {
        row[i] = Math.exp(row[i]! - m);
        s += row[i]!;
      }
      for (let i = 0; i < c; i++) row[i] = row[i]! / s;
    }
  }
  return { shape: x.shape, data: d };
}

/** Slides a window over an NHWC image; `cell` gets the in-bounds taps of one output cell. */
function windows(
  x: T,
  [kh, kw]: readonly number[],
  [sh, sw]: readonly number[],
  padding: string,
  [dh, dw]: readonly number[],
  outC: number,
  cell: (
    taps: { y: number; x: number; ky: number; kx: number }[],
    out: Float64Array,
    at: number,
  ) => void,
): T {
  const [h, w] = x.shape as [number, number, number];
  const eh = (kh - 1) * dh + 1;
  const ew = (kw - 1) * dw + 1;
  const [pt] = padding === "same" ? tfSamePad(h, eh, sh) : [0];
  const [pl] = padding === "same" ? tfSamePad(w, ew, sw) : [0];
  const oh = padding === "same" ? Math.ceil(h / sh) : Math.floor((h - eh) / sh) + 1;
  const ow = padding === "same" ? Math.ceil(w / sw) : Math.floor((w - ew) / sw) + 1;
  const out = new Float64Array(oh * ow * outC);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const taps = [];
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const y = oy * sh - pt! + ky * dh;
          const xx = ox * sw - pl! + kx * dw;
          if (y >= 0 && y < h && xx >= 0 && xx < w) taps.push({ y, x: xx, ky, kx });
        }
      }
      cell(taps, out, (oy * ow + ox) * outC);
    }
  }
  return { shape: [oh, ow, outC], data: out };
}

/** Element-wise `f` over same-rank inputs broadcast as Keras does (each dimension equal or 1). */
function broadcast(xs: T[], out: readonly number[], f: (values: number[]) => number): T {
  const size = out.reduce((p, q) => p * q, 1);
  const data = new Float64Array(size);
  const index = out.map(() => 0);
  for (let i = 0; i < size; i++) {
    const values = xs.map((t) => {
      let at = 0;
      for (let k = 0; k < out.length; k++)
        at = at * t.shape[k]! + (t.shape[k] === 1 ? 0 : index[k]!);
      return t.data[at]!;
    });
    data[i] = f(values);
    for (let k = out.length - 1; k >= 0; k--) {
      index[k]!++;
      if (index[k]! < out[k]!) break;
      index[k] = 0;
    }
  }
  return { shape: out, data };
}

/** Each example's values normalised over the last axis: (x - mean) / sqrt(var + epsilon). */
function layerNorm(x: T, epsilon: number, g?: Float32Array, b?: Float32Array): T {
  const c = x.shape.at(-1)!;
  const d = new Float64Array(x.data.length);
  for (let r = 0; r < d.length; r += c) {
    const row = x.data.subarray(r, r + c);
    const mean = row.reduce((p, q) => p + q, 0) / c;
    const variance = row.reduce((p, q) => p + (q - mean) ** 2, 0) / c;
    for (let i = 0; i < c; i++) {
      d[r + i] =
        ((row[i]! - mean) / Math.sqrt(variance + epsilon)) * (g ? g[i]! : 1) + (b ? b[i]! : 0);
    }
  }
  return { shape: x.shape, data: d };
}

/** A depthwise conv: output channel `c * mult + m` from input channel `c` (TensorFlow's order). */
function depthwise(
  x: T,
  a: Extract<Node, { op: "depthwise_conv2d" }>["attrs"],
  k: Float32Array,
  bias: Float32Array | undefined,
): T {
  const [, wd, cin] = x.shape as [number, number, number];
  const m = a.depth_multiplier;
  const kw = a.kernel_size[1];
  return windows(
    x,
    a.kernel_size,
    a.strides,
    a.padding,
    a.dilation_rate,
    cin * m,
    (taps, out, at) => {
      for (let c = 0; c < cin; c++)
        for (let j = 0; j < m; j++) {
          let s = bias ? bias[c * m + j]! : 0;
          for (const t of taps)
            s += x.data[(t.y * wd + t.x) * cin + c]! * k[((t.ky * kw + t.kx) * cin + c) * m + j]!;
          out[at + c * m + j] = s;
        }
    },
  );
}

function layer(node: Node, xs: T[], w: (s: string) => Float32Array | undefined): T {
  const x = xs[0]!;
  switch (node.op) {
    case "input":
      throw new Error("inputs are fed");
    case "zero_padding2d": {
      const [[t, b], [l, r]] = node.attrs.padding;
      const [h, wd, c] = x.shape as [number, number, number];
      const oh = h + t + b;
      const ow = wd + l + r;
      const out = new Float64Array(oh * ow * c);
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < wd; xx++)
          for (let k = 0; k < c; k++)
            out[((y + t) * ow + xx + l) * c + k] = x.data[(y * wd + xx) * c + k]!;
      return { shape: [oh, ow, c], data: out };
    }
    case "conv2d": {
      const a = node.attrs;
      const k = w("kernel")!;
      const bias = w("bias");
      const [, wd, cin] = x.shape as [number, number, number];
      const kw = a.kernel_size[1];
      // Keras groups: input channels and filters split into `groups` consecutive blocks.
      const gin = cin / (a.groups ?? 1);
      const gout = a.filters / (a.groups ?? 1);
      const y = windows(
        x,
        a.kernel_size,
        a.strides,
        a.padding,
        a.dilation_rate,
        a.filters,
        (taps, out, at) => {
          for (let o = 0; o < a.filters; o++) {
            const g = Math.floor(o / gout);
            let s = bias ? bias[o]! : 0;
            for (const t of taps)
              for (let i = 0; i < gin; i++)
                s +=
                  x.data[(t.y * wd + t.x) * cin + g * gin + i]! *
                  k[((t.ky * kw + t.kx) * gin + i) * a.filters + o]!;
            out[at + o] = s;
          }
        },
      );
      return act(y, a.activation);
    }
    case "batch_normalization": {
      const a = node.attrs;
      const c = x.shape.at(-1)!;
      const g = w("gamma");
      const b = w("beta");
      const m = w("moving_mean")!;
      const v = w("moving_variance")!;
      const d = x.data.map((val, i) => {
        const ch = i % c;
        return (
          ((val - m[ch]!) / Math.sqrt(v[ch]! + a.epsilon)) * (g ? g[ch]! : 1) + (b ? b[ch]! : 0)
        );
      });
      return { shape: x.shape, data: d };
    }
    case "activation":
      return act(x, node.attrs.activation);
    case "max_pooling2d":
    case "average_pooling2d": {
      const a = node.attrs;
      const c = x.shape[2]!;
      const wd = x.shape[1]!;
      const max = node.op === "max_pooling2d";
      return windows(x, a.pool_size, a.strides, a.padding, [1, 1], c, (taps, out, at) => {
        for (let k = 0; k < c; k++) {
          const vals = taps.map((t) => x.data[(t.y * wd + t.x) * c + k]!);
          // TensorFlow: padded cells are ignored by both max and the average's count.
          out[at + k] = max ? Math.max(...vals) : vals.reduce((p, q) => p + q, 0) / vals.length;
        }
      });
    }
    case "global_average_pooling2d": {
      const [h, wd, c] = x.shape as [number, number, number];
      const out = new Float64Array(c);
      for (let i = 0; i < x.data.length; i++) out[i % c] = out[i % c]! + x.data[i]! / (h * wd);
      return { shape: node.outputShape, data: out };
    }
    // --- Conv family (issue 12 item 1) ---
    case "global_max_pooling2d": {
      const c = x.shape[2]!;
      const out = new Float64Array(c).fill(Number.NEGATIVE_INFINITY);
      for (let i = 0; i < x.data.length; i++) out[i % c] = Math.max(out[i % c]!, x.data[i]!);
      return { shape: node.outputShape, data: out };
    }
    case "depthwise_conv2d":
      return act(
        depthwise(x, node.attrs, w("depthwise_kernel")!, w("bias")),
        node.attrs.activation,
      );
    case "separable_conv2d": {
      const a = node.attrs;
      const d = depthwise(x, a, w("depthwise_kernel")!, undefined);
      const k = w("pointwise_kernel")!;
      const bias = w("bias");
      const [h, wd, cin] = d.shape as [number, number, number];
      const out = new Float64Array(h * wd * a.filters);
      for (let p = 0; p < h * wd; p++)
        for (let f = 0; f < a.filters; f++) {
          let s = bias ? bias[f]! : 0;
          for (let i = 0; i < cin; i++) s += d.data[p * cin + i]! * k[i * a.filters + f]!;
          out[p * a.filters + f] = s;
        }
      return act({ shape: [h, wd, a.filters], data: out }, a.activation);
    }
    case "conv2d_transpose": {
      // The adjoint of TensorFlow's conv from the output back to the input: each input pixel
      // scatters its kernel window, offset by the forward conv's padding of the output.
      const a = node.attrs;
      const k = w("kernel")!; // [kh, kw, filters, in]
      const bias = w("bias");
      const [h, wd, cin] = x.shape as [number, number, number];
      const [oh, ow, f] = node.outputShape as [number, number, number];
      const [kh, kw] = a.kernel_size;
      const [sh, sw] = a.strides;
      const [dh, dw] = a.dilation_rate;
      const same = a.padding === "same";
      const pt = same ? tfSamePad(oh, (kh - 1) * dh + 1, sh)[0] : 0;
      const pl = same ? tfSamePad(ow, (kw - 1) * dw + 1, sw)[0] : 0;
      const out = new Float64Array(oh * ow * f);
      for (let p = 0; p < oh * ow; p++)
        for (let o = 0; o < f; o++) out[p * f + o] = bias ? bias[o]! : 0;
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < wd; ix++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const oy = iy * sh + ky * dh - pt;
              const ox = ix * sw + kx * dw - pl;
              if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
              for (let o = 0; o < f; o++)
                for (let c = 0; c < cin; c++)
                  out[(oy * ow + ox) * f + o] +=
                    x.data[(iy * wd + ix) * cin + c]! * k[((ky * kw + kx) * f + o) * cin + c]!;
            }
      return act({ shape: [oh, ow, f], data: out }, a.activation);
    }
    case "up_sampling2d": {
      const a = node.attrs;
      const [h, wd, c] = x.shape as [number, number, number];
      const [oh, ow] = [h * a.size[0], wd * a.size[1]];
      const out = new Float64Array(oh * ow * c);
      // TensorFlow's half-pixel source coordinate, clamped to the image; nearest = floor(out / s).
      const src = (o: number, s: number, n: number): [number, number, number] => {
        if (a.interpolation === "nearest") return [Math.floor(o / s), Math.floor(o / s), 0];
        const v = Math.max((o + 0.5) / s - 0.5, 0);
        const lo = Math.min(Math.floor(v), n - 1);
        return [lo, Math.min(lo + 1, n - 1), v - lo];
      };
      for (let oy = 0; oy < oh; oy++) {
        const [y0, y1, fy] = src(oy, a.size[0], h);
        for (let ox = 0; ox < ow; ox++) {
          const [x0, x1, fx] = src(ox, a.size[1], wd);
          for (let k = 0; k < c; k++) {
            const at = (y: number, xx: number) => x.data[(y * wd + xx) * c + k]!;
            const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
            const bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
            out[(oy * ow + ox) * c + k] = top * (1 - fy) + bottom * fy;
          }
        }
      }
      return { shape: [oh, ow, c], data: out };
    }
    case "cropping2d": {
      const [[t], [l]] = node.attrs.cropping;
      const wd = x.shape[1]!;
      const [oh, ow, c] = node.outputShape as [number, number, number];
      const out = new Float64Array(oh * ow * c);
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++)
          for (let k = 0; k < c; k++)
            out[(y * ow + xx) * c + k] = x.data[((y + t) * wd + xx + l) * c + k]!;
      return { shape: [oh, ow, c], data: out };
    }
    case "add":
      return { shape: x.shape, data: x.data.map((_, i) => xs.reduce((s, t) => s + t.data[i]!, 0)) };
    case "concatenate": {
      const rank = x.shape.length;
      const axis = node.attrs.axis < 0 ? rank + node.attrs.axis : node.attrs.axis - 1;
      const outer = x.shape.slice(0, axis).reduce((p, q) => p * q, 1);
      const inner = (t: T) => t.shape.slice(axis).reduce((p, q) => p * q, 1);
      const data: number[] = [];
      for (let o = 0; o < outer; o++)
        for (const t of xs) data.push(...t.data.subarray(o * inner(t), (o + 1) * inner(t)));
      return { shape: node.outputShape, data: Float64Array.from(data) };
    }
    case "flatten":
      return { shape: [x.data.length], data: x.data };
    case "dense": {
      const a = node.attrs;
      const k = w("kernel")!;
      const bias = w("bias");
      const n = x.data.length;
      const out = new Float64Array(a.units);
      for (let o = 0; o < a.units; o++) {
        let s = bias ? bias[o]! : 0;
        for (let i = 0; i < n; i++) s += x.data[i]! * k[i * a.units + o]!;
        out[o] = s;
      }
      return act({ shape: [a.units], data: out }, a.activation);
    }
    case "dropout":
      return x;
    // Issue 12, item 1.
    case "multiply":
      return broadcast(xs, node.outputShape, (v) => v.reduce((p, q) => p * q, 1));
    case "subtract":
      return broadcast(xs, node.outputShape, ([a, b]) => a! - b!);
    case "average":
      return broadcast(xs, node.outputShape, (v) => v.reduce((p, q) => p + q, 0) / v.length);
    case "maximum":
      return broadcast(xs, node.outputShape, (v) => Math.max(...v));
    case "reshape":
      // Row-major over NHWC: the values keep their order.
      return { shape: node.outputShape, data: x.data };
    case "permute": {
      const dims = node.attrs.dims.map((d) => d - 1);
      const out = node.outputShape;
      const strides = x.shape.map((_, k) => x.shape.slice(k + 1).reduce((p, q) => p * q, 1));
      const data = new Float64Array(x.data.length);
      const index = out.map(() => 0);
      for (let i = 0; i < data.length; i++) {
        let at = 0;
        for (let k = 0; k < out.length; k++) at += index[k]! * strides[dims[k]!]!;
        data[i] = x.data[at]!;
        for (let k = out.length - 1; k >= 0; k--) {
          index[k]!++;
          if (index[k]! < out[k]!) break;
          index[k] = 0;
        }
      }
      return { shape: out, data };
    }
    case "rescaling": {
      const { scale, offset } = node.attrs;
      const c = x.shape.at(-1)!;
      const at = (v: number | readonly number[], i: number) =>
        typeof v === "number" ? v : v[i % c]!;
      return { shape: x.shape, data: x.data.map((v, i) => v * at(scale, i) + at(offset, i)) };
    }
    case "normalization": {
      const c = x.shape.at(-1)!;
      const m = w("mean")!;
      const v = w("variance")!;
      return {
        shape: x.shape,
        data: x.data.map((val, i) => (val - m[i % c]!) / Math.max(Math.sqrt(v[i % c]!), 1e-7)),
      };
    }
    case "layer_normalization":
      return layerNorm(x, node.attrs.epsilon, w("gamma"), w("beta"));
    case "re_lu": {
      const { max_value: max, negative_slope: slope, threshold: t } = node.attrs;
      const f = (v: number) =>
        v >= (max ?? Number.POSITIVE_INFINITY) ? max! : v > t ? v : slope * (v - t);
      return { shape: x.shape, data: x.data.map(f) };
    }
    case "leaky_relu": {
      const slope = node.attrs.negative_slope;
      return { shape: x.shape, data: x.data.map((v) => (v >= 0 ? v : slope * v)) };
    }
    case "elu": {
      const alpha = node.attrs.alpha;
      return { shape: x.shape, data: x.data.map((v) => (v > 0 ? v : alpha * (Math.exp(v) - 1))) };
    }
  }
}

/** Runs `graph` on one example per input (NHWC, batch excluded); returns each output's data. */
export function referenceRun(
  graph: Graph,
  weights: ReadonlyMap<string, Float32Array>,
  inputs: Readonly<Record<string, Float32Array>>,
): Record<string, Float64Array> {
  const values = new Map<string, T>();
  for (const node of graph.nodes) {
    if (node.op === "input") {
      values.set(node.name, {
        shape: node.outputShape,
        data: Float64Array.from(inputs[node.name]!),
      });
      continue;
    }
    const xs = node.inputs.map((i) => values.get(i)!);
    values.set(
      node.name,
      layer(node, xs, (s) => weights.get(`${node.name}/${s}`)),
    );
  }
  return Object.fromEntries(graph.outputs.map((o) => [o, values.get(o)!.data]));
}
