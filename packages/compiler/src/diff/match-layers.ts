/**
 * Pairs the layers of two graphs. Layers are matched by name, with two exceptions that keep a
 * diff about the edit rather than about its side effects:
 * - Keras-style generated names (`activation_12`, `add_3`) are renumbered by any layer inserted
 *   before them, so such layers are matched by position instead: same op, inputs matched.
 * - An explicitly named layer whose name no longer exists is paired with the one unmatched layer
 *   of the same op reading the same (matched) inputs: a rename, possibly with other changes.
 */
import type { Graph, Node } from "../ir.js";

/** The pairing of old and new layers. */
export interface LayerMatching {
  /** Old layer name -> new layer name. */
  readonly oldToNew: ReadonlyMap<string, string>;
  /** New layer name -> old layer name. */
  readonly newToOld: ReadonlyMap<string, string>;
}

/** True when `name` looks like a name Keras (and rsc) generates for an unnamed layer of `op`. */
export function isGeneratedName(name: string, op: string): boolean {
  if (!name.startsWith(op)) return false;
  const rest = name.slice(op.length);
  return rest === "" || /^_\d+$/.test(rest);
}

const NO_MATCH = "\u0000";

/** Matches layers by name, generated names by position, renames by position and op. */
export function matchLayers(oldGraph: Graph, newGraph: Graph): LayerMatching {
  const oldToNew = new Map<string, string>();
  const newToOld = new Map<string, string>();
  const oldByName = new Map(oldGraph.nodes.map((n) => [n.name, n]));
  const generated = (n: Node) => isGeneratedName(n.name, n.op);

  for (const n of newGraph.nodes) {
    const o = oldByName.get(n.name);
    if (o !== undefined && !(generated(o) && generated(n))) {
      oldToNew.set(o.name, n.name);
      newToOld.set(n.name, o.name);
    }
  }

  // Unmatched old layers indexed by op and inputs; a key is only usable once its inputs are matched.
  const key = (op: string, inputs: readonly string[]) => `${op}(${inputs.join(",")})`;
  const candidates = new Map<string, Node[]>();
  for (const o of oldGraph.nodes) {
    if (oldToNew.has(o.name)) continue;
    const k = key(o.op, o.inputs);
    const list = candidates.get(k);
    if (list === undefined) candidates.set(k, [o]);
    else list.push(o);
  }

  // New nodes are in topological order, so every input is decided before its consumers.
  for (const n of newGraph.nodes) {
    if (newToOld.has(n.name)) continue;
    const inputs = n.inputs.map((i) => newToOld.get(i) ?? NO_MATCH);
    if (inputs.includes(NO_MATCH)) continue;
    const list = (candidates.get(key(n.op, inputs)) ?? []).filter((o) => !oldToNew.has(o.name));
    // A generated name takes the first layer at that place; a rename must be unambiguous.
    const pick = generated(n)
      ? list.find(generated)
      : list.length === 1 && !generated(list[0]!)
        ? list[0]
        : undefined;
    if (pick !== undefined) {
      oldToNew.set(pick.name, n.name);
      newToOld.set(n.name, pick.name);
    }
  }
  return { oldToNew, newToOld };
}
