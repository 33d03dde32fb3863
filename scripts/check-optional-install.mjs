#!/usr/bin/env node
/**
 * Checks the README's tfjs-node instruction does what it says, in a scratch clone of this
 * repository (HEAD): after the default install, the README's `pnpm add -O @tensorflow/tfjs-node...`
 * line must finish with exit 0, record the optional dependency in packages/backend-tfjs, install
 * the package there, and leave pnpm-workspace.yaml as it is. libtensorflow's own download (the
 * package's install script) may fail where Google's storage cannot be reached: that is reported,
 * not a failure. Needs the npm registry (or a pnpm store that has the packages).
 *
 * Usage: node scripts/check-optional-install.mjs   (exit 1 when a check fails)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const line = readme.split("\n").find((l) => /pnpm@\S+ add -O @tensorflow\/tfjs-node@/.test(l));
if (line === undefined) {
  console.error("README.md has no `pnpm add -O @tensorflow/tfjs-node` line");
  process.exit(1);
}
const argv = line.trim().split(/\s+/);
const scratch = mkdtempSync(join(tmpdir(), "rsc-optional-install-"));
const clone = join(scratch, "rsc");
const sh = (cmd, args, cwd = clone) => {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, CI: "1" } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};
let failed = false;
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  failed ||= !ok;
};
try {
  sh("git", ["clone", "-q", root, clone], scratch);
  const install = sh("npx", ["-y", "pnpm@12.4.2", "install", "--frozen-lockfile"]);
  check(install.code === 0, "the default install");
  const workspace = readFileSync(join(clone, "pnpm-workspace.yaml"), "utf8");
  const add = sh(argv[0], argv.slice(1));
  check(add.code === 0, `\`${line.trim()}\` exits 0`);
  const pkg = JSON.parse(readFileSync(join(clone, "packages/backend-tfjs/package.json"), "utf8"));
  check(
    pkg.optionalDependencies?.["@tensorflow/tfjs-node"] !== undefined,
    "packages/backend-tfjs lists it in optionalDependencies",
  );
  const installed = join(
    clone,
    "packages/backend-tfjs/node_modules/@tensorflow/tfjs-node/package.json",
  );
  check(existsSync(installed), "it is installed under packages/backend-tfjs");
  check(
    readFileSync(join(clone, "pnpm-workspace.yaml"), "utf8") === workspace,
    "pnpm-workspace.yaml is unchanged (its install script was already allowed)",
  );
  const download = /ENOTFOUND|getaddrinfo|ECONNREFUSED/.test(add.out)
    ? "could not reach Google's storage (expected offline): rsc keeps using wasm"
    : "ran";
  console.log(`note: libtensorflow download ${download}`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
