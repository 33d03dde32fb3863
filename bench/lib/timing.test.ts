import { expect, it } from "vitest";
import { interleave, interleavedOrder, median, ratioInterval } from "./timing.mjs";

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

it("rotates who goes first among three subjects", () => {
  expect([0, 1, 2, 3].map((i) => interleavedOrder(i, 3))).toEqual([
    [0, 1, 2],
    [1, 2, 0],
    [2, 0, 1],
    [0, 1, 2],
  ]);
});

it("brackets the ratio of medians, narrowly for tight samples and widely for scattered ones", () => {
  const tight = Array.from({ length: 200 }, (_, i) => 100 + (i % 5));
  const tightB = Array.from({ length: 200 }, (_, i) => 110 + (i % 5));
  const [lo, hi] = ratioInterval(tight, tightB);
  expect(lo).toBeLessThanOrEqual(102 / 112);
  expect(hi).toBeGreaterThanOrEqual(102 / 112);
  expect(hi).toBeLessThan(1);
  const scattered = Array.from({ length: 20 }, (_, i) => 50 + ((i * 37) % 100));
  const [wlo, whi] = ratioInterval(scattered, scattered);
  expect(wlo).toBeLessThan(1);
  expect(whi).toBeGreaterThan(1);
  expect(whi - wlo).toBeGreaterThan(10 * (hi - lo));
  // Reproducible: the same samples and seed give the same interval.
  expect(ratioInterval(scattered, tight)).toEqual(ratioInterval(scattered, tight));
});
