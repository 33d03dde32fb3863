/**
 * How `--help` reads, for every command: a required option says `(required)`, defaults are shown
 * as a user types them (`(default: 32)`, `(default: auto)`, never `"auto"` or an empty `[]`),
 * and `diff` and `check` list their exit statuses.
 */
import type { Command, Help, Option } from "commander";
import { ExitCode } from "./exit-codes.js";

/** The extras commander appends to an option's description, in our spelling. */
function optionExtras(option: Option): string[] {
  const extras: string[] = [];
  if (option.mandatory) extras.push("required");
  if (option.argChoices && option.argChoices.length > 0)
    extras.push(`choices: ${option.argChoices.join(", ")}`);
  const shown = defaultText(option);
  if (shown !== undefined) extras.push(`default: ${shown}`);
  if (option.envVar !== undefined) extras.push(`env: ${option.envVar}`);
  return extras;
}

/** The default as typed on the command line, or undefined when there is nothing to show. */
function defaultText(option: Option): string | undefined {
  if (option.defaultValueDescription !== undefined) return option.defaultValueDescription;
  const value: unknown = option.defaultValue;
  if (value === undefined || option.negate || typeof value === "boolean") return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.join(",");
  return String(value);
}

/** Applies the help style to `program` and (set before they are created) its commands. */
export function configureHelp(program: Command): Command {
  return program.configureHelp({
    optionDescription(this: Help, option: Option): string {
      const extras = optionExtras(option);
      return extras.length === 0
        ? option.description
        : `${option.description} (${extras.join(", ")})`.trimStart();
    },
  });
}

/** Exit statuses of the commands whose status is their answer, shown after their help. */
const EXIT_STATUSES: Readonly<Record<string, readonly (readonly [number, string])[]>> = {
  check: [
    [ExitCode.Ok, "every file is clean (warnings allowed)"],
    [ExitCode.SpecError, "a file has errors"],
    [ExitCode.UsageError, "usage error, or a file cannot be read"],
  ],
  diff: [
    [ExitCode.Ok, "no change (of the kind --fail-on names)"],
    [ExitCode.SpecError, "the architecture changed (of that kind)"],
    [
      ExitCode.UsageError,
      "usage error, a file or revision cannot be read, or either side has spec errors",
    ],
  ],
};

/** Adds the "Exit status" section to the commands that have one. */
export function addExitStatusHelp(program: Command): void {
  for (const command of program.commands) {
    const statuses = EXIT_STATUSES[command.name()];
    if (statuses === undefined) continue;
    const lines = statuses.map(([code, meaning]) => `  ${code}  ${meaning}`);
    command.addHelpText("after", `\nExit status:\n${lines.join("\n")}`);
  }
}
