/**
 * Groups per-layer changes by the edit that made them, so that one template edit reads as one
 * item: identical own changes (same op, same attribute old -> new, same rename pattern) form one
 * group; added or removed layers form runs, recognised as whole block instances when they are;
 * shape changes that only follow from upstream changes form one `derived` group.
 */

import { stableJson } from "../canonical.js";
import { type Graph, type Node, nodeParamCounts, type Origin } from "../ir.js";
import type {
  AddedRemovedGroup,
  ChangedGroup,
  ChangeGroup,
  DerivedGroup,
  DiffLayers,
  DiffOrigin,
  IoDiff,
  LayerChange,
} from "./arch-diff.js";
import { blockInstances } from "./block-instances.js";
import { renamePattern } from "./format-values.js";

/** What {@link groupChanges} needs from the diff. */
export interface GroupInput {
  readonly oldGraph: Graph;
  readonly newGraph: Graph;
  readonly oldToNew: ReadonlyMap<string, string>;
  readonly newToOld: ReadonlyMap<string, string>;
  /** MACs of every layer of the old model, by name. */
  readonly oldMacs: ReadonlyMap<string, number>;
  /** MACs of every layer of the new model, by name. */
  readonly newMacs: ReadonlyMap<string, number>;
  readonly layers: DiffLayers;
  readonly io: IoDiff;
  readonly toOrigin: (o: Origin) => DiffOrigin;
  /** Maps a source path for display. */
  readonly displayFile: (file: string) => string;
}

/** True when a changed layer has an own change other than reading from added/removed layers. */
function hasOwnEdit(c: LayerChange): boolean {
  return (
    c.oldName !== undefined ||
    c.oldOp !== undefined ||
    c.attrs.length > 0 ||
    (c.inputs !== undefined && !c.inputs.viaAddedOrRemoved)
  );
}

/** Groups the changes of a diff, in reading order: edits, additions, removals, consequences. */
export function groupChanges(input: GroupInput): ChangeGroup[] {
  const { newGraph, layers } = input;
  const newNodes = new Map(newGraph.nodes.map((n) => [n.name, n]));
  const edited = layers.changed.filter((c) => c.op !== "input" && hasOwnEdit(c));
  const groups: ChangeGroup[] = [...changedGroups(edited, newNodes, input.toOrigin)];
  groups.push(...runGroups("added", newGraph, new Set(layers.added.map((l) => l.name)), input));
  groups.push(
    ...runGroups("removed", input.oldGraph, new Set(layers.removed.map((l) => l.name)), input),
  );
  const derived = derivedGroup(input, new Set(edited.map((c) => c.name)));
  if (derived !== undefined) groups.push(derived);
  return groups;
}

function sharedOrigin(nodes: readonly Node[], toOrigin: GroupInput["toOrigin"]) {
  const first = nodes[0]!.origin;
  const same = nodes.every(
    (n) =>
      n.origin.file === first.file &&
      n.origin.line === first.line &&
      n.origin.callSites[0]?.block === first.callSites[0]?.block,
  );
  return same ? toOrigin(first) : undefined;
}

function changedGroups(
  edited: readonly LayerChange[],
  newNodes: ReadonlyMap<string, Node>,
  toOrigin: GroupInput["toOrigin"],
): ChangedGroup[] {
  const bySignature = new Map<string, LayerChange[]>();
  for (const c of edited) {
    const rename = c.oldName === undefined ? undefined : renamePattern(c.oldName, c.name);
    const inputs = c.inputs?.viaAddedOrRemoved === false ? c.inputs : undefined;
    // A rename alone is one edit of a naming pattern, whatever the layers' ops.
    const renameOnly = rename !== undefined && c.attrs.length === 0 && !c.oldOp && !inputs;
    const signature = stableJson([
      renameOnly ? undefined : c.op,
      c.oldOp,
      c.attrs,
      rename,
      inputs && [inputs.old, inputs.new],
    ]);
    bySignature.set(signature, [...(bySignature.get(signature) ?? []), c]);
  }
  return [...bySignature.values()].map((changes) => {
    const first = changes[0]!;
    const origin = sharedOrigin(
      changes.map((c) => newNodes.get(c.name)!),
      toOrigin,
    );
    const inputs = first.inputs?.viaAddedOrRemoved === false ? first.inputs : undefined;
    return {
      kind: "changed",
      ops: [...new Set(changes.map((c) => c.op))],
      ...(first.oldOp !== undefined ? { oldOp: first.oldOp } : {}),
      attrs: first.attrs,
      ...(first.oldName !== undefined ? { rename: renamePattern(first.oldName, first.name) } : {}),
      ...(inputs !== undefined ? { inputs: { old: inputs.old, new: inputs.new } } : {}),
      layers: changes.map((c) => c.name),
      ...(first.oldName !== undefined ? { oldLayers: changes.map((c) => c.oldName!) } : {}),
      paramsDelta: changes.reduce((s, c) => s + c.params.delta, 0),
      macsDelta: changes.reduce((s, c) => s + c.macs.delta, 0),
      ...(origin !== undefined ? { origin } : {}),
    };
  });
}

/** Added (or removed) layers: contiguous runs, identical runs merged, block instances named. */
function runGroups(
  kind: "added" | "removed",
  graph: Graph,
  unmatched: ReadonlySet<string>,
  { toOrigin, displayFile, oldMacs, newMacs }: GroupInput,
): AddedRemovedGroup[] {
  const macs = kind === "added" ? newMacs : oldMacs;
  if (unmatched.size === 0) return [];
  const runs: Node[][] = [];
  let run: Node[] | undefined;
  for (const n of graph.nodes) {
    if (!unmatched.has(n.name)) {
      run = undefined;
      continue;
    }
    if (run === undefined) {
      run = [];
      runs.push(run);
    }
    run.push(n);
  }
  const place = (n: Node) =>
    `${n.op}@${n.origin.file}:${n.origin.line}:${n.origin.callSites[0]?.block ?? ""}`;
  const merged = new Map<string, Node[][]>();
  for (const r of runs) {
    const signature = r.map(place).join("|");
    merged.set(signature, [...(merged.get(signature) ?? []), r]);
  }

  const instances = blockInstances(graph);
  const instanceOf = new Map<string, number>();
  instances.forEach((inst, i) => {
    for (const name of inst.nodes) instanceOf.set(name, i);
  });
  const consumers = new Map<string, string[]>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n.name]);
  }

  return [...merged.values()].map((sameRuns) => {
    const nodes = sameRuns.flat();
    const names = new Set(nodes.map((n) => n.name));
    const firstRun = new Set(sameRuns[0]!.map((n) => n.name));
    const after = unique(
      sameRuns[0]!.flatMap((n) => n.inputs).filter((i) => !firstRun.has(i) && !unmatched.has(i)),
    );
    const before = unique(
      sameRuns[0]!
        .flatMap((n) => consumers.get(n.name) ?? [])
        .filter((c) => !firstRun.has(c) && !unmatched.has(c)),
    );
    // Whole instances: every node in an instance, and every node of those instances in the group.
    const touched = unique(nodes.map((n) => instanceOf.get(n.name) ?? -1));
    const whole =
      !touched.includes(-1) &&
      touched.every((i) => instances[i]!.nodes.every((name) => names.has(name)));
    const blocksOf = whole ? touched.map((i) => instances[i]!) : [];
    const oneBlock = blocksOf.length > 0 && blocksOf.every((b) => b.block === blocksOf[0]!.block);
    let origin = sharedOrigin(nodes, toOrigin);
    if (origin === undefined && oneBlock) {
      const site = blocksOf[0]!.callSite;
      if (blocksOf.every((b) => b.callSite.file === site.file && b.callSite.line === site.line))
        origin = {
          file: displayFile(site.file),
          line: site.line,
          block: blocksOf[0]!.block,
        };
    }
    return {
      kind,
      layers: nodes.map((n) => n.name),
      ops: sameRuns[0]!.map((n) => n.op),
      runs: sameRuns.length,
      ...(oneBlock
        ? {
            blocks: {
              block: blocksOf[0]!.block,
              instances: blocksOf.length,
              first: blocksOf[0]!.label,
              last: blocksOf.at(-1)!.label,
            },
          }
        : {}),
      ...(origin !== undefined ? { origin } : {}),
      params: nodes.reduce((s, n) => s + nodeParamCounts(n).total, 0),
      macs: nodes.reduce((s, n) => s + macs.get(n.name)!, 0),
      after,
      before,
    };
  });
}

function derivedGroup(input: GroupInput, edited: ReadonlySet<string>): DerivedGroup | undefined {
  const derived = input.layers.changed.filter(
    (c) =>
      c.op !== "input" && !edited.has(c.name) && (c.outputShape !== undefined || c.weightsChanged),
  );
  if (derived.length === 0) return undefined;
  const inputChange = input.io.inputs.find(
    (c) =>
      c.oldShape !== undefined &&
      c.newShape !== undefined &&
      stableJson(c.oldShape) !== stableJson(c.newShape),
  );
  const reshaped = new Set(
    input.layers.changed
      .filter((c) => c.op !== "input" && c.outputShape !== undefined)
      .map((c) => c.name),
  );
  const added = new Set(input.layers.added.map((l) => l.name));
  const unchangedShapes = input.newGraph.nodes
    .filter((n) => n.op !== "input" && !reshaped.has(n.name) && !added.has(n.name))
    .map((n) => n.name);
  return {
    kind: "derived",
    reshaped: reshaped.size,
    layers: derived.map((c) => c.name),
    shapesChanged: derived.filter((c) => c.outputShape !== undefined).length,
    weightsChanged: derived.filter((c) => c.weightsChanged).map((c) => c.name),
    paramsDelta: derived.reduce((s, c) => s + c.params.delta, 0),
    macsDelta: derived.reduce((s, c) => s + c.macs.delta, 0),
    ...(inputChange !== undefined
      ? {
          inputChange: {
            name: inputChange.newName ?? inputChange.oldName!,
            old: inputChange.oldShape!,
            new: inputChange.newShape!,
          },
        }
      : {}),
    everyShape: unchangedShapes.length === 0,
    unchangedShapes,
  };
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
