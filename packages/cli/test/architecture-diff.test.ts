/**
 * The pull-request workflow's script (scripts/architecture-diff.mjs) against a temporary git
 * repository: a block-library edit reaches a model importing it block-style, a model in a
 * subfolder, and a model importing it through another library; a removed and a new model are
 * listed; a model whose architecture did not change is one line; the overview gives params and
 * MACs old -> new with their percent change; the comment names the PR head commit and is cut
 * only between sections.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root } from "./rsc-process.js";

const script = join(root, "scripts", "architecture-diff.mjs");
const repo = mkdtempSync(join(tmpdir(), "rsc-architecture-diff-test-"));
afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
  rmSync(`${repo}-comment.md`, { force: true });
});

function git(...args: string[]): string {
  const r = spawnSync("git", args, { cwd: repo, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

function write(path: string, text: string): void {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), text);
}

function runScript(...args: string[]) {
  const out = `${repo}-comment.md`;
  const r = spawnSync(process.execPath, [script, "--base", "main", "--out", out, ...args], {
    cwd: repo,
    encoding: "utf8",
    env: { ...process.env, GITHUB_OUTPUT: "" },
  });
  return { ...r, comment: readFileSync(out, "utf8") };
}

const model = (imports: string, body: string) => `rsc: 1
${imports}
input: { shape: [8, 8, 3] }
layers:
${body}
`;

let head = "";
beforeAll(() => {
  git("init", "-q", "-b", "main");
  git("config", "user.email", "ci@example.com");
  git("config", "user.name", "ci");
  write(
    "specs/blocks/base.yaml",
    `rsc: 1
blocks:
  unit:
    params: { filters: int }
    layers:
      - conv2d: { filters: "{filters}", kernel_size: 3, padding: same }
      - relu
  other:
    params: { filters: int }
    layers:
      - conv2d: { filters: "{filters}", kernel_size: 1 }
`,
  );
  write(
    "specs/blocks/mid.yaml",
    `rsc: 1
import: [base.yaml]
blocks:
  pair:
    params: { filters: int }
    layers:
      - unit: { filters: "{filters}" }
      - unit: { filters: "{filters}" }
`,
  );
  write("specs/flow.yaml", model("import: [blocks/base.yaml]", "  - unit: { filters: 4 }"));
  write(
    "specs/block-style.yaml",
    model("import:\n  - blocks/base.yaml", "  - unit: { filters: 8 }\n  - flatten\n  - dense: 2"),
  );
  write("specs/sub/deep.yaml", model("import: [../blocks/mid.yaml]", "  - pair: { filters: 4 }"));
  write("specs/same.yaml", model("import: [blocks/base.yaml]", "  - other: { filters: 4 }"));
  write("specs/untouched.yaml", model("", "  - conv2d: { filters: 2, kernel_size: 1 }"));
  write("specs/removed.yaml", model("", "  - conv2d: { filters: 3, kernel_size: 1 }"));
  git("add", "-A");
  git("commit", "-qm", "base");
  git("checkout", "-qb", "pr");
  // The pull request: one library line (3x3 -> 5x5 in `unit`), a model removed, one added.
  write(
    "specs/blocks/base.yaml",
    readFileSync(join(repo, "specs/blocks/base.yaml"), "utf8").replace(
      "kernel_size: 3",
      "kernel_size: 5",
    ),
  );
  rmSync(join(repo, "specs/removed.yaml"));
  write("specs/new.yaml", model("", "  - conv2d: { filters: 5, kernel_size: 1 }"));
  git("add", "-A");
  git("commit", "-qm", "pr");
  head = git("rev-parse", "HEAD");
});

describe("scripts/architecture-diff.mjs", () => {
  it("reports every model the change reaches: block-style, subfolder, transitive", () => {
    const r = runScript("--head-sha", head);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/5 affected, 4 changed, 1 removed/);
    const c = r.comment;
    expect(c.startsWith("<!-- rsc-architecture-diff -->\n")).toBe(true);
    expect(c).toContain(head.slice(0, 12));
    const rows = c.split("\n").filter((l) => l.startsWith("| specs/"));
    expect(rows.map((l) => l.split(" | ")[0]!.slice(2))).toEqual([
      "specs/block-style.yaml",
      "specs/flow.yaml",
      "specs/new.yaml",
      "specs/sub/deep.yaml",
      "specs/removed.yaml",
    ]);
    expect(c).toContain("| model | params | MACs | layers | trained weights load |\n");
    // block-style.yaml: unit's conv (8x8x3 -> 8 filters, same) goes 3x3 -> 5x5: its kernel
    // 216 -> 600 params (+8 bias), its MACs 8x8x8 x 3 x 9 = 13,824 -> x 25 = 38,400; the dense
    // layer (512 x 2 + 2 = 1,026 params, 1,024 MACs) is unchanged.
    expect(rows[0]).toBe(
      "| specs/block-style.yaml | 1,250 -> 1,634 (+30.72%) | 14,848 -> 39,424 (+165.52%) | 0 added, 0 removed, 1 changed | partial |",
    );
    // A new model: its totals; a 1x1 conv 8x8x3 -> 5 has 20 params and 8x8x5 x 3 = 960 MACs.
    expect(rows[2]).toMatch(/\| 20 \| 960 \| new model \|/);
    expect(c).toContain("Unchanged architecture: `specs/same.yaml`.");
    expect(c).not.toContain("untouched");
    // The overview comes first, then one section per changed model.
    expect(c.indexOf("| model |")).toBeLessThan(c.indexOf("### "));
    expect(c).toMatch(/kernel_size 3x3 → 5x5/);
  });

  it("cuts only between sections, naming what did not fit", () => {
    const r = runScript("--max-chars", "1500");
    expect(r.status).toBe(0);
    const c = r.comment;
    expect(c.length).toBeLessThanOrEqual(1500);
    expect(c).toMatch(/_Not shown \(the comment limit\): `specs\//);
    expect(c.split("<details>").length).toBe(c.split("</details>").length);
    expect(c.split("```").length % 2).toBe(1);
  });

  it("says so when a pull request no longer affects any model", () => {
    git("checkout", "-q", "-b", "docs-only", "main");
    write("README.md", "docs\n");
    git("add", "-A");
    git("commit", "-qm", "docs");
    const r = runScript();
    expect(r.status).toBe(0);
    expect(r.comment).toContain("No model spec is affected by this pull request");
    expect(r.comment).not.toContain("| model |");
  });
});
