/** `--help` of every command: required options marked, defaults as typed, exit statuses listed. */
import { describe, expect, it } from "vitest";
import { rsc } from "./rsc-process.js";

const COMMANDS = [
  "check",
  "deps",
  "summary",
  "expand",
  "schema",
  "diff",
  "graph",
  "build",
  "run",
  "train",
  "evaluate",
];

describe("rsc <command> --help", () => {
  it.each(COMMANDS)("%s: defaults unquoted, no empty defaults", async (command) => {
    const run = await rsc([command, "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: rsc ${command} `));
    expect(run.stdout).not.toMatch(/default: "/);
    expect(run.stdout).not.toMatch(/default: \[\]/);
  });

  it("marks required options", async () => {
    expect((await rsc(["build", "--help"])).stdout).toMatch(
      /--target <target> +backend: onnx, tfjs \(required\)/,
    );
    // Wrapped to the terminal width: compare with the line breaks folded.
    const train = (await rsc(["train", "--help"])).stdout.replace(/\s+/g, " ");
    expect(train).toMatch(/--data <file> [^-]*\(required\)/);
  });

  it("lists the exit statuses of check and diff", async () => {
    const check = (await rsc(["check", "--help"])).stdout;
    expect(check).toMatch(
      /Exit status:\n {2}0 {2}every file is clean[^\n]*\n {2}1 {2}a file has errors\n {2}2 {2}/,
    );
    const diff = (await rsc(["diff", "--help"])).stdout;
    expect(diff).toMatch(
      /Exit status:\n {2}0 {2}no change[^\n]*\n {2}1 {2}the architecture changed[^\n]*\n {2}2 {2}/,
    );
  });

  it("lists --no-color only where it colours something, and accepts it everywhere", async () => {
    for (const command of ["schema", "deps"])
      expect((await rsc([command, "--help"])).stdout).not.toContain("--no-color");
    expect((await rsc(["check", "--help"])).stdout).toContain("--no-color");
    const schema = await rsc(["schema", "--no-color"]);
    expect(schema.code).toBe(0);
    expect(JSON.parse(schema.stdout).$id).toBeDefined();
  });
});

describe("no nag lines", () => {
  it("pnpm's update notifier is off in the project's config", async () => {
    const { spawnSync } = await import("node:child_process");
    const { root } = await import("./rsc-process.js");
    const r = spawnSync("npx", ["-y", "pnpm@12.4.2", "config", "get", "updateNotifier"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("false");
  });
});
