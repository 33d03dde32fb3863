import { expect, it } from "vitest";
import { interleave, median } from "./timing.mjs";

it("takes the median of unsorted samples without reordering them", () => {
  const xs = [5, 1, 3];
  expect(median(xs)).toBe(3);
  expect(xs).toEqual([5, 1, 3]);
  expect(median([4, 1, 3, 2])).toBe(2.5);
});

it("alternates which subject is measured first", () => {
  const calls: string[] = [];
  const samples = interleave(3, ["a", "b"], (s: string) => {
    calls.push(s);
    return calls.length;
  });
  expect(calls).toEqual(["a", "b", "b", "a", "a", "b"]);
  expect(samples).toEqual([
    [1, 4, 5],
    [2, 3, 6],
  ]);
});
