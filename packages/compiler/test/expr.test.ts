import { describe, expect, it } from "vitest";
import { ExprError, evaluate, interpolate, type Scope, type Value } from "../src/index.js";

const scope = (values: Record<string, Value>): Scope => ({
  lookup: (n) => values[n],
  names: () => Object.keys(values),
});
const s = scope({ stage: 2, block: "a", filters: [64, 64, 256], s: 2, project: true, name: "x" });

describe("evaluate", () => {
  it("does integer arithmetic with precedence, floor division and modulo", () => {
    expect(evaluate("1 + 2 * 3", s)).toBe(7);
    expect(evaluate("(1 + 2) * 3", s)).toBe(9);
    expect(evaluate("7 // 2", s)).toBe(3);
    expect(evaluate("-7 // 2", s)).toBe(-4);
    expect(evaluate("-7 % 3", s)).toBe(2);
    expect(evaluate("filters[2] // 4 - stage", s)).toBe(62);
  });
  it("indexes lists (negative from the end) and strings", () => {
    expect(evaluate("filters[0]", s)).toBe(64);
    expect(evaluate("filters[-1]", s)).toBe(256);
    expect(evaluate("name[0]", s)).toBe("x");
  });
  it("compares, combines booleans and chooses", () => {
    expect(evaluate("s == 2 and not project", s)).toBe(false);
    expect(evaluate("s > 1 or project", s)).toBe(true);
    expect(evaluate("'first' if block == 'a' else 'rest'", s)).toBe("first");
    expect(evaluate("[1, 2] + [3]", s)).toEqual([1, 2, 3]);
    expect(evaluate("'res' + block", s)).toBe("resa");
  });
  it("reports undefined names, syntax and type errors", () => {
    const fail = (src: string) => {
      try {
        evaluate(src, s);
      } catch (e) {
        return (e as ExprError).kind;
      }
      return "ok";
    };
    expect(fail("stages")).toBe("undefined-name");
    expect(fail("1 +")).toBe("syntax");
    expect(fail("filters[3]")).toBe("type");
    expect(fail("block * 2")).toBe("type");
    expect(fail("1 // 0")).toBe("type");
    expect(fail("a.b")).toBe("syntax");
  });
});

describe("interpolate", () => {
  it("keeps the type of a whole-string expression", () => {
    expect(interpolate("{filters}", s)).toEqual([64, 64, 256]);
    expect(interpolate("{filters[1]}", s)).toBe(64);
    expect(interpolate("{project}", s)).toBe(true);
  });
  it("formats and joins parts, with {{ and }} as literal braces", () => {
    expect(interpolate("res{stage}{block}_branch2a", s)).toBe("res2a_branch2a");
    expect(interpolate("x{{y}}{s * 2}", s)).toBe("x{y}4");
    expect(interpolate("plain", s)).toBe("plain");
  });
  it("rejects unbalanced braces", () => {
    expect(() => interpolate("res{stage", s)).toThrow(ExprError);
    expect(() => interpolate("res}", s)).toThrow(ExprError);
  });
});
