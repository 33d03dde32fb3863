/**
 * Atomic output: write to temporary siblings, then rename, so a failure (or Ctrl-C) never leaves
 * a half-written model behind. Only the CLI writes to disk.
 *
 * Every writer checks first what its output may replace (output-checks.ts), writes temps that
 * the signal handler knows of (early-exit.ts), yields once so a pending signal stops it before
 * the commit, and commits under the output's lock (commit-lock.ts) in one synchronous step.
 */
import { closeSync, linkSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { ArtifactFile, ByteSink } from "@rsc/compiler";
import { withCommitLock } from "./commit-lock.js";
import { beforeCommit, trackTemp } from "./early-exit.js";
import { CliError } from "./errors.js";
import { ExitCode } from "./exit-codes.js";
import { checkOutputDir, checkOutputFile } from "./output-checks.js";

function tempSibling(path: string, suffix = ""): string {
  const stamp = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.tmp-${stamp}${suffix}`);
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
  if (error instanceof CliError) return error;
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new CliError(`cannot ${action} ${path}: ${reason}`, ExitCode.UsageError);
}

/** Streams `produce`'s chunks into a new file at `path`; each chunk is on disk before `write` returns. */
function writeChunks(path: string, produce: (write: (chunk: Uint8Array) => void) => void): void {
  const handle = openSync(path, "wx");
  try {
    produce((chunk) => {
      for (let done = 0; done < chunk.byteLength; )
        done += writeSync(handle, chunk, done, chunk.byteLength - done);
    });
  } finally {
    closeSync(handle);
  }
}

/** Options of the file writers. */
export interface WriteOptions {
  /** The command's input files, which an output must never replace. */
  readonly inputs?: readonly string[];
}

/** Writes one small file atomically, creating its folder. Throws CliError (exit 2) on I/O failure. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteOptions = {},
): Promise<void> {
  await writeFilesAtomic(
    [{ path, produce: (write) => write(typeof data === "string" ? Buffer.from(data) : data) }],
    options,
  );
}

/** One file of {@link writeFilesAtomic}. */
export interface FileToWrite {
  readonly path: string;
  /** Calls `write` for each chunk in order; each chunk is on disk before `write` returns. */
  readonly produce: (write: ByteSink) => void;
}

/**
 * Writes files that belong together (an ONNX model and its `.data`) as one artifact:
 * 1. every path is checked (output-checks.ts) before anything is written, so a bad path fails
 *    with nothing on disk;
 * 2. each file is streamed to a temp sibling (nothing the size of a file is held in memory: a
 *    producer may reuse its buffer, and files over a Buffer's 4 GB limit can be written);
 * 3. under the lock of the first path (the main file), all temps are renamed into place in
 *    order, synchronously, after each old file is kept as a hard-linked backup; if a rename fails,
 *    the files already renamed are put back, so the pair on disk is the old one or the new one.
 * Two builds racing for the same output thus commit one after the other, and the `.data` beside a
 * model is always the one written with it. (A reader that opens the model during the
 * milliseconds of a commit may still see the new `.data` with the old model: only a reader that
 * takes the same lock is fully protected.) A CliError thrown by a producer is passed on as is;
 * any other failure is an I/O error (exit 2). Siblings first, main file last, as listed.
 */
export async function writeFilesAtomic(
  files: readonly FileToWrite[],
  { inputs = [] }: WriteOptions = {},
): Promise<void> {
  const main = files.at(-1);
  if (main === undefined) return;
  for (const file of files) checkOutputFile(file.path, inputs);
  const temps: { tmp: string; path: string; forget: () => void }[] = [];
  try {
    for (const file of files) {
      mkdirSync(dirname(file.path), { recursive: true });
      const tmp = tempSibling(file.path);
      temps.push({ tmp, path: file.path, forget: trackTemp(tmp) });
      writeChunks(tmp, file.produce);
    }
    await beforeCommit();
    await withCommitLock(main.path, () => {
      // Re-checked: another process may have put a folder or a FIFO there meanwhile.
      for (const file of files) checkOutputFile(file.path, inputs);
      commitRenames(temps);
    });
  } catch (error) {
    throw ioError("write", main.path, error);
  } finally {
    for (const { tmp, forget } of temps) {
      removeQuietly(tmp);
      forget();
    }
  }
}

/** Renames each temp over its path, in order; on a failure puts back the files already replaced. */
function commitRenames(pairs: readonly { tmp: string; path: string }[]): void {
  const done: { path: string; backup: string | undefined }[] = [];
  try {
    for (const { tmp, path } of pairs) {
      let backup: string | undefined = tempSibling(path, "-old");
      try {
        linkSync(path, backup);
      } catch {
        backup = undefined; // Nothing there yet (or no hard links here): nothing to put back.
      }
      done.push({ path, backup });
      renameSync(tmp, path);
    }
  } catch (error) {
    for (const { path, backup } of done.reverse()) {
      try {
        if (backup !== undefined) renameSync(backup, path);
        else rmSync(path, { force: true });
      } catch {
        // Best effort: the error below says the write failed.
      }
    }
    throw error;
  } finally {
    for (const { backup } of done) if (backup !== undefined) removeQuietly(backup);
  }
}

/**
 * Writes a folder of files atomically: all files go to a temporary sibling folder, which then
 * replaces `dir`, under `dir`'s lock. `dir` may be replaced only when it is empty or a previous
 * rsc output (checked before writing and again just before the swap), so no file rsc did not
 * write is ever deleted, and no stale weight shard of an older rsc output survives. Each file is
 * streamed; `track` may wrap the chunk sink (a progress bar over the whole folder).
 */
export async function writeDirAtomic(
  dir: string,
  files: Iterable<ArtifactFile>,
  {
    inputs = [],
    track = (sink) => sink,
  }: WriteOptions & { readonly track?: (sink: ByteSink) => ByteSink } = {},
): Promise<void> {
  checkOutputDir(dir, inputs);
  const tmp = tempSibling(dir);
  const old = `${tmp}-old`;
  const forget = [trackTemp(tmp), trackTemp(old)];
  try {
    mkdirSync(tmp, { recursive: true });
    for (const file of files)
      writeChunks(join(tmp, file.name), (write) => file.writeTo(track(write)));
    await beforeCommit();
    await withCommitLock(dir, () => {
      checkOutputDir(dir, inputs);
      try {
        renameSync(dir, old);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      try {
        renameSync(tmp, dir);
      } catch (error) {
        try {
          renameSync(old, dir);
        } catch {
          // There was no old folder.
        }
        throw error;
      }
    });
  } catch (error) {
    throw ioError("write", dir, error);
  } finally {
    removeQuietly(tmp);
    removeQuietly(old);
    for (const f of forget) f();
  }
}
