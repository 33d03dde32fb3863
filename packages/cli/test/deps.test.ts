/** `rsc deps` and `rsc check` of block libraries, as processes on the repository's own specs. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { located, root, rsc } from "./rsc-process.js";

const specs = readdirSync(join(root, "specs"))
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => `specs/${f}`);
const libraries = readdirSync(join(root, "specs", "blocks")).map((f) => `specs/blocks/${f}`);

describe("rsc deps", () => {
  it("lists each spec's imports and kind", async () => {
    const run = await rsc(["deps", "specs/resnet50.yaml", "specs/blocks/resnet.yaml", "--json"], {
      cwd: root,
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).result.specs).toEqual([
      { spec: "specs/resnet50.yaml", kind: "model", imports: ["specs/blocks/resnet.yaml"] },
      { spec: "specs/blocks/resnet.yaml", kind: "library", imports: [] },
    ]);
  });

  it("names the models a library edit affects, and only those", async () => {
    const run = await rsc(
      ["deps", ...specs, ...libraries, "--affected-by", "specs/blocks/resnet.yaml"],
      { cwd: root },
    );
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toEqual([
      "specs/resnet101.yaml",
      "specs/resnet18.yaml",
      "specs/resnet50.yaml",
      "specs/tiny-cnn.yaml",
    ]);
  });
});

describe("rsc check of block libraries", () => {
  it("accepts the repository's libraries, saying what they hold", async () => {
    const run = await rsc(["check", ...libraries], { cwd: root });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /specs\/blocks\/resnet\.yaml: ok \(block library: 2 blocks, bottleneck, basic\)/,
    );
  });

  it("reports the errors of a library's templates, located", async () => {
    const file = "packages/compiler/test/fixtures/_error_/library-template-errors/spec.yaml";
    const run = await rsc(["check", file], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/spec\.yaml:11:7: warning RSC222: parameter 'unused'/);
    expect(located(run.stderr).map((d) => d.slice(1).join(":"))).toEqual([
      "15:9:RSC108",
      "22:39:RSC205",
      "23:9:RSC204",
      "26:29:RSC108",
      "27:62:RSC205",
    ]);
  });
});
