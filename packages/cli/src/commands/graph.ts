/**
 * `rsc graph <spec> [--format svg|dot|mermaid] [-o file] [--collapse-blocks]`: a picture of the
 * architecture like Keras's `plot_model(show_shapes=True)`. SVG is rendered in-process by
 * Graphviz compiled to WebAssembly (@viz-js/viz, loaded only for SVG): no system Graphviz.
 */
import type { Command } from "commander";
import { action, withSpecFlags } from "../command-kit.js";
import { choiceOption } from "../flags.js";
import { GRAPH_FORMATS, type GraphFlags } from "../graph/formats.js";

/** Registers `rsc graph`. */
export function registerGraph(program: Command): void {
  withSpecFlags(
    program
      .command("graph")
      .description(
        "draw the architecture (layer names, types, output shapes) as SVG, DOT or Mermaid",
      )
      .argument("<spec>", "spec file (YAML)")
      .addOption(
        choiceOption(
          "--format <format>",
          "output format (default: from the -o extension .svg/.dot/.gv/.mmd, else svg)",
          GRAPH_FORMATS,
          { listInHelp: true },
        ),
      )
      .option("-o, --output <file>", "write the picture to a file instead of stdout")
      .option("--collapse-blocks", "draw each block-template instance as one box"),
    { json: false },
  ).action(
    action(async (spec: string, flags: GraphFlags) => {
      const { runGraph } = await import("../graph/run-graph.js");
      return runGraph(spec, flags);
    }),
  );
}
