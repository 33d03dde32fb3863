/**
 * The README's set-up commands from a user's side: `pnpm rsc` before the first build says what to
 * run (no stack trace), the bin is executable, and `npm link` in packages/cli puts a working `rsc`
 * on the PATH (into a scratch npm prefix here, never the machine's).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bin, root } from "./rsc-process.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-install-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("set-up", () => {
  it("`pnpm rsc` before the first build says what to run, exit 2, no stack trace", () => {
    // The launcher in a checkout that has not been built yet.
    mkdirSync(join(tmp, "clone", "scripts"), { recursive: true });
    copyFileSync(join(root, "scripts", "rsc.mjs"), join(tmp, "clone", "scripts", "rsc.mjs"));
    const r = spawnSync(process.execPath, [join(tmp, "clone", "scripts", "rsc.mjs"), "--version"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "rsc: error: rsc is not built yet: run `npx -y pnpm@12.4.2 build` (or the README's first command) once\n",
    );
  });

  it("`pnpm rsc` after the build runs rsc", () => {
    const r = spawnSync(process.execPath, [join(root, "scripts", "rsc.mjs"), "--version"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("the bin is executable, and `npm link` in packages/cli puts it on the PATH", () => {
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    const prefix = join(tmp, "prefix");
    const link = spawnSync("npm", ["link", "--offline", "--no-audit", "--no-fund"], {
      cwd: join(root, "packages", "cli"),
      encoding: "utf8",
      env: { ...process.env, npm_config_prefix: prefix },
    });
    expect(link.stderr).not.toMatch(/ERR!/);
    expect(link.status).toBe(0);
    const r = spawnSync(join(prefix, "bin", "rsc"), ["--version"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
