/** Process exit statuses of every `rsc` command. */
export const ExitCode = {
  /** Success (for `rsc diff`: the architectures are the same). */
  Ok: 0,
  /** Spec errors (for `rsc diff`: the architectures differ). */
  SpecError: 1,
  /** Usage errors (bad flags) and I/O errors (unreadable input, unwritable output). */
  UsageError: 2,
  /** A bug in rsc, not bad input: reported in one line ("internal error"), stack with RSC_DEBUG=1. */
  Internal: 3,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
