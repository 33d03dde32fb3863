/**
 * The op registry's types. Each op family file (conv.ts, pooling.ts, ...) holds its attribute
 * types, its shape inference and its parameter shapes; registry.ts lists them. Adding an op
 * means one entry here, one family entry, and one lowering per backend.
 */
import type { Initializer, ParamSpec, Shape } from "../ir.js";

/** Activation functions, as Keras names them. */
export type ActivationName = "linear" | "relu" | "softmax" | "sigmoid" | "tanh";

/** `valid` (no padding, floor) or `same` (output = ceil(input / stride), extra padding at the end). */
export type Padding = "valid" | "same";

/** A (height, width) pair. */
export type Pair = readonly [number, number];

/** Normalised attributes of every op; attribute names are the spec's (Keras's) snake_case names. */
export interface OpAttrs {
  /** A model input; `shape` excludes the batch dimension (NHWC for images). */
  readonly input: { readonly shape: Shape };
  /** Zero padding, `[[top, bottom], [left, right]]` in pixels. */
  readonly zero_padding2d: { readonly padding: readonly [Pair, Pair] };
  readonly conv2d: {
    readonly filters: number;
    readonly kernel_size: Pair;
    readonly strides: Pair;
    readonly padding: Padding;
    readonly dilation_rate: Pair;
    readonly use_bias: boolean;
    readonly activation: ActivationName;
  };
  /** BatchNormalization over the channels axis; `axis` is -1 or the rank of the input. */
  readonly batch_normalization: {
    readonly axis: number;
    readonly epsilon: number;
    readonly momentum: number;
    readonly center: boolean;
    readonly scale: boolean;
  };
  readonly activation: { readonly activation: ActivationName };
  readonly max_pooling2d: {
    readonly pool_size: Pair;
    readonly strides: Pair;
    readonly padding: Padding;
  };
  readonly average_pooling2d: {
    readonly pool_size: Pair;
    readonly strides: Pair;
    readonly padding: Padding;
  };
  readonly global_average_pooling2d: Record<string, never>;
  readonly add: Record<string, never>;
  /** Concatenation along `axis` (-1: channels). */
  readonly concatenate: { readonly axis: number };
  /** Flattens in Keras's row-major (H, W, C) order. */
  readonly flatten: Record<string, never>;
  readonly dense: {
    readonly units: number;
    readonly activation: ActivationName;
    readonly use_bias: boolean;
  };
  /** Dropout; identity at inference. `rate` in [0, 1). */
  readonly dropout: { readonly rate: number };
}

/** Every op name of the registry. */
export type OpName = keyof OpAttrs;

/** A JSON Schema fragment (draft 2020-12 subset that ajv understands). */
export type JsonSchema = { readonly [key: string]: unknown };

/** The result of shape inference: a shape, or an error located at one attribute (or the layer). */
export type InferResult =
  | { readonly ok: true; readonly shape: Shape }
  | {
      readonly ok: false;
      readonly code: "RSC300" | "RSC301" | "RSC302" | "RSC303" | "RSC304" | "RSC305";
      readonly message: string;
      /** Attribute to point at (e.g. `kernel_size`); the layer itself when absent, `from` for inputs. */
      readonly attr?: string;
    };

/** A parameter before it is given its layer's name. */
export interface ParamTemplate {
  readonly suffix: string;
  readonly shape: Shape;
  readonly initializer: Initializer;
  readonly trainable: boolean;
}

/** One op of the registry. */
export interface OpDef<K extends OpName = OpName> {
  readonly op: K;
  /** The Keras layer class, shown by `rsc summary` and used for Keras-style default names. */
  readonly kerasClass: string;
  /** One line for docs and the JSON Schema's descriptions. */
  readonly doc: string;
  /** Schema of the attributes as written in a spec, once interpolated (`name`, `from` excluded). */
  readonly attrs: {
    readonly properties: { readonly [attr: string]: JsonSchema };
    readonly required?: readonly string[];
  };
  /** The attribute a one-value shorthand sets, e.g. `dense: 10` sets `units`. */
  readonly shorthand?: string;
  /** How many inputs the op takes; `max` may be `Infinity`. */
  readonly arity: { readonly min: number; readonly max: number };
  /** Fills defaults and expands pairs; `raw` has passed the attribute schema. */
  normalize(raw: { readonly [attr: string]: unknown }): OpAttrs[K];
  /** Output shape from the input shapes (batch excluded). */
  infer(inputs: readonly Shape[], attrs: OpAttrs[K]): InferResult;
  /** Parameter tensors in Keras's order (kernel, bias; gamma, beta, moving_mean, moving_variance). */
  params(inputs: readonly Shape[], attrs: OpAttrs[K]): readonly ParamTemplate[];
}

/** Names a layer's parameters `<layer>/<suffix>`. */
export function nameParams(layer: string, templates: readonly ParamTemplate[]): ParamSpec[] {
  return templates.map((t) => ({ ...t, name: `${layer}/${t.suffix}` }));
}
