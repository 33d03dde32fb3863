/** Mermaid flowchart text of a picture (renders in GitHub markdown inside a ```mermaid fence). */
import type { Rankdir } from "./formats.js";
import type { Picture } from "./picture.js";

/** Escapes text for a quoted Mermaid label (entity codes, as Mermaid documents). */
function mermaidText(text: string): string {
  return text
    .replace(/&/g, "#amp;")
    .replace(/"/g, "#quot;")
    .replace(/</g, "#lt;")
    .replace(/>/g, "#gt;");
}

/** Mermaid options. */
export interface MermaidOptions {
  /** `TB` (top to bottom, the default) or `LR` (left to right): the flowchart's direction. */
  readonly rankdir?: Rankdir;
}

/**
 * Renders a picture as a Mermaid flowchart; block instances are subroutine boxes. Each box
 * holds its fields line by line (GitHub's Mermaid shows no tooltips, so the label is all a
 * reader gets). The ids (`n3`) are Mermaid's node keys, never displayed.
 */
export function pictureToMermaid(
  picture: Picture,
  { rankdir = "TB" }: MermaidOptions = {},
): string {
  const out = [`flowchart ${rankdir}`];
  for (const node of picture.nodes) {
    const label = `"${node.fields.flat().map(mermaidText).join("<br/>")}"`;
    out.push(node.kind === "block" ? `  ${node.id}[[${label}]]` : `  ${node.id}[${label}]`);
  }
  for (const edge of picture.edges) out.push(`  ${edge.from} --> ${edge.to}`);
  return `${out.join("\n")}\n`;
}
