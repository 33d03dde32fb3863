#!/usr/bin/env node
/**
 * Issue 5's speed target: `rsc diff specs/resnet50.yaml <ResNet-101-style variant>` as a whole
 * process within 4x of a bare `node -e 0`, measured side by side on the same machine.
 *
 * The variant is specs/resnet101.yaml when it exists, else the golden fixture
 * packages/compiler/test/fixtures/_diff_/deeper-stage4/new.yaml (ResNet-50 with a 23-block stage 4).
 * The two commands run interleaved (A B, B A, ...) so that drift in machine load hits both alike;
 * the figure is the ratio of the medians of wall time around a synchronous spawn.
 *
 * Usage (after `npx tsc -b`): node bench/diff-startup.mjs [--runs 20] [--target 4.0] [--new path]
 * Exits 1 when the ratio is above the target, 2 when `rsc diff` fails (exit 0 or 1 is success:
 * 1 only says the architectures differ).
 */
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BARE_NODE, sampleLine, timeStartup } from "./lib/startup.mjs";
import { median } from "./lib/timing.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const fallback = "packages/compiler/test/fixtures/_diff_/deeper-stage4/new.yaml";
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

const diff = {
  label: `rsc diff ${values.old} ${values.new.split("/").pop()}`,
  argv: [join("packages", "cli", "bin", "rsc.js"), "diff", values.old, values.new],
  ok: [0, 1],
};

const samples = timeStartup(BARE_NODE, diff, { runs, warmup: Number(values.warmup) });
const ratio = median(samples.command) / median(samples.bare);
console.log(
  `rsc diff start-up, ${runs} interleaved runs each (node ${process.version}, ${cpus().length} cores)`,
);
console.log(sampleLine(BARE_NODE.label, samples.bare, 60));
console.log(sampleLine(diff.label, samples.command, 60));
console.log(
  `  ratio of medians: ${ratio.toFixed(2)}x (target <= ${target.toFixed(1)}x): ${ratio <= target ? "PASS" : "FAIL"}`,
);
process.exit(ratio <= target ? 0 : 1);
