/**
 * Keras layers and activations that tfjs-layers 4.22 lacks or implements differently, as tfjs
 * classes registered with `serialization.registerClass`, so a model.json naming them round-trips
 * through `tf.loadLayersModel` in any process that imports this backend (rsc's own artifact
 * loading included). Every one is composed of differentiable tfjs ops with cpu and wasm kernels,
 * so a model using them trains on both.
 *
 * - Activations (`activation:` of any layer): Keras 3's `hard_sigmoid` (relu6(x + 3) / 6; tfjs's
 *   `hardSigmoid` is Keras 2's clip(0.2 x + 0.5)), `hard_silu`, `exponential` and the
 *   `leaky_relu` function (slope 0.2). Their class names survive tfjs's snake_case <-> camelCase
 *   round trip of config strings (`hardSwish` is saved as `hard_swish`, read back as `hardSwish`).
 * - Layers: `Subtract` and `Normalization` (absent from tfjs), and `ReLU`, `ELU` and `Maximum`
 *   replacing tfjs's registrations with supersets: tfjs's ReLU has no `negative_slope` or
 *   `threshold`, its ELU refuses any alpha but 1, and its Maximum cannot train when it
 *   broadcasts. Each reads the configs tfjs's own class writes.
 */
import type { ActivationName } from "@rsc/compiler";
import {
  add,
  batchNorm,
  broadcastTo,
  div,
  elu,
  exp,
  leakyRelu,
  maximum,
  minimum,
  moments,
  mul,
  ones,
  relu,
  relu6,
  serialization,
  sqrt,
  step,
  sub,
  type Tensor,
  tidy,
  zeros,
} from "@tensorflow/tfjs-core";
import { initializers, type LayerVariable, layers } from "@tensorflow/tfjs-layers";
import { stockClass } from "./keras-conv-layers.js";
import { batchNormTraining, batchNormTrainingAvailable } from "./wasm-batchnorm-training.js";

type Shape = (number | null)[];

function one(inputs: Tensor | Tensor[]): Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}

/** A tfjs activation: what tfjs-layers' getActivation deserialises and a layer calls `apply` on. */
abstract class KerasActivation extends serialization.Serializable {
  abstract apply(x: Tensor): Tensor;
  getConfig(): serialization.ConfigDict {
    return {};
  }
}

/** Keras 3's hard_sigmoid: relu6(x + 3) / 6. */
class KerasHardSigmoid extends KerasActivation {
  static readonly className = "kerasHardSigmoid";
  apply(x: Tensor): Tensor {
    return tidy(() => div(relu6(add(x, 3)), 6));
  }
}

/** Keras 3's hard_silu (alias hard_swish): x * relu6(x + 3) / 6. */
class HardSwish extends KerasActivation {
  static readonly className = "hardSwish";
  apply(x: Tensor): Tensor {
    return tidy(() => mul(x, div(relu6(add(x, 3)), 6)));
  }
}

/** Keras's exponential: exp(x). */
class Exponential extends KerasActivation {
  static readonly className = "exponential";
  apply(x: Tensor): Tensor {
    return exp(x);
  }
}

/** keras.activations.leaky_relu with its default slope 0.2 (the LeakyReLU layer's is 0.3). */
class LeakyReluActivation extends KerasActivation {
  static readonly className = "leakyRelu";
  apply(x: Tensor): Tensor {
    return leakyRelu(x, 0.2);
  }
}

/** Keras's broadcast of two same-rank shapes (dimensions equal or 1), batch included. */
function broadcastShape(a: Shape, b: Shape): Shape {
  return a.map((d, i) => {
    const e = b[i] ?? null;
    if (d === null || e === null) return null;
    return d === 1 ? e : d;
  });
}

/** Keras Subtract: a - b, broadcasting as Keras's merge layers do. */
export class Subtract extends layers.Layer {
  static readonly className = "Subtract";
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [a, b] = inputShape as Shape[];
    return broadcastShape(a!, b!);
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tidy(() => {
      const [a, b] = inputs as Tensor[];
      return sub(a!, b!);
    });
  }
}

/**
 * Keras Maximum. tfjs's own computes the same values, but its Maximum gradient does not sum over
 * broadcast dimensions (a [1, 1, c] input gets an [h, w, c] gradient and training fails), so each
 * input is broadcast first (tf.broadcastTo's gradient sums) and the maximum taken over equal shapes.
 */
export class KerasMaximum extends layers.Layer {
  static readonly className = "Maximum";
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shapes = inputShape as Shape[];
    return shapes.slice(1).reduce(broadcastShape, shapes[0]!);
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tidy(() => {
      const xs = inputs as Tensor[];
      const shape = xs[0]!.shape.map((_, i) => Math.max(...xs.map((x) => x.shape[i]!)));
      return xs.map((x) => broadcastTo(x, shape)).reduce((a, b) => maximum(a, b));
    });
  }
}

/** Arguments of {@link KerasReLU}, as Keras's ReLU layer (camelCase, tfjs's ReLU's `maxValue`). */
export interface ReLUArgs {
  name?: string;
  maxValue?: number | null;
  negativeSlope?: number;
  threshold?: number;
}

/**
 * Keras ReLU: min(x, max_value) for x > threshold, negative_slope * (x - threshold) below, as
 * `keras.activations.relu` computes it.
 */
export class KerasReLU extends layers.Layer {
  static readonly className = "ReLU";
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;
  constructor(args: ReLUArgs = {}) {
    super(args);
    this.maxValue = args.maxValue ?? null;
    this.negativeSlope = args.negativeSlope ?? 0;
    this.threshold = args.threshold ?? 0;
    this.supportsMasking = true;
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tidy(() => {
      const x = one(inputs);
      const t = this.threshold;
      // x * (x > t) as relu(x - t) + t * step(x - t): comparisons (Greater) have no gradient
      // in tfjs, and where() asks for one through its condition.
      let y = t === 0 ? relu(x) : add(relu(sub(x, t)), mul(step(sub(x, t)), t));
      if (this.maxValue !== null) y = minimum(y, this.maxValue);
      if (this.negativeSlope !== 0) y = sub(y, mul(relu(sub(t, x) as Tensor), this.negativeSlope));
      return y;
    });
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }
  override getConfig(): serialization.ConfigDict {
    // What tfjs's ReLU writes, plus Keras's other two arguments when they are used.
    return {
      maxValue: this.maxValue,
      ...(this.negativeSlope === 0 ? {} : { negativeSlope: this.negativeSlope }),
      ...(this.threshold === 0 ? {} : { threshold: this.threshold }),
      ...super.getConfig(),
    };
  }
}

/** Keras ELU with any alpha: x for x > 0, alpha * (exp(x) - 1) below. */
export class KerasELU extends layers.Layer {
  static readonly className = "ELU";
  readonly alpha: number;
  constructor(args: { name?: string; alpha?: number } = {}) {
    super(args);
    this.alpha = args.alpha ?? 1;
    this.supportsMasking = true;
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tidy(() => {
      const x = one(inputs);
      // tfjs's elu is alpha 1: scale its negative part, elu(x) - relu(x) (exp(x) - 1 below 0).
      if (this.alpha === 1) return elu(x);
      const r = relu(x);
      return add(r, mul(sub(elu(x), r), this.alpha));
    });
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }
  override getConfig(): serialization.ConfigDict {
    return { alpha: this.alpha, ...super.getConfig() };
  }
}

/** Arguments of {@link Normalization}: Keras's, mean and variance held as weights. */
export interface NormalizationArgs {
  name?: string;
  axis?: number;
}

/**
 * Keras Normalization over the channels (last) axis: (x - mean) / max(sqrt(variance), 1e-7),
 * with Keras's non-trainable weights `mean` [c], `variance` [c] and `count` [] (float32 here).
 */
export class Normalization extends layers.Layer {
  static readonly className = "Normalization";
  readonly axis: number;
  private mean?: LayerVariable;
  private variance?: LayerVariable;
  constructor(args: NormalizationArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
  }
  override build(inputShape: Shape | Shape[]): void {
    const shape = inputShape as Shape;
    const channels = shape.at(-1)!;
    const zeros = initializers.zeros();
    this.mean = this.addWeight("mean", [channels], "float32", zeros, undefined, false);
    this.variance = this.addWeight("variance", [channels], "float32", zeros, undefined, false);
    this.addWeight("count", [], "float32", zeros, undefined, false);
    this.built = true;
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tidy(() => {
      const x = one(inputs);
      const std = maximum(sqrt(this.variance!.read()), 1e-7);
      return div(sub(x, this.mean!.read()), std);
    });
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }
  override getConfig(): serialization.ConfigDict {
    return { axis: this.axis, ...super.getConfig() };
  }
}

type Kwargs = Record<string, unknown>;

/** What {@link TrainingBatchNormalization} reads of tfjs's BatchNormalization. */
interface BatchNormInternals {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: LayerVariable;
  beta?: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

const StockBatchNormalization = stockClass(() => layers.batchNormalization({}));

/**
 * tfjs's BatchNormalization, computing training mode over the last axis with the fused kernels
 * of wasm-batchnorm-training.ts where the active backend has them (wasm), at ranks 2 to 4 (the
 * ranks tfjs's own supports). Elsewhere training mode is tfjs's moments and batchNorm: tfjs's own
 * layer when it has both gamma and beta, else (last axis) the same composition here with ones or
 * zeros in their place (tfjs's layer reads gamma and beta unconditionally and its batchNorm
 * gradient saves the scale, so `scale: false` or `center: false` could not train at all).
 * Inference is tfjs's own. The moving averages are updated as tfjs updates them:
 * moving -= (moving - batch) * (1 - momentum).
 */
export class TrainingBatchNormalization extends StockBatchNormalization {
  static readonly className = "BatchNormalization";
  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    const x = one(inputs);
    const self = this as unknown as BatchNormInternals;
    const axis = self.axis >= 0 ? self.axis : self.axis + x.rank;
    const complete = self.gamma !== undefined && self.beta !== undefined;
    if (kwargs["training"] !== true || x.rank < 2 || x.rank > 4) return super.call(inputs, kwargs);
    const last = axis === x.rank - 1;
    const fused = last && x.dtype === "float32" && batchNormTrainingAvailable();
    if (!fused && (complete || !last)) return super.call(inputs, kwargs);
    return tidy(() => {
      const channels = x.shape[axis]!;
      // tfjs's FusedBatchNorm gradient saves its scale unconditionally: a missing gamma is ones,
      // a missing beta zeros (their gradients are computed and dropped).
      const gamma = self.gamma?.read() ?? ones([channels]);
      const beta = self.beta?.read() ?? zeros([channels]);
      let y: Tensor;
      let stats: { mean: Tensor; variance: Tensor };
      if (fused) {
        const { y: out, ...rest } = batchNormTraining(x, gamma, beta, self.epsilon);
        y = out;
        stats = rest;
      } else {
        stats = moments(
          x,
          Array.from({ length: x.rank - 1 }, (_, i) => i),
        );
        y = batchNorm(x, stats.mean, stats.variance, beta, gamma, self.epsilon);
      }
      const decay = 1 - self.momentum;
      for (const [moving, batch] of [
        [self.movingMean, stats.mean],
        [self.movingVariance, stats.variance],
      ] as const) {
        tidy(() => {
          const value = moving.read();
          moving.write(sub(value, mul(sub(value, batch), decay)));
        });
      }
      return y;
    });
  }
}

for (const cls of [
  TrainingBatchNormalization,
  KerasHardSigmoid,
  HardSwish,
  Exponential,
  LeakyReluActivation,
  Subtract,
  KerasMaximum,
  KerasReLU,
  KerasELU,
  Normalization,
]) {
  serialization.registerClass(cls as unknown as serialization.SerializableConstructor<never>);
}

/** The tfjs activation identifier of each Keras activation (tfjs's own name, or ours above). */
export const TFJS_ACTIVATIONS = {
  linear: "linear",
  relu: "relu",
  softmax: "softmax",
  sigmoid: "sigmoid",
  tanh: "tanh",
  relu6: "relu6",
  leaky_relu: LeakyReluActivation.className,
  elu: "elu",
  selu: "selu",
  gelu: "gelu",
  silu: "swish",
  swish: "swish",
  hard_sigmoid: KerasHardSigmoid.className,
  hard_silu: HardSwish.className,
  hard_swish: HardSwish.className,
  softplus: "softplus",
  exponential: Exponential.className,
} as const satisfies { readonly [A in ActivationName]: string };
