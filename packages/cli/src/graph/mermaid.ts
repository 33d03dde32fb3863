/** Mermaid flowchart text of a picture (renders in GitHub markdown inside a ```mermaid fence). */
import type { Picture } from "./picture.js";

/** Escapes text for a quoted Mermaid label (entity codes, as Mermaid documents). */
function mermaidText(text: string): string {
  return text
    .replace(/&/g, "#amp;")
    .replace(/"/g, "#quot;")
    .replace(/</g, "#lt;")
    .replace(/>/g, "#gt;");
}

/** Renders a picture as a Mermaid `flowchart TD`; block instances are subroutine boxes. */
export function pictureToMermaid(picture: Picture): string {
  const out = ["flowchart TD"];
  for (const node of picture.nodes) {
    const label = `"${node.lines.map(mermaidText).join("<br/>")}"`;
    out.push(node.kind === "block" ? `  ${node.id}[[${label}]]` : `  ${node.id}[${label}]`);
  }
  for (const [from, to] of picture.edges) out.push(`  ${from} --> ${to}`);
  return `${out.join("\n")}\n`;
}
