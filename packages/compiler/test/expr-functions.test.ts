/**
 * Function calls in expressions: the built-ins (`max`, `min`) and the shape functions
 * (`channels(x)`, ...), which the golden fixtures exercise through whole specs.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileSource, ExprError, evaluate, type Value } from "../src/index.js";
import { MapScope } from "../src/scope.js";

const scope = new MapScope().set("widths", [3, 9, 4]).set("c", 10);
const kind = (src: string) => {
  try {
    evaluate(src, scope);
  } catch (e) {
    return (e as ExprError).kind;
  }
  return "ok";
};

describe("built-in functions", () => {
  it("max and min take numbers or one list", () => {
    expect(evaluate("max(1, c // 4)", scope)).toBe(2);
    expect(evaluate("min(widths)", scope)).toBe(3);
    expect(evaluate("max(widths) * 2", scope)).toBe(18);
    expect(evaluate("min(max(1, 2), 5) + 1", scope)).toBe(3);
  });
  it("reports unknown functions, bad arguments and bad call syntax as expression errors", () => {
    expect(kind("maxx(1, 2)")).toBe("syntax");
    expect(kind("max()")).toBe("type");
    expect(kind("max('a', 1)")).toBe("type");
    expect(kind("max(1, 2")).toBe("syntax");
    expect(() => evaluate("chanels(x)", scope)).toThrow(/functions: max, min/);
  });
  it("a scope without functions has none", () => {
    const plain = { lookup: (_: string): Value | undefined => undefined, names: () => [] };
    expect(() => evaluate("max(1)", plain)).toThrow(ExprError);
  });
});

describe("shape functions", () => {
  const compile = (layers: string) =>
    compileSource(
      `rsc: 1\ninput: { name: image, shape: [8, 6, 3] }\nlayers:\n${layers}`,
      join(import.meta.dirname, "inline.yaml"),
    );
  it("read the shape of the input and of earlier layers (NHWC, batch excluded)", () => {
    const result = compile(
      [
        "  - conv2d: { name: a, filters: '{channels(image) * 4}', kernel_size: 1 }",
        "  - conv2d: { name: '{height(a)}x{width(a)}', filters: '{shape(a)[-1] // 2}', kernel_size: 1 }",
      ].join("\n"),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.graph!.nodes.map((n) => [n.name, n.outputShape])).toEqual([
      ["image", [8, 6, 3]],
      ["a", [8, 6, 12]],
      ["8x6", [8, 6, 6]],
    ]);
  });
  it("a bare name is a layer, any other argument is evaluated to a layer name", () => {
    const result = compile(
      [
        "  - conv2d: { name: a, filters: 5, kernel_size: 1 }",
        "  - conv2d: { filters: \"{channels('a') + channels('ima' + 'ge')}\", kernel_size: 1 }",
      ].join("\n"),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.graph!.nodes.at(-1)!.outputShape).toEqual([8, 6, 8]);
  });
  it("height and width need an image shape", () => {
    const result = compile(
      ["  - flatten: { name: f }", "  - dense: { units: '{height(f)}' }"].join("\n"),
    );
    expect(result.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([["RSC203", 5, 21]]);
  });
  it("a shape unknown because of an earlier error adds no error of its own", () => {
    const result = compile(
      [
        "  - conv2d: { name: big, filters: 4, kernel_size: 9 }",
        "  - conv2d: { filters: '{channels(big)}', kernel_size: 1 }",
      ].join("\n"),
    );
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([["RSC301", 4]]);
  });
});
