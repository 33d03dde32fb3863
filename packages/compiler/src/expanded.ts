/**
 * The result of expansion: a flat list of layers with interpolated attributes and resolved or
 * pending references, each knowing where it was written and through which template calls.
 */
import type { CallSite, SourceLocation } from "./diagnostics.js";
import type { OpName } from "./ops/types.js";
import type { LocatedAttr } from "./validate.js";

/**
 * A reference to a layer's output: by expansion id (sequential flow and local labels), by name
 * (resolved after every name is known, so forward references work), or poisoned (the producer
 * failed; dependants are skipped without further errors).
 */
export type LayerRef =
  | { readonly kind: "id"; readonly id: number }
  | { readonly kind: "name"; readonly name: string; readonly loc: SourceLocation }
  | { readonly kind: "poison" };

/** One layer after expansion. */
export interface ExpandedLayer {
  /** Position in expansion order (0-based); also Keras's order for default names. */
  readonly id: number;
  readonly op: OpName;
  /** The explicit (interpolated) name, if the spec gave one. */
  readonly name?: string;
  /** Where the name was written. */
  readonly nameLoc?: SourceLocation;
  readonly inputs: readonly LayerRef[];
  /** Where `from:` was written, if it was. */
  readonly fromLoc?: SourceLocation;
  /** Interpolated attributes (layer defaults merged in), keyed by attribute name. */
  readonly attrs: ReadonlyMap<string, LocatedAttr>;
  /** Where the layer's op key was written. */
  readonly loc: SourceLocation;
  /** The template call sites that produced the layer, innermost first. */
  readonly callSites: readonly CallSite[];
  /** True when expansion already reported an error in this layer: build skips it quietly. */
  readonly broken?: boolean;
}

/** A model after expansion. */
export interface ExpandedModel {
  readonly name: string;
  readonly seed: number;
  readonly layers: readonly ExpandedLayer[];
  /** Output references from `outputs:`; empty means "the last layer". */
  readonly outputs: readonly LayerRef[];
}
