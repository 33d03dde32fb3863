#!/usr/bin/env node
/**
 * Issue 2's speed target: `rsc check specs/resnet50.yaml` as a whole process within 3x of a bare
 * `node -e 0`, measured side by side on the same machine.
 *
 * The two commands run interleaved (A B, B A, A B, ...) so that drift in machine load hits both
 * alike; the figure is the ratio of the medians. Wall time is measured around a synchronous spawn
 * (the spawn's own overhead is in both numbers). When hyperfine is on the PATH it is run too, as a
 * cross-check; the verdict is always this script's own interleaved measurement.
 *
 * Usage (after `npx tsc -b`): node bench/check-startup.mjs [--runs 20] [--target 3.0] [--spec path]
 * Exits 1 when the ratio is above the target, 2 when `rsc check` fails.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    target: { type: "string", default: "3.0" },
    spec: { type: "string", default: "specs/resnet50.yaml" },
    warmup: { type: "string", default: "3" },
  },
});
const runs = Number(values.runs);
const target = Number(values.target);
const warmup = Number(values.warmup);

const bare = { label: "node -e 0", argv: ["-e", "0"] };
const check = {
  label: `rsc check ${values.spec}`,
  argv: [join("packages", "cli", "bin", "rsc.js"), "check", values.spec],
};

/** Runs one command once; returns wall milliseconds. */
function time(command) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, command.argv, { cwd: root, stdio: "pipe" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    process.stderr.write(`${command.label} failed (exit ${result.status}):\n${result.stderr}`);
    process.exit(2);
  }
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

for (let i = 0; i < warmup; i++) {
  time(bare);
  time(check);
}
const samples = { bare: [], check: [] };
for (let i = 0; i < runs; i++) {
  // Alternate which goes first, so neither always runs right after the other.
  if (i % 2 === 0) {
    samples.bare.push(time(bare));
    samples.check.push(time(check));
  } else {
    samples.check.push(time(check));
    samples.bare.push(time(bare));
  }
}

const bareMedian = median(samples.bare);
const checkMedian = median(samples.check);
const ratio = checkMedian / bareMedian;
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const line = (label, xs) =>
  `  ${label.padEnd(34)} median ${fmt(median(xs)).padStart(9)}  min ${fmt(Math.min(...xs)).padStart(9)}  max ${fmt(Math.max(...xs)).padStart(9)}`;

console.log(
  `rsc check start-up, ${runs} interleaved runs each (node ${process.version}, ${cpus().length}x ${cpus()[0]?.model ?? "cpu"})`,
);
console.log(line(bare.label, samples.bare));
console.log(line(check.label, samples.check));
console.log(`  ratio of medians: ${ratio.toFixed(2)} (target <= ${target.toFixed(1)})`);

const hyperfine = spawnSync("hyperfine", ["--version"], { stdio: "ignore" });
if (hyperfine.status === 0) {
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
      `${node} -e 0`,
      `${node} ${check.argv.join(" ")}`,
    ],
    { cwd: root, encoding: "utf8" },
  );
  try {
    const json = JSON.parse(readFileSync(exportFile, "utf8"));
    const [a, b] = json.results.map((r) => r.median * 1000);
    console.log(
      `  hyperfine cross-check (not interleaved): ${fmt(a)} vs ${fmt(b)}, ratio ${(b / a).toFixed(2)}`,
    );
  } catch {
    console.log(`  hyperfine cross-check: could not read its output (exit ${hf.status})`);
  } finally {
    rmSync(dirname(exportFile), { recursive: true, force: true });
  }
}

console.log(
  JSON.stringify({
    bench: "check-startup",
    runs,
    bareMedianMs: +bareMedian.toFixed(2),
    checkMedianMs: +checkMedian.toFixed(2),
    ratio: +ratio.toFixed(3),
    target,
    pass: ratio <= target,
  }),
);
process.exitCode = ratio <= target ? 0 : 1;
