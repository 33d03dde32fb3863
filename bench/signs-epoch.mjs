#!/usr/bin/env node
/**
 * Issue 16's epoch record: one `rsc train` epoch of specs/resnet50.yaml on a SIGNS-shaped file
 * (1,080 training images of 64x64x3 uint8 and 120 test images, 6 classes, as the Coursera course's
 * train_signs.h5 / test_signs.h5 hold them, in one file), against the step time the same run
 * reports and PyTorch's step on the same architecture (/work/shared/reference/torch_resnet50.py
 * train-step) times the 34 steps of batch 32 an epoch has: a baseline measured in the same run.
 *
 * The data file is written here (h5wasm, seeded pixels) in a temporary folder removed at the end.
 *
 * Usage (after `npx -y pnpm@12.4.2 build`): node bench/signs-epoch.mjs [--runtime auto]
 *   [--threads N] [--torch-steps 6] [--python /usr/bin/python3]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { median } from "./lib/timing.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    runtime: { type: "string", default: "auto" },
    threads: { type: "string" },
    "torch-steps": { type: "string", default: "6" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
});
// h5wasm's node build is import-only (no require condition): imported by path from the CLI's copy.
const h5wasm = (
  await import(
    pathToFileURL(
      join(root, "packages", "cli", "node_modules", "h5wasm", "dist", "node", "hdf5_hl.js"),
    ).href
  )
).default;
await h5wasm.ready;

const [TRAIN, TEST, SIZE, CLASSES] = [1080, 120, 64, 6];
const work = mkdtempSync(join(tmpdir(), "rsc-signs-epoch-"));
try {
  const data = join(work, "signs.h5");
  const file = new h5wasm.File(data, "w");
  let state = 42;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  for (const [name, n] of [
    ["train", TRAIN],
    ["test", TEST],
  ]) {
    const pixels = new Uint8Array(n * SIZE * SIZE * 3);
    const labels = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % CLASSES));
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(next() * 256);
    file.create_dataset({ name: `${name}_set_x`, data: pixels, shape: [n, SIZE, SIZE, 3] });
    file.create_dataset({ name: `${name}_set_y`, data: labels, shape: [1, n] });
  }
  file.create_dataset({
    name: "list_classes",
    data: BigInt64Array.from({ length: CLASSES }, (_, i) => BigInt(i)),
  });
  file.close();

  console.log(
    `# rsc train specs/resnet50.yaml, 1 epoch of ${TRAIN} images (batch 32); ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load ${loadavg()[0].toFixed(2)}`,
  );
  const out = join(work, "trained");
  const args = [
    join(root, "packages", "cli", "bin", "rsc.js"),
    "train",
    "specs/resnet50.yaml",
    "--data",
    data,
    "--epochs",
    "1",
    "--runtime",
    values.runtime,
    "-o",
    out,
    ...(values.threads ? ["--threads", values.threads] : []),
  ];
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
  const wall = (performance.now() - started) / 1000;
  if (run.status !== 0) {
    console.error(run.stderr);
    process.exit(1);
  }
  const lines = run.stderr.split("\n").filter((l) => /tfjs runtime|ms\/step/.test(l));
  for (const line of lines) console.log(`# ${line.trim()}`);
  const steps = Math.ceil(TRAIN / 32);
  const perStep = /trained on .*?: (\d+) ms\/step/.exec(run.stderr);
  console.log(`\n| what | time |\n|---|---|`);
  console.log(`| rsc train, 1 epoch (wall, process start to exit) | ${wall.toFixed(1)} s |`);
  if (perStep)
    console.log(`| rsc train, median step | ${(Number(perStep[1]) / 1000).toFixed(2)} s |`);

  if (existsSync(values.python)) {
    const torch = spawnSync(
      values.python,
      ["/work/shared/reference/torch_resnet50.py", "train-step", values["torch-steps"]],
      { encoding: "utf8" },
    );
    const times = [...torch.stdout.matchAll(/train-step_s=([0-9.]+)/g)].map((m) => Number(m[1]));
    if (torch.status === 0 && times.length > 1) {
      const step = median(times.slice(1));
      console.log(`| PyTorch step (median of ${times.length - 1}) | ${step.toFixed(2)} s |`);
      console.log(
        `| PyTorch, ${steps} steps (an epoch's worth, no data loading) | ${(step * steps).toFixed(1)} s |`,
      );
      console.log(`| ratio, rsc epoch / PyTorch steps | ${(wall / (step * steps)).toFixed(1)}x |`);
    } else console.log(`torch step failed or printed no times: ${torch.stderr.split("\n")[0]}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
