/**
 * Adam whose update of a variable is one pass on the wasm backend. tfjs's AdamOptimizer runs
 * about ten elementwise kernels per variable (mul, add, square, div, sqrt, assign, ...); over
 * ResNet-50's 214 variables that is thousands of single-threaded wasm passes and dispatches a
 * step. {@link FusedAdamOptimizer} computes the new value and both moments of a variable in one
 * kernel, {@link ADAM_UPDATE_KERNEL}, with tfjs's formulas, and keeps tfjs's optimizer state
 * (class name, config, accumulator names and order, iterations), so saved optimizer weights are
 * the same. On any other backend it is tfjs's AdamOptimizer unchanged.
 */
import {
  AdamOptimizer,
  engine,
  getBackend,
  getKernel,
  type KernelConfig,
  mul,
  registerKernel,
  sub,
  type Tensor,
  type TensorInfo,
  tidy,
  util,
  type Variable,
  zerosLike,
} from "@tensorflow/tfjs-core";
import { SimdHeap } from "./wasm-simd.js";

/** The kernel that updates one variable and its two moments; registered for wasm on first use. */
export const ADAM_UPDATE_KERNEL = "RscAdamUpdate";

/** Attributes of {@link ADAM_UPDATE_KERNEL}: the optimizer's constants for this step. */
interface AdamUpdateAttrs {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** 1 - beta1^t (t the 1-based step), as tfjs computes it in float32. */
  readonly oneMinusAccBeta1: number;
  /** 1 - beta2^t, likewise. */
  readonly oneMinusAccBeta2: number;
}

/**
 * value, m, v, gradient -> new value, m, v with tfjs's formulas, one float32 rounding per tfjs
 * kernel in tfjs's order (wasm-simd-kernels.wat's adam: four lanes at a time, the rest scalar),
 * so the result is tfjs's bit for bit; the constants are rounded to float32 as tfjs's scalars are.
 */
const adamUpdateWasm: KernelConfig = {
  kernelName: ADAM_UPDATE_KERNEL,
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { value, m, v, gradient } = inputs as Record<
      "value" | "m" | "v" | "gradient",
      TensorInfo
    >;
    const a = attrs as unknown as AdamUpdateAttrs;
    const size = util.sizeFromShape(value.shape);
    for (const t of [m, v, gradient]) {
      util.assert(
        util.sizeFromShape(t.shape) === size,
        () => `${ADAM_UPDATE_KERNEL}: shapes ${t.shape} and ${value.shape} differ`,
      );
    }
    for (const t of [value, m, v, gradient]) {
      util.assert(t.dtype === "float32", () => `${ADAM_UPDATE_KERNEL}: ${t.dtype} is not float32`);
    }
    const heap = new SimdHeap(backend);
    const outs = [heap.output(value.shape), heap.output(m.shape), heap.output(v.shape)];
    const [p, pm, pv, pg, po, pmo, pvo] = [value, m, v, gradient, ...outs].map((t) =>
      heap.offset(t),
    ) as number[];
    // 1 - beta is rounded as tfjs rounds it: in double, then to a float32 scalar.
    heap.kernels.adam(
      p!,
      pm!,
      pv!,
      pg!,
      po!,
      pmo!,
      pvo!,
      size,
      a.beta1,
      a.beta2,
      1 - a.beta1,
      1 - a.beta2,
      a.oneMinusAccBeta1,
      a.oneMinusAccBeta2,
      a.learningRate,
      a.epsilon,
    );
    return outs;
  },
};

/** What applyGradients takes: named gradients, as an array or a map by variable name. */
type VariableGradients = Parameters<AdamOptimizer["applyGradients"]>[0];

/** tfjs's private AdamOptimizer state, which the fused update must keep as tfjs does. */
interface AdamState {
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: Variable } | undefined)[];
}

/**
 * tfjs's AdamOptimizer (same constructor, class name `Adam`, config, weights), whose
 * applyGradients on the wasm backend updates each float32 variable with one
 * {@link ADAM_UPDATE_KERNEL} and then assigns the new value and moments.
 */
export class FusedAdamOptimizer extends AdamOptimizer {
  override applyGradients(variableGradients: VariableGradients): void {
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const variables = engine().registeredVariables;
    if (getBackend() !== "wasm" || names.some((name) => variables[name]?.dtype !== "float32")) {
      super.applyGradients(variableGradients);
      return;
    }
    if (getKernel(ADAM_UPDATE_KERNEL, "wasm") === undefined) registerKernel(adamUpdateWasm);
    const state = this as unknown as AdamState;
    // One read of the two scalars a step: 1 - beta^t in float32, as tfjs's sub(1, accBeta) gives.
    const oneMinusAccBeta1 = sub(1, state.accBeta1);
    const oneMinusAccBeta2 = sub(1, state.accBeta2);
    const attrs: AdamUpdateAttrs = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      oneMinusAccBeta1: oneMinusAccBeta1.dataSync()[0]!,
      oneMinusAccBeta2: oneMinusAccBeta2.dataSync()[0]!,
    };
    oneMinusAccBeta1.dispose();
    oneMinusAccBeta2.dispose();
    tidy(() => {
      names.forEach((name, i) => {
        const value = variables[name]!;
        // Accumulators are made on first use, by position, before the gradient is looked at,
        // exactly as tfjs does, so getWeights() lists the same names in the same order.
        state.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tidy(() => zerosLike(value).variable(false)),
        };
        state.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tidy(() => zerosLike(value).variable(false)),
        };
        const gradient = Array.isArray(variableGradients)
          ? variableGradients[i]!.tensor
          : variableGradients[name];
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i]!.variable;
        const v = state.accumulatedSecondMoment[i]!.variable;
        const [newValue, newM, newV] = engine().runKernel(
          ADAM_UPDATE_KERNEL,
          { value, m, v, gradient },
          attrs as unknown as Record<string, number>,
        ) as Tensor[];
        m.assign(newM!);
        v.assign(newV!);
        value.assign(newValue!);
      });
      state.accBeta1.assign(mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** `tf.train.adam` with the same defaults, as a {@link FusedAdamOptimizer}. */
export function adam(
  learningRate = 0.001,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon?: number,
): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
