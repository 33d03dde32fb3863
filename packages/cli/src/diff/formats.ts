/** `rsc diff`'s flags and their words (no diff code: the command registers with these at start-up). */
import type { SpecFlags } from "../command-kit.js";

/** `--format` values: text (default), markdown (a PR comment) or json (the ArchDiff schema). */
export const DIFF_FORMATS = ["text", "markdown", "json"] as const;

/** `--fail-on` values: which change makes the exit status 1. */
export const FAIL_ON = ["any", "weights", "io"] as const;

/** Flags of `rsc diff`, parsed. */
export interface DiffFlags extends SpecFlags {
  /** Output format, one of {@link DIFF_FORMATS}. */
  readonly format: (typeof DIFF_FORMATS)[number];
  /** Which change makes the exit status 1: `any` (default), `weights` or `io`. */
  readonly failOn: (typeof FAIL_ON)[number];
  /** `--old-set name=value`: overrides for the old side only (after `--set`). */
  readonly oldSet: readonly string[];
  /** `--new-set name=value`: overrides for the new side only (after `--set`). */
  readonly newSet: readonly string[];
}
