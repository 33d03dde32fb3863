#!/usr/bin/env node
/**
 * `pnpm rsc ...`: runs the built bin (packages/cli/bin/rsc.js), or, before the first build, says
 * what to run instead of failing with Node's "Cannot find module" stack trace.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "packages", "cli", "bin", "rsc.js");
if (!existsSync(bin)) {
  process.stderr.write(
    "rsc: error: rsc is not built yet: run `npx -y pnpm@12.4.2 build` (or the README's first command) once\n",
  );
  process.exit(2);
}
const run = spawnSync(process.execPath, [bin, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(run.status ?? 1);
