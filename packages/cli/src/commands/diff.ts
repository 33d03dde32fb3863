/**
 * `rsc diff <old> <new>`: what an architecture change does, for review. Each side is a spec file
 * or a spec at a git revision (`main:specs/resnet50.yaml`). Exit 0 when the architectures are the
 * same, 1 when they differ (or, with `--fail-on`, when the chosen kind of change happened), 2 on
 * any error: unreadable input, a bad revision, or spec errors in either side.
 */
import { type Command, Option } from "commander";
import { action, type SpecFlags, withSpecFlags } from "../command-kit.js";

/** Flags of `rsc diff`. */
export interface DiffFlags extends SpecFlags {
  /** Output format: `text` (default), `markdown` (a PR comment) or `json` (the ArchDiff schema). */
  readonly format: "text" | "markdown" | "json";
  /** Which change makes the exit status 1: `any` (default), `weights` or `io`. */
  readonly failOn: "any" | "weights" | "io";
  /** `--old-set name=value`: overrides for the old side only (after `--set`). */
  readonly oldSet: readonly string[];
  /** `--new-set name=value`: overrides for the new side only (after `--set`). */
  readonly newSet: readonly string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Registers `rsc diff`. */
export function registerDiff(program: Command): void {
  withSpecFlags(
    program
      .command("diff")
      .description("compare two architectures: layers, shapes, params, inputs/outputs, weights")
      .argument("<old>", "spec file, or REV:path for a spec at a git revision (main:specs/x.yaml)")
      .argument("<new>", "spec file, or REV:path")
      .addOption(
        new Option("--format <format>", "output format")
          .choices(["text", "markdown", "json"])
          .default("text"),
      )
      .addOption(
        new Option(
          "--fail-on <change>",
          "exit 1 only for: any change, old weights that no longer load, or input/output changes",
        )
          .choices(["any", "weights", "io"])
          .default("any"),
      )
      .option("--old-set <name=value>", "override a parameter of the old side only", collect, [])
      .option("--new-set <name=value>", "override a parameter of the new side only", collect, []),
  ).action(
    action(async (oldArg: string, newArg: string, flags: DiffFlags) => {
      const { runDiff } = await import("./diff-run.js");
      return runDiff(oldArg, newArg, flags);
    }),
  );
}
