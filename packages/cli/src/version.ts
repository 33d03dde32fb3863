/** The rsc version, from the CLI package's package.json. */
import { createRequire } from "node:module";

/** Semantic version of this rsc build, e.g. `0.1.0`. */
export const RSC_VERSION: string = (
  createRequire(import.meta.url)("../package.json") as { version: string }
).version;
