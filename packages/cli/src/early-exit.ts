/**
 * How `rsc` ends before its command is done: on SIGINT/SIGTERM, and when the pipe its output goes
 * to closes (`rsc graph x.yaml | head`).
 *
 * Signals. Node runs a signal handler between turns of the event loop, never inside synchronous
 * code, so a handler never sees a half-renamed output: every commit (the renames that publish an
 * output) is one synchronous step. Writers register what they have on disk that is not yet
 * published ({@link trackTemp}: temp files and folders) and what must be undone on a terminal
 * ({@link onTerminalRestore}: a progress bar hides the cursor), and say what a reader would find
 * if the command stopped now ({@link setKept}). On a signal the handler removes every temp,
 * restores the terminal, prints one line (`rsc: interrupted by SIGINT: <what was kept>`) and exits
 * 128 + the signal number (130, 143). A writer yields once to the event loop before it commits
 * ({@link beforeCommit}), so a signal that arrived while it was writing stops it before the old
 * output is replaced.
 *
 * A closed pipe (EPIPE on stdout or stderr) means the reader has all it wanted: exit 0, quietly.
 */

import { rmSync } from "node:fs";
import { printable } from "./output.js";

/** Temp files and folders not yet committed; removed when the process ends early. */
const temps = new Set<string>();
/** Undo functions of what changed the terminal (a progress bar hides the cursor). */
const restorers = new Set<() => void>();
/** What a reader finds if the command stops now, e.g. `nothing was written`. */
let kept = "nothing was written";

/** Exit statuses of the signals handled: 128 + the signal's number, as shells report them. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/** Marks `path` as a temp to remove if the process ends early; returns the function to unmark it. */
export function trackTemp(path: string): () => void {
  temps.add(path);
  return () => temps.delete(path);
}

/** Registers a function that restores the terminal; returns the function to unregister it. */
export function onTerminalRestore(restore: () => void): () => void {
  restorers.add(restore);
  return () => restorers.delete(restore);
}

/** Says what the output holds if the command stops now (printed after `interrupted by SIGINT: `). */
export function setKept(description: string): void {
  kept = description;
}

/** Lets a pending signal be handled before a commit: resolves after one turn of the event loop. */
export function beforeCommit(): Promise<void> {
  // setImmediate runs after the loop's poll phase, where a received signal's handler runs.
  return new Promise((resolve) => setImmediate(resolve));
}

function removeTemps(): void {
  for (const path of temps) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Ending anyway: nothing more can be done about it.
    }
  }
  temps.clear();
}

function restoreTerminal(): void {
  for (const restore of restorers) {
    try {
      restore();
    } catch {
      // A bar that cannot redraw still gets its cursor back below.
    }
  }
  restorers.clear();
  // Show the cursor whoever hid it.
  if (process.stderr.isTTY === true) process.stderr.write("\u001b[?25h");
}

let ending = false;

/** Synchronous from start to exit, so no other work (a commit) runs in between. */
function endOnSignal(signal: keyof typeof SIGNAL_EXIT): void {
  // A second Ctrl-C while cleaning up is the same request.
  if (ending) return;
  ending = true;
  restoreTerminal();
  removeTemps();
  try {
    process.stderr.write(`rsc: interrupted by ${signal}: ${printable(kept)}\n`);
  } catch {
    // stderr is gone: the exit status still says what happened.
  }
  process.exit(SIGNAL_EXIT[signal]);
}

/** stdout or stderr failed: nothing more can be shown, so temps go and the process ends quietly. */
function endOnOutputError(error: NodeJS.ErrnoException): void {
  removeTemps();
  // EPIPE: the reader closed the pipe, having read what it wanted. Anything else is an I/O error.
  process.exit(error.code === "EPIPE" ? 0 : 2);
}

/** Installs the handlers (once, by the bin: tests that call `main` keep Node's defaults). */
export function installEarlyExit(): void {
  for (const signal of Object.keys(SIGNAL_EXIT) as (keyof typeof SIGNAL_EXIT)[])
    process.on(signal, () => endOnSignal(signal));
  process.stdout.on("error", endOnOutputError);
  process.stderr.on("error", endOnOutputError);
}
