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
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BARE_NODE, hyperfineCrossCheck, sampleLine, timeStartup } from "./lib/startup.mjs";
import { median } from "./lib/timing.mjs";

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

const check = {
  label: `rsc check ${values.spec}`,
  argv: [join("packages", "cli", "bin", "rsc.js"), "check", values.spec],
};

const samples = timeStartup(BARE_NODE, check, { runs, warmup });
const bareMedian = median(samples.bare);
const checkMedian = median(samples.command);
const ratio = checkMedian / bareMedian;

console.log(
  `rsc check start-up, ${runs} interleaved runs each (node ${process.version}, ${cpus().length}x ${cpus()[0]?.model ?? "cpu"})`,
);
console.log(sampleLine(BARE_NODE.label, samples.bare, 34));
console.log(sampleLine(check.label, samples.command, 34));
console.log(`  ratio of medians: ${ratio.toFixed(2)} (target <= ${target.toFixed(1)})`);

hyperfineCrossCheck(BARE_NODE, check, { runs, warmup });

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
