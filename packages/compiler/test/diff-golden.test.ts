/**
 * Golden diffs: each case folder of fixtures/_diff_/ (shared libraries in `_lib`) holds old.yaml
 * and new.yaml (and the libraries they import); the diff is compared with expected.txt,
 * expected.md and expected.json. A missing expected file fails; write or refresh them with
 * `UPDATE_GOLDEN=1 npx vitest run packages/compiler/test/diff-golden.test.ts` and review the
 * change. Besides the text, each case asserts what the issue asks of it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expectGolden, expectGoldenJson, goldenCases } from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import {
  type ArchDiff,
  compileFile,
  diffGraphs,
  formatDiagnostic,
  type Graph,
  renderDiffMarkdown,
  renderDiffText,
} from "../src/index.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "_diff_");

/**
 * Compiles `file` of a case folder; origins name files relative to the folder. Paths are read as
 * if the working directory were the case folder, so the project root that lets the cases import
 * `../_lib` is the working directory's parent (standing for `_diff_`).
 */
function compileCase(dir: string, file: string): Graph {
  const result = compileFile(file, { readFile: (p) => readFileSync(join(dir, p)), root: ".." });
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (result.graph === undefined || errors.length > 0) {
    throw new Error(`${dir}/${file}:\n${result.diagnostics.map(formatDiagnostic).join("\n")}`);
  }
  return result.graph;
}

/** What each case must show, whatever the wording of the golden files. */
const CHECKS: Record<string, (d: ArchDiff) => void> = {
  "same-architecture-rewritten": (d) => {
    expect(d.same).toBe(true);
    expect(d.groups).toEqual([]);
    expect(d.weights.verdict).toBe("all");
  },
  "deeper-stage4": (d) => {
    expect(d.same).toBe(false);
    expect(d.summary.layersAdded).toBe(170);
    expect(d.summary.layersRemoved).toBe(0);
    expect(d.groups).toHaveLength(1);
    const g = d.groups[0]!;
    expect(g.kind === "added" && g.blocks).toEqual({
      block: "bottleneck",
      instances: 17,
      first: "res4g",
      last: "res4w",
    });
    expect(d.weights.verdict).toBe("all");
    expect(d.weights.loads).toBe(d.weights.old);
  },
  "template-kernel-size": (d) => {
    expect(d.groups).toHaveLength(1);
    const g = d.groups[0]!;
    expect(g.kind).toBe("changed");
    if (g.kind !== "changed") return;
    expect(g.attrs).toEqual([{ attr: "kernel_size", old: [3, 3], new: [5, 5] }]);
    expect(g.layers).toHaveLength(16);
    expect(g.origin?.block).toBe("bottleneck");
    expect(d.weights.verdict).toBe("partial");
    expect(d.weights.shapeChanged).toHaveLength(16);
    // A 5x5 kernel has 25 taps where 3x3 had 9: each layer's MACs grow by 25/9, nothing else's.
    for (const c of d.layers.changed) expect(c.macs.new * 9).toBe(c.macs.old * 25);
    expect(g.macsDelta).toBe(d.summary.macsDelta);
  },
  "renamed-layer": (d) => {
    expect(d.summary.layersRenamed).toBe(1);
    expect(d.weights.verdict).toBe("partial");
    expect(d.weights.missing.map((w) => w.name)).toEqual(["conv1/kernel", "conv1/bias"]);
    expect(d.weights.missing[0]!.renamedTo).toBe("stem_conv");
    expect(d.weights.fresh).toEqual(["stem_conv/kernel", "stem_conv/bias"]);
  },
  "classes-changed": (d) => {
    expect(d.layers.changed.map((c) => c.name)).toEqual(["fc10"]);
    expect(d.layers.added).toEqual([]);
    expect(d.layers.removed).toEqual([]);
    expect(d.io.outputs).toEqual([
      { index: 0, oldName: "fc6", newName: "fc10", oldShape: [6], newShape: [10] },
    ]);
    expect(d.weights.missing.map((w) => w.name)).toEqual(["fc6/kernel", "fc6/bias"]);
    // The dense layer reads 2,048 features: 2,048 x (10 - 6) more MACs.
    expect(d.layers.changed[0]!.macs).toEqual({ old: 12_288, new: 20_480, delta: 8_192 });
    expect(d.summary.macsDelta).toBe(8_192);
  },
  "input-shape-changed": (d) => {
    expect(d.weights.verdict).toBe("all");
    expect(d.io.inputs).toEqual([
      {
        index: 0,
        oldName: "input_1",
        newName: "input_1",
        oldShape: [64, 64, 3],
        newShape: [128, 128, 3],
      },
    ]);
    const derived = d.groups.find((g) => g.kind === "derived");
    expect(derived?.kind === "derived" && derived.inputChange?.new).toEqual([128, 128, 3]);
    expect(d.groups.filter((g) => g.kind !== "derived")).toEqual([]);
  },
};

const cases = goldenCases(FIXTURES);

describe("rsc diff golden fixtures", () => {
  it("covers every case the issue lists", () => {
    expect(cases).toEqual(Object.keys(CHECKS).sort());
  });

  for (const name of cases) {
    it(name, () => {
      const dir = join(FIXTURES, name);
      const diff = diffGraphs(compileCase(dir, "old.yaml"), compileCase(dir, "new.yaml"), {
        oldSource: "old.yaml",
        newSource: "new.yaml",
      });
      CHECKS[name]?.(diff);
      // Every MAC change is in some group: the groups add up to the total change.
      const grouped = diff.groups.reduce(
        (s, g) => s + ("macs" in g ? (g.kind === "added" ? g.macs : -g.macs) : g.macsDelta),
        0,
      );
      expect(grouped).toBe(diff.summary.macsDelta);
      expect(diff.summary.macsDelta).toBe(diff.new.macs - diff.old.macs);
      expectGolden(join(dir, "expected.txt"), renderDiffText(diff));
      expectGolden(join(dir, "expected.md"), renderDiffMarkdown(diff));
      expectGoldenJson(join(dir, "expected.json"), diff);
    });
  }
});
