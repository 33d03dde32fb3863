/**
 * Timing helpers of the benchmarks: the median, and two measurements run interleaved (A B, B A,
 * A B, ...) so that drift in machine load hits both alike and neither always runs right after the
 * other.
 */

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Which of two interleaved measurements goes first in round `i` (0-based): A B, then B A. */
export function interleavedOrder(i) {
  return i % 2 === 0 ? [0, 1] : [1, 0];
}

/** `measure`s each of two subjects `runs` times, interleaved; the results per subject, in order. */
export function interleave(runs, subjects, measure) {
  const samples = subjects.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const k of interleavedOrder(i)) samples[k].push(measure(subjects[k]));
  }
  return samples;
}
