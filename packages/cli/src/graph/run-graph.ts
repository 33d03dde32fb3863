/** The work of `rsc graph`, loaded on demand (see commands/graph.ts for the command's contract). */
import { extname } from "node:path";
import { compileOrThrow, outputOptions } from "../command-kit.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { writeFileAtomic } from "../fs-atomic.js";
import { printable, printDiagnostics, printOut, say } from "../output.js";
import { pictureToDot } from "./dot.js";
import type { GraphFlags, GraphFormat } from "./formats.js";
import { pictureToMermaid } from "./mermaid.js";
import { buildPicture } from "./picture.js";

const BY_EXTENSION: Readonly<Record<string, GraphFormat>> = {
  ".svg": "svg",
  ".dot": "dot",
  ".gv": "dot",
  ".mmd": "mermaid",
  ".mermaid": "mermaid",
};

/** The format: `--format`, else the output file's extension, else svg. */
export function graphFormat(flags: Pick<GraphFlags, "format" | "output">): GraphFormat {
  if (flags.format !== undefined) return flags.format;
  if (flags.output === undefined) return "svg";
  const format = BY_EXTENSION[extname(flags.output).toLowerCase()];
  if (format === undefined) {
    throw new CliError(
      `cannot tell the format from '${flags.output}': use .svg, .dot, .gv or .mmd, or --format`,
    );
  }
  return format;
}

/** Renders DOT to SVG with Graphviz compiled to WebAssembly. */
async function dotToSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  const result = viz.render(dot, { format: "svg", engine: "dot" });
  if (result.status !== "success") {
    const why = result.errors.map((e) => e.message).join("; ");
    throw new Error(`graphviz failed on generated DOT: ${why}`);
  }
  // The XML prolog, doctype and generator comment carry nothing a browser or README needs.
  const svg = result.output;
  return svg.slice(svg.indexOf("<svg"));
}

/** Runs `rsc graph` and returns its exit status. */
export async function runGraph(spec: string, flags: GraphFlags): Promise<number> {
  const format = graphFormat(flags);
  const { graph, info, diagnostics } = compileOrThrow(spec, flags);
  printDiagnostics(diagnostics, outputOptions(flags));
  const picture = buildPicture(graph, { collapse: flags.collapseBlocks === true });
  const dot = format === "mermaid" ? "" : pictureToDot(picture);
  const text =
    format === "mermaid" ? pictureToMermaid(picture) : format === "dot" ? dot : await dotToSvg(dot);
  if (flags.output === undefined) printOut(text);
  else {
    await writeFileAtomic(flags.output, text.endsWith("\n") ? text : `${text}\n`, {
      inputs: [spec, ...info.files],
    });
    say(`wrote ${printable(flags.output)} (${picture.nodes.length} boxes)`);
  }
  return ExitCode.Ok;
}
