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
import { type Graph, type Node, type Shape, shapeSize } from "./ir.js";
import { DefaultNamer } from "./naming.js";
import { OPS } from "./ops/registry.js";
import { nameParams, type OpDef } from "./ops/types.js";
import { validateAttrs } from "./validate.js";
import { MAX_TENSOR_VALUES } from "./weights.js";

/** The graph (when every layer built) and the diagnostics of building it. */
export interface BuildResult {
  readonly graph?: Graph;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Builds the IR from an expanded model. With `lenient` (expansion already reported errors),
 * reference and arity errors that are likely consequences are not reported again.
 */
export function buildGraph(model: ExpandedModel, lenient = false): BuildResult {
  const diagnostics: Diagnostic[] = [];
  const report = (
    code: DiagnosticCode,
    message: string,
    loc: SourceLocation,
    layer?: ExpandedLayer,
    details: Omit<ErrorDetails, "callSites"> = {},
  ) => {
    diagnostics.push(locatedError(code, message, loc, { ...details, callSites: layer?.callSites }));
  };
  const layers = model.layers;
  const n = layers.length;
  const failed = new Uint8Array(n);

  // Names: explicit ones first (a clash is an error at the second), then defaults.
  const names: string[] = new Array(n);
  const byName = new Map<string, number>();
  for (const l of layers) {
    if (l.name === undefined) continue;
    const first = byName.get(l.name);
    if (first !== undefined) {
      const f = layers[first]!;
      report("RSC207", `duplicate layer name '${l.name}'`, l.nameLoc ?? l.loc, l, {
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

  // References.
  const resolveRef = (ref: LayerRef, layer?: ExpandedLayer): number | undefined => {
    if (ref.kind === "id") return ref.id;
    if (ref.kind === "poison") return undefined;
    const id = byName.get(ref.name);
    if (id === undefined && !lenient) {
      const guess = closest(ref.name, byName.keys());
      report(
        "RSC208",
        `no layer named '${ref.name}'`,
        ref.loc,
        layer,
        guess ? { hint: `did you mean '${guess}'?` } : {},
      );
    }
    return id;
  };
  const inputs: number[][] = new Array(n);
  for (const l of layers) {
    const ids: number[] = [];
    for (const ref of l.inputs) {
      const id = resolveRef(ref, l);
      if (id === undefined) failed[l.id] = 1;
      else ids.push(id);
    }
    inputs[l.id] = ids;
    if (l.broken) failed[l.id] = 1;
  }

  // Strict attributes and arity.
  for (const l of layers) {
    if (l.broken) continue;
    const errors = validateAttrs(l.op, l.attrs, l.loc, callSiteNotes(l.callSites));
    if (errors.length > 0) {
      diagnostics.push(...errors);
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
          "RSC303",
          `${l.op} takes ${want} input${max === 1 ? "" : "s"}, got ${l.inputs.length}${what}`,
          l.fromLoc ?? l.loc,
          l,
        );
      }
      failed[l.id] = 1;
    }
  }

  // Topological order (stable: layer order, dependencies first); cycles reported at the layer
  // whose `from:` closes them.
  const order: number[] = [];
  const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  for (let start = 0; start < n; start++) {
    if (state[start]) continue;
    const stack: [number, number][] = [[start, 0]];
    state[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [id, next] = top;
      const deps = inputs[id]!;
      if (next < deps.length) {
        top[1]++;
        const dep = deps[next]!;
        if (state[dep] === 1) {
          const l = layers[id]!;
          const cycle = stack.slice(stack.findIndex(([s]) => s === dep)).map(([s]) => names[s]!);
          report(
            "RSC209",
            `cycle in the layer graph: ${[...cycle, names[dep]!].join(" -> ")}`,
            l.fromLoc ?? l.loc,
            l,
          );
          for (const [s] of stack) if (cycle.includes(names[s]!)) failed[s] = 1;
        } else if (state[dep] === 0) {
          state[dep] = 1;
          stack.push([dep, 0]);
        }
      } else {
        stack.pop();
        state[id] = 2;
        order.push(id);
      }
    }
  }

  // Inference.
  const shapes: (Shape | undefined)[] = new Array(n);
  const nodes: (Node | undefined)[] = new Array(n);
  for (const id of order) {
    const l = layers[id]!;
    const ins = inputs[id]!.map((i) => shapes[i]);
    if (failed[id] || ins.some((s) => s === undefined)) continue;
    const def = OPS[l.op] as unknown as OpDef;
    const raw: Record<string, unknown> = {};
    for (const [k, a] of l.attrs) raw[k] = a.value;
    const attrs = def.normalize(raw);
    const result = def.infer(ins as Shape[], attrs);
    if (!result.ok) {
      const at =
        result.attr === "from"
          ? (l.fromLoc ?? l.loc)
          : result.attr !== undefined
            ? (l.attrs.get(result.attr)?.loc ?? l.loc)
            : l.loc;
      const shapesNote = ins.map((s) => `[${s!.join(", ")}]`).join(", ");
      report(result.code, result.message, at, l, {
        hint: `input shape${ins.length > 1 ? "s" : ""}: ${shapesNote}`,
      });
      continue;
    }
    const params = nameParams(names[id]!, def.params(ins as Shape[], attrs));
    // Weights are generated, held and indexed as single typed arrays: 2^32 values at most.
    const huge = params.find((p) => shapeSize(p.shape) > MAX_TENSOR_VALUES);
    if (huge !== undefined) {
      report(
        "RSC306",
        `weight '${huge.name}' [${huge.shape.join(", ")}] has ${shapeSize(huge.shape).toLocaleString("en-US")} values; one weight can have at most 2^32 (${MAX_TENSOR_VALUES.toLocaleString("en-US")})`,
        l.loc,
        l,
      );
      failed[id] = 1;
      continue;
    }
    shapes[id] = result.shape;
    nodes[id] = {
      name: names[id]!,
      op: l.op,
      inputs: inputs[id]!.map((i) => names[i]!),
      attrs,
      params,
      outputShape: result.shape,
      origin: { file: l.loc.file, line: l.loc.line, column: l.loc.column, callSites: l.callSites },
    } as Node;
  }

  const outputs: string[] = [];
  for (const ref of model.outputs) {
    const id = resolveRef(ref);
    if (id !== undefined) outputs.push(names[id]!);
  }
  if (model.outputs.length === 0 && n > 0) outputs.push(names[n - 1]!);

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

/** Freezes the graph and its nodes (shallowly: the types are readonly throughout; deep freezing costs more than the rest of the build). */
function freezeGraph(graph: Graph): Graph {
  for (const node of graph.nodes) Object.freeze(node);
  Object.freeze(graph.nodes);
  return Object.freeze(graph);
}
