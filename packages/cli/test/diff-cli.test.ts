/**
 * `rsc diff` as a real child process (`node packages/cli/bin/rsc.js`, built by the root `test`
 * script's `tsc -b`), against a real temporary git repository for the `REV:path` form: the spec
 * and the library it imports are both read at the revision.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Run, rsc as rscProcess } from "./rsc-process.js";

const repo = mkdtempSync(join(tmpdir(), "rsc-diff-git-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));

const SPEC = `rsc: 1
name: tiny
import: [lib/blocks.yaml]
params: { classes: 3 }
input: { name: input_1, shape: [16, 16, 3] }
layers:
  - conv2d: { name: stem, filters: 8, kernel_size: 3, padding: same }
  - stage: { use: unit, over: { block: a..b }, with: { filters: 8 } }
  - global_average_pooling2d: { name: pool }
  - dense: { name: fc, units: "{classes}", activation: softmax }
`;

const LIB = `rsc: 1
blocks:
  unit:
    params: { filters: int, block: str }
    layers:
      - conv2d: { name: "unit{block}_conv", filters: "{filters}", kernel_size: 3, padding: same }
      - batch_normalization: { name: "unit{block}_bn" }
      - relu
`;

/** Runs git in the temporary repository with a private identity and no user configuration. */
function git(...args: string[]): string {
  return execFileSync(
    "git",
    [
      "-c",
      "user.email=test@example.com",
      "-c",
      "user.name=test",
      "-c",
      "commit.gpgsign=false",
      ...args,
    ],
    { cwd: repo, env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: repo }, encoding: "utf8" },
  );
}

function write(path: string, text: string): void {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), text);
}

/** Runs `rsc args` with `cwd` inside the repository. */
function rsc(args: readonly string[], cwd = repo): Promise<Run> {
  return rscProcess(args, { cwd });
}

beforeAll(() => {
  git("init", "-q", "-b", "main");
  write("spec.yaml", SPEC);
  write("lib/blocks.yaml", LIB);
  git("add", "-A");
  git("commit", "-q", "-m", "tiny");
  // The working tree changes the library only: a kernel size in the template.
  write("lib/blocks.yaml", LIB.replace("kernel_size: 3", "kernel_size: 5"));
});

describe("rsc diff REV:path", () => {
  it("reads the spec and its imports at the revision", async () => {
    const run = await rsc(["diff", "HEAD:spec.yaml", "spec.yaml", "--format", "json"]);
    expect(run.code).toBe(1);
    const diff = JSON.parse(run.stdout);
    expect(diff.schemaVersion).toBe(1);
    expect(diff.old.source).toBe("HEAD:spec.yaml");
    // Had the old side read lib/blocks.yaml from disk, there would be no change at all.
    expect(diff.groups).toHaveLength(1);
    expect(diff.groups[0]).toMatchObject({
      kind: "changed",
      ops: ["conv2d"],
      attrs: [{ attr: "kernel_size", old: [3, 3], new: [5, 5] }],
      layers: ["unita_conv", "unitb_conv"],
      origin: { file: "lib/blocks.yaml", line: 6, block: "unit" },
    });
    expect(diff.weights.verdict).toBe("partial");
    expect(diff.weights.shapeChanged.map((w: { name: string }) => w.name)).toEqual([
      "unita_conv/kernel",
      "unitb_conv/kernel",
    ]);
  });

  it("exits 0 for the same revision on both sides, and from a subfolder", async () => {
    mkdirSync(join(repo, "sub"), { recursive: true });
    const run = await rsc(["diff", "main:spec.yaml", "HEAD:spec.yaml"], join(repo, "sub"));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("same architecture");
    const relative = await rsc(["diff", "HEAD:../spec.yaml", "../spec.yaml"], join(repo, "sub"));
    expect(relative.code).toBe(1);
  });

  it("from a subfolder, suggests REV:./path when the root-relative path does not exist", async () => {
    write("lib/model.yaml", SPEC.replaceAll("lib/blocks.yaml", "blocks.yaml"));
    git("add", "lib/model.yaml");
    git("commit", "-q", "-m", "model in lib");
    const run = await rsc(["diff", "HEAD:model.yaml", "model.yaml"], join(repo, "lib"));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "a path after REV: is relative to the repository root; from lib/ write HEAD:./model.yaml",
    );
    // Read at HEAD it works: exit 1, the working tree's library changed a kernel size.
    expect((await rsc(["diff", "HEAD:./model.yaml", "model.yaml"], join(repo, "lib"))).code).toBe(
      1,
    );
  });

  it("gates on --fail-on", async () => {
    expect((await rsc(["diff", "HEAD:spec.yaml", "spec.yaml", "--fail-on", "io"])).code).toBe(0);
    expect((await rsc(["diff", "HEAD:spec.yaml", "spec.yaml", "--fail-on", "weights"])).code).toBe(
      1,
    );
    const classes = ["diff", "spec.yaml", "spec.yaml", "--new-set", "classes=4"];
    expect((await rsc([...classes, "--fail-on", "io"])).code).toBe(1);
    expect((await rsc(["diff", "spec.yaml", "spec.yaml", "--new-set", "classes=3"])).code).toBe(0);
  });

  it("prints a markdown comment and a JSON envelope", async () => {
    const md = await rsc(["diff", "HEAD:spec.yaml", "spec.yaml", "--format", "markdown"]);
    expect(md.stdout).toMatch(/^### Architecture diff: `HEAD:spec.yaml` → `spec.yaml`/);
    expect(md.stdout).toContain("kernel_size 3x3 → 5x5 in 2 conv2d layers");
    expect(md.stdout).toContain("<details>");
    const json = await rsc(["diff", "HEAD:spec.yaml", "spec.yaml", "--json"]);
    const envelope = JSON.parse(json.stdout);
    expect(envelope).toMatchObject({ command: "diff", ok: false, diagnostics: [] });
    expect(envelope.result.summary.layersChanged).toBe(2);
    // stem 16x16x8 x 3 x 9 = 55,296, fc 8 x 3 = 24, each unit conv 16x16x8 x 8 x 9 = 147,456,
    // with 5x5 kernels x 8 x 25 = 409,600.
    expect(envelope.result.summary).toMatchObject({
      macsOld: 350_232,
      macsNew: 874_520,
      macsDelta: 524_288,
      macsDeltaPercent: 149.7,
    });
    expect(md.stdout).toContain("MACs 350,232 → 874,520 (+524,288, +149.7%)**");
    const text = await rsc(["diff", "HEAD:spec.yaml", "spec.yaml"]);
    expect(text.stdout).toContain(
      "params 1,483 -> 3,531 (+2,048, +138.1%), MACs 350,232 -> 874,520 (+524,288, +149.7%)\n",
    );
  });

  it("exits 2 on a bad revision, a missing path, and spec errors (with located diagnostics)", async () => {
    const badRev = await rsc(["diff", "nope:spec.yaml", "spec.yaml"]);
    expect(badRev.code).toBe(2);
    expect(badRev.stderr).toContain("nope");
    const missing = await rsc(["diff", "HEAD:missing.yaml", "spec.yaml"]);
    expect(missing.code).toBe(2);
    write("broken.yaml", SPEC.replace("kernel_size: 3,", "kernel_sise: 3,"));
    const broken = await rsc(["diff", "spec.yaml", "broken.yaml"]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.yaml:7:\d+: error RSC105/);
    expect(broken.stdout).toBe("");
  });

  it("never passes a revision to git as an option, and refuses paths outside the repository (exit 2)", async () => {
    const option = await rsc(["diff", "--", "--output=out:spec.yaml", "spec.yaml"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("'--output=out' is not a git revision");
    expect(existsSync(join(repo, "out"))).toBe(false);
    for (const outside of ["HEAD:/etc/passwd", "HEAD:../../etc/passwd"]) {
      const run = await rsc(["diff", outside, "spec.yaml"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/is outside the repository/);
    }
    const tree = await rsc(["diff", "HEAD:lib", "spec.yaml"]);
    expect(tree.code).toBe(2);
  });

  it("leaves the repository untouched", () => {
    expect(git("status", "--porcelain")).toBe(
      " M lib/blocks.yaml\n?? broken.yaml\n?? sub/\n".replace("?? sub/\n", ""),
    );
    expect(readFileSync(join(repo, "spec.yaml"), "utf8")).toBe(SPEC);
  });
});
