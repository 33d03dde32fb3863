/** The `rsc` command line: `process.exitCode = await main(argv)`. */
import { Command, CommanderError } from "commander";
import { takeActionStatus } from "./command-kit.js";
import { COMMANDS } from "./commands/index.js";
import { CliError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";
import { addExitStatusHelp, configureHelp } from "./help.js";
import { printable, printDiagnostics, printJson, say, terminalSafe, useColor } from "./output.js";
import { RSC_VERSION } from "./version.js";

/** Builds the commander program with every command registered. */
function createProgram(): Command {
  const program = new Command("rsc")
    .description("rsc: a compiler for neural-network architectures written as YAML specs")
    .version(RSC_VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      // Commander echoes arguments in its errors (`unknown option '...'`).
      writeOut: (text) => process.stdout.write(terminalSafe(text)),
      writeErr: (text) => process.stderr.write(terminalSafe(text)),
    });
  configureHelp(program);
  for (const register of COMMANDS) register(program);
  addExitStatusHelp(program);
  for (const command of program.commands)
    command
      .version(RSC_VERSION, "-V, --version")
      .exitOverride()
      .showHelpAfterError("(run with --help for usage)");
  return program;
}

/** Runs `rsc` with `argv` (the arguments after `rsc`) and returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return ExitCode.UsageError;
  }
  const json = argv.includes("--json");
  try {
    await program.parseAsync([...argv], { from: "user" });
    return takeActionStatus();
  } catch (error) {
    if (error instanceof CommanderError) {
      const done = ["commander.helpDisplayed", "commander.version", "commander.help"];
      if (done.includes(error.code)) return ExitCode.Ok;
      // Commander has printed the message on stderr; a --json caller still gets its one envelope.
      if (json)
        printJson({
          command: commandName(argv),
          ok: false,
          diagnostics: [],
          result: { error: error.message.replace(/^error: /, "") },
        });
      return ExitCode.UsageError;
    }
    if (error instanceof CliError) {
      if (json)
        printJson({
          command: commandName(argv),
          ok: false,
          diagnostics: error.diagnostics,
          result: { error: error.message },
        });
      else if (error.diagnostics.length > 0)
        printDiagnostics(error.diagnostics, {
          json,
          color: useColor(!argv.includes("--no-color")),
        });
      else say(`rsc: error: ${printable(error.message)}`);
      return error.exitCode;
    }
    // A bug, not bad input: one line, with the stack only when asked for.
    say(`rsc: internal error: ${printable((error as Error).message ?? String(error))}`);
    if (process.env["RSC_DEBUG"]) say((error as Error).stack ?? "");
    else say("(set RSC_DEBUG=1 for details, and please report it)");
    return ExitCode.Internal;
  }
}

/** The command named on the command line (the first non-flag argument), for JSON envelopes. */
function commandName(argv: readonly string[]): string {
  const names = new Set(createProgram().commands.map((c) => c.name()));
  return argv.find((a) => names.has(a)) ?? "rsc";
}
