/** Every `rsc` command, in the order `rsc --help` lists them. Each module registers flags only. */
import type { Command } from "commander";
import { registerBuild } from "./build.js";
import { registerCheck } from "./check.js";
import { registerDeps } from "./deps.js";
import { registerDiff } from "./diff.js";
import { registerEvaluate } from "./evaluate.js";
import { registerExpand } from "./expand.js";
import { registerGraph } from "./graph.js";
import { registerImport } from "./import.js";
import { registerRun } from "./run.js";
import { registerSchema } from "./schema.js";
import { registerSummary } from "./summary.js";
import { registerTrain } from "./train.js";

/** Registers one command on the program. */
export type RegisterCommand = (program: Command) => void;

/** The registered commands. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerCheck,
  registerDeps,
  registerSummary,
  registerExpand,
  registerSchema,
  registerDiff,
  registerGraph,
  registerImport,
  registerBuild,
  registerRun,
  registerTrain,
  registerEvaluate,
];
