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

/** The parts of tfjs-wasm's backend the kernel uses. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/**
 * value, m, v, gradient -> new value, m, v: m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g^2;
 * value' = value - lr (m' / (1-b1^t)) / (sqrt(v' / (1-b2^t)) + eps). The constants are rounded
 * to float32 as tfjs's scalars are; the arithmetic is in double, rounded once per stored value.
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
    const heap = backend as unknown as WasmHeap;
    const outValue = heap.makeOutput(value.shape, "float32");
    const outM = heap.makeOutput(m.shape, "float32");
    const outV = heap.makeOutput(v.shape, "float32");
    // Views only after every allocation: a malloc that grows wasm memory detaches earlier ones.
    const x = heap.typedArrayFromHeap(value);
    const m0 = heap.typedArrayFromHeap(m);
    const v0 = heap.typedArrayFromHeap(v);
    const g = heap.typedArrayFromHeap(gradient);
    const x1 = heap.typedArrayFromHeap(outValue);
    const m1 = heap.typedArrayFromHeap(outM);
    const v1 = heap.typedArrayFromHeap(outV);
    const f = Math.fround;
    const b1 = f(a.beta1);
    const c1 = f(1 - a.beta1);
    const b2 = f(a.beta2);
    const c2 = f(1 - a.beta2);
    const bias1 = f(a.oneMinusAccBeta1);
    const bias2 = f(a.oneMinusAccBeta2);
    const eps = f(a.epsilon);
    const step = f(-a.learningRate);
    for (let i = 0; i < size; i++) {
      const gi = g[i]!;
      const mi = f(b1 * m0[i]! + c1 * gi);
      const vi = f(b2 * v0[i]! + c2 * (gi * gi));
      m1[i] = mi;
      v1[i] = vi;
      x1[i] = x[i]! + step * (mi / bias1 / (Math.sqrt(vi / bias2) + eps));
    }
    return [outValue, outM, outV];
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
