import { expect, it } from "vitest";
import { expandRange, snakeCase } from "../src/index.js";

it("expands letter, number and prefixed ranges and lists", () => {
  expect(expandRange("a..d")).toEqual({ ok: true, items: ["a", "b", "c", "d"] });
  expect(expandRange("1..3")).toEqual({ ok: true, items: [1, 2, 3] });
  expect(expandRange(["a", "b1..b3"])).toEqual({ ok: true, items: ["a", "b1", "b2", "b3"] });
  expect(expandRange("c")).toEqual({ ok: true, items: ["c"] });
  const stage4 = expandRange(["a", "b1..b22"]);
  expect(stage4.ok && stage4.items.length).toBe(23);
  expect(stage4.ok && stage4.items.at(-1)).toBe("b22");
});

it("refuses bad and huge ranges before unrolling", () => {
  expect(expandRange("f..a")).toMatchObject({ ok: false, code: "RSC214" });
  expect(expandRange("a..3")).toMatchObject({ ok: false, code: "RSC214" });
  expect(expandRange("a1..b3")).toMatchObject({ ok: false, code: "RSC214" });
  const started = performance.now();
  expect(expandRange("1..1000000000")).toMatchObject({ ok: false, code: "RSC210" });
  expect(expandRange(["a", "x1..x9999"])).toMatchObject({ ok: true });
  expect(expandRange(["a", "b", "x1..x9999"])).toMatchObject({ ok: false, code: "RSC210" });
  expect(performance.now() - started).toBeLessThan(50);
});

it("derives Keras default-name prefixes from Keras class names", () => {
  expect(snakeCase("Conv2D")).toBe("conv2d");
  expect(snakeCase("BatchNormalization")).toBe("batch_normalization");
  expect(snakeCase("ZeroPadding2D")).toBe("zero_padding2d");
  expect(snakeCase("GlobalAveragePooling2D")).toBe("global_average_pooling2d");
  expect(snakeCase("Activation")).toBe("activation");
});
