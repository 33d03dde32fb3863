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
  ".png": "png",
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
      `cannot tell the format from '${printable(flags.output)}': use .svg, .png, .dot, .gv or .mmd, or --format`,
    );
  }
  return format;
}

/** Runs `rsc graph` and returns its exit status. */
export async function runGraph(spec: string, flags: GraphFlags): Promise<number> {
  const format = graphFormat(flags);
  // Checked before compiling: a PNG's bytes would garble the terminal.
  if (format === "png" && flags.output === undefined && process.stdout.isTTY === true) {
    throw new CliError("a PNG is binary: write it with -o file.png, or redirect stdout to a file");
  }
  const { graph, info, diagnostics } = compileOrThrow(spec, flags);
  printDiagnostics(diagnostics, outputOptions(flags));
  const picture = buildPicture(graph, { collapse: flags.collapseBlocks === true });
  const rankdir = flags.rankdir ?? "TB";
  let data: string | Uint8Array;
  let size = "";
  if (format === "mermaid") data = pictureToMermaid(picture, { rankdir });
  else if (format === "dot") data = pictureToDot(picture, { rankdir });
  else {
    const { dotToSvg } = await import("./svg.js");
    const svg = await dotToSvg(pictureToDot(picture, { rankdir }));
    if (format === "svg") data = svg;
    else {
      const { svgToPng } = await import("./png.js");
      const png = await svgToPng(svg);
      data = png.bytes;
      size = `, ${png.width}x${png.height} px`;
    }
  }
  if (typeof data === "string" && !data.endsWith("\n")) data = `${data}\n`;
  if (flags.output === undefined) {
    if (typeof data === "string") printOut(data);
    else process.stdout.write(data);
  } else {
    await writeFileAtomic(flags.output, data, { inputs: [spec, ...info.files] });
    say(`wrote ${printable(flags.output)} (${picture.nodes.length} boxes${size})`);
  }
  return ExitCode.Ok;
}
