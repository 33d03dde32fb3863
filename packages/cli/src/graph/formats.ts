/** `rsc graph`'s flags and formats (no drawing code: the command registers with these at start-up). */
import type { SpecFlags } from "../command-kit.js";

/** The picture formats, as `--format` spells them. */
export const GRAPH_FORMATS = ["svg", "png", "dot", "mermaid"] as const;

/** One of {@link GRAPH_FORMATS}. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/** Layout directions, as Graphviz's `rankdir` spells them: top to bottom, left to right. */
export const RANKDIRS = ["TB", "LR"] as const;

/** One of {@link RANKDIRS}. */
export type Rankdir = (typeof RANKDIRS)[number];

/** Flags of `rsc graph`, parsed. */
export interface GraphFlags extends SpecFlags {
  /** `svg`, `png`, `dot` or `mermaid`; default from the `-o` extension, else svg. */
  readonly format?: GraphFormat;
  /** `-o, --output <file>`: write there (atomically) instead of stdout. */
  readonly output?: string;
  /** Draw each block-template instance as one box. */
  readonly collapseBlocks?: boolean;
  /** `--rankdir TB|LR`; default TB. */
  readonly rankdir?: Rankdir;
}
