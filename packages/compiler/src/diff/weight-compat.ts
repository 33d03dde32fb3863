/** Which trained weights of the old model load into the new one, by Keras weight name and shape. */

import { stableJson } from "../canonical.js";
import { type Graph, graphParams } from "../ir.js";
import type { WeightCompat, WeightIssue } from "./arch-diff.js";

/** Checks every old weight against the new model's weight of the same name. */
export function weightCompat(
  oldGraph: Graph,
  newGraph: Graph,
  oldToNew: ReadonlyMap<string, string>,
): WeightCompat {
  const oldParams = graphParams(oldGraph);
  const newParams = new Map(graphParams(newGraph).map((p) => [p.name, p]));
  const layerOf = new Map(oldGraph.nodes.flatMap((n) => n.params.map((p) => [p.name, n.name])));
  const missing: WeightIssue[] = [];
  const shapeChanged: WeightIssue[] = [];
  let loads = 0;
  for (const p of oldParams) {
    const q = newParams.get(p.name);
    if (q === undefined) {
      const layer = layerOf.get(p.name)!;
      const renamedTo = oldToNew.get(layer);
      missing.push({
        name: p.name,
        oldShape: p.shape,
        ...(renamedTo !== undefined && renamedTo !== layer ? { renamedTo } : {}),
      });
    } else if (stableJson(p.shape) !== stableJson(q.shape)) {
      shapeChanged.push({ name: p.name, oldShape: p.shape, newShape: q.shape });
    } else {
      loads++;
    }
  }
  const oldNames = new Set(oldParams.map((p) => p.name));
  const fresh = [...newParams.keys()].filter((name) => !oldNames.has(name));
  const verdict = loads === oldParams.length ? "all" : loads === 0 ? "none" : ("partial" as const);
  return { verdict, old: oldParams.length, loads, missing, shapeChanged, fresh };
}
