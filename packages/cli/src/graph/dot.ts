/** Graphviz DOT text of a picture: rounded record boxes, top to bottom, like Keras's plot_model. */
import type { Picture } from "./picture.js";

/** Escapes text for a record label field (`{ } | < > "` and backslashes are special there). */
function recordText(text: string): string {
  return text.replace(/[\\{}|<>"]/g, (c) => `\\${c}`);
}

const PAD = "\u00a0\u00a0";

/** Renders a picture as DOT. */
export function pictureToDot(picture: Picture): string {
  const out = [
    `digraph ${JSON.stringify(picture.name)} {`,
    '  graph [rankdir=TB, fontname="Helvetica,Arial,sans-serif", nodesep=0.3, ranksep=0.3];',
    '  node [shape=Mrecord, fontname="Helvetica,Arial,sans-serif", fontsize=10, margin="0.2,0.06", style=filled, fillcolor="#f4f6f8", color="#5b6770"];',
    '  edge [color="#5b6770", arrowsize=0.6];',
  ];
  for (const node of picture.nodes) {
    // Graphviz sizes boxes from Helvetica's metrics; viewers often substitute a wider sans
    // (DejaVu on Linux), so no-break spaces keep some slack on both sides of each line.
    const label = `{${node.lines.map((l) => `${PAD}${recordText(l)}${PAD}`).join("|")}}`;
    const fill = node.kind === "block" ? ', fillcolor="#dceaf7", color="#2f6ea5"' : "";
    out.push(`  ${node.id} [label=${JSON.stringify(label)}${fill}];`);
  }
  for (const [from, to] of picture.edges) out.push(`  ${from} -> ${to};`);
  out.push("}");
  return `${out.join("\n")}\n`;
}
