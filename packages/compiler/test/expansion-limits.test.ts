/**
 * Bounded work on untrusted specs (issue 11, items 6 and 7), for cases whose cost is time rather
 * than a position: each must end quickly with one located diagnostic, however it is written.
 */
import { describe, expect, it } from "vitest";
import { MAX_EXPR_DEPTH, MAX_VALUE_SIZE } from "../src/expr.js";
import { compileSource, evaluate, type Scope } from "../src/index.js";

const empty: Scope = { lookup: () => undefined, names: () => [] };

/** Compiles `text`; returns its codes and how long it took (ms). */
function run(text: string): { codes: string[]; ms: number } {
  const started = performance.now();
  const result = compileSource(text, "spec.yaml");
  return { codes: result.diagnostics.map((d) => d.code), ms: performance.now() - started };
}

describe("expressions", () => {
  it("refuses nesting past the limit instead of overflowing the stack", () => {
    const deep = (n: number, open: string, close: string) => `${open.repeat(n)}1${close.repeat(n)}`;
    expect(evaluate(deep(MAX_EXPR_DEPTH - 1, "(", ")"), empty)).toBe(1);
    for (const src of [
      deep(100_000, "(", ")"),
      deep(100_000, "[", "]"),
      `${"-".repeat(100_000)}1`,
      `${"not ".repeat(100_000)}true`,
      `${"1 if true else ".repeat(100_000)}1`,
    ]) {
      expect(() => evaluate(src, empty)).toThrow(/nested more than/);
    }
  });

  it("tokenizes in linear time", () => {
    const src = Array.from({ length: 200_000 }, () => "1").join(" + ");
    const started = performance.now();
    expect(evaluate(src, empty)).toBe(200_000);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("refuses values that outgrow the size limit, and numbers that overflow", () => {
    const scope: Scope = {
      lookup: (n) => (n === "s" ? "x".repeat(MAX_VALUE_SIZE / 2 + 1) : undefined),
      names: () => ["s"],
    };
    expect(() => evaluate("s + s", scope)).toThrow(/larger than the limit/);
    expect(() => evaluate("[s, s]", scope)).toThrow(/larger than the limit/);
    expect(() => evaluate("1e308 * 10", empty)).toThrow(/not a finite number/);
    expect(() => evaluate("1e999", empty)).toThrow(/too large/);
  });
});

describe("the expansion budget", () => {
  const header = "rsc: 1\ninput: { shape: [8, 8, 3] }\n";

  it("stops nested repeats around bodies that emit nothing", () => {
    const { codes, ms } = run(
      `${header}layers:\n  - repeat:\n      times: 10000\n      layers:\n        - repeat:\n            times: 10000\n            layers:\n              - group: { if: false, layers: [relu] }\n`,
    );
    expect(codes).toEqual(["RSC210"]);
    expect(ms).toBeLessThan(15_000);
  });

  it("stops templates that fan out exponentially to empty blocks", () => {
    const text = `rsc: 1
blocks:
  fan:
    params: { d: int }
    layers:
      - group: { if: "{d < 30}", layers: [{ fan: { d: "{d + 1}" } }, { fan: { d: "{d + 1}" } }] }
input: { shape: [8, 8, 3] }
layers:
  - fan: { d: 0 }
`;
    const { codes, ms } = run(text);
    expect(codes).toEqual(["RSC210"]);
    expect(ms).toBeLessThan(15_000);
  });

  it("leaves room for a model at the layer limit", () => {
    const layer = (j: number) =>
      `        - conv2d: { name: "c{i}_${j}", filters: 3, kernel_size: [1, 1], padding: same }\n`;
    const body = Array.from({ length: 10 }, (_, j) => layer(j)).join("");
    const text = `${header}layers:\n  - repeat:\n      times: 9999\n      layers:\n${body}`;
    const { codes } = run(text);
    expect(codes).toEqual([]);
  }, 60_000);
});
