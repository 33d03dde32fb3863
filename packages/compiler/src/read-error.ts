/**
 * Why a file could not be read, said one way everywhere: the compiler's RSC100 / RSC200, the
 * CLI's I/O errors and the backends' file errors all use {@link describeReadError}.
 */
import { ReadRefusal } from "./read-file.js";

/**
 * "no such file" when `error` is a missing-file error (ENOENT); for a file the compiler refused
 * to read (see read-file.ts), "is not a regular file" or "is larger than the limit of N bytes";
 * else "cannot be read".
 */
export function describeReadError(error: unknown): string {
  if (error instanceof ReadRefusal) {
    return error.reason === "too-large"
      ? `is larger than the limit of ${(error.limit ?? 0).toLocaleString("en-US")} bytes`
      : "is not a regular file (a directory, device or FIFO)";
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EISDIR") return "is not a regular file (a directory, device or FIFO)";
  return code === "ENOENT" ? "no such file" : "cannot be read";
}
