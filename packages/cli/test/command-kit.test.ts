/**
 * The common spec flags: `--root` and `--max-file-size` reach the compiler's options as `root` and
 * `maxFileBytes`, with the documented defaults.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileOptions, DEFAULT_MAX_FILE_BYTES, specRoot } from "../src/command-kit.js";
import { CliError } from "../src/errors.js";
import { root as repoRoot } from "./rsc-process.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-command-kit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("compileOptions", () => {
  it("passes --root and --max-file-size as root and maxFileBytes", () => {
    const options = compileOptions("specs/tiny-cnn.yaml", {
      set: ["classes=3"],
      root: tmp,
      maxFileSize: 1234,
    }) as { set?: unknown; root?: string; maxFileBytes?: number };
    expect(options).toEqual({ set: { classes: "3" }, root: tmp, maxFileBytes: 1234 });
  });

  it("defaults to the spec's git work tree, else its folder, and 16 MiB", () => {
    const inRepo = compileOptions(join(repoRoot, "specs", "tiny-cnn.yaml"), {}) as {
      root?: string;
      maxFileBytes?: number;
    };
    expect(inRepo.maxFileBytes).toBe(DEFAULT_MAX_FILE_BYTES);
    expect(DEFAULT_MAX_FILE_BYTES).toBe(16 * 2 ** 20);
    // The worktree's .git is a file: still a work tree.
    expect(inRepo.root).toBe(repoRoot);
    const loose = join(tmp, "loose", "deeper");
    mkdirSync(loose, { recursive: true });
    writeFileSync(join(loose, "spec.yaml"), "rsc: 1\n");
    expect(specRoot(join(loose, "spec.yaml"), undefined)).toBe(loose);
    mkdirSync(join(tmp, "loose", ".git"));
    expect(specRoot(join(loose, "spec.yaml"), undefined)).toBe(join(tmp, "loose"));
  });

  it("refuses a --root that is not a folder (exit 2)", () => {
    expect(() => specRoot("x.yaml", join(tmp, "none"))).toThrow(CliError);
    expect(() => specRoot("x.yaml", join(tmp, "none"))).toThrow(/--root .*none: no such folder/);
  });
});
