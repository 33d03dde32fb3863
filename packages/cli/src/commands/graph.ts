/**
 * `rsc graph <spec> [--format svg|dot|mermaid] [-o file] [--collapse-blocks]`: a picture of the
 * architecture like Keras's `plot_model(show_shapes=True)`. SVG is rendered in-process by
 * Graphviz compiled to WebAssembly (@viz-js/viz, loaded only for SVG): no system Graphviz.
 */
import { type Command, Option } from "commander";
import { action, type SpecFlags, withSpecFlags } from "../command-kit.js";

/** Flags of `rsc graph`. */
export interface GraphFlags extends SpecFlags {
  /** `svg`, `dot` or `mermaid`; default from the `-o` extension, else svg. */
  readonly format?: "svg" | "dot" | "mermaid";
  /** `-o, --output <file>`: write there (atomically) instead of stdout. */
  readonly output?: string;
  /** Draw each block-template instance as one box. */
  readonly collapseBlocks?: boolean;
}

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
        new Option(
          "--format <format>",
          "output format (default: from the -o extension .svg/.dot/.gv/.mmd, else svg)",
        ).choices(["svg", "dot", "mermaid"]),
      )
      .option("-o, --output <file>", "write the picture to a file instead of stdout")
      .option("--collapse-blocks", "draw each block-template instance as one box"),
    { json: false },
  ).action(
    action(async (spec: string, flags: GraphFlags) => {
      const { runGraph } = await import("./graph-run.js");
      return runGraph(spec, flags);
    }),
  );
}
