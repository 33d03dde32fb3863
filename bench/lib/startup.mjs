/**
 * Start-up benchmarks (check-startup, diff-startup): an `rsc` command as a whole process against a
 * bare `node -e 0`, run interleaved (see timing.mjs). Wall time is measured around a synchronous
 * spawn, so the spawn's own overhead is in both numbers.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { interleave, median } from "./timing.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The baseline: a node process that does nothing. */
export const BARE_NODE = { label: "node -e 0", argv: ["-e", "0"] };

/**
 * Runs `node <command.argv>` once in the repository root; returns wall milliseconds. Exits with 2
 * when its exit status is not one of `command.ok` (by default only 0).
 */
export function timeNode(command) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, command.argv, { cwd: root, stdio: "pipe" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (!(command.ok ?? [0]).includes(result.status)) {
    process.stderr.write(`${command.label} failed (exit ${result.status}):\n${result.stderr}`);
    process.exit(2);
  }
  return ms;
}

/** `warmup` uncounted rounds, then `runs` interleaved timings of each command, in ms. */
export function timeStartup(bare, command, { runs, warmup }) {
  for (let i = 0; i < warmup; i++) {
    timeNode(bare);
    timeNode(command);
  }
  const [bareMs, commandMs] = interleave(runs, [bare, command], timeNode);
  return { bare: bareMs, command: commandMs };
}

/** Milliseconds with one decimal: `41.7 ms`. */
export const formatMs = (ms) => `${ms.toFixed(1)} ms`;

/** One result line: the label (padded to `width`), then the median, min and max of `xs`. */
export function sampleLine(label, xs, width) {
  return `  ${label.padEnd(width)} median ${formatMs(median(xs)).padStart(9)}  min ${formatMs(Math.min(...xs)).padStart(9)}  max ${formatMs(Math.max(...xs)).padStart(9)}`;
}

/**
 * When hyperfine is on the PATH, times the two commands with it too (not interleaved) and prints
 * its medians and their ratio, as a cross-check of the interleaved figures.
 */
export function hyperfineCrossCheck(bare, command, { runs, warmup }) {
  if (spawnSync("hyperfine", ["--version"], { stdio: "ignore" }).status !== 0) return;
  const node = JSON.stringify(process.execPath);
  const exportFile = join(mkdtempSync(join(tmpdir(), "rsc-bench-")), "hyperfine.json");
  const hf = spawnSync(
    "hyperfine",
    [
      "-N",
      "--style",
      "none",
      "--warmup",
      String(warmup),
      "--runs",
      String(runs),
      "--export-json",
      exportFile,
      `${node} ${bare.argv.join(" ")}`,
      `${node} ${command.argv.join(" ")}`,
    ],
    { cwd: root, encoding: "utf8" },
  );
  try {
    const json = JSON.parse(readFileSync(exportFile, "utf8"));
    const [a, b] = json.results.map((r) => r.median * 1000);
    console.log(
      `  hyperfine cross-check (not interleaved): ${formatMs(a)} vs ${formatMs(b)}, ratio ${(b / a).toFixed(2)}`,
    );
  } catch {
    console.log(`  hyperfine cross-check: could not read its output (exit ${hf.status})`);
  } finally {
    rmSync(dirname(exportFile), { recursive: true, force: true });
  }
}
