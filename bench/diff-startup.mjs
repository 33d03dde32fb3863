#!/usr/bin/env node
/**
 * Issue 5's speed target: `rsc diff specs/resnet50.yaml <ResNet-101-style variant>` as a whole
 * process within 4x of a bare `node -e 0`, measured side by side on the same machine.
 *
 * The variant is specs/resnet101.yaml when it exists, else the golden fixture
 * packages/compiler/test/diff-fixtures/deeper-stage4/new.yaml (ResNet-50 with a 23-block stage 4).
 * The two commands run interleaved (A B, B A, ...) so that drift in machine load hits both alike;
 * the figure is the ratio of the medians of wall time around a synchronous spawn.
 *
 * Usage (after `npx tsc -b`): node bench/diff-startup.mjs [--runs 20] [--target 4.0] [--new path]
 * Exits 1 when the ratio is above the target, 2 when `rsc diff` fails (exit 0 or 1 is success:
 * 1 only says the architectures differ).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fallback = "packages/compiler/test/diff-fixtures/deeper-stage4/new.yaml";
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    target: { type: "string", default: "4.0" },
    old: { type: "string", default: "specs/resnet50.yaml" },
    new: {
      type: "string",
      default: existsSync(join(root, "specs/resnet101.yaml")) ? "specs/resnet101.yaml" : fallback,
    },
    warmup: { type: "string", default: "3" },
  },
});
const runs = Number(values.runs);
const target = Number(values.target);

const bare = { label: "node -e 0", argv: ["-e", "0"], ok: [0] };
const diff = {
  label: `rsc diff ${values.old} ${values.new.split("/").pop()}`,
  argv: [join("packages", "cli", "bin", "rsc.js"), "diff", values.old, values.new],
  ok: [0, 1],
};

/** Runs one command once; returns wall milliseconds. */
function time(command) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, command.argv, { cwd: root, stdio: "pipe" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (!command.ok.includes(result.status)) {
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

for (let i = 0; i < Number(values.warmup); i++) {
  time(bare);
  time(diff);
}
const samples = { bare: [], diff: [] };
for (let i = 0; i < runs; i++) {
  if (i % 2 === 0) {
    samples.bare.push(time(bare));
    samples.diff.push(time(diff));
  } else {
    samples.diff.push(time(diff));
    samples.bare.push(time(bare));
  }
}

const ratio = median(samples.diff) / median(samples.bare);
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const line = (label, xs) =>
  `  ${label.padEnd(60)} median ${fmt(median(xs)).padStart(9)}  min ${fmt(Math.min(...xs)).padStart(9)}  max ${fmt(Math.max(...xs)).padStart(9)}`;
console.log(
  `rsc diff start-up, ${runs} interleaved runs each (node ${process.version}, ${cpus().length} cores)`,
);
console.log(line(bare.label, samples.bare));
console.log(line(diff.label, samples.diff));
console.log(
  `  ratio of medians: ${ratio.toFixed(2)}x (target <= ${target.toFixed(1)}x): ${ratio <= target ? "PASS" : "FAIL"}`,
);
process.exit(ratio <= target ? 0 : 1);
