/** Errors that end a command with a message and an exit status, never a stack trace. */
import type { Diagnostic } from "@rsc/compiler";
import { ExitCode } from "./exit-codes.js";

/**
 * Thrown by command code for usage and I/O failures (exit 2) or located input errors (exit 1,
 * with diagnostics). `main` catches it and prints it; anything else is a bug and is reported
 * as an internal error.
 */
export class CliError extends Error {
  constructor(
    message: string,
    /** Exit status to end with. */
    readonly exitCode: ExitCode = ExitCode.UsageError,
    /** Located diagnostics to print instead of the message, when the input was at fault. */
    readonly diagnostics: readonly Diagnostic[] = [],
  ) {
    super(message);
    this.name = "CliError";
  }
}
