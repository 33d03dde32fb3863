/**
 * `rsc import --blocks`: repeated subgraphs of an imported model written as block templates, called
 * once or chained in a `stage`, as a hand-written spec does (specs/blocks/resnet.yaml).
 *
 * 1. Cut the flat layer list where a single tensor is live (everything before feeds only the
 *    layer at the cut): the pieces between cuts are single-input, single-output subgraphs.
 * 2. Give each piece a signature: its ops, attributes and wiring, without names and without the
 *    attributes a template may take as parameters (`filters`, `units`, `strides`).
 * 3. Repeatedly pick the run of pieces that repeats with the most layers saved, and make it a
 *    template: attributes equal in every instance are written inline, the others become
 *    parameters; layer names become `{name}` + suffix when every instance names its layers
 *    after one prefix (`conv2_block1_0_bn`), and are left to rsc's Keras-style default names
 *    when they are Keras's generated ones (`activation_12`).
 * 4. Consecutive instances with the same parameters become one `stage`.
 * 5. The template spec is kept only when it compiles to the same graph as the flat one (the same
 *    layers, names, attributes, shapes and weights: `diffGraphs(...).same`); a template that
 *    does not is dropped, and with none left the flat spec stands.
 */
import { stableJson } from "../canonical.js";
import type { CompileResult } from "../compile.js";
import { diffGraphs } from "../diff/diff-graphs.js";
import { isGeneratedName } from "../diff/match-layers.js";
import { flow, literal } from "../expand-to-spec.js";
import { escapeBraces } from "../expr.js";
import type { Graph } from "../ir.js";
import { snakeCase } from "../naming.js";
import { isOpName, OPS } from "../ops/registry.js";
import { FORMAT_VERSION } from "../schema.js";
import { commentText, layerItem, type SpecLayer, type SpecModel } from "./spec-writer.js";

/** Attributes a template may take as parameters when instances differ in them. */
const PARAM_ATTRS = ["filters", "units", "strides"] as const;

/** Most templates written; most pieces in one template. */
const MAX_TEMPLATES = 12;
const MAX_PIECES = 16;

/** A template is worth its lines when it has this many layers and saves this many. */
const MIN_LAYERS = 3;
const MIN_SAVED = 6;

/** A subgraph between two cuts: layers `start..end` (inclusive) of the flat list. */
interface Piece {
  readonly start: number;
  readonly end: number;
  readonly sig: string;
}

/** One template: the pieces it spans and the start piece of each instance. */
interface Candidate {
  readonly length: number;
  readonly starts: number[];
}

/** A template ready to write. */
interface Template {
  readonly name: string;
  /** Layer indices of each instance (same length, position by position). */
  readonly instances: number[][];
  /** The text of its `blocks:` entry (indented for `blocks:`). */
  readonly text: string[];
  /** The call arguments of each instance, as spec values. */
  readonly args: Record<string, unknown>[];
  /** The id parameter (`name` / `id`), when names follow one. */
  readonly idParam?: string;
  /** The instance ids, when names follow one. */
  readonly ids?: string[];
}

/** Where each layer's output is last read (`n` for a model output). */
function lastUses(layers: readonly SpecLayer[], outputs: readonly string[]): Map<string, number> {
  const last = new Map<string, number>();
  for (const [i, l] of layers.entries())
    for (const x of l.inputs) last.set(x, Math.max(last.get(x) ?? -1, i));
  for (const o of outputs) last.set(o, layers.length);
  return last;
}

/** The flat list cut into single-input, single-output pieces. */
function pieces(model: SpecModel): Piece[] {
  const { layers, inputs } = model;
  const last = lastUses(layers, model.outputs);
  const out: Piece[] = [];
  let start = 0;
  let reach = Math.max(-1, ...inputs.map((i) => last.get(i.name) ?? -1));
  // With several inputs the first piece has no single input: it starts only after they merge.
  let open = inputs.length === 1;
  for (const [p, layer] of layers.entries()) {
    if (reach <= p) {
      if (open) out.push({ start, end: p, sig: signature(layers, start, p) });
      start = p + 1;
      open = true;
    }
    reach = Math.max(reach, last.get(layer.name) ?? -1);
  }
  return out;
}

/** The attributes that may become parameters for `op` (the op has them, with a default or required). */
function paramAttrs(op: SpecLayer["op"]): string[] {
  const def = OPS[op];
  return PARAM_ATTRS.filter(
    (a) =>
      Object.hasOwn(def.attrs.properties, a) &&
      (Object.hasOwn(def.defaults, a) || (def.attrs.required ?? []).includes(a)),
  );
}

/** Ops, attributes (parameters left out) and wiring of layers `start..end`, names left out. */
function signature(layers: readonly SpecLayer[], start: number, end: number): string {
  const index = new Map<string, number>();
  const parts: unknown[] = [];
  for (let i = start; i <= end; i++) {
    const l = layers[i]!;
    const attrs: Record<string, unknown> = { ...l.attrs };
    for (const a of paramAttrs(l.op)) delete attrs[a];
    parts.push([l.op, attrs, l.inputs.map((x) => index.get(x) ?? "x")]);
    index.set(l.name, i - start);
  }
  return stableJson(parts);
}

/** Picks templates: the repeated run of pieces saving the most layers first. */
function choose<T>(
  ps: readonly Piece[],
  weighted: (layer: number) => boolean,
  make: (cand: Candidate) => T | undefined,
): T[] {
  const used = new Array<boolean>(ps.length).fill(false);
  const chosen: T[] = [];
  const rejected = new Set<string>();
  const sigIds = new Map<string, number>();
  const ids = ps.map((p) => {
    if (!sigIds.has(p.sig)) sigIds.set(p.sig, sigIds.size);
    return sigIds.get(p.sig)!;
  });
  const size = (s: number, m: number) => ps[s + m - 1]!.end - ps[s]!.start + 1;
  while (chosen.length < MAX_TEMPLATES) {
    let best: { score: number; key: string; cand: Candidate } | undefined;
    const tried = new Set<string>();
    for (let s = 0; s < ps.length; s++) {
      for (let m = 1; m <= MAX_PIECES && s + m <= ps.length; m++) {
        if (used.slice(s, s + m).some(Boolean)) break;
        const key = ids.slice(s, s + m).join(",");
        if (tried.has(key) || rejected.has(key)) continue;
        tried.add(key);
        const layers = size(s, m);
        if (layers < MIN_LAYERS) continue;
        const starts: number[] = [];
        for (let t = 0; t + m <= ps.length; ) {
          if (!used.slice(t, t + m).some(Boolean) && ids.slice(t, t + m).join(",") === key) {
            starts.push(t);
            t += m;
          } else t++;
        }
        if (starts.length < 2 || (starts.length - 1) * layers < MIN_SAVED) continue;
        // Ties (a block with the activation after it, or before it) go to the run that starts
        // with a layer with weights, as blocks are written: conv first, its activation last.
        const score = (starts.length - 1) * layers + (weighted(ps[s]!.start) ? 0.5 : 0);
        if (
          best === undefined ||
          score > best.score ||
          (score === best.score && m > best.cand.length)
        ) {
          best = { score, key, cand: { length: m, starts } };
        }
      }
    }
    if (best === undefined) break;
    // A run whose names follow no pattern cannot be a template: try the next best instead.
    const made = make(best.cand);
    if (made === undefined) {
      rejected.add(best.key);
      continue;
    }
    for (const s of best.cand.starts) for (let k = s; k < s + best.cand.length; k++) used[k] = true;
    chosen.push(made);
  }
  return chosen;
}

/** Longest common prefix of strings. */
function commonPrefix(xs: readonly string[]): string {
  let p = xs[0] ?? "";
  for (const x of xs) while (!x.startsWith(p)) p = p.slice(0, -1);
  return p;
}

/** Longest common suffix of strings. */
function commonSuffix(xs: readonly string[]): string {
  let s = xs[0] ?? "";
  for (const x of xs) while (!x.endsWith(s)) s = s.slice(1);
  return s;
}

/** How a template names its layers: per position, `{id}` between a prefix and a suffix, or nothing. */
interface Naming {
  readonly param?: "name" | "id";
  readonly ids?: string[];
  /** Per position: the parts around the id, or undefined for a default (omitted) name. */
  readonly parts: ({ readonly pre: string; readonly post: string } | undefined)[];
}

function naming(layers: readonly SpecLayer[], instances: readonly number[][]): Naming | undefined {
  const positions = instances[0]!.length;
  const parts: Naming["parts"] = [];
  let ids: string[] | undefined;
  for (let j = 0; j < positions; j++) {
    const names = instances.map((inst) => layers[inst[j]!]!.name);
    const op = layers[instances[0]![j]!]!.op;
    const prefix = snakeCase(OPS[op].kerasClass);
    if (names.every((n) => isGeneratedName(n, prefix))) {
      parts.push(undefined);
      continue;
    }
    const pre = commonPrefix(names);
    const post = commonSuffix(names.map((n) => n.slice(pre.length)));
    const mids = names.map((n) => n.slice(pre.length, n.length - post.length));
    if (ids === undefined) ids = mids;
    else if (mids.some((m, i) => m !== ids![i])) return undefined;
    parts.push({ pre, post });
  }
  if (ids === undefined) return { parts };
  if (new Set(ids).size !== ids.length) return undefined;
  // When every name starts with the same prefix, the prefix belongs to the id:
  // `conv2_block1` + `_0_bn` reads better than `conv` + `2_block1` + `_0_bn`.
  const named = parts.filter((p) => p !== undefined);
  const shared = named[0]!.pre;
  if (shared !== "" && named.every((p) => p.pre === shared)) {
    return {
      param: "name",
      ids: ids.map((id) => shared + id),
      parts: parts.map((p) => (p === undefined ? undefined : { pre: "", post: p.post })),
    };
  }
  return { param: "id", ids, parts };
}

/** `pre{param}post` as a spec string (the parts' own braces escaped). */
function interpolated(pre: string, param: string, post: string): string {
  return literal(`${escapeBraces(pre)}{${param}}${escapeBraces(post)}`);
}

/** Builds a template from a candidate, or undefined when its names follow no pattern. */
function makeTemplate(
  layers: readonly SpecLayer[],
  ps: readonly Piece[],
  cand: Candidate,
  name: string,
): Template | undefined {
  const instances = cand.starts.map((s) => {
    const out: number[] = [];
    for (let i = ps[s]!.start; i <= ps[s + cand.length - 1]!.end; i++) out.push(i);
    return out;
  });
  const names = naming(layers, instances);
  if (names === undefined) return undefined;
  const first = instances[0]!;

  // Parameter columns: (position, attribute) whose values differ between instances.
  const columns: { pos: number; attr: string; values: unknown[] }[] = [];
  for (const [j, idx] of first.entries()) {
    const op = layers[idx]!.op;
    for (const attr of paramAttrs(op)) {
      const fallback = (OPS[op].defaults as Record<string, unknown>)[attr];
      const values = instances.map((inst) => layers[inst[j]!]!.attrs[attr] ?? fallback);
      if (new Set(values.map((v) => stableJson(v))).size > 1)
        columns.push({ pos: j, attr, values });
    }
  }
  const params: { name: string; values: unknown[] }[] = [];
  const paramOf = new Map<string, string>();
  for (const c of columns) {
    const key = stableJson(c.values);
    let p = params.find((q) => stableJson(q.values) === key && q.name.startsWith(c.attr));
    if (p === undefined) {
      const count = params.filter(
        (q) => q.name === c.attr || q.name.startsWith(`${c.attr}_`),
      ).length;
      p = { name: count === 0 ? c.attr : `${c.attr}_${count + 1}`, values: c.values };
      params.push(p);
    }
    paramOf.set(`${c.pos}/${c.attr}`, p.name);
  }

  // Labels for layers read by a later layer that does not follow them.
  const local = new Map(first.map((idx, j) => [layers[idx]!.name, j]));
  const labels = new Map<number, string>();
  for (const [j, idx] of first.entries()) {
    const ins = layers[idx]!.inputs;
    for (const x of ins) {
      const k = local.get(x);
      if (k !== undefined && !(ins.length === 1 && k === j - 1) && !labels.has(k)) {
        const part = names.parts[k];
        const base = part?.post.replace(/^[^A-Za-z]+/, "").replace(/[^A-Za-z0-9_]/g, "_") ?? "";
        const label =
          /^[A-Za-z_]/.test(base) && ![...labels.values()].includes(base)
            ? base
            : `${layers[idx - j + k]!.op}_${k}`;
        labels.set(k, label);
      }
    }
  }

  const text: string[] = [`  ${name}:`];
  const paramDecls: string[] = [];
  if (names.param !== undefined) {
    const allInts = names.ids!.every((id) => /^(0|[1-9]\d{0,8})$/.test(id));
    paramDecls.push(`${names.param}: ${allInts ? "int" : "str"}`);
  }
  for (const p of params)
    paramDecls.push(`${p.name}: ${p.values.every((v) => Number.isInteger(v)) ? "int" : "any"}`);
  if (paramDecls.length > 0) text.push(`    params: { ${paramDecls.join(", ")} }`);
  text.push("    input: x", "    layers:");
  for (const [j, idx] of first.entries()) {
    const layer = layers[idx]!;
    const parts: string[] = [];
    const part = names.parts[j];
    if (part !== undefined) parts.push(`name: ${interpolated(part.pre, names.param!, part.post)}`);
    const refs = layer.inputs.map((x) => {
      const k = local.get(x);
      return k === undefined ? "x" : (labels.get(k) ?? `#${k}`);
    });
    const sequential =
      refs.length === 1 && (j === 0 ? refs[0] === "x" : local.get(layer.inputs[0]!) === j - 1);
    if (!sequential) parts.push(`from: ${refs.length === 1 ? flow(refs[0]) : flow(refs)}`);
    let op: string = layer.op;
    // Attributes in the op's order, parameters where instances differ.
    const attrs: [string, string][] = [];
    const keys = [
      ...new Set([...Object.keys(OPS[layer.op].attrs.properties), ...Object.keys(layer.attrs)]),
    ];
    for (const k of keys) {
      const p = paramOf.get(`${j}/${k}`);
      if (p !== undefined) attrs.push([k, literal(`{${p}}`)]);
      else if (layer.attrs[k] !== undefined) attrs.push([k, flow(layer.attrs[k])]);
    }
    if (layer.op === "activation" && !isOpName(String(layer.attrs["activation"]))) {
      op = String(layer.attrs["activation"]);
      attrs.length = 0;
    }
    for (const [k, v] of attrs) parts.push(`${k}: ${v}`);
    const label = labels.get(j);
    if (label !== undefined) parts.push(`as: ${flow(label)}`);
    text.push(parts.length === 0 ? `      - ${op}` : `      - ${op}: { ${parts.join(", ")} }`);
  }
  const args = instances.map((_, i) => {
    const a: Record<string, unknown> = {};
    if (names.param !== undefined) {
      const id = names.ids![i]!;
      a[names.param] =
        /^(0|[1-9]\d{0,8})$/.test(id) && names.ids!.every((x) => /^(0|[1-9]\d{0,8})$/.test(x))
          ? Number(id)
          : id;
    }
    for (const p of params) a[p.name] = p.values[i];
    return a;
  });
  return {
    name,
    instances,
    text,
    args,
    ...(names.param === undefined ? {} : { idParam: names.param, ids: names.ids! }),
  };
}

/** A YAML flow mapping of call arguments (strings written as literals, braces escaped). */
function argsText(args: Record<string, unknown>, raw: ReadonlySet<string> = new Set()): string {
  return `{ ${Object.entries(args)
    .map(([k, v]) => `${k}: ${raw.has(k) ? v : flow(v)}`)
    .join(", ")} }`;
}

/** `over:` and `with:` for a stage over instance ids: a range when the ids count up. */
function stageOver(param: string, ids: readonly string[]): { over: string; id?: string } {
  // Digits that every id shares belong to the number (`block_11`, `block_12`: 11..12, not 1..2).
  const pre = commonPrefix(ids).replace(/\d+$/, "");
  const post = commonSuffix(ids.map((x) => x.slice(pre.length)));
  const mids = ids.map((x) => x.slice(pre.length, x.length - post.length));
  const ints = mids.every(
    (m, i) => /^(0|[1-9]\d{0,8})$/.test(m) && Number(m) === Number(mids[0]) + i,
  );
  const letters = mids.every(
    (m, i) => /^[a-z]$/.test(m) && m.charCodeAt(0) === mids[0]!.charCodeAt(0) + i,
  );
  if ((ints || letters) && mids.length > 1) {
    // `1..6` is a plain YAML string (no number reads so): written bare, as specs write ranges.
    const range = `${mids[0]}..${mids.at(-1)}`;
    if (pre === "" && post === "") return { over: `{ ${param}: ${range} }` };
    return { over: `{ i: ${range} }`, id: interpolated(pre, "i", post) };
  }
  return { over: `{ ${param}: ${flow(ids)} }` };
}

/** Writes the spec with `templates` applied (their instances replaced by calls and stages). */
function writeBlocks(model: SpecModel, templates: readonly Template[]): string {
  const { layers } = model;
  const startOf = new Map<number, { t: Template; i: number }>();
  for (const t of templates)
    for (const [i, inst] of t.instances.entries()) startOf.set(inst[0]!, { t, i });
  const lines: string[] = [];
  for (const h of model.header) lines.push(`# ${commentText(h)}`);
  lines.push(`rsc: ${FORMAT_VERSION}`, `name: ${literal(model.name)}`);
  const inputLine = (i: SpecModel["inputs"][number]) =>
    `{ name: ${flow(i.name)}, shape: ${flow(i.shape)} }`;
  if (model.inputs.length === 1) lines.push(`input: ${inputLine(model.inputs[0]!)}`);
  else {
    lines.push("inputs:");
    for (const i of model.inputs) lines.push(`  - ${inputLine(i)}`);
  }
  lines.push("", "blocks:");
  for (const t of templates) lines.push(...t.text);
  lines.push("", "layers:");
  let previous = model.inputs.length === 1 ? model.inputs[0]!.name : undefined;
  for (let i = 0; i < layers.length; ) {
    const start = startOf.get(i);
    if (start === undefined) {
      lines.push(`  ${layerItem(layers[i]!, previous)}`);
      previous = layers[i]!.name;
      i++;
      continue;
    }
    // A run of instances of one template, each right after the last, with the same arguments
    // besides the id: one stage.
    const { t } = start;
    const run = [start.i];
    const same = (a: number, b: number) => {
      const { [t.idParam ?? "\u0000"]: _a, ...ra } = t.args[a]!;
      const { [t.idParam ?? "\u0000"]: _b, ...rb } = t.args[b]!;
      return stableJson(ra) === stableJson(rb);
    };
    for (;;) {
      const k = run.at(-1)!;
      const nextStart = t.instances[k]!.at(-1)! + 1;
      const next = startOf.get(nextStart);
      if (next === undefined || next.t !== t || !same(run[0]!, next.i) || t.idParam === undefined)
        break;
      run.push(next.i);
    }
    if (run.length === 1) {
      lines.push(`  - ${t.name}: ${argsText(t.args[run[0]!]!)}`);
    } else {
      const { [t.idParam!]: _id, ...rest } = t.args[run[0]!]!;
      const over = stageOver(
        t.idParam!,
        run.map((k) => t.ids![k]!),
      );
      const withArgs: Record<string, unknown> = {
        ...(over.id === undefined ? {} : { [t.idParam!]: over.id }),
        ...rest,
      };
      const raw = new Set(over.id === undefined ? [] : [t.idParam!]);
      const parts = [`use: ${t.name}`, `over: ${over.over}`];
      if (Object.keys(withArgs).length > 0) parts.push(`with: ${argsText(withArgs, raw)}`);
      lines.push(`  - stage: { ${parts.join(", ")} }`);
    }
    const end = t.instances[run.at(-1)!]!.at(-1)!;
    previous = layers[end]!.name;
    i = end + 1;
  }
  const last = layers.at(-1)?.name;
  if (!(model.outputs.length === 1 && model.outputs[0] === last))
    lines.push("", `outputs: ${flow(model.outputs)}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The spec of `model` with its repeated subgraphs as templates, or undefined when none repeats
 * (or none gives back the same graph). `compile` compiles spec text; `graph` is the flat spec's.
 */
export function findBlocks(
  model: SpecModel,
  graph: Graph,
  compile: (text: string) => CompileResult,
): { readonly text: string; readonly templates: number } | undefined {
  const ps = pieces(model);
  const weights = new Set(graph.nodes.filter((n) => n.params.length > 0).map((n) => n.name));
  let count = 0;
  let templates = choose(
    ps,
    (i) => weights.has(model.layers[i]!.name),
    (cand) => {
      const t = makeTemplate(model.layers, ps, cand, `block${count + 1}`);
      if (t !== undefined) count++;
      return t;
    },
  );
  while (templates.length > 0) {
    const text = writeBlocks(model, templates);
    const result = compile(text);
    if (result.graph !== undefined && !result.diagnostics.some((d) => d.severity === "error")) {
      const diff = diffGraphs(graph, result.graph);
      if (diff.same && sameNames(graph, result.graph)) return { text, templates: templates.length };
      // Drop the templates holding a layer that came out different, and try again.
      const bad = new Set([
        ...diff.layers.changed.map((c) => c.name),
        ...diff.layers.added.map((l) => l.name),
        ...diff.layers.removed.map((l) => l.name),
      ]);
      const hit = templates.filter((t) =>
        t.instances.some((inst) => inst.some((i) => bad.has(model.layers[i]!.name))),
      );
      templates =
        hit.length > 0 && hit.length < templates.length
          ? templates.filter((t) => !hit.includes(t))
          : templates.slice(0, -1);
    } else {
      templates = templates.slice(0, -1);
    }
  }
  return undefined;
}

/** True when both graphs name every layer with weights the same (weights load by name). */
function sameNames(a: Graph, b: Graph): boolean {
  const names = (g: Graph) =>
    stableJson(
      g.nodes
        .filter((n) => n.params.length > 0)
        .map((n) => n.name)
        .sort(),
    );
  return names(a) === names(b);
}
