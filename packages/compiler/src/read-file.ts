/**
 * Reading a spec file from disk without trusting it: only a regular file is read (a device, a
 * FIFO, a socket, `/dev/stdin` or a directory is refused before a byte is read, so `/dev/zero`
 * cannot eat memory and a FIFO cannot hang the run), and its size is checked against a limit
 * before reading. A refusal is a {@link ReadRefusal}, which {@link describeReadError} words.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** Default largest spec file, in bytes (16 MiB); `CompileOptions.maxFileBytes` overrides it. */
export const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;

/** Why a file was not read, beyond the operating system's own errors. */
export type RefusalReason = "not-a-regular-file" | "too-large";

/** A file the compiler will not read; `reason` says why. */
export class ReadRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    /** The size limit, for `too-large`. */
    readonly limit?: number,
  ) {
    super(reason);
  }
}

/** Throws a {@link ReadRefusal} when `size` bytes are over `maxBytes`. */
export function checkFileSize(size: number, maxBytes: number): void {
  if (size > maxBytes) throw new ReadRefusal("too-large", maxBytes);
}

/**
 * The bytes of the regular file at `path`, at most `maxBytes` of them. Opened non-blocking (a
 * FIFO without a writer would block the open), checked with fstat on the open descriptor (no
 * window between the check and the read), and read to its end but never past one byte over
 * the limit, so a file that grows after the check is still refused.
 */
export function readSpecFile(path: string, maxBytes: number = DEFAULT_MAX_FILE_BYTES): Uint8Array {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ReadRefusal("not-a-regular-file");
    checkFileSize(stat.size, maxBytes);
    let buffer = Buffer.allocUnsafe(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, maxBytes + 1));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      checkFileSize(length, maxBytes);
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
