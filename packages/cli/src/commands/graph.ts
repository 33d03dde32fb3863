/**
 * `rsc graph <spec> [--format svg|png|dot|mermaid] [-o file] [--collapse-blocks] [--rankdir TB|LR]`:
 * a picture of the architecture like Keras's `plot_model(show_shapes=True)`, each box with its
 * layer's key attributes, output shape and parameters, every attribute in its tooltip. SVG is
 * rendered in-process by Graphviz compiled to WebAssembly (@viz-js/viz), PNG from that SVG by
 * resvg compiled to WebAssembly (@resvg/resvg-wasm) with a bundled font: no system Graphviz,
 * no system fonts. Both load only when asked for.
 */
import type { Command } from "commander";
import { action, withSpecFlags } from "../command-kit.js";
import { choiceOption } from "../flags.js";
import { GRAPH_FORMATS, type GraphFlags, RANKDIRS } from "../graph/formats.js";

/** Registers `rsc graph`. */
export function registerGraph(program: Command): void {
  withSpecFlags(
    program
      .command("graph")
      .description(
        "draw the architecture (layers, key attributes, output shapes, params) as SVG, PNG, DOT or Mermaid",
      )
      .argument("<spec>", "spec file (YAML)")
      .addOption(
        choiceOption(
          "--format <format>",
          "output format (default: from the -o extension .svg/.png/.dot/.gv/.mmd, else svg)",
          GRAPH_FORMATS,
          { listInHelp: true },
        ),
      )
      .option("-o, --output <file>", "write the picture to a file instead of stdout")
      .option("--collapse-blocks", "draw each block-template instance as one box")
      .addOption(
        choiceOption("--rankdir <dir>", "layout: TB top to bottom, LR left to right", RANKDIRS, {
          fallback: "TB",
          listInHelp: true,
        }),
      ),
    { json: false },
  ).action(
    action(async (spec: string, flags: GraphFlags) => {
      const { runGraph } = await import("../graph/run-graph.js");
      return runGraph(spec, flags);
    }),
  );
}
