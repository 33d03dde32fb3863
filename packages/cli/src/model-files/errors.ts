/**
 * The errors of the model-file readers, one shape for every format:
 * - a file that cannot be read (missing, not a regular file, an I/O error): exit 2,
 *   `<what> <path>: <reason>`;
 * - a file that is not what it should be (truncated, corrupt, not a Keras or tfjs model file,
 *   an unknown dtype, ...): one RSC500 naming the file, and the layer where one is known, exit 1.
 */
import type { Diagnostic } from "@rsc/compiler";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";

/** Where in a file a problem is: a layer (binary files) or a line and column (JSON files). */
export interface ProblemPlace {
  /** The Keras layer at fault, named in the message (`layer 'bn1': ...`). */
  readonly layer?: string;
  readonly line?: number;
  readonly column?: number;
  readonly hint?: string;
}

/** A malformed model file: RSC500 at the file (and layer), exit 1. */
export function malformedFile(file: string, message: string, place: ProblemPlace = {}): CliError {
  const text = place.layer === undefined ? message : `layer '${place.layer}': ${message}`;
  const diagnostic: Diagnostic = {
    severity: "error",
    code: "RSC500",
    message: text,
    file,
    line: place.line ?? 1,
    column: place.column ?? 1,
    ...(place.hint === undefined ? {} : { hint: place.hint }),
  };
  return new CliError(`${file}: ${text}`, ExitCode.SpecError, [diagnostic]);
}

/** A model file that cannot be read at all: exit 2, `<what> <file>: <reason>`. */
export function unreadableFile(what: string, file: string, reason: string): CliError {
  return new CliError(`${what} ${file}: ${reason}`);
}
