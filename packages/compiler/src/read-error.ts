/**
 * Why a file could not be read, said one way everywhere: the compiler's RSC100 / RSC200, the
 * CLI's I/O errors and the backends' file errors all use {@link describeReadError}.
 */

/** "no such file" when `error` is a missing-file error (ENOENT), else "cannot be read". */
export function describeReadError(error: unknown): "no such file" | "cannot be read" {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT"
    ? "no such file"
    : "cannot be read";
}
