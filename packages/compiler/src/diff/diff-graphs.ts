/**
 * The architecture diff: Graph x Graph -> ArchDiff. Pure; compares normalised IR values only
 * (op, attributes, inputs, shapes, weights), never source positions, so the same architecture
 * written differently (comments, key order, a template refactor) has no changes.
 */

import { stableJson } from "../canonical.js";
import { graphCost, layerMacs } from "../cost.js";
import { type Graph, graphParamCounts, type Node, nodeParamCounts, type Origin } from "../ir.js";
import { OPS } from "../ops/registry.js";
import {
  ARCH_DIFF_SCHEMA_VERSION,
  type ArchDiff,
  type AttrChange,
  type DiffLayer,
  type DiffOrigin,
  type IoChange,
  type LayerChange,
} from "./arch-diff.js";
import { groupChanges } from "./group-changes.js";
import { isGeneratedName, type LayerMatching, matchLayers } from "./match-layers.js";
import { weightCompat } from "./weight-compat.js";

/** Options of {@link diffGraphs}. */
export interface DiffOptions {
  /** How the old side is named in the output, e.g. `main:specs/resnet50.yaml` (default: model name). */
  readonly oldSource?: string;
  /** How the new side is named in the output (default: model name). */
  readonly newSource?: string;
  /** Maps an origin's file path for display (e.g. make it relative to the repository root). */
  readonly displayFile?: (file: string) => string;
}

/** Compares two architectures. */
export function diffGraphs(oldGraph: Graph, newGraph: Graph, options: DiffOptions = {}): ArchDiff {
  const display = options.displayFile ?? ((f: string) => f);
  const toOrigin = (o: Origin): DiffOrigin => {
    const site = o.callSites[0];
    return {
      file: display(o.file),
      line: o.line,
      ...(site !== undefined
        ? { block: site.block, callSite: { file: display(site.file), line: site.line } }
        : {}),
    };
  };
  const oldMacs = layerMacs(oldGraph);
  const newMacs = layerMacs(newGraph);
  const toLayer =
    (macs: ReadonlyMap<string, number>) =>
    (n: Node): DiffLayer => ({
      name: n.name,
      op: n.op,
      outputShape: n.outputShape,
      params: nodeParamCounts(n).total,
      macs: macs.get(n.name)!,
      origin: toOrigin(n.origin),
    });

  const { oldToNew, newToOld } = matchLayers(oldGraph, newGraph);
  const added = newGraph.nodes.filter((n) => !newToOld.has(n.name));
  const removed = oldGraph.nodes.filter((n) => !oldToNew.has(n.name));
  const oldByName = new Map(oldGraph.nodes.map((n) => [n.name, n]));
  // Where added runs attach (new names) and removed runs attached (old names): a layer rewired
  // only through these was not edited itself; the insertion or removal explains it.
  const attach = {
    added: new Set(added.map((n) => n.name)),
    removed: new Set(removed.map((n) => n.name)),
    feedsAdded: new Set(added.flatMap((n) => n.inputs)),
    fedRemoved: new Set(removed.flatMap((n) => n.inputs)),
  };

  const changed: LayerChange[] = [];
  for (const n of newGraph.nodes) {
    const oldName = newToOld.get(n.name);
    if (oldName === undefined) continue;
    const change = compareLayer(
      oldByName.get(oldName)!,
      n,
      { oldToNew, newToOld },
      attach,
      toOrigin,
      { old: oldMacs.get(oldName)!, new: newMacs.get(n.name)! },
    );
    if (change !== undefined) changed.push(change);
  }

  const io = {
    inputs: compareIo(oldGraph, newGraph, oldGraph.inputs, newGraph.inputs),
    outputs: compareIo(oldGraph, newGraph, oldGraph.outputs, newGraph.outputs),
  };
  const weights = weightCompat(oldGraph, newGraph, oldToNew);
  const paramsOld = graphParamCounts(oldGraph);
  const paramsNew = graphParamCounts(newGraph);
  const delta = paramsNew.total - paramsOld.total;
  const costOld = graphCost(oldGraph);
  const costNew = graphCost(newGraph);
  const layers = {
    added: added.map(toLayer(newMacs)),
    removed: removed.map(toLayer(oldMacs)),
    changed,
  };
  const same =
    added.length === 0 &&
    removed.length === 0 &&
    changed.length === 0 &&
    io.inputs.length === 0 &&
    io.outputs.length === 0;

  return {
    schemaVersion: ARCH_DIFF_SCHEMA_VERSION,
    same,
    old: {
      name: oldGraph.name,
      source: options.oldSource ?? oldGraph.name,
      layers: oldGraph.nodes.length,
      params: paramsOld,
      macs: costOld.macs,
      activationBytes: costOld.activationBytes,
    },
    new: {
      name: newGraph.name,
      source: options.newSource ?? newGraph.name,
      layers: newGraph.nodes.length,
      params: paramsNew,
      macs: costNew.macs,
      activationBytes: costNew.activationBytes,
    },
    summary: {
      layersAdded: added.length,
      layersRemoved: removed.length,
      layersChanged: changed.length,
      layersRenamed: changed.filter((c) => c.oldName !== undefined).length,
      paramsOld: paramsOld.total,
      paramsNew: paramsNew.total,
      paramsDelta: delta,
      paramsDeltaPercent: percent(delta, paramsOld.total),
      macsOld: costOld.macs,
      macsNew: costNew.macs,
      macsDelta: costNew.macs - costOld.macs,
      macsDeltaPercent: percent(costNew.macs - costOld.macs, costOld.macs),
    },
    groups: groupChanges({
      oldGraph,
      newGraph,
      oldToNew,
      newToOld,
      oldMacs,
      newMacs,
      layers,
      io,
      toOrigin,
      displayFile: display,
    }),
    layers,
    io,
    weights,
  };
}

/** `100 * delta / old`, rounded to 2 decimals; null when `old` is 0. */
function percent(delta: number, old: number): number | null {
  return old === 0 ? null : Math.round((10000 * delta) / old) / 100;
}

/**
 * The differences of one matched pair of layers, or undefined when they are the same. A layer's
 * MACs follow from its op, attributes and shapes, so they never differ alone.
 */
function compareLayer(
  o: Node,
  n: Node,
  { oldToNew, newToOld }: LayerMatching,
  attach: {
    readonly added: ReadonlySet<string>;
    readonly removed: ReadonlySet<string>;
    readonly feedsAdded: ReadonlySet<string>;
    readonly fedRemoved: ReadonlySet<string>;
  },
  toOrigin: (o: Origin) => DiffOrigin,
  macs: { readonly old: number; readonly new: number },
): LayerChange | undefined {
  // Renumbered generated names of weightless layers are not a change: nothing refers to them.
  const renamed =
    o.name !== n.name &&
    !(isGeneratedName(o.name, o.op) && isGeneratedName(n.name, n.op) && n.params.length === 0);
  const attrs: AttrChange[] = [];
  if (o.op === n.op) {
    // An attribute the IR leaves out at its default (`groups`, `keepdims`, `noise_shape`) reads
    // as that default, not as undefined.
    const defaults = OPS[o.op].defaults;
    const value = (a: Record<string, unknown>, attr: string) =>
      attr in a ? a[attr] : defaults[attr];
    const oa = o.attrs as Record<string, unknown>;
    const na = n.attrs as Record<string, unknown>;
    for (const attr of [...new Set([...Object.keys(na), ...Object.keys(oa)])]) {
      const [ov, nv] = [value(oa, attr), value(na, attr)];
      if (stableJson(ov) !== stableJson(nv)) attrs.push({ attr, old: ov, new: nv });
    }
  }
  const mapped = o.inputs.map((i) => oldToNew.get(i));
  let inputs: LayerChange["inputs"];
  if (mapped.length !== n.inputs.length || mapped.some((m, i) => m !== n.inputs[i])) {
    const kept = new Set(mapped);
    const viaAddedOrRemoved =
      n.inputs.every(
        (i) => kept.has(i) || attach.added.has(i) || attach.fedRemoved.has(newToOld.get(i) ?? ""),
      ) &&
      o.inputs.every((i, k) => {
        const m = mapped[k];
        return (
          attach.removed.has(i) ||
          (m !== undefined && (n.inputs.includes(m) || attach.feedsAdded.has(m)))
        );
      });
    inputs = { old: o.inputs, new: n.inputs, viaAddedOrRemoved };
  }
  const shapeChanged = stableJson(o.outputShape) !== stableJson(n.outputShape);
  const weightsOf = (x: Node) => stableJson(x.params.map((p) => [p.suffix, p.shape]));
  const weightsChanged = weightsOf(o) !== weightsOf(n);
  const own = renamed || o.op !== n.op || attrs.length > 0 || inputs !== undefined;
  if (!own && !shapeChanged && !weightsChanged) return undefined;
  const po = nodeParamCounts(o).total;
  const pn = nodeParamCounts(n).total;
  return {
    name: n.name,
    ...(renamed ? { oldName: o.name } : {}),
    op: n.op,
    ...(o.op !== n.op ? { oldOp: o.op } : {}),
    attrs,
    ...(inputs !== undefined ? { inputs } : {}),
    ...(shapeChanged ? { outputShape: { old: o.outputShape, new: n.outputShape } } : {}),
    params: { old: po, new: pn, delta: pn - po },
    macs: { old: macs.old, new: macs.new, delta: macs.new - macs.old },
    weightsChanged,
    cause: own ? "own" : "derived",
    origin: toOrigin(n.origin),
  };
}

/** Model inputs or outputs compared by position: name and shape. */
function compareIo(
  oldGraph: Graph,
  newGraph: Graph,
  oldNames: readonly string[],
  newNames: readonly string[],
): IoChange[] {
  const shapeOf = (g: Graph, name: string | undefined) =>
    name === undefined ? undefined : g.nodes.find((n) => n.name === name)?.outputShape;
  const out: IoChange[] = [];
  for (let index = 0; index < Math.max(oldNames.length, newNames.length); index++) {
    const oldName = oldNames[index];
    const newName = newNames[index];
    const oldShape = shapeOf(oldGraph, oldName);
    const newShape = shapeOf(newGraph, newName);
    if (oldName === newName && stableJson(oldShape) === stableJson(newShape)) continue;
    out.push({
      index,
      ...(oldName !== undefined ? { oldName } : {}),
      ...(newName !== undefined ? { newName } : {}),
      ...(oldShape !== undefined ? { oldShape } : {}),
      ...(newShape !== undefined ? { newShape } : {}),
    });
  }
  return out;
}
