/**
 * `onnx.checker.check_model(full_check=True)` from Debian's python3-onnx, for the tests that
 * cross-check emitted models with it (skipped, saying so, where the module is missing).
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";

const python = "/usr/bin/python3";
const probe = spawnSync(python, ["-c", "import onnx; print(onnx.__version__)"], {
  encoding: "utf8",
});

/** python3-onnx's version, or undefined where /usr/bin/python3 has no onnx module. */
export const onnxVersion: string | undefined = probe.status === 0 ? probe.stdout.trim() : undefined;

/** A describe title: `onnx.checker full_check<what> (python3-onnx X)`, or why it is SKIPPED. */
export function checkerTitle(what = ""): string {
  return onnxVersion !== undefined
    ? `onnx.checker full_check${what} (python3-onnx ${onnxVersion})`
    : `onnx.checker full_check${what} (SKIPPED: ${python} has no onnx module; apt-get install python3-onnx)`;
}

/** Runs the checker on model files, printing `ok <path>` for each that passes. */
export function checkModels(paths: readonly string[]): SpawnSyncReturns<string> {
  const script = [
    "import sys, onnx",
    "for p in sys.argv[1:]:",
    "    onnx.checker.check_model(p, full_check=True)",
    "    print('ok', p)",
  ].join("\n");
  return spawnSync(python, ["-c", script, ...paths], { encoding: "utf8" });
}
