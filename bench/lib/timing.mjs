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

/**
 * The order of `n` interleaved measurements in round `i` (0-based), rotating who goes first:
 * for two, A B then B A; for three, A B C, B C A, C A B.
 */
export function interleavedOrder(i, n = 2) {
  return Array.from({ length: n }, (_, k) => (i + k) % n);
}

/**
 * A bootstrap confidence interval of `median(a) / median(b)`: each sample set is resampled with
 * replacement `resamples` times (a fixed-seed generator, so a report can be reproduced from its
 * samples), and the interval is the central `level` of the resampled ratios.
 */
export function ratioInterval(a, b, { resamples = 2000, level = 0.95, seed = 1 } = {}) {
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const resample = (xs) => Array.from(xs, () => xs[Math.floor(random() * xs.length)]);
  const ratios = Array.from(
    { length: resamples },
    () => median(resample(a)) / median(resample(b)),
  ).sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return [ratios[Math.floor(tail * resamples)], ratios[Math.ceil((1 - tail) * resamples) - 1]];
}

/** `measure`s each of two subjects `runs` times, interleaved; the results per subject, in order. */
export function interleave(runs, subjects, measure) {
  const samples = subjects.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const k of interleavedOrder(i)) samples[k].push(measure(subjects[k]));
  }
  return samples;
}
