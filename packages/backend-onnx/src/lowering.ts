/**
 * The lowering interface: one function per IR op turns a node into ONNX nodes through a
 * {@link LoweringContext}. The emitter (emit.ts) owns naming, layouts and initializers.
 */
import type { Node, OpName, Shape } from "@rsc/compiler";
import type { Attrs } from "./attributes.js";
import type { FloatType } from "./float-type.js";

/** An IR node of one op. */
export type NodeOf<K extends OpName> = Extract<Node, { readonly op: K }>;

/** What a lowering sees and can do (the node aside). */
export interface LoweringTools {
  /** ONNX value names of the node's inputs, in order (NCHW for images). */
  readonly inputs: readonly string[];
  /** IR shapes of the inputs (batch excluded, NHWC for images). */
  readonly inputShapes: readonly Shape[];
  /** Ops of the IR nodes that read this node's result (empty for a graph output read by none). */
  readonly consumers: readonly OpName[];
  /** The value name the lowering must produce (the node's result). */
  readonly output: string;
  /** The float type of the model's activations and weights (float16 under `--precision fp16`). */
  readonly floatType: FloatType;
  /**
   * Adds an ONNX node. Without `suffix` the node is named as the layer; helper nodes are named
   * `<layer>/<suffix>`; `doc` becomes its doc_string. Returns the node's first output.
   */
  add(
    opType: string,
    inputs: readonly string[],
    options?: {
      readonly output?: string;
      readonly attrs?: Attrs;
      readonly suffix?: string;
      readonly doc?: string;
    },
  ): string;
  /** A fresh value name derived from the layer's: `<layer>/<suffix>`. */
  value(suffix: string): string;
  /**
   * The initializer of the layer's Keras weight `<layer>/<suffix>`; `transform` permutes its axes
   * (e.g. HWIO -> OIHW). Returns the initializer's name (the Keras name).
   */
  weight(suffix: string, transform?: WeightTransform): string;
  /**
   * A float constant initializer named `<layer>/<suffix>` (not a Keras weight), in the model's
   * float type (float16 under `--precision fp16`: a finite nonzero value float16 cannot hold, as 0
   * or infinity, is an RSC400 error at the layer).
   */
  floatConstant(suffix: string, dims: readonly number[], data: Float32Array): string;
  /** A float32 constant whatever the model's float type, for inputs ONNX types as float (Resize's scales). */
  float32Constant(suffix: string, dims: readonly number[], data: Float32Array): string;
  /** An int64 constant initializer named `<layer>/<suffix>` (pads, shapes). */
  int64Constant(suffix: string, values: readonly number[]): string;
  /**
   * Declares a graph input (name, ONNX dims with undefined for the symbolic batch) and returns
   * the value holding it in the model's float type: the input itself, or, when the graph's inputs
   * are float32 and the model is float16, a Cast of it written to `into` (default a fresh value).
   */
  graphInput(name: string, dims: readonly (number | undefined)[], into?: string): string;
  /** Reports that this node cannot be lowered as configured (RSC400 at the node's line). */
  unsupported(message: string): void;
}

/** What a lowering of op K sees and can do. */
export interface LoweringContext<K extends OpName = OpName> extends LoweringTools {
  /** The IR node being lowered. */
  readonly node: NodeOf<K>;
}

/**
 * Reorders a Keras weight for ONNX: one axis permutation, the same for every op (conv kernels
 * HWIO -> OIHW; a Dense kernel needs none). Weights generated on demand (the compiler's
 * LazyWeightMap) are generated straight into the permuted layout, with no Keras-layout copy.
 */
export interface WeightTransform {
  /** ONNX axis k is Keras axis `perm[k]` (numpy's transpose), e.g. `HWIO_TO_OIHW`. */
  readonly perm: readonly number[];
  /**
   * The initializer's dims when they are not the permuted Keras dims: the same values in the same
   * order, seen as another shape (a depthwise kernel `[in, mult, kh, kw]` as ONNX's grouped
   * `[in * mult, 1, kh, kw]`). Their product must equal the weight's size.
   */
  readonly dims?: readonly number[];
}

/** Lowers one node of op K. */
export type Lowering<K extends OpName> = (ctx: LoweringContext<K>) => void;

/** One lowering per op of the compiler's registry: TypeScript checks the table is exhaustive. */
export type LoweringTable = { readonly [K in OpName]: Lowering<K> };
