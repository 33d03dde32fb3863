/**
 * The YAML loader's limits (issue 11, items 6 and 7), for inputs too large for a fixture: they
 * refuse what would exhaust the parser (deep nesting, millions of values, alias bombs) with a
 * located diagnostic, and accept the largest legitimate spec the layer limit allows.
 */
import { describe, expect, it } from "vitest";
import { MAX_ALIAS_VALUES, MAX_YAML_DEPTH, MAX_YAML_VALUES, parseSpec } from "../src/parse.js";

const codes = (text: string) =>
  parseSpec(text, "spec.yaml").diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`);

describe("YAML limits", () => {
  it("refuses deep nesting of every kind before the parser recurses into it", () => {
    const n = 5_000;
    for (const text of [
      `a: ${"[".repeat(n)}${"]".repeat(n)}`,
      `a: ${"{a: ".repeat(n)}1${"}".repeat(n)}`,
      `${"- ".repeat(n)}x`,
      `${"? ".repeat(n)}x`,
      `${Array.from({ length: 5000 }, (_, i) => `${" ".repeat(i)}a:`).join("\n")} 1`,
    ]) {
      const [first, ...rest] = codes(text);
      expect(first).toMatch(/^RSC112 /);
      expect(rest).toEqual([]);
    }
    const ok = `a: ${"[".repeat(MAX_YAML_DEPTH)}${"]".repeat(MAX_YAML_DEPTH)}`;
    expect(codes(ok)).toEqual([]);
  });

  it("accepts a model written out at the 100,000-layer limit", () => {
    const lines = ["rsc: 1", "input: { shape: [8] }", "layers:"];
    for (let i = 0; i < 100_000; i++) lines.push(`  - dense: { units: ${i + 1} }`);
    expect(codes(lines.join("\n"))).toEqual([]);
  }, 60_000);

  it("refuses millions of tiny values by counting, before parsing", () => {
    const text = `a: [${"0,".repeat(MAX_YAML_VALUES)}0]\n`;
    const started = performance.now();
    const [d] = parseSpec(text, "spec.yaml").diagnostics;
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(d?.code).toBe("RSC103");
    expect(d?.line).toBe(1);
    expect(d!.column).toBeGreaterThan(MAX_YAML_VALUES);
  }, 60_000);

  it("refuses aliases that expand past the limit, at the alias", () => {
    const items = Array.from({ length: 2000 }, (_, i) => i).join(", ");
    const refs = Array.from({ length: MAX_ALIAS_VALUES / 2000 + 1 }, () => "*x").join(", ");
    const text = `a: &x [${items}]\nb: [${refs}]\n`;
    const diagnostics = parseSpec(text, "spec.yaml").diagnostics;
    expect(diagnostics.map((d) => `${d.code} ${d.line}`)).toEqual(["RSC103 2"]);
    // At the alias whose expansion went past the limit.
    expect(text.split("\n")[1]!.slice(diagnostics[0]!.column - 1)).toMatch(/^\*x/);
  });
});
