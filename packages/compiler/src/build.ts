/**
 * Build and infer: expanded layers -> a readonly, topologically ordered IR graph with every
 * output shape and parameter. Names are assigned (explicit first, then Keras-style defaults),
 * references resolved (forward references allowed, so cycles are possible and reported), each
 * layer's interpolated attributes validated against its op's strict schema, normalised, and
 * shape-inferred in topological order. A failed layer poisons its dependants quietly, so one
 * mistake gives one diagnostic.
 */
import {
  callSiteNotes,
  closest,
  type Diagnostic,
  type DiagnosticCode,
  type ErrorDetails,
  locatedError,
  type SourceLocation,
} from "./diagnostics.js";
import type { ExpandedLayer, ExpandedModel, LayerRef } from "./expanded.js";
import type { Graph, Node } from "./ir.js";
import { DefaultNamer, MAX_NAME_LENGTH } from "./naming.js";
import { OPS } from "./ops/registry.js";
import { nameParams, type OpDef } from "./ops/types.js";
import { type Shape, shapeSize } from "./tensor.js";
import { validateAttrs } from "./validate.js";
import { MAX_TENSOR_VALUES } from "./weights.js";

/** The graph (when every layer built) and the diagnostics of building it. */
export interface BuildResult {
  readonly graph?: Graph;
  readonly diagnostics: readonly Diagnostic[];
}

/** What the build steps share: the layers, their names and inputs so far, and what failed. */
interface BuildState {
  readonly layers: readonly ExpandedLayer[];
  /** Expansion already reported errors: likely consequences are not reported again. */
  readonly lenient: boolean;
  readonly diagnostics: Diagnostic[];
  /** 1 for each layer (by id) that failed or depends on one that did; it builds no node. */
  readonly failed: Uint8Array;
  /** Final layer names by id (explicit or default). */
  readonly names: string[];
  readonly byName: Map<string, number>;
  /** Resolved input ids by layer id. */
  readonly inputs: number[][];
  /** "Did you mean" hints computed so far (at most MAX_HINTS). */
  hints: number;
}

/**
 * Largest tensor dimension: backends index dimensions with 32-bit signed integers (tfjs, ONNX
 * runtimes), and a larger one is a typo or an attack (`shape: [1e12, 8, 3]`).
 */
export const MAX_DIMENSION = 2 ** 31 - 1;

/**
 * Most parameters a model may have in total: 2^32 values (16 GiB as float32), what the weight
 * generator and the backends can hold; a model past it is refused at check time, not attempted.
 */
export const MAX_MODEL_PARAMS = 2 ** 32;

/** Most "did you mean" hints one build computes. */
const MAX_HINTS = 200;

/**
 * Builds the IR from an expanded model. With `lenient` (expansion already reported errors),
 * reference and arity errors that are likely consequences are not reported again.
 */
export function buildGraph(model: ExpandedModel, lenient = false): BuildResult {
  const n = model.layers.length;
  const state: BuildState = {
    layers: model.layers,
    lenient,
    diagnostics: [],
    failed: new Uint8Array(n),
    names: new Array(n),
    byName: new Map(),
    inputs: new Array(n),
    hints: 0,
  };
  assignNames(state);
  resolveInputs(state);
  checkAttrsAndArity(state);
  const order = topologicalOrder(state);
  const nodes = inferShapes(state, order);
  checkModelSize(state, order, nodes);
  const outputs = resolveOutputs(state, model.outputs);
  const { diagnostics } = state;
  if (diagnostics.length > 0 || lenient) return { diagnostics };
  const ordered = order.map((id) => nodes[id]!);
  if (ordered.some((node) => node === undefined)) return { diagnostics };
  const graph: Graph = {
    name: model.name,
    inputs: ordered.filter((node) => node.op === "input").map((node) => node.name),
    outputs,
    nodes: ordered,
  };
  return { graph: freezeGraph(graph), diagnostics };
}

/** Records an error at `loc`, with the call sites of `layer` (when there is one). */
function report(
  state: BuildState,
  code: DiagnosticCode,
  message: string,
  loc: SourceLocation,
  layer?: ExpandedLayer,
  details: Omit<ErrorDetails, "callSites"> = {},
): void {
  state.diagnostics.push(
    locatedError(code, message, loc, { ...details, callSites: layer?.callSites }),
  );
}

/** Names: explicit ones first (a clash is an error at the second), then Keras-style defaults. */
function assignNames(state: BuildState): void {
  const { layers, names, byName, failed } = state;
  for (const l of layers) {
    if (l.name === undefined) continue;
    if (l.name.length > MAX_NAME_LENGTH) {
      report(
        state,
        "RSC218",
        `the layer name is ${l.name.length.toLocaleString("en-US")} characters long; a name may have at most ${MAX_NAME_LENGTH}`,
        l.nameLoc ?? l.loc,
        l,
      );
      failed[l.id] = 1;
    }
    const first = byName.get(l.name);
    if (first !== undefined) {
      const f = layers[first]!;
      report(state, "RSC207", `duplicate layer name '${l.name}'`, l.nameLoc ?? l.loc, l, {
        related: [{ ...(f.nameLoc ?? f.loc), message: `'${l.name}' first used here` }],
      });
      failed[l.id] = 1;
      names[l.id] = l.name;
      continue;
    }
    byName.set(l.name, l.id);
    names[l.id] = l.name;
  }
  const namer = new DefaultNamer(new Set(byName.keys()));
  for (const l of layers) {
    if (l.name !== undefined) continue;
    const name = namer.next(OPS[l.op].kerasClass);
    names[l.id] = name;
    byName.set(name, l.id);
  }
}

/** The layer id a reference names; an unknown name is RSC208 (unless lenient). */
function resolveRef(state: BuildState, ref: LayerRef, layer?: ExpandedLayer): number | undefined {
  if (ref.kind === "id") return ref.id;
  if (ref.kind === "poison") return undefined;
  const id = state.byName.get(ref.name);
  if (id === undefined && !state.lenient) {
    // Hints cost a pass over every name: a few hundred are plenty for a reader.
    const guess = state.hints++ < MAX_HINTS ? closest(ref.name, state.byName.keys()) : undefined;
    report(
      state,
      "RSC208",
      `no layer named '${ref.name}'`,
      ref.loc,
      layer,
      guess ? { hint: `did you mean '${guess}'?` } : {},
    );
  }
  return id;
}

/** Resolves every layer's inputs to ids; a layer with an unresolved input fails. */
function resolveInputs(state: BuildState): void {
  for (const l of state.layers) {
    const ids: number[] = [];
    for (const ref of l.inputs) {
      const id = resolveRef(state, ref, l);
      if (id === undefined) state.failed[l.id] = 1;
      else ids.push(id);
    }
    state.inputs[l.id] = ids;
    if (l.broken) state.failed[l.id] = 1;
  }
}

/** Each layer's attributes against its op's strict schema, and its number of inputs. */
function checkAttrsAndArity(state: BuildState): void {
  const { failed, lenient } = state;
  for (const l of state.layers) {
    if (l.broken) continue;
    const errors = validateAttrs(l.op, l.attrs, l.loc, callSiteNotes(l.callSites));
    if (errors.length > 0) {
      state.diagnostics.push(...errors);
      failed[l.id] = 1;
    }
    const { min, max } = OPS[l.op].arity;
    if (!failed[l.id] && (l.inputs.length < min || l.inputs.length > max)) {
      if (!lenient || l.inputs.length > 0) {
        const want =
          max === min
            ? `${min}`
            : max === Number.POSITIVE_INFINITY
              ? `at least ${min}`
              : `${min} to ${max}`;
        const what =
          l.inputs.length === 0 && min > 0
            ? " (nothing comes before it: add `from:` or an input)"
            : "";
        report(
          state,
          "RSC303",
          `${l.op} takes ${want} input${max === 1 ? "" : "s"}, got ${l.inputs.length}${what}`,
          l.fromLoc ?? l.loc,
          l,
        );
      }
      failed[l.id] = 1;
    }
  }
}

/**
 * Layer ids in topological order (stable: layer order, dependencies first); cycles are reported
 * at the layer whose `from:` closes them, and their layers fail.
 */
function topologicalOrder(state: BuildState): number[] {
  const { layers, names, inputs, failed } = state;
  const n = layers.length;
  const order: number[] = [];
  const visit = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  for (let start = 0; start < n; start++) {
    if (visit[start]) continue;
    const stack: [number, number][] = [[start, 0]];
    visit[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [id, next] = top;
      const deps = inputs[id]!;
      if (next < deps.length) {
        top[1]++;
        const dep = deps[next]!;
        if (visit[dep] === 1) {
          const l = layers[id]!;
          const cycle = stack.slice(stack.findIndex(([s]) => s === dep)).map(([s]) => names[s]!);
          report(
            state,
            "RSC209",
            `cycle in the layer graph: ${[...cycle, names[dep]!].join(" -> ")}`,
            l.fromLoc ?? l.loc,
            l,
          );
          for (const [s] of stack) if (cycle.includes(names[s]!)) failed[s] = 1;
        } else if (visit[dep] === 0) {
          visit[dep] = 1;
          stack.push([dep, 0]);
        }
      } else {
        stack.pop();
        visit[id] = 2;
        order.push(id);
      }
    }
  }
  return order;
}

/**
 * Normalises, infers and names the parameters of each layer in `order`; returns the nodes by id
 * (undefined for a layer that failed or depends on one that did).
 */
function inferShapes(state: BuildState, order: readonly number[]): (Node | undefined)[] {
  const { layers, names, inputs, failed } = state;
  const shapes: (Shape | undefined)[] = new Array(layers.length);
  const nodes: (Node | undefined)[] = new Array(layers.length);
  for (const id of order) {
    const l = layers[id]!;
    const ins = inputs[id]!.map((i) => shapes[i]);
    if (failed[id] || ins.some((s) => s === undefined)) continue;
    const node = inferNode(state, l, names[id]!, ins as Shape[]);
    if (node === undefined) continue;
    shapes[id] = node.outputShape;
    nodes[id] = node;
  }
  return nodes;
}

/** One layer's node, or undefined after reporting its shape or weight-size error. */
function inferNode(
  state: BuildState,
  l: ExpandedLayer,
  name: string,
  ins: readonly Shape[],
): Node | undefined {
  const def = OPS[l.op] as unknown as OpDef;
  const raw: Record<string, unknown> = {};
  for (const [k, a] of l.attrs) raw[k] = a.value;
  const attrs = def.normalize(raw);
  const result = def.infer(ins, attrs);
  if (!result.ok) {
    const at =
      result.attr === "from"
        ? (l.fromLoc ?? l.loc)
        : result.attr !== undefined
          ? (l.attrs.get(result.attr)?.loc ?? l.loc)
          : l.loc;
    const shapesNote = ins.map((s) => `[${s.join(", ")}]`).join(", ");
    report(state, result.code, result.message, at, l, {
      hint: `input shape${ins.length > 1 ? "s" : ""}: ${shapesNote}`,
    });
    return undefined;
  }
  const tooLong = result.shape.findIndex((d) => !Number.isSafeInteger(d) || d > MAX_DIMENSION);
  if (tooLong >= 0) {
    const at = l.op === "input" ? (l.attrs.get("shape")?.loc ?? l.loc) : l.loc;
    report(
      state,
      "RSC311",
      `output dimension ${tooLong} is ${result.shape[tooLong]!.toLocaleString("en-US")}; a dimension may be at most 2^31 - 1 (${MAX_DIMENSION.toLocaleString("en-US")})`,
      at,
      l,
      { hint: `output shape: [${result.shape.join(", ")}]` },
    );
    state.failed[l.id] = 1;
    return undefined;
  }
  const params = nameParams(name, def.params(ins, attrs));
  // Weights are generated, held and indexed as single typed arrays: 2^32 values at most.
  const huge = params.find((p) => shapeSize(p.shape) > MAX_TENSOR_VALUES);
  if (huge !== undefined) {
    report(
      state,
      "RSC306",
      `weight '${huge.name}' [${huge.shape.join(", ")}] has ${shapeSize(huge.shape).toLocaleString("en-US")} values; one weight can have at most 2^32 (${MAX_TENSOR_VALUES.toLocaleString("en-US")})`,
      l.loc,
      l,
    );
    state.failed[l.id] = 1;
    return undefined;
  }
  return {
    name,
    op: l.op,
    inputs: state.inputs[l.id]!.map((i) => state.names[i]!),
    attrs,
    params,
    outputShape: result.shape,
    origin: { file: l.loc.file, line: l.loc.line, column: l.loc.column, callSites: l.callSites },
  } as Node;
}

/** The model's parameter total against MAX_MODEL_PARAMS, reported at the layer that passes it. */
function checkModelSize(
  state: BuildState,
  order: readonly number[],
  nodes: readonly (Node | undefined)[],
): void {
  let total = 0;
  let first: ExpandedLayer | undefined;
  for (const id of order) {
    for (const p of nodes[id]?.params ?? []) total += shapeSize(p.shape);
    if (first === undefined && total > MAX_MODEL_PARAMS) first = state.layers[id];
  }
  if (first === undefined) return;
  report(
    state,
    "RSC312",
    `the model has ${total.toLocaleString("en-US")} parameters; at most 2^32 (${MAX_MODEL_PARAMS.toLocaleString("en-US")}) can be built, and the total passes that at this layer`,
    first.loc,
    first,
  );
}

/** Output names: the `outputs:` references, else the last layer. */
function resolveOutputs(state: BuildState, refs: readonly LayerRef[]): string[] {
  const outputs: string[] = [];
  for (const ref of refs) {
    const id = resolveRef(state, ref);
    if (id !== undefined) outputs.push(state.names[id]!);
  }
  const n = state.layers.length;
  if (refs.length === 0 && n > 0) outputs.push(state.names[n - 1]!);
  return outputs;
}

/** Freezes the graph and its nodes (shallowly: the types are readonly throughout; deep freezing costs more than the rest of the build). */
function freezeGraph(graph: Graph): Graph {
  for (const node of graph.nodes) Object.freeze(node);
  Object.freeze(graph.nodes);
  return Object.freeze(graph);
}
