/**
 * The op contract: what one op definition declares (attribute schema and type, defaults, shape
 * inference, parameters, description, optional capabilities). Each family file (conv.ts,
 * pooling.ts, ...) holds its ops' attribute types and definitions; registry.ts lists them, and the
 * op names and attribute types are derived from that list.
 */
import type { Initializer, ParamSpec, Shape } from "../tensor.js";

/** `valid` (no padding, floor) or `same` (output = ceil(input / stride), extra padding at the end). */
export type Padding = "valid" | "same";

/** A (height, width) pair. */
export type Pair = readonly [number, number];

/** A JSON Schema fragment (draft 2020-12 subset that ajv understands). */
export type JsonSchema = { readonly [key: string]: unknown };

/** The result of shape inference: a shape, or an error located at one attribute (or the layer). */
export type InferResult =
  | { readonly ok: true; readonly shape: Shape }
  | {
      readonly ok: false;
      readonly code:
        | "RSC300"
        | "RSC301"
        | "RSC302"
        | "RSC303"
        | "RSC304"
        | "RSC305"
        | "RSC307"
        | "RSC308"
        | "RSC309"
        | "RSC310";
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

/**
 * Explicit zero padding of a `zero_padding2d` layer that an IR pass folded into the op reading
 * it (passes/fold-zero-padding.ts). Never written in a spec; absent unless a backend ran the pass.
 */
export interface FoldedPadding {
  /** `[[top, bottom], [left, right]]` pixels, added to the op's own padding. */
  readonly padding: readonly [Pair, Pair];
  /** Name of the folded `zero_padding2d` layer (for the backend's provenance notes). */
  readonly layer: string;
}

/** Attributes of an op that can absorb explicit zero padding of its input into its window. */
export interface AbsorbsZeroPadding {
  /** Set by the fold-zero-padding pass only. */
  readonly folded_padding?: FoldedPadding;
}

/** One op of the registry; `A` is its normalised attribute type (the spec's snake_case names). */
export interface OpDef<K extends string = string, A = unknown> {
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
  /**
   * Defaults of the optional attributes, as a spec would write them (`strides: 1`); `normalize`
   * fills them in, the docs' op table shows them. An optional attribute without an entry has a
   * default that depends on other attributes (the op's `doc` says which).
   */
  readonly defaults: { readonly [attr: string]: unknown };
  /** The attribute a one-value shorthand sets, e.g. `dense: 10` sets `units`. */
  readonly shorthand?: string;
  /** How many inputs the op takes; `max` may be `Infinity`. */
  readonly arity: { readonly min: number; readonly max: number };
  /**
   * Optional capability of a single-input op: it pads its input with zeros itself (a conv's
   * `pads`), so a `zero_padding2d` feeding only such ops can be folded into them
   * (`folded_padding`, by passes/fold-zero-padding.ts).
   */
  readonly absorbsZeroPadding?: A extends AbsorbsZeroPadding ? true : never;
  /** Fills defaults and expands pairs; `raw` has passed the attribute schema. */
  normalize(raw: { readonly [attr: string]: unknown }): A;
  /** Output shape from the input shapes (batch excluded). */
  infer(inputs: readonly Shape[], attrs: A): InferResult;
  /** Parameter tensors in Keras's order (kernel, bias; gamma, beta, moving_mean, moving_variance). */
  params(inputs: readonly Shape[], attrs: A): readonly ParamTemplate[];
  /**
   * Multiply-accumulates for one example, counted as torchvision's published GFLOPS and fvcore's
   * convolution and linear handles count them: one per weight multiplication of a convolution or
   * dense layer (kernel taps x output elements; a transposed conv: kernel x input pixels). Bias
   * adds, normalization, activations, pooling, resampling and element-wise ops count 0
   * ({@link noMacs}); docs/architecture-review.md says what is and is not counted. `output` is
   * the shape `infer` gave.
   */
  macs(inputs: readonly Shape[], attrs: A, output: Shape): number;
}

/** The `macs` of an op that does no convolution or dense multiply-accumulate. */
export function noMacs(): number {
  return 0;
}

/** Names a layer's parameters `<layer>/<suffix>`. */
export function nameParams(layer: string, templates: readonly ParamTemplate[]): ParamSpec[] {
  return templates.map((t) => ({ ...t, name: `${layer}/${t.suffix}` }));
}
