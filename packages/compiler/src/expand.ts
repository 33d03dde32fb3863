/**
 * Expand: loaded documents -> one flat list of layers. Instantiates block templates, unrolls
 * stages and repeats (counting before unrolling), interpolates names and values, applies
 * parameters (with `--set` overrides) and layer defaults, and keeps a source map: every layer
 * knows its own line and the chain of template call sites that produced it.
 *
 * The recursive descent is the `expand*` methods of {@link Expander}: a sequence expands item by
 * item; an item is a layer, a group, a repeat, a stage or a block call, and the last three expand
 * sequences again (a block call in a fresh frame: its parameters, `names:` and local labels).
 */
import {
  type BlockDef,
  collectBlocks,
  missingArgumentError,
  unknownArgumentError,
} from "./blocks.js";
import {
  type CallSite,
  closest,
  type Diagnostic,
  locatedError,
  type SourceLocation,
} from "./diagnostics.js";
import type { ExpandedLayer, ExpandedModel, LayerRef } from "./expanded.js";
import {
  ExprError,
  interpolate,
  MAX_VALUE_SIZE,
  type Scope,
  type Value,
  valueSize,
  valueTypeName,
} from "./expr.js";
import { itemParts, unknownItemError } from "./items.js";
import type { LoadResult } from "./load.js";
import { get, type LMap, type LNode, type LSeq } from "./located.js";
import { MAX_NAME_LENGTH } from "./naming.js";
import { isOpName, OPS } from "./ops/registry.js";
import type { OpName } from "./ops/types.js";
import { applyOverrides, type DeclaredParam } from "./overrides.js";
import { checkParamType } from "./param-types.js";
import { expandRange, MAX_RANGE_ITEMS, type RangeItem } from "./ranges.js";
import { ACTIVATION_SHORTHANDS, STRUCTURAL_KEYS } from "./schema.js";
import { MapScope } from "./scope.js";
import { ShapeQueryError, ShapeTable } from "./shape-scope.js";
import type { LocatedAttr } from "./validate.js";
import { unusedParamWarnings } from "./warnings.js";
import { DEFAULT_SEED, MAX_SEED } from "./weights.js";

/** Most layers one model may expand to. */
const MAX_LAYERS = 100_000;

/** Deepest template nesting (a template calling itself hits this). */
const MAX_CALL_DEPTH = 32;

/**
 * Most work one expansion may do, in steps: each layer item visited, each repeat or stage
 * iteration, each value evaluated, plus the size of each interpolated value
 * ({@link valueSize}), and for each block call its depth and number of parameters and names. Bounds what the layer limit cannot: nested repeats around bodies that
 * emit nothing, templates that fan out to empty blocks, huge values copied into many layers.
 * A model at the layer limit takes about a tenth of it.
 */
export const MAX_EXPANSION_STEPS = 10_000_000;

/** Inputs of {@link expandSpec} besides the loaded documents. */
export interface ExpandOptions {
  /** `--set name=value` overrides; values are YAML flow scalars (`10`, `[32, 32, 3]`). */
  readonly set?: Readonly<Record<string, string>>;
}

/** The expanded model (when expansion got far enough) and the diagnostics of expanding it. */
export interface ExpandResult {
  readonly model?: ExpandedModel;
  /** Expansion's own diagnostics (the loader's are in its result). */
  readonly diagnostics: readonly Diagnostic[];
  /**
   * True when loading or expansion reported errors beyond the schema errors that expansion went
   * on past (broken layer items keep their names), so the model may miss layers or names that
   * its references expect: the graph builder then does not report unresolved references.
   */
  readonly partial: boolean;
}

/** State shared by one block instance (or the model body). */
interface Frame {
  readonly scope: Scope;
  /** `as:` labels and the block input name, local to this instance. */
  readonly labels: Map<string, LayerRef>;
  readonly callSites: readonly CallSite[];
}

/** A block argument: its value and where the value and its key were written. */
interface Argument extends LocatedAttr {
  readonly value: Value;
}

class Abort extends Error {}

const isMap = (n: LNode | undefined): n is LMap => n?.kind === "map";
const isSeq = (n: LNode | undefined): n is LSeq => n?.kind === "seq";

/** Expands a loaded root spec into a flat layer list. Never throws for bad input. */
export function expandSpec(loaded: LoadResult, options: ExpandOptions = {}): ExpandResult {
  return new Expander(loaded, options).run();
}

class Expander {
  private readonly diagnostics: Diagnostic[] = [];
  private blocks: ReadonlyMap<string, BlockDef> = new Map();
  private readonly layers: ExpandedLayer[] = [];
  /** Shapes of the layers emitted so far, for `channels(x)` and the other shape functions. */
  private readonly shapes = new ShapeTable(this.layers);
  private defaults = new Map<string, Map<string, LocatedAttr>>();
  /** Ops whose `defaults:` entry (or some attributes of it) had schema errors: see expandLayer. */
  private readonly spoiltDefaults = new Map<string, "all" | ReadonlySet<string>>();
  /** Errors the loader reported. */
  private readonly loadErrors: number;
  /** Steps taken, counted against MAX_EXPANSION_STEPS. */
  private steps = 0;

  constructor(
    private readonly loaded: LoadResult,
    private readonly options: ExpandOptions,
  ) {
    this.loadErrors = loaded.diagnostics.filter((d) => d.severity === "error").length;
  }

  /** Records an error (code, message, place, then hint, related places and call sites). */
  private error(...args: Parameters<typeof locatedError>): void {
    this.diagnostics.push(locatedError(...args));
  }

  /** Counts `n` steps of work at `loc`; past the budget, reports RSC210 and stops expanding. */
  private work(n: number, loc: SourceLocation, callSites: readonly CallSite[]): void {
    this.steps += n;
    if (this.steps <= MAX_EXPANSION_STEPS) return;
    this.error(
      "RSC210",
      `expanding the model takes more than ${MAX_EXPANSION_STEPS.toLocaleString("en-US")} steps (nested repeats or templates that fan out?)`,
      loc,
      { callSites },
    );
    throw new Abort();
  }

  /** True when errors beyond the schema errors expansion went on past have been reported. */
  private hasOwnErrors(): boolean {
    const errors = this.diagnostics.filter((d) => d.severity === "error").length;
    return this.loadErrors + errors > this.loaded.recovered;
  }

  run(): ExpandResult {
    const done = (model?: ExpandedModel): ExpandResult => ({
      ...(model ? { model } : {}),
      diagnostics: this.diagnostics,
      partial: this.hasOwnErrors(),
    });
    const root = this.loaded.root;
    if (root === undefined) return done();
    const table = collectBlocks(this.loaded.documents);
    this.blocks = table.blocks;
    this.diagnostics.push(...table.diagnostics, ...unusedParamWarnings(this.blocks.values()));
    if (this.hasOwnErrors()) return done();
    try {
      return done(this.expandModel(root.root, root.file));
    } catch (e) {
      if (e instanceof Abort) return done();
      // Going on past schema errors is best effort: the schema errors are what matters then.
      if (this.loaded.recovered > 0) return done();
      throw e;
    }
  }

  // ---- model: params, defaults, seed, name, inputs, layers, outputs ------------------------

  private expandModel(root: LMap, file: string): ExpandedModel {
    const scope = this.modelScope(root, file);
    this.defaults = this.layerDefaults(root, scope);
    const seed = this.modelSeed(root, scope);
    const name = modelName(root, file);
    if (name.length > MAX_NAME_LENGTH) {
      const at = get(root, "name")?.loc ?? root.loc;
      this.error(
        "RSC218",
        `the model name is ${name.length.toLocaleString("en-US")} characters long; a name may have at most ${MAX_NAME_LENGTH}`,
        at,
      );
    }
    const labels = new Map<string, LayerRef>();
    const frame: Frame = { scope: this.shapes.scope(scope, labels), labels, callSites: [] };
    const inputs = inputDeclarations(root);
    const prev = this.expandInputs(inputs, scope);
    const layers = this.modelLayers(root, inputs);
    this.expandSeq(layers, frame, prev, 0);
    const outputs = this.modelOutputs(root, frame);
    this.diagnostics.push(...this.shapes.finish());
    return { name, seed, layers: this.layers, outputs };
  }

  /** The model's scope: its `params:` in order, then the `--set` overrides. */
  private modelScope(root: LMap, file: string): MapScope {
    const scope = new MapScope();
    const params = get(root, "params");
    const declared = new Map<string, DeclaredParam>();
    if (isMap(params)) {
      for (const [name, entry] of params.entries) {
        const v = this.value(entry.value, scope, []);
        if (v === undefined) continue;
        scope.set(name, v);
        declared.set(name, { loc: entry.keyLoc, value: v });
      }
    }
    this.diagnostics.push(...applyOverrides(this.options.set ?? {}, declared, scope, file));
    return scope;
  }

  /** `defaults:` per op, evaluated once in the model's scope. */
  private layerDefaults(root: LMap, scope: Scope): Map<string, Map<string, LocatedAttr>> {
    const byOp = new Map<string, Map<string, LocatedAttr>>();
    const defaults = get(root, "defaults");
    if (isMap(defaults)) {
      for (const [op, entry] of defaults.entries) {
        const attrs = new Map<string, LocatedAttr>();
        // A default with a schema or interpolation error (already reported) is left out, and
        // the layers it would apply to are skipped quietly: the rest of the model is checked.
        const broken = this.loaded.brokenItems;
        if (broken.has(entry.value)) this.spoiltDefaults.set(op, "all");
        else if (isMap(entry.value)) {
          const entries = [...entry.value.entries];
          const skip = entries.filter(([, e]) => broken.has(e.value)).map(([k]) => k);
          this.evaluateEntries(entry.value, scope, [], attrs, skip);
          const spoilt = entries.filter(([k]) => !attrs.has(k));
          if (spoilt.length > 0) this.spoiltDefaults.set(op, new Set(spoilt.map(([k]) => k)));
        }
        byOp.set(op, attrs);
      }
    }
    return byOp;
  }

  /** The weight seed: `seed:` when it is an unsigned 32-bit int, else the default. */
  private modelSeed(root: LMap, scope: Scope): number {
    const seedNode = get(root, "seed");
    if (seedNode === undefined) return DEFAULT_SEED;
    const v = this.value(seedNode, scope, []);
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_SEED) return v;
    if (v !== undefined)
      this.error("RSC104", `seed must be an integer from 0 to ${MAX_SEED}`, seedNode.loc);
    return DEFAULT_SEED;
  }

  /** Emits the `input:` / `inputs:` layers in order; returns the last one's output. */
  private expandInputs(inputs: readonly LNode[], scope: Scope): LayerRef | undefined {
    let prev: LayerRef | undefined;
    for (const decl of inputs) {
      if (!isMap(decl)) continue;
      const shapeNode = get(decl, "shape")!;
      const nameN = get(decl, "name");
      const nameV = nameN ? this.stringValue(nameN, scope, [], "name") : undefined;
      const shape = this.value(shapeNode, scope, []);
      const attrs = new Map<string, LocatedAttr>();
      if (shape !== undefined)
        attrs.set("shape", {
          value: shape,
          loc: shapeNode.loc,
          keyLoc: decl.entries.get("shape")!.keyLoc,
        });
      prev = this.emit({
        op: "input",
        ...(nameV !== undefined ? { name: nameV, nameLoc: nameN!.loc } : {}),
        inputs: [],
        attrs,
        loc: decl.loc,
        callSites: [],
      });
    }
    return prev;
  }

  /** The model's `layers:`; a model without them, or without any input, is an error. */
  private modelLayers(root: LMap, inputs: readonly LNode[]): LSeq {
    const layers = get(root, "layers");
    // After schema errors, a missing `layers:` or input is most likely a misspelt top-level key,
    // already reported with a "did you mean" hint: stop quietly.
    if (
      this.loaded.recovered > 0 &&
      (!isSeq(layers) || (inputs.length === 0 && !startsWithInput(layers)))
    )
      throw new Abort();
    if (!isSeq(layers)) {
      const at = root.entries.get("rsc")?.keyLoc ?? root.loc;
      this.error(
        "RSC106",
        "a model needs `layers:` (a file with only `blocks:` is a library, to be imported)",
        at,
      );
      throw new Abort();
    }
    if (inputs.length === 0 && !startsWithInput(layers)) {
      this.error(
        "RSC106",
        "the model has no input: add `input: { shape: [...] }`",
        root.entries.get("layers")!.keyLoc,
      );
    }
    return layers;
  }

  /** `outputs:` references (labels of the model body, else layer names). */
  private modelOutputs(root: LMap, frame: Frame): LayerRef[] {
    const outputs: LayerRef[] = [];
    const outs = get(root, "outputs");
    if (isSeq(outs)) {
      for (const o of outs.items) {
        const n = this.stringValue(o, frame.scope, [], "an output");
        if (n !== undefined)
          outputs.push(frame.labels.get(n) ?? { kind: "name", name: n, loc: o.loc });
      }
    }
    return outputs;
  }

  // ---- values: interpolation in a scope -------------------------------------------------

  /** Evaluates a YAML value, interpolating strings. Reports and returns undefined on error. */
  private value(node: LNode, scope: Scope, callSites: readonly CallSite[]): Value | undefined {
    this.work(1, node.loc, callSites);
    if (node.kind === "scalar") {
      // A YAML null is a value (Keras's None: `max_value: null`, `noise_shape: [null, 1, 1, 1]`).
      if (typeof node.value !== "string") return node.value;
      try {
        const v = interpolate(node.value, scope);
        this.work(valueSize(v), node.loc, callSites);
        return v;
      } catch (e) {
        if (e instanceof ShapeQueryError) {
          this.shapes.defer(e, node.loc, callSites);
          return undefined;
        }
        if (!(e instanceof ExprError)) throw e;
        if (e.kind === "too-large") {
          this.error("RSC210", e.message, node.loc, { callSites });
        } else if (e.kind === "undefined-name") {
          const guess = closest(e.undefinedName!, scope.names());
          this.error("RSC202", `${e.message} in '${node.value}'`, node.loc, {
            callSites,
            ...(guess ? { hint: `did you mean '${guess}'?` } : {}),
          });
        } else this.error("RSC203", e.message, node.loc, { callSites });
        return undefined;
      }
    }
    if (node.kind === "seq") {
      const items: Value[] = [];
      let ok = true;
      let size = 1;
      for (const item of node.items) {
        const v = this.value(item, scope, callSites);
        if (v === undefined) ok = false;
        else {
          items.push(v);
          size += valueSize(v);
        }
      }
      if (ok && size > MAX_VALUE_SIZE) {
        this.error(
          "RSC210",
          `a list of size ${size.toLocaleString("en-US")} is larger than the limit of ${MAX_VALUE_SIZE.toLocaleString("en-US")} (characters and list items)`,
          node.loc,
          { callSites },
        );
        return undefined;
      }
      return ok ? items : undefined;
    }
    this.error(
      "RSC104",
      "a mapping is not allowed here (expected a number, string, bool or list)",
      node.loc,
      { callSites },
    );
    return undefined;
  }

  private stringValue(
    node: LNode,
    scope: Scope,
    callSites: readonly CallSite[],
    what: string,
  ): string | undefined {
    const v = this.value(node, scope, callSites);
    if (v === undefined) return undefined;
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
    this.error("RSC104", `${what} must be a string, got ${valueTypeName(v)}`, node.loc, {
      callSites,
    });
    return undefined;
  }

  // ---- layers: the recursive descent --------------------------------------------------------

  /** Appends one expanded layer (at most MAX_LAYERS); returns a reference to its output. */
  private emit(layer: Omit<ExpandedLayer, "id">): LayerRef {
    if (this.layers.length >= MAX_LAYERS) {
      this.error("RSC210", `the model expands to more than ${MAX_LAYERS} layers`, layer.loc, {
        callSites: layer.callSites,
      });
      throw new Abort();
    }
    const id = this.layers.length;
    this.layers.push({ id, ...layer });
    return { kind: "id", id };
  }

  /** Expands a list of layer items; returns the output of the last one. */
  private expandSeq(
    seq: LSeq,
    frame: Frame,
    input: LayerRef | undefined,
    depth: number,
  ): LayerRef | undefined {
    let prev = input;
    for (const item of seq.items) prev = this.expandItem(item, frame, prev, depth);
    return prev;
  }

  /** The layers a `from:` names (one or a list): local labels first, else names resolved later. */
  private refs(node: LNode | undefined, frame: Frame): LayerRef[] | undefined {
    if (node === undefined) return undefined;
    const items = node.kind === "seq" ? node.items : [node];
    const out: LayerRef[] = [];
    for (const item of items) {
      const name = this.stringValue(item, frame.scope, frame.callSites, "a `from:` reference");
      if (name === undefined) {
        out.push({ kind: "poison" });
        continue;
      }
      out.push(frame.labels.get(name) ?? { kind: "name", name, loc: item.loc });
    }
    return out;
  }

  /** The input of a group, repeat or stage: its first `from:` reference, else `prev`. */
  private itemInput(body: LMap, frame: Frame, prev: LayerRef | undefined): LayerRef | undefined {
    const from = this.refs(get(body, "from"), frame);
    return from === undefined ? prev : from[0];
  }

  /**
   * Evaluates the values of `map` (but the `skip` keys) into `into`. False when one failed: that
   * one is reported and left out, and the others are still evaluated.
   */
  private evaluateEntries(
    map: LMap,
    scope: Scope,
    callSites: readonly CallSite[],
    into: Map<string, LocatedAttr>,
    skip: readonly string[] = [],
  ): boolean {
    let ok = true;
    for (const [k, e] of map.entries) {
      if (skip.includes(k)) continue;
      const v = this.value(e.value, scope, callSites);
      if (v === undefined) ok = false;
      else into.set(k, { value: v, loc: e.value.loc, keyLoc: e.keyLoc });
    }
    return ok;
  }

  /** Binds the item's `as:` label (when it has one) to `ref`, the item's output; returns `ref`. */
  private label<R extends LayerRef | undefined>(body: LNode | undefined, frame: Frame, ref: R): R {
    const as = get(body, "as");
    if (as === undefined) return ref;
    const name = this.stringValue(as, frame.scope, frame.callSites, "`as:`");
    if (name !== undefined) frame.labels.set(name, ref ?? { kind: "poison" });
    return ref;
  }

  /** Expands one layer item; returns its output (the input of the next item). */
  private expandItem(
    item: LNode,
    frame: Frame,
    prev: LayerRef | undefined,
    depth: number,
  ): LayerRef | undefined {
    this.work(1, item.loc, frame.callSites);
    const parts = itemParts(item);
    if (parts === undefined) return prev;
    const { key, body, loc } = parts;
    if (this.loaded.brokenItems.has(item))
      return this.expandBrokenItem(key, body, loc, frame, prev);
    if ((ACTIVATION_SHORTHANDS as readonly string[]).includes(key)) {
      return this.expandLayer(
        "activation",
        body,
        loc,
        frame,
        prev,
        new Map([["activation", { value: key, loc, keyLoc: loc }]]),
      );
    }
    if (isOpName(key)) return this.expandLayer(key, body, loc, frame, prev);
    if ((STRUCTURAL_KEYS as readonly string[]).includes(key) && !isMap(body)) {
      // A bare `- stage` passes the schema as a string item (a block call may be bare).
      const needs = key === "stage" ? "use, over" : key === "repeat" ? "times, layers" : "layers";
      this.error("RSC106", `'${key}' needs a mapping: ${key}: { ${needs} }`, loc, {
        callSites: frame.callSites,
      });
      return { kind: "poison" };
    }
    if (key === "group") return this.expandGroup(body as LMap, frame, prev, depth);
    if (key === "repeat") return this.expandRepeat(body as LMap, frame, prev, depth);
    if (key === "stage") return this.expandStage(body as LMap, loc, frame, prev, depth);
    const block = this.blocks.get(key);
    if (block) return this.expandBlockCall(block, body, loc, frame, prev, depth);
    return this.unknownItem(key, loc, frame);
  }

  /** An item whose key is no op, keyword or block: RSC108 with the closest name as a hint. */
  private unknownItem(key: string, loc: SourceLocation, frame: Frame): LayerRef {
    this.diagnostics.push(unknownItemError(key, loc, [...this.blocks.keys()], frame.callSites));
    return { kind: "poison" };
  }

  /** `<block>: { args..., from?, as? }`: one call of a block template. */
  private expandBlockCall(
    block: BlockDef,
    body: LNode | undefined,
    loc: SourceLocation,
    frame: Frame,
    prev: LayerRef | undefined,
    depth: number,
  ): LayerRef {
    const from = this.refs(get(body, "from"), frame);
    const args = new Map<string, Argument>();
    const ok =
      !isMap(body) ||
      this.evaluateEntries(body, frame.scope, frame.callSites, args, ["from", "as"]);
    const input = from === undefined ? prev : from.length === 1 ? from[0] : undefined;
    if (from !== undefined && from.length !== 1) {
      this.error(
        "RSC303",
        "a block call takes one input (`from:` one layer)",
        get(body, "from")!.loc,
        { callSites: frame.callSites },
      );
    }
    const out = ok ? this.call(block, loc, args, input, frame, depth) : { kind: "poison" as const };
    return this.label(body, frame, out);
  }

  /**
   * A layer item with a schema error (already reported). A single layer keeps its name and
   * `from:`, so references to it resolve, and is marked broken: the graph builder skips it and
   * whatever depends on it without further errors. Anything else (a block call, a group, a
   * stage) stands for an unknown part of the graph: its output is poison.
   */
  private expandBrokenItem(
    key: string,
    body: LNode | undefined,
    loc: SourceLocation,
    frame: Frame,
    prev: LayerRef | undefined,
  ): LayerRef {
    const op = (ACTIVATION_SHORTHANDS as readonly string[]).includes(key) ? "activation" : key;
    if (!isOpName(op) || !isMap(body)) {
      return this.label(body, frame, { kind: "poison" });
    }
    // Only well-formed names and references are read: a malformed one is the schema error.
    const isText = (n: LNode | undefined) => n?.kind === "scalar" && typeof n.value === "string";
    const name = get(body, "name");
    const nameValue = isText(name)
      ? this.stringValue(name!, frame.scope, frame.callSites, "a layer name")
      : undefined;
    let from = get(body, "from");
    if (!(isText(from) || (from?.kind === "seq" && from.items.every(isText)))) from = undefined;
    const inputs = from === undefined ? undefined : this.refs(from, frame);
    const ref = this.emit({
      op,
      ...(nameValue !== undefined ? { name: nameValue, nameLoc: name!.loc } : {}),
      inputs: inputs ?? (op === "input" || prev === undefined ? [] : [prev]),
      ...(from !== undefined ? { fromLoc: body.entries.get("from")!.keyLoc } : {}),
      attrs: new Map(),
      loc,
      callSites: frame.callSites,
      broken: true,
    });
    return this.label(body, frame, ref);
  }

  /** `<op>: { name?, from?, attrs... }` or `<op>: value` (its shorthand or inputs): one layer. */
  private expandLayer(
    op: OpName,
    body: LNode | undefined,
    loc: SourceLocation,
    frame: Frame,
    prev: LayerRef | undefined,
    fixed?: Map<string, LocatedAttr>,
  ): LayerRef {
    const def = OPS[op];
    const attrs = new Map<string, LocatedAttr>(fixed);
    let name: string | undefined;
    let nameLoc: SourceLocation | undefined;
    let inputs: LayerRef[] | undefined;
    let fromLoc: SourceLocation | undefined;
    let broken = false;
    if (isMap(body)) {
      for (const [k, e] of body.entries) {
        if (k === "as") continue;
        if (k === "name") {
          name = this.stringValue(e.value, frame.scope, frame.callSites, "a layer name");
          nameLoc = e.value.loc;
          if (name === undefined) broken = true;
        } else if (k === "from") {
          inputs = this.refs(e.value, frame);
          fromLoc = e.keyLoc;
        } else {
          const v = this.value(e.value, frame.scope, frame.callSites);
          if (v !== undefined) attrs.set(k, { value: v, loc: e.value.loc, keyLoc: e.keyLoc });
          else broken = true;
        }
      }
    } else if (body !== undefined) {
      if (def.shorthand !== undefined) {
        const v = this.value(body, frame.scope, frame.callSites);
        if (v !== undefined) attrs.set(def.shorthand, { value: v, loc: body.loc, keyLoc: loc });
        else broken = true;
      } else {
        inputs = this.refs(body, frame);
        fromLoc = body.loc;
      }
    }
    for (const [k, a] of this.defaults.get(op) ?? []) if (!attrs.has(k)) attrs.set(k, a);
    const spoilt = this.spoiltDefaults.get(op);
    if (spoilt === "all" || [...(spoilt ?? [])].some((k) => !attrs.has(k))) broken = true;
    if (inputs === undefined) inputs = op === "input" ? [] : prev === undefined ? [] : [prev];
    const ref = this.emit({
      op,
      ...(name !== undefined ? { name, nameLoc: nameLoc! } : {}),
      inputs,
      ...(fromLoc ? { fromLoc } : {}),
      attrs,
      loc,
      callSites: frame.callSites,
      ...(broken ? { broken } : {}),
    });
    return this.label(body, frame, ref);
  }

  /** `group: { layers, if?, from?, as? }`: its layers in sequence, or nothing when `if:` is false. */
  private expandGroup(
    body: LMap,
    frame: Frame,
    prev: LayerRef | undefined,
    depth: number,
  ): LayerRef | undefined {
    const input = this.itemInput(body, frame, prev);
    const cond = get(body, "if");
    let enabled = true;
    if (cond) {
      const v = this.value(cond, frame.scope, frame.callSites);
      if (typeof v === "boolean") enabled = v;
      else if (v !== undefined) {
        this.error("RSC104", `'if:' must be a bool, got ${valueTypeName(v)}`, cond.loc, {
          callSites: frame.callSites,
        });
      }
    }
    const out = enabled ? this.expandSeq(get(body, "layers") as LSeq, frame, input, depth) : input;
    return this.label(body, frame, out);
  }

  /** `repeat: { times, var?, layers }`: the layers `times` times, the counter (`i`) in scope. */
  private expandRepeat(
    body: LMap,
    frame: Frame,
    prev: LayerRef | undefined,
    depth: number,
  ): LayerRef | undefined {
    const timesNode = get(body, "times")!;
    const times = this.value(timesNode, frame.scope, frame.callSites);
    if (times === undefined) return { kind: "poison" };
    if (typeof times !== "number" || !Number.isInteger(times) || times < 0) {
      this.error("RSC104", "'times' must be a non-negative int", timesNode.loc, {
        callSites: frame.callSites,
      });
      return { kind: "poison" };
    }
    if (times > MAX_RANGE_ITEMS) {
      this.error(
        "RSC210",
        `repeat ${times} times is more than the limit of ${MAX_RANGE_ITEMS}`,
        timesNode.loc,
        { callSites: frame.callSites },
      );
      return { kind: "poison" };
    }
    const varNode = get(body, "var");
    const varName = varNode?.kind === "scalar" ? String(varNode.value) : "i";
    let out = this.itemInput(body, frame, prev);
    for (let i = 0; i < times; i++) {
      this.work(1, timesNode.loc, frame.callSites);
      const scope = new MapScope(frame.scope).set(varName, i);
      out = this.expandSeq(get(body, "layers") as LSeq, { ...frame, scope }, out, depth);
    }
    return this.label(body, frame, out);
  }

  /** `stage: { use, over: { var: range }, with?, first? }`: one block call per range item. */
  private expandStage(
    body: LMap,
    loc: SourceLocation,
    frame: Frame,
    prev: LayerRef | undefined,
    depth: number,
  ): LayerRef | undefined {
    const block = this.stageBlock(get(body, "use")!, frame);
    if (block === undefined) return { kind: "poison" };
    const over = get(body, "over") as LMap;
    const [varName, rangeEntry] = [...over.entries][0]!;
    const items = this.stageItems(rangeEntry.value, frame);
    if (items === undefined) return { kind: "poison" };
    let out = this.itemInput(body, frame, prev);
    for (const [i, item] of items.entries()) {
      this.work(1, loc, frame.callSites);
      const scope = new MapScope(frame.scope).set(varName, item);
      const args = new Map<string, Argument>();
      let ok = true;
      for (const part of i === 0 ? ["with", "first"] : ["with"]) {
        const m = get(body, part);
        if (isMap(m)) ok = this.evaluateEntries(m, scope, frame.callSites, args) && ok;
      }
      if (!ok) return { kind: "poison" };
      // The loop variable is an argument only for blocks that declare it; otherwise it is just
      // in scope for `with:` and `first:` (e.g. `name: "layer1_{i}"`).
      if (!args.has(varName) && block.params.has(varName)) {
        args.set(varName, { value: item, loc: rangeEntry.value.loc, keyLoc: rangeEntry.keyLoc });
      }
      out = this.call(block, loc, args, out, frame, depth);
    }
    return this.label(body, frame, out);
  }

  /** The block a stage's `use:` names, or undefined after reporting why not. */
  private stageBlock(useNode: LNode, frame: Frame): BlockDef | undefined {
    const blockName = this.stringValue(useNode, frame.scope, frame.callSites, "`use:`");
    if (blockName === undefined) return undefined;
    const block = this.blocks.get(blockName);
    if (block === undefined) {
      const guess = closest(blockName, this.blocks.keys());
      this.error("RSC108", `unknown block '${blockName}'`, useNode.loc, {
        callSites: frame.callSites,
        hint: guess
          ? `did you mean '${guess}'?`
          : `blocks: ${[...this.blocks.keys()].join(", ") || "(none defined or imported)"}`,
      });
    }
    return block;
  }

  /** The items a stage's `over:` range unrolls to (counted first), or undefined after an error. */
  private stageItems(rangeNode: LNode, frame: Frame): readonly RangeItem[] | undefined {
    const rangeValue = this.value(rangeNode, frame.scope, frame.callSites);
    if (rangeValue === undefined) return undefined;
    const terms = (Array.isArray(rangeValue) ? rangeValue : [rangeValue]) as Value[];
    if (terms.some((t) => typeof t !== "string" && typeof t !== "number")) {
      this.error("RSC214", "a range item must be a string or an int", rangeNode.loc, {
        callSites: frame.callSites,
      });
      return undefined;
    }
    const range = expandRange(terms as RangeItem[]);
    if (!range.ok) {
      this.error(range.code, range.message, rangeNode.loc, { callSites: frame.callSites });
      return undefined;
    }
    return range.items;
  }

  /** Instantiates `block` at `loc`: binds its parameters and names, expands its layers. */
  private call(
    block: BlockDef,
    loc: SourceLocation,
    args: ReadonlyMap<string, Argument>,
    input: LayerRef | undefined,
    frame: Frame,
    depth: number,
  ): LayerRef {
    const callSites: CallSite[] = [
      { file: loc.file, line: loc.line, column: loc.column, block: block.name },
      ...frame.callSites,
    ];
    // A call costs about one step per call site it copies and per parameter it binds.
    this.work(callSites.length + block.params.size + block.names.length, loc, frame.callSites);
    if (depth >= MAX_CALL_DEPTH) {
      this.error(
        "RSC213",
        `block '${block.name}' is nested more than ${MAX_CALL_DEPTH} calls deep (does it call itself?)`,
        loc,
        { callSites: frame.callSites },
      );
      throw new Abort();
    }
    const scope = this.bindArguments(block, loc, args, frame);
    if (scope === undefined || !this.bindNames(block, scope, callSites)) return { kind: "poison" };
    const labels = new Map<string, LayerRef>();
    labels.set(block.input, input ?? { kind: "poison" });
    const frameScope = this.shapes.scope(scope, labels);
    return (
      this.expandSeq(block.layers, { scope: frameScope, labels, callSites }, input, depth + 1) ??
      input ?? { kind: "poison" }
    );
  }

  /**
   * The scope of one call: each argument checked against its declared parameter, then defaults
   * for the rest. Undefined when an argument is unknown, mistyped or missing (each reported).
   */
  private bindArguments(
    block: BlockDef,
    loc: SourceLocation,
    args: ReadonlyMap<string, Argument>,
    frame: Frame,
  ): MapScope | undefined {
    const scope = new MapScope(frame.scope);
    let ok = true;
    for (const [k, a] of args) {
      const decl = block.params.get(k);
      if (decl === undefined) {
        this.diagnostics.push(unknownArgumentError(block, k, a.keyLoc, frame.callSites));
        ok = false;
        continue;
      }
      const why = checkParamType(decl.type, a.value);
      if (why !== undefined) {
        this.error("RSC206", `argument '${k}' of block '${block.name}': ${why}`, a.loc, {
          callSites: frame.callSites,
          related: [{ ...decl.loc, message: `parameter '${k}' declared here` }],
        });
        ok = false;
        continue;
      }
      scope.set(k, a.value);
    }
    for (const [p, decl] of block.params) {
      if (args.has(p)) continue;
      if (decl.default !== undefined) scope.set(p, decl.default);
      else {
        this.diagnostics.push(missingArgumentError(block, p, loc, frame.callSites));
        ok = false;
      }
    }
    return ok ? scope : undefined;
  }

  /** Evaluates the block's `names:` templates into `scope`, in order; false after an error. */
  private bindNames(block: BlockDef, scope: MapScope, callSites: readonly CallSite[]): boolean {
    for (const { key, template } of block.names) {
      const v = this.value(template, scope, callSites);
      if (v === undefined) return false;
      scope.set(key, v);
    }
    return true;
  }
}

/** The model name: `name:`, else the file name without its folder and `.yaml`. */
function modelName(root: LMap, file: string): string {
  const nameNode = get(root, "name");
  return nameNode?.kind === "scalar" && typeof nameNode.value === "string"
    ? nameNode.value
    : (file.split(/[\\/]/).pop() ?? file).replace(/\.ya?ml$/, "");
}

/** The `input:` declaration and the `inputs:` items, in that order. */
function inputDeclarations(root: LMap): LNode[] {
  const inputs: LNode[] = [];
  const input = get(root, "input");
  if (input) inputs.push(input);
  const many = get(root, "inputs");
  if (isSeq(many)) inputs.push(...many.items);
  return inputs;
}

/** True when the first layer item is an `input` layer. */
function startsWithInput(layers: LSeq): boolean {
  const first = layers.items[0];
  return (
    first !== undefined &&
    ((first.kind === "scalar" && first.value === "input") ||
      (isMap(first) && first.entries.has("input")))
  );
}
