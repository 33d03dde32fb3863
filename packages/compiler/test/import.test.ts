/**
 * `rsc import`'s conversion (importKerasModel), on the Keras configs of fixtures/_import_/
 * (written by make-fixtures.py as Keras 2, Keras 3 and tfjs lay them out):
 * - each valid case's spec is golden (`expected.yaml`), compiles clean, and counts the parameters
 *   the source does: the tfjs cases' weightsManifest (shapes computed by the script, not rsc),
 *   the others by the hand arithmetic below;
 * - `blocks` gives the same graph as the flat spec;
 * - each failing case (`_error_/`) gives exactly the diagnostics of its `expected.json` (code and
 *   place), no spec, and names every refused layer with its class.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expectGolden, expectGoldenJson, goldenCases } from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import {
  compileSource,
  type Diagnostic,
  diffGraphs,
  graphParamCounts,
  importKerasModel,
  parseLocatedJson,
} from "../src/index.js";

const root = join(import.meta.dirname, "fixtures", "_import_");
const errors = join(root, "_error_");

function run(dir: string, blocks = false) {
  const file = join(dir, "model.json");
  const name = relative(root, file);
  return importKerasModel(readFileSync(file, "utf8"), { file: name, source: name, blocks });
}

const summary = (ds: readonly Diagnostic[]) =>
  ds.map((d) => ({
    severity: d.severity,
    code: d.code,
    file: d.file,
    line: d.line,
    column: d.column,
  }));

/** The parameter count of a tfjs model.json's weightsManifest: the product of each shape. */
function manifestTotal(dir: string): number | undefined {
  const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  if (json.weightsManifest === undefined) return undefined;
  let total = 0;
  for (const group of json.weightsManifest)
    for (const w of group.weights) total += w.shape.reduce((a: number, b: number) => a * b, 1);
  return total;
}

/**
 * Parameter totals of the Keras cases without a manifest, by hand:
 * keras2-sequential: conv2d 3*3*1*8+8 = 80; batch_normalization 4*8 = 32; conv2d_1 3*3*8*16+16 =
 * 1,168; 28x28 -> stride-2 valid 3x3 -> 13x13 -> max pool 6x6x16 = 576 -> dense 576*32+32 =
 * 18,464; dense_1 32*10+10 = 330: 20,074.
 * keras3-two-inputs: conv 3*3*3*6+6 = 168; bn 4*6 = 24; embed 4*5+5 = 25; head (6+5)*3+3 = 36: 253.
 */
const HAND_TOTALS: Record<string, number> = {
  "keras2-sequential": 20_074,
  "keras3-two-inputs": 253,
};

describe("rsc import: valid Keras configs", () => {
  const cases = goldenCases(root);
  it("finds the cases", () => expect(cases.length).toBeGreaterThanOrEqual(3));

  for (const name of cases) {
    const dir = join(root, name);
    it(`${name}: a golden spec that compiles with the source's parameter total`, () => {
      const result = run(dir);
      expect(summary(result.diagnostics).filter((d) => d.severity === "error")).toEqual([]);
      expectGolden(join(dir, "expected.yaml"), result.spec ?? "");
      expectGoldenJson(join(dir, "expected.json"), {
        diagnostics: summary(result.diagnostics),
        stats: result.stats,
      });
      const compiled = compileSource(result.spec!, `${name}.yaml`, { root: "/" });
      expect(compiled.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const expected = manifestTotal(dir) ?? HAND_TOTALS[name];
      expect(expected).toBeDefined();
      expect(graphParamCounts(compiled.graph!).total).toBe(expected);
    });

    it(`${name}: --blocks compiles to the same graph`, () => {
      const flat = run(dir);
      const blocks = run(dir, true);
      const g = compileSource(blocks.spec!, `${name}-blocks.yaml`, { root: "/" }).graph!;
      expect(diffGraphs(flat.graph!, g).same).toBe(true);
    });
  }

  it("teachable-machine: the nested models are flattened, their layer names kept", () => {
    const result = run(join(root, "teachable-machine"));
    const names = result.graph!.nodes.map((n) => n.name);
    expect(names).toContain("block_2_add");
    expect(names).toContain("dense_Dense2");
    expect(names).not.toContain("model1");
    expect(names).not.toContain("sequential_1");
    expect(result.stats?.nestedModels).toBe(3);
    // The trunk's input is the model's: Sequential[Sequential[Model]] has no InputLayer of its own.
    expect(result.graph!.inputs).toEqual(["input_1"]);
    // The residual add joins two branches: the one place its spec needs a two-name `from:`.
    expect(result.spec).toContain("from: [block_1_project_BN, block_2_project_BN]");
  });
});

describe("rsc import: refused models", () => {
  const cases = goldenCases(errors);
  it("finds the cases", () => expect(cases.length).toBeGreaterThanOrEqual(8));
  for (const name of cases) {
    it(`${name}: its diagnostics, and no spec`, () => {
      const result = run(join(errors, name));
      expect(result.spec).toBeUndefined();
      expect(result.diagnostics.some((d) => d.severity === "error")).toBe(true);
      expectGoldenJson(join(errors, name, "expected.json"), summary(result.diagnostics));
    });
  }

  it("names every refused layer and its class, and never echoes a Lambda's code", () => {
    const result = run(join(errors, "refused-layers"));
    const messages = result.diagnostics.map((d) => d.message);
    for (const [layer, cls] of [
      ["lstm", "LSTM"],
      ["scale_by_two", "Lambda"],
      ["fancy_pool", "FancyPool"],
      ["dense", "Dense"],
      ["scale", "Scale"],
    ]) {
      expect(messages.some((m) => m.includes(`layer '${layer}' (${cls})`))).toBe(true);
    }
    const text = readFileSync(join(errors, "refused-layers", "model.json"), "utf8");
    const code = /"function": \[\s*"([^"]+)"/.exec(text)![1]!;
    expect(code.length).toBeGreaterThan(20);
    for (const m of messages) expect(m).not.toContain(code.slice(0, 12));
  });

  it("an unknown input shape can be given", () => {
    const dir = join(errors, "unknown-input-shape");
    const file = join(dir, "model.json");
    const result = importKerasModel(readFileSync(file, "utf8"), {
      file: "model.json",
      source: "model.json",
      inputShape: [16, 16, 3],
    });
    expect(result.spec).toContain("input: { name: input_1, shape: [16, 16, 3] }");
    expect(result.stats?.params.total).toBe(3 * 3 * 3 * 4 + 4);
  });
});

describe("located JSON", () => {
  it("locates objects and arrays at their opening bracket (1-based)", () => {
    const parsed = parseLocatedJson('{\n  "a": [1, {"b": 2}],\n  "c": {}\n}', "x.json");
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const v = parsed.value as { a: [number, object]; c: object };
    expect(parsed.where(v)).toEqual({ file: "x.json", line: 1, column: 1 });
    expect(parsed.where(v.a)).toEqual({ file: "x.json", line: 2, column: 8 });
    expect(parsed.where(v.a[1])).toEqual({ file: "x.json", line: 2, column: 12 });
    expect(parsed.where(v.c)).toEqual({ file: "x.json", line: 3, column: 8 });
  });

  it("keeps __proto__ an ordinary key", () => {
    const parsed = parseLocatedJson('{"__proto__": {"polluted": true}}', "x.json");
    expect(parsed.ok).toBe(true);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    if (parsed.ok) expect(Object.keys(parsed.value as object)).toEqual(["__proto__"]);
  });

  it("refuses NaN, deep nesting, trailing text and bad escapes, at the place", () => {
    const bad = (text: string) => {
      const p = parseLocatedJson(text, "x.json");
      expect(p.ok).toBe(false);
      return p.ok ? undefined : p.loc;
    };
    expect(bad('{"a": NaN}')).toEqual({ file: "x.json", line: 1, column: 7 });
    expect(bad(`${"[".repeat(600)}${"]".repeat(600)}`)?.column).toBe(513);
    expect(bad("{} x")).toEqual({ file: "x.json", line: 1, column: 4 });
    expect(bad('"\\q"')?.column).toBe(2);
    expect(bad("1e999")?.column).toBe(1);
  });
});
