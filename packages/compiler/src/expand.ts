/**
 * Expand: files -> one flat list of layers. Resolves imports, instantiates block templates,
 * unrolls stages and repeats (counting before unrolling), interpolates names and values, applies
 * parameters (with `--set` overrides) and layer defaults, and keeps a source map: every layer
 * knows its own line and the chain of template call sites that produced it.
 */
import { dirname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import {
  type CallSite,
  closest,
  type Diagnostic,
  locatedError,
  type SourceLocation,
} from "./diagnostics.js";
import type { ExpandedLayer, ExpandedModel, LayerRef } from "./expanded.js";
import { ExprError, interpolate, type Scope, type Value, valueTypeName } from "./expr.js";
import { get, type LMap, type LNode, type LSeq } from "./located.js";
import { isOpName, OP_NAMES, OPS } from "./ops/registry.js";
import type { OpName } from "./ops/types.js";
import { checkParamType } from "./param-types.js";
import { decodeText, parseSpec } from "./parse.js";
import { expandRange, MAX_RANGE_ITEMS, type RangeItem } from "./ranges.js";
import { ACTIVATION_SHORTHANDS, STRUCTURAL_KEYS } from "./schema.js";
import { MapScope } from "./scope.js";
import { type LocatedAttr, validateDocument } from "./validate.js";
import { MAX_SEED } from "./weights.js";

/** Most layers one model may expand to. */
export const MAX_LAYERS = 100_000;

/** Deepest template nesting (a template calling itself hits this). */
export const MAX_CALL_DEPTH = 32;

/** The pseudo-file that `--set` diagnostics name. */
export const SET_FILE = "--set";

/** Inputs of {@link expandSpec}. */
export interface ExpandOptions {
  /** `--set name=value` overrides; values are YAML flow scalars (`10`, `[32, 32, 3]`). */
  readonly set?: Readonly<Record<string, string>>;
  /** Reads an imported file. */
  readonly readFile: (path: string) => Uint8Array;
}

/** The expanded model (when expansion got far enough) and every diagnostic. */
export interface ExpandResult {
  readonly model?: ExpandedModel;
  readonly diagnostics: readonly Diagnostic[];
  /** Every file read, root first. */
  readonly files: readonly string[];
  /**
   * True when expansion itself reported errors, so the model may miss layers or names that its
   * references expect (the graph builder then does not report unresolved references). Schema
   * errors that expansion went on past (broken layer items keep their names) do not count.
   */
  readonly partial: boolean;
}

interface ParamDecl {
  readonly type: string;
  readonly default?: Value;
  readonly loc: SourceLocation;
}

interface BlockDef {
  readonly name: string;
  readonly loc: SourceLocation;
  readonly params: ReadonlyMap<string, ParamDecl>;
  readonly input: string;
  readonly names: readonly { key: string; template: LNode }[];
  readonly layers: LSeq;
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

/** Expands a root spec (its bytes or text) into a flat layer list. Never throws for bad input. */
export function expandSpec(
  source: string | Uint8Array,
  file: string,
  options: ExpandOptions,
): ExpandResult {
  return new Expander(options).run(source, file);
}

class Expander {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly files: string[] = [];
  private readonly loaded = new Map<string, LMap | null>();
  private readonly blocks = new Map<string, BlockDef & { file: string }>();
  private readonly layers: ExpandedLayer[] = [];
  private defaults = new Map<string, Map<string, LocatedAttr>>();
  /** Layer items with schema errors (see DocumentValidation.brokenItems). */
  private readonly brokenItems = new Set<LNode>();
  /** How many schema errors expansion went on past (see DocumentValidation.recoverable). */
  private recovered = 0;

  constructor(private readonly options: ExpandOptions) {}

  /** Records an error (code, message, place, then hint, related places and call sites). */
  private error(...args: Parameters<typeof locatedError>): void {
    this.diagnostics.push(locatedError(...args));
  }

  /** True when errors beyond the schema errors expansion went on past have been reported. */
  private hasOwnErrors(): boolean {
    return this.diagnostics.filter((d) => d.severity === "error").length > this.recovered;
  }

  run(source: string | Uint8Array, file: string): ExpandResult {
    const root = this.load(file, resolve(file), source, []);
    const done = (model?: ExpandedModel): ExpandResult => ({
      ...(model ? { model } : {}),
      diagnostics: this.diagnostics,
      files: this.files,
      partial: this.hasOwnErrors(),
    });
    if (root === undefined || this.hasOwnErrors()) return done();
    try {
      return done(this.expandModel(root, file));
    } catch (e) {
      if (e instanceof Abort) return done();
      // Going on past schema errors is best effort: the schema errors are what matters then.
      if (this.recovered > 0) return done();
      throw e;
    }
  }

  // ---- files and imports -------------------------------------------------------------------

  private load(
    given: string,
    abs: string,
    source: string | Uint8Array | undefined,
    stack: readonly string[],
    importLoc?: SourceLocation,
  ): LMap | undefined {
    if (this.loaded.has(abs)) return this.loaded.get(abs) ?? undefined;
    this.loaded.set(abs, null);
    let bytesOrText = source;
    if (bytesOrText === undefined) {
      try {
        bytesOrText = this.options.readFile(given);
      } catch (e) {
        const reason =
          (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "cannot be read";
        this.error(
          "RSC200",
          `import '${given}': ${reason}`,
          importLoc ?? { file: given, line: 1, column: 1 },
        );
        return undefined;
      }
    }
    this.files.push(given);
    const text = typeof bytesOrText === "string" ? bytesOrText : decodeText(bytesOrText, given);
    if (typeof text !== "string") {
      this.diagnostics.push(text);
      return undefined;
    }
    const parsed = parseSpec(text, given);
    this.diagnostics.push(...parsed.diagnostics);
    if (parsed.root === undefined || parsed.diagnostics.length > 0) return undefined;
    const validation = validateDocument(parsed.root);
    this.diagnostics.push(...validation.diagnostics);
    if (!validation.recoverable || !isMap(parsed.root)) return undefined;
    for (const item of validation.brokenItems) this.brokenItems.add(item);
    this.recovered += validation.diagnostics.length;
    const root = parsed.root;
    this.loaded.set(abs, root);
    const isLibrary = stack.length > 0;
    if (isLibrary) {
      for (const key of ["layers", "params", "input", "inputs", "outputs", "defaults", "seed"]) {
        const entry = root.entries.get(key);
        if (entry)
          this.error(
            "RSC107",
            `a block library may not have '${key}:' (only rsc, doc, import, blocks)`,
            entry.keyLoc,
          );
      }
    }
    const imports = get(root, "import");
    if (isSeq(imports)) {
      for (const item of imports.items) {
        if (item.kind !== "scalar" || typeof item.value !== "string") continue;
        const path = join(dirname(given), item.value);
        const target = resolve(path);
        if (target === abs || stack.includes(target)) {
          this.error(
            "RSC201",
            `import cycle: '${item.value}' imports back into a file that imports it`,
            item.loc,
            {
              hint: [...stack, abs, target].map((p) => p.split("/").pop()).join(" -> "),
            },
          );
          continue;
        }
        this.load(path, target, undefined, [...stack, abs], item.loc);
      }
    }
    this.collectBlocks(root, given);
    return root;
  }

  private collectBlocks(root: LMap, file: string): void {
    const blocks = get(root, "blocks");
    if (!isMap(blocks)) return;
    for (const [name, entry] of blocks.entries) {
      const reserved =
        isOpName(name) ||
        (ACTIVATION_SHORTHANDS as readonly string[]).includes(name) ||
        (STRUCTURAL_KEYS as readonly string[]).includes(name);
      if (reserved) {
        this.error("RSC212", `block name '${name}' is reserved (an op or keyword)`, entry.keyLoc);
        continue;
      }
      const previous = this.blocks.get(name);
      if (previous) {
        this.error("RSC212", `block '${name}' is defined twice`, entry.keyLoc, {
          related: [{ ...previous.loc, message: "first defined here" }],
        });
        continue;
      }
      const def = this.parseBlock(name, entry.keyLoc, entry.value as LMap);
      if (def) this.blocks.set(name, { ...def, file });
    }
  }

  private parseBlock(name: string, loc: SourceLocation, node: LMap): BlockDef | undefined {
    const params = new Map<string, ParamDecl>();
    const declared = get(node, "params");
    if (isMap(declared)) {
      for (const [p, e] of declared.entries) {
        if (p === "from" || p === "as") {
          this.error(
            "RSC107",
            `'${p}' cannot be a block parameter (it is a keyword of calls)`,
            e.keyLoc,
          );
          continue;
        }
        if (e.value.kind === "scalar")
          params.set(p, { type: String(e.value.value), loc: e.keyLoc });
        else if (isMap(e.value)) {
          const type = String((get(e.value, "type") as { value?: unknown } | undefined)?.value);
          const d = get(e.value, "default");
          const dv = d === undefined ? undefined : this.literal(d);
          if (dv !== undefined) {
            const why = checkParamType(type, dv);
            if (why !== undefined) this.error("RSC206", `default of '${p}': ${why}`, d!.loc);
          }
          params.set(p, { type, ...(dv === undefined ? {} : { default: dv }), loc: e.keyLoc });
        }
      }
    }
    const names: { key: string; template: LNode }[] = [];
    const nameMap = get(node, "names");
    if (isMap(nameMap))
      for (const [key, e] of nameMap.entries) names.push({ key, template: e.value });
    const input = get(node, "input");
    return {
      name,
      loc,
      params,
      input: input?.kind === "scalar" && typeof input.value === "string" ? input.value : "input",
      names,
      layers: get(node, "layers") as LSeq,
    };
  }

  // ---- values ------------------------------------------------------------------------------

  /** A YAML value without interpolation (defaults of block params). */
  private literal(node: LNode): Value | undefined {
    if (node.kind === "scalar") return node.value === null ? undefined : node.value;
    if (node.kind === "seq") {
      const items = node.items.map((n) => this.literal(n));
      return items.every((v) => v !== undefined) ? (items as Value[]) : undefined;
    }
    return undefined;
  }

  /** Evaluates a YAML value, interpolating strings. Reports and returns undefined on error. */
  private value(node: LNode, scope: Scope, callSites: readonly CallSite[]): Value | undefined {
    if (node.kind === "scalar") {
      if (typeof node.value !== "string") return node.value === null ? undefined : node.value;
      try {
        return interpolate(node.value, scope);
      } catch (e) {
        if (!(e instanceof ExprError)) throw e;
        if (e.kind === "undefined-name") {
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
      for (const item of node.items) {
        const v = this.value(item, scope, callSites);
        if (v === undefined) ok = false;
        else items.push(v);
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

  // ---- model -------------------------------------------------------------------------------

  private expandModel(root: LMap, file: string): ExpandedModel {
    const scope = new MapScope();
    const params = get(root, "params");
    const declared = new Map<string, { loc: SourceLocation; value: Value }>();
    if (isMap(params)) {
      for (const [name, entry] of params.entries) {
        const v = this.value(entry.value, scope, []);
        if (v === undefined) continue;
        scope.set(name, v);
        declared.set(name, { loc: entry.keyLoc, value: v });
      }
    }
    this.applySet(scope, declared, file);

    const defaults = get(root, "defaults");
    if (isMap(defaults)) {
      for (const [op, entry] of defaults.entries) {
        const attrs = new Map<string, LocatedAttr>();
        if (isMap(entry.value)) this.evaluateEntries(entry.value, scope, [], attrs);
        this.defaults.set(op, attrs);
      }
    }

    let seed = 0;
    const seedNode = get(root, "seed");
    if (seedNode) {
      const v = this.value(seedNode, scope, []);
      if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_SEED) seed = v;
      else if (v !== undefined)
        this.error("RSC104", `seed must be an integer from 0 to ${MAX_SEED}`, seedNode.loc);
    }
    const nameNode = get(root, "name");
    const name =
      nameNode?.kind === "scalar" && typeof nameNode.value === "string"
        ? nameNode.value
        : (file.split(/[\\/]/).pop() ?? file).replace(/\.ya?ml$/, "");

    const frame: Frame = { scope, labels: new Map(), callSites: [] };
    let prev: LayerRef | undefined;
    const inputs: LNode[] = [];
    const input = get(root, "input");
    if (input) inputs.push(input);
    const many = get(root, "inputs");
    if (isSeq(many)) inputs.push(...many.items);
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
    const layers = get(root, "layers");
    // After schema errors, a missing `layers:` or input is most likely a misspelt top-level key,
    // already reported with a "did you mean" hint: stop quietly.
    if (
      this.recovered > 0 &&
      (!isSeq(layers) || (inputs.length === 0 && !this.startsWithInput(layers)))
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
    if (inputs.length === 0 && !this.startsWithInput(layers)) {
      this.error(
        "RSC106",
        "the model has no input: add `input: { shape: [...] }`",
        root.entries.get("layers")!.keyLoc,
      );
    }
    this.expandSeq(layers, frame, prev, 0);

    const outputs: LayerRef[] = [];
    const outs = get(root, "outputs");
    if (isSeq(outs)) {
      for (const o of outs.items) {
        const n = this.stringValue(o, scope, [], "an output");
        if (n !== undefined)
          outputs.push(frame.labels.get(n) ?? { kind: "name", name: n, loc: o.loc });
      }
    }
    return { name, seed, layers: this.layers, outputs, files: this.files };
  }

  private startsWithInput(layers: LSeq): boolean {
    const first = layers.items[0];
    return (
      first !== undefined &&
      ((first.kind === "scalar" && first.value === "input") ||
        (isMap(first) && first.entries.has("input")))
    );
  }

  private applySet(
    scope: MapScope,
    declared: Map<string, { loc: SourceLocation; value: Value }>,
    file: string,
  ): void {
    const at = { file: SET_FILE, line: 1, column: 1 };
    for (const [key, text] of Object.entries(this.options.set ?? {})) {
      const decl = declared.get(key);
      if (decl === undefined) {
        const guess = closest(key, declared.keys());
        this.error("RSC211", `--set ${key}: the spec has no parameter '${key}'`, at, {
          hint: guess
            ? `did you mean '${guess}'?`
            : declared.size > 0
              ? `parameters: ${[...declared.keys()].join(", ")}`
              : `${file} declares no params`,
        });
        continue;
      }
      let parsed: unknown;
      try {
        parsed = parseYaml(text);
      } catch {
        parsed = undefined;
      }
      const v = toValue(parsed);
      const why = v === undefined ? `'${text}' is not a value` : sameKind(decl.value, v);
      if (why !== undefined || v === undefined) {
        this.error("RSC211", `--set ${key}=${text}: ${why}`, at, {
          related: [{ ...decl.loc, message: `parameter '${key}' declared here` }],
        });
        continue;
      }
      scope.set(key, v);
    }
  }

  // ---- layers ------------------------------------------------------------------------------

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
   * one is reported (unless it was null) and left out, and the others are still evaluated.
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

  private expandItem(
    item: LNode,
    frame: Frame,
    prev: LayerRef | undefined,
    depth: number,
  ): LayerRef | undefined {
    let key: string;
    let body: LNode | undefined;
    let loc: SourceLocation;
    if (item.kind === "scalar") {
      key = String(item.value);
      loc = item.loc;
    } else if (isMap(item)) {
      const [k, e] = [...item.entries][0]!;
      key = k;
      body = e.value.kind === "scalar" && e.value.value === null ? undefined : e.value;
      loc = e.keyLoc;
    } else return prev;

    if (this.brokenItems.has(item)) return this.expandBrokenItem(key, body, loc, frame, prev);
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
    if (key === "group") return this.expandGroup(body as LMap, frame, prev, depth);
    if (key === "repeat") return this.expandRepeat(body as LMap, frame, prev, depth);
    if (key === "stage") return this.expandStage(body as LMap, loc, frame, prev, depth);
    const block = this.blocks.get(key);
    if (block) {
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
      const out = ok
        ? this.call(block, loc, args, input, frame, depth)
        : { kind: "poison" as const };
      return this.label(body, frame, out);
    }
    const candidates = [
      ...OP_NAMES,
      ...ACTIVATION_SHORTHANDS,
      ...STRUCTURAL_KEYS,
      ...this.blocks.keys(),
    ];
    const guess = closest(key, candidates);
    this.error("RSC108", `unknown op or block '${key}'`, loc, {
      callSites: frame.callSites,
      ...(guess ? { hint: `did you mean '${guess}'?` } : {}),
    });
    return { kind: "poison" };
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
      const scope = new MapScope(frame.scope).set(varName, i);
      out = this.expandSeq(get(body, "layers") as LSeq, { ...frame, scope }, out, depth);
    }
    return this.label(body, frame, out);
  }

  private expandStage(
    body: LMap,
    loc: SourceLocation,
    frame: Frame,
    prev: LayerRef | undefined,
    depth: number,
  ): LayerRef | undefined {
    const useNode = get(body, "use")!;
    const blockName = this.stringValue(useNode, frame.scope, frame.callSites, "`use:`");
    if (blockName === undefined) return { kind: "poison" };
    const block = this.blocks.get(blockName);
    if (block === undefined) {
      const guess = closest(blockName, this.blocks.keys());
      this.error("RSC108", `unknown block '${blockName}'`, useNode.loc, {
        callSites: frame.callSites,
        ...(guess ? { hint: `did you mean '${guess}'?` } : {}),
      });
      return { kind: "poison" };
    }
    const over = get(body, "over") as LMap;
    const [varName, rangeEntry] = [...over.entries][0]!;
    const rangeValue = this.value(rangeEntry.value, frame.scope, frame.callSites);
    if (rangeValue === undefined) return { kind: "poison" };
    const terms = (Array.isArray(rangeValue) ? rangeValue : [rangeValue]) as Value[];
    if (terms.some((t) => typeof t !== "string" && typeof t !== "number")) {
      this.error("RSC214", "a range item must be a string or an int", rangeEntry.value.loc, {
        callSites: frame.callSites,
      });
      return { kind: "poison" };
    }
    const range = expandRange(terms as RangeItem[]);
    if (!range.ok) {
      this.error(range.code, range.message, rangeEntry.value.loc, { callSites: frame.callSites });
      return { kind: "poison" };
    }
    let out = this.itemInput(body, frame, prev);
    for (const [i, item] of range.items.entries()) {
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

  private call(
    block: BlockDef & { file: string },
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
    if (depth >= MAX_CALL_DEPTH) {
      this.error(
        "RSC213",
        `block '${block.name}' is nested more than ${MAX_CALL_DEPTH} calls deep (does it call itself?)`,
        loc,
        { callSites: frame.callSites },
      );
      throw new Abort();
    }
    const scope = new MapScope(frame.scope);
    let ok = true;
    for (const [k, a] of args) {
      const decl = block.params.get(k);
      if (decl === undefined) {
        const guess = closest(k, block.params.keys());
        this.error("RSC205", `block '${block.name}' has no parameter '${k}'`, a.keyLoc, {
          callSites: frame.callSites,
          hint: guess
            ? `did you mean '${guess}'?`
            : `parameters: ${[...block.params.keys()].join(", ") || "(none)"}`,
          related: [{ ...block.loc, message: `block '${block.name}' defined here` }],
        });
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
        this.error("RSC204", `block '${block.name}' needs the parameter '${p}'`, loc, {
          callSites: frame.callSites,
          related: [{ ...decl.loc, message: `parameter '${p}' declared here` }],
        });
        ok = false;
      }
    }
    if (!ok) return { kind: "poison" };
    for (const { key, template } of block.names) {
      const v = this.value(template, scope, callSites);
      if (v === undefined) return { kind: "poison" };
      scope.set(key, v);
    }
    const labels = new Map<string, LayerRef>();
    labels.set(block.input, input ?? { kind: "poison" });
    return (
      this.expandSeq(block.layers, { scope, labels, callSites }, input, depth + 1) ??
      input ?? { kind: "poison" }
    );
  }
}

/** A value parsed from `--set` text, if it is one the spec language has. */
function toValue(v: unknown): Value | undefined {
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  if (Array.isArray(v)) {
    const items = v.map(toValue);
    return items.every((x) => x !== undefined) ? (items as Value[]) : undefined;
  }
  return undefined;
}

/** Checks that an override has the same kind as the parameter's default. */
function sameKind(declared: Value, given: Value): string | undefined {
  const kind = (v: Value) =>
    Array.isArray(v) ? "list" : typeof v === "number" ? "number" : typeof v;
  if (kind(declared) !== kind(given))
    return `expected a ${valueTypeName(declared)} like the default, got ${valueTypeName(given)}`;
  if (
    typeof declared === "number" &&
    Number.isInteger(declared) &&
    !Number.isInteger(given as number)
  )
    return "expected an int";
  if (Array.isArray(declared) && Array.isArray(given)) {
    const k = declared[0];
    if (k !== undefined && given.some((g) => sameKind(k, g) !== undefined))
      return `expected a list of ${valueTypeName(k)}`;
  }
  return undefined;
}
