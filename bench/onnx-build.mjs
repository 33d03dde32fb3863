#!/usr/bin/env node
/**
 * Issue 3's build target: `rsc build specs/resnet50.yaml --target onnx` as a whole process at most
 * 0.2x the time of `torch.onnx.export` of the same architecture
 * (`/usr/bin/python3 ../shared/reference/torch_resnet50.py export out.onnx`, Debian's
 * python3-torch), with a lower peak resident memory.
 *
 * Both commands run interleaved (A B, B A, ...) so drift in machine load hits both alike; each
 * runs under `/usr/bin/time -v` for its "Maximum resident set size" (the wall time is measured
 * around the spawn here). Verdict: ratio of the median wall times, and the largest peak RSS of
 * each. Afterwards the rsc model is checked with `onnx.checker.check_model(full_check=True)`
 * when python3-onnx is installed.
 *
 * `--family mobilenet_v2` (or efficientnet_b0, densenet121, vgg16) measures specs/<family>.yaml
 * against `torch.onnx.export` of torchvision's model of the same family (bench/torchvision_export.py,
 * Debian's python3-torchvision) instead.
 *
 * Usage (after `npx tsc -b`): node bench/onnx-build.mjs [--runs 5] [--target 0.2] [--family resnet50]
 * Exits 1 when a target is missed, 2 when a command fails or torch is not installed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { REFERENCE_FAMILIES, referenceFor } from "./lib/reference.mjs";
import { interleave, median } from "./lib/timing.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    target: { type: "string", default: "0.2" },
    family: { type: "string", default: "resnet50" },
  },
});
const runs = Number(values.runs);
const target = Number(values.target);
const python = "/usr/bin/python3";
const reference = referenceFor(values.family, root);
if (reference === undefined) {
  console.error(`--family: one of ${REFERENCE_FAMILIES.join(", ")}`);
  process.exit(2);
}
const tmp = mkdtempSync(join(tmpdir(), "rsc-bench-onnx-build-"));
const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

const rscModel = join(tmp, "rsc.onnx");
const torchModel = join(tmp, "torch.onnx");
const commands = [
  {
    label: `rsc build ${reference.spec} --target onnx`,
    argv: [
      process.execPath,
      join(root, "packages", "cli", "bin", "rsc.js"),
      "build",
      reference.spec,
      "--target",
      "onnx",
      "-o",
      rscModel,
    ],
  },
  {
    label: reference.label,
    argv: reference.argv(torchModel),
  },
];

/** Runs a command once: wall ms (around the spawn) and peak RSS in MB (from /usr/bin/time -v). */
function measure(command) {
  const argv = timeBin ? [timeBin, "-v", ...command.argv] : command.argv;
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { cwd: root, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    process.stderr.write(`${command.label} failed (exit ${result.status}):\n${result.stderr}`);
    process.exit(2);
  }
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr ?? "");
  return { ms, rssMb: rss ? Number(rss[1]) / 1024 : Number.NaN };
}

if (spawnSync(python, ["-c", "import torch"]).status !== 0) {
  console.error(`${python} cannot import torch: apt-get install python3-torch`);
  process.exit(2);
}

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
// One warm-up of each (page cache, Python bytecode cache), not counted.
for (const c of commands) measure(c);
const samples = interleave(runs, commands, measure);
const stats = samples.map((s) => ({
  medianMs: median(s.map((x) => x.ms)),
  minMs: Math.min(...s.map((x) => x.ms)),
  peakMb: Math.max(...s.map((x) => x.rssMb)),
}));
for (const [i, c] of commands.entries()) {
  const st = stats[i];
  console.log(
    `${c.label.padEnd(48)} median ${st.medianMs.toFixed(0).padStart(6)} ms  min ${st.minMs.toFixed(0).padStart(6)} ms  peak RSS ${st.peakMb.toFixed(0)} MB`,
  );
}
const ratio = stats[0].medianMs / stats[1].medianMs;
const rssOk = stats[0].peakMb < stats[1].peakMb;
console.log(`time ratio rsc/torch (medians of ${runs}): ${ratio.toFixed(3)} (target <= ${target})`);
console.log(`peak RSS rsc/torch: ${(stats[0].peakMb / stats[1].peakMb).toFixed(2)} (target < 1)`);
console.log(
  `model sizes: rsc ${(statSync(rscModel).size / 1e6).toFixed(1)} MB, torch ${(statSync(torchModel).size / 1e6).toFixed(1)} MB`,
);

const checker = spawnSync(
  python,
  [
    "-c",
    "import sys, onnx; onnx.checker.check_model(sys.argv[1], full_check=True); print('onnx.checker full_check: ok (onnx ' + onnx.__version__ + ')')",
    rscModel,
  ],
  { encoding: "utf8" },
);
if (checker.status === 0) console.log(checker.stdout.trim());
else if (/No module named 'onnx'/.test(checker.stderr))
  console.log("onnx.checker: skipped (python3-onnx not installed)");
else {
  console.log(`onnx.checker full_check FAILED:\n${checker.stderr}`);
  process.exitCode = 1;
}
rmSync(tmp, { recursive: true, force: true });
if (ratio > target || !rssOk) process.exitCode = 1;
