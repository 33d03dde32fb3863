#!/usr/bin/env node
/**
 * Issue 3, item 8: a model over 2 GB goes to ONNX external data, never a protobuf crash, and
 * loads in onnxruntime. Builds bench/specs/wide-mlp.yaml (537 M params, 2.15 GB) with the default
 * threshold, checks the files (a small .onnx, a .onnx.data holding the weights), runs
 * `rsc run` on it (an onnxruntime-node session over the external data), and runs
 * `onnx.checker.check_model(path, full_check=True)` when python3-onnx is installed.
 * Wall time and peak RSS of the build and the run are printed (`/usr/bin/time -v` when present).
 *
 * Too heavy for CI (2.15 GB written, ~3 GB of memory to run). Usage (after the build):
 *   node bench/onnx-large.mjs [--spec bench/specs/wide-mlp.yaml]
 * Exits 1 when a check fails, 2 when a command fails.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: { spec: { type: "string", default: join("bench", "specs", "wide-mlp.yaml") } },
});
const rsc = join(root, "packages", "cli", "bin", "rsc.js");
const tmp = mkdtempSync(join(tmpdir(), "rsc-bench-onnx-large-"));
const model = join(tmp, "large.onnx");
const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/** Runs a command; its wall time, peak RSS (MB, when /usr/bin/time is there) and output. */
function measure(label, argv) {
  const full = timeBin === undefined ? argv : [timeBin, "-v", ...argv];
  const start = performance.now();
  const r = spawnSync(full[0], full.slice(1), { cwd: root, encoding: "utf8" });
  const ms = performance.now() - start;
  if (r.status !== 0) {
    console.error(`${label} failed (exit ${r.status}):\n${r.stderr}`);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(2);
  }
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1];
  const rss = kb === undefined ? "" : `, peak RSS ${Math.round(Number(kb) / 1024)} MB`;
  console.log(`${label}: ${(ms / 1000).toFixed(1)} s${rss}`);
  return r;
}

let failed = false;
const check = (ok, what) => {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
  failed ||= !ok;
};

const built = measure(`rsc build ${values.spec} --target onnx`, [
  process.execPath,
  rsc,
  "build",
  values.spec,
  "--target",
  "onnx",
  "-o",
  model,
  "--json",
]);
const params = JSON.parse(built.stdout).result?.params ?? 0;
const data = `${model}.data`;
check(existsSync(data), `external data written next to the model (${data})`);
const modelBytes = statSync(model).size;
const dataBytes = existsSync(data) ? statSync(data).size : 0;
check(modelBytes < 1 << 20, `model file small: ${modelBytes} bytes`);
check(
  // Tensors under 1 KB (here the logits' bias) stay inline in the model file.
  modelBytes + dataBytes >= params * 4 && dataBytes > params * 4 - (1 << 20),
  `the data file holds the weights: ${dataBytes} bytes, ${params} params (${params * 4} bytes)`,
);
check(dataBytes > 2 ** 31, "over 2 GB, past protobuf's limit for one message");

const ran = measure("rsc run (onnxruntime-node, CPU)", [
  process.execPath,
  rsc,
  "run",
  model,
  "--ep",
  "cpu",
  "--json",
]);
const outputs = JSON.parse(ran.stdout).result?.outputs ?? [];
check(
  outputs.length === 1 && outputs[0].shape.join(",") === "1,10",
  `onnxruntime ran it: output ${outputs.map((o) => `[${o.shape}]`).join(" ")}`,
);

const python = "/usr/bin/python3";
const hasOnnx = spawnSync(python, ["-c", "import onnx"]).status === 0;
if (hasOnnx) {
  const r = spawnSync(
    python,
    ["-c", "import onnx,sys; onnx.checker.check_model(sys.argv[1], full_check=True)", model],
    { encoding: "utf8" },
  );
  check(r.status === 0, `onnx.checker full_check${r.status === 0 ? "" : `: ${r.stderr.trim()}`}`);
} else console.log("  skip onnx.checker (python3-onnx not installed)");

rmSync(tmp, { recursive: true, force: true });
if (failed) process.exitCode = 1;
