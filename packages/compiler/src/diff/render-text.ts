/** `rsc diff` human text: one screen, grouped changes first, detail trimmed to a few names. */
import type { ArchDiff } from "./arch-diff.js";
import {
  describeGroup,
  describeIoChanges,
  describeMissing,
  describeShapeChange,
  describeSummary,
  describeVerdict,
  groupWeightNames,
} from "./describe.js";
import { formatDelta, formatNameList } from "./format-values.js";

/** Roles a terminal may colour; the default paints nothing. */
export type TextRole = "added" | "removed" | "changed" | "heading" | "dim" | "good" | "bad";

/** Options of {@link renderDiffText}. */
export interface TextRenderOptions {
  /** Colours a piece of text by role (ANSI on a TTY); identity by default. */
  readonly paint?: (role: TextRole, text: string) => string;
}

/** Renders a diff as plain (optionally coloured) text, ending with a newline. */
export function renderDiffText(d: ArchDiff, options: TextRenderOptions = {}): string {
  const paint = options.paint ?? ((_role: TextRole, text: string) => text);
  const out: string[] = [];
  const header = `${d.old.source} -> ${d.new.source}`;
  if (d.same) {
    out.push(`${paint("heading", header)}: ${paint("good", "same architecture")}`);
    out.push(`${d.new.layers} layers, ${describeSummary(d).replace(/^.*?params /, "params ")}`);
    return `${out.join("\n")}\n`;
  }
  out.push(paint("heading", header));
  out.push(describeSummary(d));

  out.push("", paint("heading", "Changes"));
  if (d.groups.length === 0) out.push("  (none besides inputs and outputs)");
  for (const g of d.groups) {
    const desc = describeGroup(g);
    const role = desc.mark === "+" ? "added" : desc.mark === "-" ? "removed" : "changed";
    const notes = [...desc.notes];
    if (desc.paramsDelta !== 0) notes.push(`params ${formatDelta(desc.paramsDelta)}`);
    if (desc.macsDelta !== 0) notes.push(`MACs ${formatDelta(desc.macsDelta)}`);
    out.push(`  ${paint(role, desc.mark)} ${desc.title}`);
    if (notes.length > 0) out.push(`      ${paint("dim", notes.join("; "))}`);
  }

  out.push("", paint("heading", "Inputs and outputs"));
  const io = describeIoChanges(d);
  out.push(...(io.length === 0 ? ["  unchanged"] : io.map((line) => `  ${line}`)));

  const w = d.weights;
  out.push(
    "",
    `${paint("heading", "Weights")}: ${paint(w.verdict === "all" ? "good" : "bad", describeVerdict(w))}`,
  );
  if (w.missing.length > 0)
    out.push(`  missing in new: ${formatNameList(describeMissing(w.missing))}`);
  if (w.shapeChanged.length > 0)
    out.push(`  shape changed: ${formatNameList(w.shapeChanged.map(describeShapeChange), 2)}`);
  if (w.fresh.length > 0 && w.verdict !== "all")
    out.push(`  fresh: ${formatNameList(groupWeightNames(w.fresh))}`);
  return `${out.join("\n")}\n`;
}
