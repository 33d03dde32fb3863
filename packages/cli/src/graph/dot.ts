/**
 * Graphviz DOT text of a picture: rounded record boxes, top to bottom (or left to right), like
 * Keras's plot_model. Node ids are the boxes' names, so what Graphviz derives from them (SVG
 * titles) reads as layer names; every box and arrow has a tooltip.
 */
import type { Rankdir } from "./formats.js";
import type { Picture } from "./picture.js";

/**
 * Escapes text for a record label field inside a quoted DOT string: `{ } | < >` and backslashes
 * are special to records, `"` to the string.
 */
function recordText(text: string): string {
  return text.replace(/[\\{}|<>"]/g, (c) => `\\${c}`);
}

/** A quoted DOT string of escString text (tooltips): backslashes and quotes escaped, `\n` lines. */
function escString(lines: readonly string[]): string {
  return `"${lines.map((l) => l.replace(/[\\"]/g, (c) => `\\${c}`)).join("\\n")}"`;
}

/**
 * A quoted DOT id. Graphviz takes a quoted id verbatim but for `\"`; a backslash is doubled so
 * that none can escape the closing quote (the id stays unique: doubling is one-to-one).
 */
function dotId(name: string): string {
  return `"${name.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

const PAD = "\u00a0\u00a0";

/** DOT options. */
export interface DotOptions {
  /** `TB` (top to bottom, the default) or `LR` (left to right). */
  readonly rankdir?: Rankdir;
}

/** Renders a picture as DOT. */
export function pictureToDot(picture: Picture, { rankdir = "TB" }: DotOptions = {}): string {
  const out = [
    `digraph ${dotId(picture.name)} {`,
    `  graph [rankdir=${rankdir}, fontname="Helvetica,Arial,sans-serif", nodesep=0.3, ranksep=0.3];`,
    '  node [shape=Mrecord, fontname="Helvetica,Arial,sans-serif", fontsize=10, margin="0.2,0.06", style=filled, fillcolor="#f4f6f8", color="#5b6770"];',
    '  edge [color="#5b6770", arrowsize=0.6];',
  ];
  const idOf = new Map(picture.nodes.map((n) => [n.id, dotId(n.name)]));
  for (const node of picture.nodes) {
    // Graphviz sizes boxes from Helvetica's metrics; viewers often substitute a wider sans
    // (DejaVu on Linux), so no-break spaces keep some slack on both sides of each line.
    const fields = node.fields.map((lines) =>
      lines.map((l) => `${PAD}${recordText(l)}${PAD}`).join("\\n"),
    );
    // A record's fields stack across the rank direction: `{a|b}` stacks them vertically when
    // ranks run top to bottom; left to right, the bare `a|b` does.
    const label = rankdir === "TB" ? `{${fields.join("|")}}` : fields.join("|");
    const fill = node.kind === "block" ? ', fillcolor="#dceaf7", color="#2f6ea5"' : "";
    out.push(
      `  ${idOf.get(node.id)} [label="${label}", tooltip=${escString(node.tooltip)}${fill}];`,
    );
  }
  for (const edge of picture.edges) {
    out.push(
      `  ${idOf.get(edge.from)} -> ${idOf.get(edge.to)} [tooltip=${escString(edge.tooltip)}];`,
    );
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}
