/**
 * The result of `rsc diff`: what changed between two architectures, as data. This is the JSON
 * schema printed by `rsc diff --format json` (documented in docs/architecture-review.md); any
 * incompatible change to it bumps {@link ARCH_DIFF_SCHEMA_VERSION}. Shapes exclude the batch
 * dimension (NHWC for images); parameter counts are element counts, as Keras counts them; MACs
 * are multiply-accumulates for one example, as torchvision's GFLOPS count them (cost.ts).
 */
import type { ParamCounts } from "../ir.js";
import type { OpName } from "../ops/types.js";
import type { Shape } from "../tensor.js";

/** Version of the {@link ArchDiff} JSON schema. Bumped on any incompatible change. */
export const ARCH_DIFF_SCHEMA_VERSION = 1;

/** The whole diff of two architectures. */
export interface ArchDiff {
  /** Always {@link ARCH_DIFF_SCHEMA_VERSION} for this schema. */
  readonly schemaVersion: typeof ARCH_DIFF_SCHEMA_VERSION;
  /** True when the two architectures are the same (nothing below reports a change). */
  readonly same: boolean;
  /** The model compared against. */
  readonly old: DiffModel;
  /** The model compared. */
  readonly new: DiffModel;
  readonly summary: DiffSummary;
  /** Changes grouped by the edit that probably caused them, in reading order. */
  readonly groups: readonly ChangeGroup[];
  /** Every layer added, removed and changed, one entry per layer (the detail behind `groups`). */
  readonly layers: DiffLayers;
  /** Changes to the model's inputs and outputs. */
  readonly io: IoDiff;
  /** Whether trained weights of the old model load into the new one by name and shape. */
  readonly weights: WeightCompat;
}

/** One side of the comparison. */
export interface DiffModel {
  /** Model name (the spec's `name:`). */
  readonly name: string;
  /** Where the model came from, as the user named it, e.g. `main:specs/resnet50.yaml`. */
  readonly source: string;
  /** Number of layers (graph nodes, inputs included). */
  readonly layers: number;
  readonly params: ParamCounts;
  /** Multiply-accumulates of the model for one example. */
  readonly macs: number;
  /** Activation memory of one example: every layer's output (inputs included) x 4 bytes. */
  readonly activationBytes: number;
}

/** Counts for the one-line summary. */
export interface DiffSummary {
  readonly layersAdded: number;
  readonly layersRemoved: number;
  /** Layers present in both models (by name, or matched as renamed) that differ in any way. */
  readonly layersChanged: number;
  /** Of `layersChanged`, layers whose name changed (matched by position and op). */
  readonly layersRenamed: number;
  /** Total parameters of the old model. */
  readonly paramsOld: number;
  /** Total parameters of the new model. */
  readonly paramsNew: number;
  /** `paramsNew - paramsOld`. */
  readonly paramsDelta: number;
  /** `100 * paramsDelta / paramsOld`, rounded to 2 decimals; null when the old model has none. */
  readonly paramsDeltaPercent: number | null;
  /** Multiply-accumulates of the old model for one example. */
  readonly macsOld: number;
  /** Multiply-accumulates of the new model for one example. */
  readonly macsNew: number;
  /** `macsNew - macsOld`. */
  readonly macsDelta: number;
  /** `100 * macsDelta / macsOld`, rounded to 2 decimals; null when the old model has none. */
  readonly macsDeltaPercent: number | null;
}

/** Where a layer (or a group of layers) was written. */
export interface DiffOrigin {
  /** Spec file of the layer's line (a block library for template layers). */
  readonly file: string;
  /** 1-based line of the layer in that file. */
  readonly line: number;
  /** Block template the layer comes from (innermost), when it was made by a template call. */
  readonly block?: string;
  /** The template call (or stage) that made it, innermost first's file and 1-based line. */
  readonly callSite?: { readonly file: string; readonly line: number };
}

/** A layer that exists on one side only. */
export interface DiffLayer {
  readonly name: string;
  readonly op: OpName;
  readonly outputShape: Shape;
  /** Parameter count of the layer (trainable and not). */
  readonly params: number;
  /** Multiply-accumulates of the layer for one example. */
  readonly macs: number;
  readonly origin: DiffOrigin;
}

/** One attribute whose normalised value changed. Values are the IR's JSON values. */
export interface AttrChange {
  /** Attribute name as in the spec (Keras's), e.g. `kernel_size`. */
  readonly attr: string;
  readonly old: unknown;
  readonly new: unknown;
}

/** A layer present on both sides that differs. */
export interface LayerChange {
  /** Name in the new model. */
  readonly name: string;
  /** Name in the old model when the layer was renamed. */
  readonly oldName?: string;
  /** Op in the new model. */
  readonly op: OpName;
  /** Op in the old model when it changed. */
  readonly oldOp?: OpName;
  /** Attributes whose value changed (empty when the op changed: the attributes are not comparable). */
  readonly attrs: readonly AttrChange[];
  /**
   * Inputs (`from`) when they changed: old names and new names. `viaAddedOrRemoved` is true when
   * the only difference is that the layer now reads from added layers or no longer from removed ones.
   */
  readonly inputs?: {
    readonly old: readonly string[];
    readonly new: readonly string[];
    readonly viaAddedOrRemoved: boolean;
  };
  /** Output shape when it changed. */
  readonly outputShape?: { readonly old: Shape; readonly new: Shape };
  /** Parameter counts; `delta = new - old`. Always present; the shapes of its weights may differ. */
  readonly params: { readonly old: number; readonly new: number; readonly delta: number };
  /** Multiply-accumulates for one example; `delta = new - old`. Always present. */
  readonly macs: { readonly old: number; readonly new: number; readonly delta: number };
  /** True when some weight of the layer changed shape (or appeared / disappeared). */
  readonly weightsChanged: boolean;
  /**
   * `own`: the layer itself was edited (op, attributes, inputs or name);
   * `derived`: only its output shape or weight shapes changed, following an upstream change.
   */
  readonly cause: "own" | "derived";
  readonly origin: DiffOrigin;
}

/** Per-layer detail. */
export interface DiffLayers {
  /** Layers only in the new model, in its order. */
  readonly added: readonly DiffLayer[];
  /** Layers only in the old model, in its order. */
  readonly removed: readonly DiffLayer[];
  /** Layers on both sides that differ, in the new model's order. */
  readonly changed: readonly LayerChange[];
}

/**
 * A group of changes that one edit made. Kinds:
 * - `changed`: the same own change (op, attribute old -> new, rename pattern, inputs) in every
 *   listed layer (a pure rename pattern groups layers of several ops);
 * - `added` / `removed`: a run of layers (or the same template layer in several places);
 * - `derived`: output shapes and weight shapes that changed only because something upstream did.
 */
export type ChangeGroup = ChangedGroup | AddedRemovedGroup | DerivedGroup;

/** The same own change in one or more layers. */
export interface ChangedGroup {
  readonly kind: "changed";
  /** Distinct ops of the layers (new side), in order of appearance; several only for pure renames. */
  readonly ops: readonly OpName[];
  /** Old op when the op itself changed. */
  readonly oldOp?: OpName;
  /** The attribute changes shared by every layer of the group. */
  readonly attrs: readonly AttrChange[];
  /** The rename shared by every layer: the differing middle part of the old and new names. */
  readonly rename?: { readonly old: string; readonly new: string };
  /** The inputs change shared by every layer (when not explained by added/removed layers). */
  readonly inputs?: { readonly old: readonly string[]; readonly new: readonly string[] };
  /** Names (new model) of the layers, in graph order. */
  readonly layers: readonly string[];
  /** Old names, parallel to `layers`, when the group renames layers. */
  readonly oldLayers?: readonly string[];
  /** Sum of the layers' parameter deltas. */
  readonly paramsDelta: number;
  /** Sum of the layers' MAC deltas. */
  readonly macsDelta: number;
  /** Shared template line of the layers, when they all come from one line. */
  readonly origin?: DiffOrigin;
}

/** Layers added (or removed) together. */
export interface AddedRemovedGroup {
  readonly kind: "added" | "removed";
  /** Names of the layers (in the model that has them), in graph order. */
  readonly layers: readonly string[];
  /** Ops of the first run's layers, in order. */
  readonly ops: readonly OpName[];
  /** Number of separate places (contiguous runs) the layers were added at or removed from. */
  readonly runs: number;
  /** When the layers are whole block-template instances: the block, how many, first and last label. */
  readonly blocks?: {
    readonly block: string;
    readonly instances: number;
    /** Instance labels: the first layer's name of each instance with the shared suffix removed (`res4g`). */
    readonly first: string;
    readonly last: string;
  };
  /** Shared origin of the layers (template line, or the call site of the instances). */
  readonly origin?: DiffOrigin;
  /** Sum of the layers' parameter counts. */
  readonly params: number;
  /** Sum of the layers' MACs. */
  readonly macs: number;
  /** Layers (present on both sides) feeding the run; for several runs, those of the first. */
  readonly after: readonly string[];
  /** Layers (present on both sides) that read from the run; for several runs, those of the first. */
  readonly before: readonly string[];
}

/** Shape and weight-shape changes that follow from upstream changes. */
export interface DerivedGroup {
  readonly kind: "derived";
  /** Names (new model) of the layers, in graph order. */
  readonly layers: readonly string[];
  /** How many of them have a different output shape. */
  readonly shapesChanged: number;
  /** Those of them whose weights have a different shape (they no longer load), in graph order. */
  readonly weightsChanged: readonly string[];
  /** Sum of the layers' parameter deltas. */
  readonly paramsDelta: number;
  /** Sum of the layers' MAC deltas (a layer's MACs follow its shapes). */
  readonly macsDelta: number;
  /** Set when a model input's shape changed: the likely cause. */
  readonly inputChange?: { readonly name: string; readonly old: Shape; readonly new: Shape };
  /** True when every non-input layer of the new model has a different output shape. */
  readonly everyShape: boolean;
  /** Layers on both sides (edited or not, inputs excluded) whose output shape changed. */
  readonly reshaped: number;
  /** Non-input layers of the new model whose output shape did not change, in graph order. */
  readonly unchangedShapes: readonly string[];
}

/** One model input or output, compared by position. */
export interface IoChange {
  /** 0-based position among the model's inputs (or outputs). */
  readonly index: number;
  /** Name in the old model; absent when the position is new. */
  readonly oldName?: string;
  /** Name in the new model; absent when the position was removed. */
  readonly newName?: string;
  readonly oldShape?: Shape;
  readonly newShape?: Shape;
}

/** Input and output changes; empty lists when unchanged. */
export interface IoDiff {
  readonly inputs: readonly IoChange[];
  readonly outputs: readonly IoChange[];
}

/** An old weight that does not load into the new model. */
export interface WeightIssue {
  /** Keras weight name, `<layer>/<suffix>`. */
  readonly name: string;
  /** Shape in the old model (Keras layout: HWIO kernels, [in, out] dense kernels). */
  readonly oldShape: Shape;
  /** Shape in the new model, for `shapeChanged`. */
  readonly newShape?: Shape;
  /** For `missing`: the layer's new name when the layer was renamed. */
  readonly renamedTo?: string;
}

/**
 * Weight compatibility, by Keras weight name and shape (how `load_weights(by_name=True)` and
 * `rsc build --weights` load): `all` when every old weight loads, `none` when none does.
 */
export interface WeightCompat {
  readonly verdict: "all" | "partial" | "none";
  /** Number of weight tensors of the old model. */
  readonly old: number;
  /** How many of them load into the new model unchanged in name and shape. */
  readonly loads: number;
  /** Old weights with no weight of that name in the new model. */
  readonly missing: readonly WeightIssue[];
  /** Old weights whose name exists in the new model with another shape. */
  readonly shapeChanged: readonly WeightIssue[];
  /** Names of new-model weights with no old weight of that name: freshly initialised. */
  readonly fresh: readonly string[];
}
