/**
 * Runs the built `rsc` bin as a child process: stdin closed, colour off unless a test sets the
 * colour variables itself, and it fails the test if any run shows a stack trace or an internal
 * error, whatever its input.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The built bin, `packages/cli/bin/rsc.js` (the root `test` script runs `tsc -b` first). */
export const bin = join(root, "packages", "cli", "bin", "rsc.js");

/** One finished run. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where and how to run. */
export interface RunOptions {
  /** The working directory; default the repository root. */
  readonly cwd?: string;
  /**
   * Variables set over the parent's environment, from which FORCE_COLOR and NO_COLOR are removed
   * first, so colour depends only on them; default `{ NO_COLOR: "1" }`.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs `rsc args`. */
export function rsc(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const parent = { ...process.env };
    delete parent["FORCE_COLOR"];
    delete parent["NO_COLOR"];
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? root,
      env: { ...parent, ...(options.env ?? { NO_COLOR: "1" }) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  }).then((run) => {
    expect(run.stderr).not.toContain("    at ");
    expect(run.stderr).not.toContain("internal error");
    return run;
  });
}

/** `file:line:col: error CODE` triples of the located diagnostics in stderr. */
export function located(stderr: string): [string, string, string, string][] {
  return [...stderr.matchAll(/^(.+?):(\d+):(\d+): error (RSC\d+):/gm)].map(
    (m) => [m[1]!, m[2]!, m[3]!, m[4]!] as [string, string, string, string],
  );
}
