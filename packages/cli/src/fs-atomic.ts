/**
 * Atomic output: write to a temporary sibling, then rename, so a failure (or Ctrl-C) never leaves
 * a half-written model behind. Only the CLI writes to disk.
 */
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { ArtifactFile, ByteSink } from "@rsc/compiler";
import { CliError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";

function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

/** Removes a temporary file or folder, ignoring every failure: it runs while handling another error. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // ENOTDIR and the like: the temporary was never created.
  }
}

function ioError(action: string, path: string, error: unknown): CliError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new CliError(`cannot ${action} ${path}: ${reason}`, ExitCode.UsageError);
}

/** Writes one file atomically, creating its folder. Throws CliError (exit 2) on I/O failure. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomicChunks(path, (write) =>
    write(typeof data === "string" ? Buffer.from(data) : data),
  );
}

/** Streams `produce`'s chunks into a new file at `path`; each chunk is on disk before `write` returns. */
function writeChunks(path: string, produce: (write: (chunk: Uint8Array) => void) => void): void {
  const handle = openSync(path, "w");
  try {
    produce((chunk) => {
      for (let done = 0; done < chunk.byteLength; )
        done += writeSync(handle, chunk, done, chunk.byteLength - done);
    });
  } finally {
    closeSync(handle);
  }
}

/**
 * Writes one file atomically from a stream of chunks: `produce` calls `write` for each chunk in
 * order, and each chunk is on disk before `write` returns, so a producer may reuse its buffer.
 * Nothing the size of the whole file is held in memory (ResNet-50's 94 MB model is written from
 * one tensor-sized buffer), and files over a Buffer's 4 GB limit can be written at all.
 * A CliError thrown by `produce` is passed on as is; any other failure is an I/O error (exit 2).
 */
export function writeFileAtomicChunks(
  path: string,
  produce: (write: (chunk: Uint8Array) => void) => void,
): void {
  const tmp = tempSibling(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeChunks(tmp, produce);
    renameSync(tmp, path);
  } catch (error) {
    removeQuietly(tmp);
    if (error instanceof CliError) throw error;
    throw ioError("write", path, error);
  }
}

/**
 * Writes a folder of files atomically: all files go to a temporary sibling folder, which then
 * replaces `dir` (an existing `dir` is replaced whole, so no stale weight shard survives). Each
 * file is streamed; `track` may wrap the chunk sink (a progress bar over the whole folder).
 */
export function writeDirAtomic(
  dir: string,
  files: Iterable<ArtifactFile>,
  track: (sink: ByteSink) => ByteSink = (sink) => sink,
): void {
  const tmp = tempSibling(dir);
  const old = `${tmp}-old`;
  try {
    mkdirSync(tmp, { recursive: true });
    for (const file of files)
      writeChunks(join(tmp, file.name), (write) => file.writeTo(track(write)));
    try {
      renameSync(dir, old);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    removeQuietly(tmp);
    throw ioError("write", dir, error);
  }
}

/**
 * Fails early (exit 2, before minutes of training) when `dir` cannot be created or replaced: the
 * nearest existing ancestor must be a writable folder, and `dir` itself a folder if it exists.
 */
export function checkOutputDir(dir: string): void {
  const target = resolve(dir);
  let probe = target;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(probe).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && dirname(probe) !== probe) {
        probe = dirname(probe);
        continue;
      }
      throw new CliError(
        `cannot write ${dir}: ${code === "ENOTDIR" ? "a parent is not a folder" : code}`,
      );
    }
    if (!isDir) {
      throw new CliError(
        `cannot write ${dir}: ${probe === target ? "it" : probe} exists and is not a folder`,
      );
    }
    // The folder is replaced by a rename, which needs write access to its parent.
    const parent = probe === target ? dirname(target) : probe;
    try {
      accessSync(parent, constants.W_OK);
    } catch {
      throw new CliError(`cannot write ${dir}: ${parent} is not writable`);
    }
    return;
  }
}
