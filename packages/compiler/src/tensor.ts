/**
 * Tensor vocabulary shared by the IR, the op registry, weights and the backends: a leaf module
 * (it imports nothing), so no two modules need each other for these types.
 */

/**
 * Shape of one example, batch dimension excluded (the batch is always the leading, symbolic
 * dimension). NHWC for images: `[height, width, channels]`; `[features]` after flatten.
 */
export type Shape = readonly number[];

/**
 * How a parameter tensor is initialised by the compiler's seeded generator (weights.ts): a named
 * initializer, or values the spec gives (`normalization`'s `mean` and `variance`).
 */
export type Initializer = "glorot_uniform" | "zeros" | "ones" | ConstantInitializer;

/** Values given by the spec, row-major in Keras layout, exactly as many as the tensor has. */
export interface ConstantInitializer {
  readonly constant: readonly number[];
}

/** One parameter tensor of a layer, named as Keras names it: `<layer>/<suffix>`. */
export interface ParamSpec {
  /** Full Keras weight name, e.g. `res2a_branch2a/kernel`, `bn_conv1/moving_mean`. */
  readonly name: string;
  /** The part after the slash: `kernel`, `bias`, `gamma`, `beta`, `moving_mean`, `moving_variance`. */
  readonly suffix: string;
  /** Tensor shape in Keras layout: HWIO for conv kernels, [in, out] for dense kernels. */
  readonly shape: Shape;
  readonly initializer: Initializer;
  /** False for BatchNorm moving statistics (Keras's non-trainable params). */
  readonly trainable: boolean;
}

/** Number of elements in a shape (1 for a scalar). */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
