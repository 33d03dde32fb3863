/**
 * `rsc diff --format markdown`: a compact pull-request comment. Summary line, a table of grouped
 * changes (layers, params and MACs each), input/output changes, the weight verdict, and
 * per-layer detail in `<details>`.
 */
import type { ArchDiff, LayerChange } from "./arch-diff.js";
import {
  describeGroup,
  describeIoChanges,
  describeMissing,
  describeShapeChange,
  describeSummary,
  describeVerdict,
  groupWeightNames,
} from "./describe.js";
import { formatCount, formatDelta, formatShape, formatValue } from "./format-values.js";

/** Rows of a detail table before it is cut short (a PR comment holds at most 65,536 characters). */
const MAX_ROWS = 400;

/** Escapes text for a markdown table cell. */
function cell(text: string): string {
  return arrows(text).replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The shared sentences say `->`; a rendered comment reads better with arrows. */
function arrows(text: string): string {
  return text.replaceAll(" -> ", " → ");
}

const MARK_ICON = { "+": "➕", "-": "➖", "~": "✏️" } as const;
const VERDICT_ICON = { all: "✅", partial: "⚠️", none: "❌" } as const;

/** Renders a diff as a GitHub-flavoured markdown comment, ending with a newline. */
export function renderDiffMarkdown(d: ArchDiff): string {
  const out: string[] = [];
  out.push(`### Architecture diff: \`${d.old.source}\` → \`${d.new.source}\``, "");
  if (d.same) {
    out.push(
      `✅ **Same architecture** (${formatCount(d.new.layers)} layers, ${formatCount(d.new.params.total)} params, ${formatCount(d.new.macs)} MACs).`,
    );
    return `${out.join("\n")}\n`;
  }
  out.push(
    `**${arrows(describeSummary(d))}** · weights: ${VERDICT_ICON[d.weights.verdict]} ${d.weights.verdict === "all" ? "all load" : d.weights.verdict}`,
    "",
  );

  if (d.groups.length > 0) {
    out.push("| | change | layers | params | MACs |", "|---|---|---:|---:|---:|");
    for (const g of d.groups) {
      const desc = describeGroup(g);
      const notes = desc.notes.length > 0 ? `<br><sub>${cell(desc.notes.join("; "))}</sub>` : "";
      out.push(
        `| ${MARK_ICON[desc.mark]} | ${cell(desc.title)}${notes} | ${formatCount(desc.layers)} | ${formatDelta(desc.paramsDelta)} | ${formatDelta(desc.macsDelta)} |`,
      );
    }
    out.push("");
  }

  const io = describeIoChanges(d);
  out.push(
    io.length === 0 ? "**Inputs and outputs:** unchanged" : "**Inputs and outputs:**",
    ...io.map((line) => `- ${arrows(line)}`),
    "",
  );

  const w = d.weights;
  out.push(`**Weights:** ${VERDICT_ICON[w.verdict]} ${arrows(describeVerdict(w))}`, "");
  if (w.missing.length + w.shapeChanged.length > 0) {
    out.push(
      `<details><summary>Old weights that do not load (${formatCount(w.missing.length + w.shapeChanged.length)})</summary>`,
      "",
    );
    for (const m of describeMissing(w.missing).slice(0, MAX_ROWS)) out.push(`- missing: \`${m}\``);
    for (const s of w.shapeChanged.slice(0, MAX_ROWS))
      out.push(`- shape changed: \`${arrows(describeShapeChange(s))}\``);
    if (w.fresh.length > 0) {
      out.push(
        `- fresh: ${groupWeightNames(w.fresh)
          .slice(0, MAX_ROWS)
          .map((n) => `\`${n}\``)
          .join(", ")}`,
      );
    }
    out.push("", "</details>", "");
  }

  const rows = layerRows(d);
  out.push(`<details><summary>Per-layer detail (${formatCount(rows.length)})</summary>`, "");
  out.push(
    "| | layer | op | change | output shape | params | MACs |",
    "|---|---|---|---|---|---:|---:|",
  );
  for (const r of rows.slice(0, MAX_ROWS)) out.push(r.text);
  if (rows.length > MAX_ROWS)
    out.push(`| | … ${formatCount(rows.length - MAX_ROWS)} more | | | | | |`);
  out.push("", "</details>");
  return `${out.join("\n")}\n`;
}

function layerChangeText(c: LayerChange): string {
  const parts: string[] = [];
  if (c.oldName !== undefined) parts.push(`renamed from \`${c.oldName}\``);
  if (c.oldOp !== undefined) parts.push(`op ${c.oldOp} → ${c.op}`);
  for (const a of c.attrs) parts.push(`${a.attr} ${formatValue(a.old)} → ${formatValue(a.new)}`);
  if (c.inputs !== undefined)
    parts.push(`from ${c.inputs.old.join(", ")} → ${c.inputs.new.join(", ")}`);
  if (parts.length === 0) parts.push(c.weightsChanged ? "weight shapes" : "shape");
  return parts.join("; ");
}

/** One table row per added, removed and changed layer, in graph order (removed last). */
function layerRows(d: ArchDiff): { text: string }[] {
  const rows: { text: string }[] = [];
  for (const c of d.layers.changed) {
    const shape =
      c.outputShape !== undefined
        ? `${formatShape(c.outputShape.old)} → ${formatShape(c.outputShape.new)}`
        : "";
    const params =
      c.params.delta !== 0 ? `${formatCount(c.params.old)} → ${formatCount(c.params.new)}` : "";
    const macs =
      c.macs.delta !== 0 ? `${formatCount(c.macs.old)} → ${formatCount(c.macs.new)}` : "";
    rows.push({
      text: `| ✏️ | \`${c.name}\` | ${c.op} | ${cell(layerChangeText(c))} | ${shape} | ${params} | ${macs} |`,
    });
  }
  for (const l of d.layers.added) {
    rows.push({
      text: `| ➕ | \`${l.name}\` | ${l.op} | added | ${formatShape(l.outputShape)} | ${formatDelta(l.params)} | ${formatDelta(l.macs)} |`,
    });
  }
  for (const l of d.layers.removed) {
    rows.push({
      text: `| ➖ | \`${l.name}\` | ${l.op} | removed | ${formatShape(l.outputShape)} | ${formatDelta(-l.params)} | ${formatDelta(-l.macs)} |`,
    });
  }
  return rows;
}
