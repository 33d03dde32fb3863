/**
 * A lock around the commit of one output (the renames that publish it), so that two rsc
 * processes writing the same output commit one after the other, never interleaved: with an ONNX
 * model and its `.data` file, interleaved renames would pair one build's graph with the other's
 * weights.
 *
 * The lock is a folder, `.<output name>.lock` beside the output: mkdir is atomic on every local
 * file system and on NFS, where O_EXCL files are not. It holds `owner` (pid, host, time). It is
 * held for the milliseconds of a few renames, always released in a `finally` (signals are
 * handled between event-loop turns, never inside the synchronous commit), so a lock left behind
 * means its holder was killed (SIGKILL, power loss). Such a lock is stale, and broken, when its
 * owner's pid is no longer running on this host, or when it is older than {@link STALE_MS}
 * whatever the host. Breaking renames the lock folder away first, so of two processes breaking
 * the same stale lock only one succeeds and the other retries.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { CliError } from "./errors.js";

/** A lock older than this is stale whoever holds it (a commit takes milliseconds). */
const STALE_MS = 30_000;
/** How long to wait for another process's commit before giving up (exit 2). */
const WAIT_MS = 15_000;
/** Pause between attempts. */
const RETRY_MS = 20;

/** The lock folder of `output`. */
export function lockPath(output: string): string {
  return join(dirname(output), `.${basename(output)}.lock`);
}

interface Owner {
  readonly pid: number;
  readonly host: string;
}

function readOwner(lock: string): Owner | undefined {
  try {
    const owner = JSON.parse(readFileSync(join(lock, "owner"), "utf8")) as Owner;
    return typeof owner.pid === "number" && typeof owner.host === "string" ? owner : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether the lock at `lock` was left by a process that is gone. */
function isStale(lock: string): boolean {
  let age: number;
  try {
    age = Date.now() - statSync(lock).mtimeMs;
  } catch {
    return false; // Released meanwhile: try again.
  }
  if (age > STALE_MS) return true;
  const owner = readOwner(lock);
  // No owner file yet: its holder is between mkdir and write; give it the benefit of the doubt.
  if (owner === undefined) return false;
  return owner.host === hostname() && !isRunning(owner.pid);
}

/**
 * Breaks a stale lock. Another process may have broken it and taken a fresh one since we looked,
 * so what was renamed aside is checked again, and put back when it is a live lock.
 */
function breakLock(lock: string): void {
  const aside = `${lock}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(lock, aside);
  } catch {
    return; // Another process broke it first, or it was released.
  }
  if (isStale(aside)) {
    rmSync(aside, { recursive: true, force: true });
    return;
  }
  try {
    renameSync(aside, lock);
  } catch {
    // A third process holds the lock now; the one put aside stays aside until its owner ends.
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `commit` (synchronous: the renames) holding the lock of `output`, waiting for another
 * process's commit of the same output if need be. Throws CliError (exit 2) when the lock cannot be
 * taken within {@link WAIT_MS}.
 */
export async function withCommitLock<T>(output: string, commit: () => T): Promise<T> {
  const lock = lockPath(output);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST")
        throw new CliError(
          `cannot write ${output}: cannot create the lock ${lock}: ${(error as NodeJS.ErrnoException).code}`,
        );
    }
    if (isStale(lock)) {
      breakLock(lock);
      continue;
    }
    if (Date.now() > deadline) {
      const owner = readOwner(lock);
      throw new CliError(
        `cannot write ${output}: another rsc${owner === undefined ? "" : ` (pid ${owner.pid})`} is ` +
          `writing it; if none is running, remove ${lock}`,
      );
    }
    await sleep(RETRY_MS);
  }
  try {
    const owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    writeFileSync(join(lock, "owner"), JSON.stringify(owner));
    return commit();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
