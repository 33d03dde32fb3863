/**
 * `rsc diff <old> <new>`: what an architecture change does, for review. Each side is a spec file
 * or a spec at a git revision (`main:specs/resnet50.yaml`). Exit 0 when the architectures are the
 * same, 1 when they differ (or, with `--fail-on`, when the chosen kind of change happened), 2 on
 * any error: unreadable input, a bad revision, or spec errors in either side.
 */
import type { Command } from "commander";
import { action, withSpecFlags } from "../command-kit.js";
import { DIFF_FORMATS, type DiffFlags, FAIL_ON } from "../diff/formats.js";
import { choiceOption } from "../flags.js";

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
        choiceOption("--format <format>", "output format", DIFF_FORMATS, {
          fallback: "text",
          listInHelp: true,
        }),
      )
      .addOption(
        choiceOption(
          "--fail-on <change>",
          "exit 1 only for: any change, old weights that no longer load, or input/output changes",
          FAIL_ON,
          { fallback: "any", listInHelp: true },
        ),
      )
      .option("--old-set <name=value>", "override a parameter of the old side only", collect, [])
      .option("--new-set <name=value>", "override a parameter of the new side only", collect, []),
  ).action(
    action(async (oldArg: string, newArg: string, flags: DiffFlags) => {
      const { runDiff } = await import("../diff/run-diff.js");
      return runDiff(oldArg, newArg, flags);
    }),
  );
}
