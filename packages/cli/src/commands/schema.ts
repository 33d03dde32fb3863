/**
 * `rsc schema [-o file]`: prints the spec language's JSON Schema (the compiler's single source of
 * truth for structure), for editors: point yaml-language-server at the file with
 * `# yaml-language-server: $schema=./rsc.schema.json`.
 */
import { specSchema } from "@rsc/compiler";
import { type Command, Option } from "commander";
import { action } from "../command-kit.js";
import { ExitCode } from "../exit-codes.js";
import { writeFileAtomic } from "../fs-atomic.js";
import { printable, printOut, say } from "../output.js";

/** Flags of `rsc schema`. */
interface SchemaFlags {
  /** `-o, --output <file>`: write the schema there (atomically) instead of stdout. */
  readonly output?: string;
}

/** Registers `rsc schema`. */
export function registerSchema(program: Command): void {
  program
    .command("schema")
    .description("print the JSON Schema of the spec language (for yaml-language-server)")
    .option("-o, --output <file>", "write the schema to a file instead of stdout")
    // Accepted like on every command, but not listed: the schema is never coloured.
    .addOption(new Option("--no-color", "never colour the output").hideHelp())
    .action(
      action(async (flags: SchemaFlags) => {
        const text = `${JSON.stringify(specSchema(), null, 2)}\n`;
        if (flags.output === undefined) printOut(text);
        else {
          await writeFileAtomic(flags.output, text);
          say(`wrote ${printable(flags.output)}`);
        }
        return ExitCode.Ok;
      }),
    );
}
