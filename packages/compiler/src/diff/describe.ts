/**
 * Sentences shared by the text and markdown renderings of an {@link ArchDiff}: one per change
 * group, input/output change, and weight verdict. Plain text; renderers add colour or markup.
 */
import type { Shape } from "../tensor.js";
import type {
  ArchDiff,
  AttrChange,
  ChangeGroup,
  DiffOrigin,
  IoChange,
  WeightCompat,
  WeightIssue,
} from "./arch-diff.js";
import {
  formatCount,
  formatDelta,
  formatNameList,
  formatPercent,
  formatShape,
  formatValue,
  plural,
} from "./format-values.js";

/** `+` added, `-` removed, `~` changed. */
export type ChangeMark = "+" | "-" | "~";

/** One change group in words. */
export interface GroupDescription {
  readonly mark: ChangeMark;
  /** What changed where, e.g. `kernel_size 3x3 -> 5x5 in 16 conv2d layers: res2a_branch2b, …`. */
  readonly title: string;
  /** Number of layers in the group. */
  readonly layers: number;
  /** Parameter change of the group (signed). */
  readonly paramsDelta: number;
  /** Multiply-accumulate change of the group for one example (signed). */
  readonly macsDelta: number;
  /** Extra context: template origin, attachment points. */
  readonly notes: readonly string[];
}

/** `from block `bottleneck` (specs/blocks/resnet.yaml:12)` or `from specs/x.yaml:7`. */
function describeOrigin(o: DiffOrigin): string {
  return o.block !== undefined
    ? `from block \`${o.block}\` (${o.file}:${o.line})`
    : `from ${o.file}:${o.line}`;
}

function attrText(a: AttrChange): string {
  return `${a.attr} ${formatValue(a.old)} -> ${formatValue(a.new)}`;
}

const list = (names: readonly string[]) => `[${names.join(", ")}]`;

/** Describes one change group. */
export function describeGroup(g: ChangeGroup): GroupDescription {
  switch (g.kind) {
    case "changed": {
      const parts: string[] = [];
      if (g.oldOp !== undefined) parts.push(`op ${g.oldOp} -> ${g.ops[0]}`);
      if (g.rename !== undefined) {
        const [o, n] = [g.oldLayers![0]!, g.layers[0]!];
        parts.push(g.layers.length === 1 ? `renamed from ${o}` : `renamed (${o} -> ${n}, …)`);
      }
      parts.push(...g.attrs.map(attrText));
      if (g.inputs !== undefined) parts.push(`from ${list(g.inputs.old)} -> ${list(g.inputs.new)}`);
      const kind = g.ops.length === 1 ? `${g.ops[0]} layer` : "layer";
      const title =
        g.layers.length === 1
          ? `${g.layers[0]} (${g.ops[0]}): ${parts.join(", ")}`
          : `${parts.join(", ")} in ${plural(g.layers.length, kind)}: ${formatNameList(g.layers)}`;
      return {
        mark: "~",
        title,
        layers: g.layers.length,
        paramsDelta: g.paramsDelta,
        macsDelta: g.macsDelta,
        notes: g.origin !== undefined && g.layers.length > 1 ? [describeOrigin(g.origin)] : [],
      };
    }
    case "added":
    case "removed": {
      const mark = g.kind === "added" ? "+" : "-";
      const n = g.layers.length;
      let title: string;
      if (g.blocks !== undefined) {
        const b = g.blocks;
        const labels = b.instances === 1 ? b.first : `${b.first}..${b.last}`;
        title = `${plural(b.instances, `${b.block} block`)} ${labels} (${plural(n, "layer")})`;
      } else if (g.runs > 1) {
        const ops = [...new Set(g.ops)].join(", ");
        title = `${ops} in ${plural(g.runs, "place")} (${plural(n, "layer")}): ${formatNameList(g.layers)}`;
      } else {
        title = `${plural(n, "layer")}: ${formatNameList(g.layers)}`;
      }
      const notes: string[] = [];
      if (g.origin !== undefined) {
        notes.push(
          g.blocks !== undefined && g.origin.block !== undefined && g.runs === 1
            ? `called at ${g.origin.file}:${g.origin.line}`
            : describeOrigin(g.origin),
        );
      }
      const attach: string[] = [];
      if (g.after.length > 0) attach.push(`after ${formatNameList(g.after)}`);
      if (g.before.length > 0)
        attach.push(`${g.kind === "added" ? "feeding" : "fed"} ${formatNameList(g.before)}`);
      if (attach.length > 0) notes.push(attach.join(", "));
      return {
        mark,
        title,
        layers: n,
        paramsDelta: g.kind === "added" ? g.params : -g.params,
        macsDelta: g.kind === "added" ? g.macs : -g.macs,
        notes,
      };
    }
    case "derived": {
      const n = g.weightsChanged.length;
      const weights =
        n === 0
          ? ""
          : `; weights of ${n <= 3 ? g.weightsChanged.join(", ") : plural(n, "layer")} changed shape`;
      if (g.inputChange !== undefined) {
        const cause = `input ${g.inputChange.name} ${formatShape(g.inputChange.old)} -> ${formatShape(g.inputChange.new)}`;
        const title = g.everyShape
          ? `every shape changed: ${cause}; ${plural(g.reshaped, "layer")}`
          : `${cause} changed the output shapes of ${plural(g.reshaped, "layer")} (all but ${formatNameList(g.unchangedShapes)})`;
        return {
          mark: "~",
          title: `${title}${weights}`,
          layers: g.layers.length,
          paramsDelta: g.paramsDelta,
          macsDelta: g.macsDelta,
          notes: [],
        };
      }
      return {
        mark: "~",
        title: `shapes follow upstream changes in ${plural(g.layers.length, "layer")}: ${formatNameList(g.layers)}${weights}`,
        layers: g.layers.length,
        paramsDelta: g.paramsDelta,
        macsDelta: g.macsDelta,
        notes: [],
      };
    }
  }
}

/**
 * `params 23,587,712 -> 42,658,176 (+19,070,464, +80.8%)`, or `params 23,587,712 (unchanged)`; a
 * change that rounds to 0.00% reads `+<0.01%`, so it never looks like none.
 */
function describeTotal(what: string, old: number, now: number, percent: number | null): string {
  if (old === now) return `${what} ${formatCount(now)} (unchanged)`;
  const tiny = percent === 0 ? `${now > old ? "+" : "-"}<0.01%` : undefined;
  return `${what} ${formatCount(old)} -> ${formatCount(now)} (${formatDelta(now - old)}, ${tiny ?? formatPercent(percent)})`;
}

/**
 * `layers +170 -0 ~2, params 23,600,006 -> 42,670,470 (+19,070,464, +80.8%), MACs 308,178,944
 * -> 471,990,016 (+163,811,072, +53.2%)`.
 */
export function describeSummary(d: ArchDiff): string {
  const s = d.summary;
  const params = describeTotal("params", s.paramsOld, s.paramsNew, s.paramsDeltaPercent);
  const macs = describeTotal("MACs", s.macsOld, s.macsNew, s.macsDeltaPercent);
  return `layers +${s.layersAdded} -${s.layersRemoved} ~${s.layersChanged}, ${params}, ${macs}`;
}

const shapeText = (shape: Shape | undefined) => (shape === undefined ? "?" : formatShape(shape));

/** One sentence per input change, then one per output change (see {@link describeIo}). */
export function describeIoChanges(d: ArchDiff): string[] {
  return [
    ...d.io.inputs.map((c) => describeIo("input", c)),
    ...d.io.outputs.map((c) => describeIo("output", c)),
  ];
}

/** `input 0: input_1 64x64x3 -> 128x128x3`, `output 0: fc6 6 -> fc10 10`, `output 1: added y 10`. */
function describeIo(kind: "input" | "output", c: IoChange): string {
  const head = `${kind} ${c.index}:`;
  if (c.oldName === undefined) return `${head} added ${c.newName} ${shapeText(c.newShape)}`;
  if (c.newName === undefined) return `${head} removed ${c.oldName} ${shapeText(c.oldShape)}`;
  if (c.oldName === c.newName)
    return `${head} ${c.newName} ${shapeText(c.oldShape)} -> ${shapeText(c.newShape)}`;
  return `${head} ${c.oldName} ${shapeText(c.oldShape)} -> ${c.newName} ${shapeText(c.newShape)}`;
}

/** The one-line weight verdict. */
export function describeVerdict(w: WeightCompat): string {
  const fresh = w.fresh.length > 0 ? `; ${plural(w.fresh.length, "new weight")} start fresh` : "";
  if (w.verdict === "all")
    return `all ${plural(w.old, "old weight")} load by name and shape${fresh}`;
  if (w.verdict === "none") return `none of the ${plural(w.old, "old weight")} loads${fresh}`;
  const problems = [
    w.missing.length > 0 ? `${formatCount(w.missing.length)} missing` : "",
    w.shapeChanged.length > 0 ? `${formatCount(w.shapeChanged.length)} changed shape` : "",
  ].filter((p) => p !== "");
  return `partial: ${formatCount(w.loads)} of ${plural(w.old, "old weight")} load (${problems.join(", ")})${fresh}`;
}

/** Weight names grouped by layer: `conv1/{kernel, bias}`, `fc/kernel`. */
export function groupWeightNames(names: readonly string[]): string[] {
  const byLayer = new Map<string, string[]>();
  for (const name of names) {
    const slash = name.lastIndexOf("/");
    const layer = name.slice(0, slash);
    byLayer.set(layer, [...(byLayer.get(layer) ?? []), name.slice(slash + 1)]);
  }
  return [...byLayer].map(([layer, suffixes]) =>
    suffixes.length === 1 ? `${layer}/${suffixes[0]}` : `${layer}/{${suffixes.join(", ")}}`,
  );
}

/** `res2a_branch2b/kernel 3x3x64x64 -> 5x5x64x64`. */
export function describeShapeChange(w: WeightIssue): string {
  return `${w.name} ${formatShape(w.oldShape)} -> ${shapeText(w.newShape)}`;
}

/** Missing weights grouped by layer, with the layer's new name when it was renamed. */
export function describeMissing(missing: readonly WeightIssue[]): string[] {
  const renamed = new Map(
    missing.map((w) => [w.name.slice(0, w.name.lastIndexOf("/")), w.renamedTo]),
  );
  return groupWeightNames(missing.map((w) => w.name)).map((text) => {
    const layer = text.slice(0, text.lastIndexOf("/"));
    const to = renamed.get(layer);
    return to !== undefined ? `${text} (layer renamed ${to})` : text;
  });
}
