/**
 * Runs the built `rsc` bin as a child process (for build/run tests): stdin closed, colour off,
 * and it fails the test if any run shows a stack trace or an internal error.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const bin = join(root, "packages", "cli", "bin", "rsc.js");

/** One finished run. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `rsc args` in `cwd` (default: the repository root). */
export function rsc(args: readonly string[], cwd = root): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: "1" };
    delete env["FORCE_COLOR"];
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env,
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
