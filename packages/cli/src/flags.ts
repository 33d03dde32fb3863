/**
 * Command-line flag values, parsed once, as commander parses the command line: every command that
 * takes an integer, a seed, a number or one of a list of words attaches the option built here, so
 * its action receives a checked value. A value out of range, not a whole number or not one of the
 * words is a usage error (exit 2) naming the flag and what it accepts.
 */
import { MAX_SEED } from "@rsc/compiler";
import { Option } from "commander";
import { CliError } from "./errors.js";
import { RUNTIME_CHOICES } from "./train/tfjs-runtime.js";

/** Accepted whole numbers, `min` to `max` inclusive (`max` at most `Number.MAX_SAFE_INTEGER`). */
export interface IntegerRange {
  readonly min: number;
  readonly max: number;
  /** Unit named after the range, e.g. `bytes`. */
  readonly unit?: string;
}

/** Seeds are unsigned 32-bit integers (the compiler's weight generator and input streams). */
const SEED_RANGE: IntegerRange = { min: 0, max: MAX_SEED };

/** Examples per step or per input: enough for any model that fits in memory. */
export const BATCH_RANGE: IntegerRange = { min: 1, max: 65536 };

/** `a`, `a or b`, `a, b or c`. */
function orList(words: readonly string[]): string {
  return words.length <= 1
    ? (words[0] ?? "")
    : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

/** Parses a whole number (decimal digits only) in `range`; anything else is a usage error. */
export function parseInteger(flag: string, text: string, range: IntegerRange): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < range.min || n > range.max) {
    const unit = range.unit === undefined ? "" : ` (${range.unit})`;
    throw new CliError(
      `${flag} expects an integer from ${range.min} to ${range.max}${unit}, got '${text}'`,
    );
  }
  return n;
}

/** Parses one of `choices`; anything else is a usage error listing them. */
export function parseChoice<T extends string>(
  flag: string,
  text: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(text))
    throw new CliError(`${flag} expects ${orList(choices)}, got '${text}'`);
  return text as T;
}

/** A finite decimal number accepted by `ok`, described by `what` (e.g. `a positive number`). */
export interface NumberRule {
  readonly ok: (n: number) => boolean;
  readonly what: string;
}

/** Parses a finite decimal number that meets `rule`; anything else is a usage error. */
export function parseNumber(flag: string, text: string, rule: NumberRule): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || !rule.ok(n))
    throw new CliError(`${flag} expects ${rule.what}, got '${text}'`);
  return n;
}

/** Gives an option a parsed default (help shows it as typed: `(default: 32)`, see help.ts). */
function withDefault<T>(option: Option, fallback: T | undefined): Option {
  return fallback === undefined ? option : option.default(fallback);
}

/** The spelling errors use: the long flag (`--seed`), else the short one. */
function flagName(option: Option): string {
  return option.long ?? option.short ?? option.flags;
}

/** An option whose value is a whole number in `range`, e.g. `--batch <n>`. */
export function integerOption(
  flags: string,
  description: string,
  range: IntegerRange,
  fallback?: number,
): Option {
  const option = new Option(flags, description);
  option.argParser((text: string) => parseInteger(flagName(option), text, range));
  return withDefault(option, fallback);
}

/** A seed option: a whole number from 0 to {@link MAX_SEED}. */
export function seedOption(flags: string, description: string, fallback?: number): Option {
  return integerOption(flags, description, SEED_RANGE, fallback);
}

/** An option whose value is a finite number that meets `rule`, e.g. `--lr <f>`. */
export function numberOption(
  flags: string,
  description: string,
  rule: NumberRule,
  fallback?: number,
): Option {
  const option = new Option(flags, description);
  option.argParser((text: string) => parseNumber(flagName(option), text, rule));
  return withDefault(option, fallback);
}

/**
 * An option whose value is one of `choices`. `listInHelp` shows them in `--help` as commander's
 * `(choices: ...)`; otherwise the description names them.
 */
export function choiceOption<T extends string>(
  flags: string,
  description: string,
  choices: readonly T[],
  { fallback, listInHelp = false }: { readonly fallback?: T; readonly listInHelp?: boolean } = {},
): Option {
  const option = new Option(flags, description);
  if (listInHelp) option.choices(choices);
  // After choices(): ours replaces commander's parser, so the error reads like every other flag's.
  option.argParser((text: string) => parseChoice(flagName(option), text, choices));
  return fallback === undefined ? option : option.default(fallback);
}

/** `--threads <n>`: the wasm runtime's thread count, for `rsc train` and `rsc evaluate`. */
export function threadsOption(): Option {
  return integerOption(
    "--threads <n>",
    "threads of the wasm runtime (default: one per available core; at most 8)",
    { min: 1, max: 1024 },
  );
}

/** `--runtime <name>`: the tfjs runtime of `rsc train` and `rsc evaluate`, `auto` by default. */
export function runtimeOption(): Option {
  return choiceOption(
    "--runtime <name>",
    `tfjs runtime: ${RUNTIME_CHOICES.join(", ")}`,
    RUNTIME_CHOICES,
    {
      fallback: "auto",
    },
  );
}
