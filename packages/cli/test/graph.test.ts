/**
 * `rsc graph`: DOT and Mermaid goldens for a tiny spec (fixtures/graph-tiny/), block collapsing,
 * and the real bin rendering SVG through @viz-js/viz. Refresh goldens with UPDATE_GOLDEN=1 and
 * review.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFile, type Graph } from "@rsc/compiler";
import { expectGolden } from "@rsc/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { pictureToDot } from "../src/graph/dot.js";
import { pictureToMermaid } from "../src/graph/mermaid.js";
import { buildPicture } from "../src/graph/picture.js";
import { graphFormat } from "../src/graph/run-graph.js";
import { rsc } from "./rsc-process.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, "fixtures", "graph-tiny");
const tiny = join(fixture, "spec.yaml");
const tmp = mkdtempSync(join(tmpdir(), "rsc-graph-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function compileTiny(): Graph {
  const result = compileFile(tiny);
  if (result.graph === undefined) throw new Error(JSON.stringify(result.diagnostics));
  return result.graph;
}

/** Compares with fixtures/graph-tiny/expected.<kind>. */
const golden = (kind: string, actual: string) =>
  expectGolden(join(fixture, `expected.${kind}`), actual);

describe("rsc graph", () => {
  it("draws every layer with its Keras class and output shape (DOT, Mermaid goldens)", () => {
    const picture = buildPicture(compileTiny());
    expect(picture.nodes).toHaveLength(12);
    expect(picture.nodes[1]!.lines).toEqual(["stem: Conv2D", "(None, 16, 16, 8)"]);
    // The residual edges: each add reads its block's input too.
    expect(picture.edges).toHaveLength(13);
    golden("dot", pictureToDot(picture));
    golden("mmd", pictureToMermaid(picture));
  });

  it("collapses each block instance into one box", () => {
    const full = buildPicture(compileTiny());
    const collapsed = buildPicture(compileTiny(), { collapse: true });
    expect(collapsed.nodes.length).toBeLessThan(full.nodes.length);
    expect(collapsed.nodes.map((n) => n.lines[0])).toEqual([
      "input_1: InputLayer",
      "stem: Conv2D",
      "unit unita",
      "unit unitb",
      "pool: GlobalAveragePooling2D",
      "fc3: Dense",
    ]);
    expect(collapsed.nodes[2]!.lines.slice(1)).toEqual([
      "4 layers, 616 params",
      "(None, 16, 16, 8) → (None, 16, 16, 8)",
    ]);
    expect(collapsed.edges).toEqual([
      ["n0", "n1"],
      ["n1", "b0"],
      ["b0", "b1"],
      ["b1", "n10"],
      ["n10", "n11"],
    ]);
    golden("collapsed.dot", pictureToDot(collapsed));
  });

  it("picks the format from --format, then the -o extension, else svg", () => {
    expect(graphFormat({})).toBe("svg");
    expect(graphFormat({ output: "x.gv" })).toBe("dot");
    expect(graphFormat({ output: "x.MMD" })).toBe("mermaid");
    expect(graphFormat({ output: "x.svg", format: "dot" })).toBe("dot");
    expect(() => graphFormat({ output: "x.png" })).toThrow(/cannot tell the format/);
  });

  it("renders SVG in-process (no system Graphviz) to stdout and to a file", async () => {
    const run = await rsc(["graph", tiny]);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith("<svg")).toBe(true);
    expect(run.stdout).toContain("unita_conv: Conv2D");
    expect(run.stdout).toContain("fc3: Dense");
    const out = join(tmp, "tiny.svg");
    const file = await rsc(["graph", tiny, "--collapse-blocks", "-o", out]);
    expect(file.code).toBe(0);
    const svg = readFileSync(out, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("unit unitb");
    expect(svg).not.toContain("unitb_conv");
  });

  it("fails cleanly on a bad spec and an unknown extension", async () => {
    const bad = join(tmp, "bad.yaml");
    writeFileSync(bad, "rsc: 1\nlayers:\n  - conv2d: { filters: 8, kernel_sise: 3 }\n");
    const run = await rsc(["graph", bad, "-o", join(tmp, "bad.svg")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/bad\.yaml:3:\d+: error RSC1/);
    expect((await rsc(["graph", tiny, "-o", join(tmp, "x.png")])).code).toBe(2);
  });
});
