#!/usr/bin/env node
/**
 * Issue 2, item 10: the compiler's seeded initial weights must generate ResNet-50's 23.6 M values
 * "well under a second". Times `initWeights` on the compiled specs/resnet50.yaml graph (median of
 * N runs after a warm-up), and as a baseline in the same run, filling the same number of float32
 * values with Math.random() (V8's own xorshift128+), so the figure reads as a ratio too.
 *
 * Usage (after `npx tsc -b`): node bench/weights.mjs [--runs 7] [--spec specs/resnet50.yaml]
 * Exits 1 when the median or the first (cold) run takes 1 s or more.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { median } from "./lib/timing.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "7" },
    spec: { type: "string", default: "specs/resnet50.yaml" },
  },
});
const runs = Number(values.runs);
const compiler = await import(join(root, "packages", "compiler", "dist", "index.js"));
const compiled = compiler.compileFile(join(root, values.spec));
if (compiled.graph === undefined) {
  for (const d of compiled.diagnostics) console.error(compiler.formatDiagnostic(d));
  process.exit(2);
}
const graph = compiled.graph;
const { total } = compiler.graphParamCounts(graph);

/** Times `fn`: the first (cold: JIT, fresh pages) call, then `runs` warm calls. */
function timeIt(fn) {
  const coldStart = process.hrtime.bigint();
  fn();
  const samples = [];
  samples.cold = Number(process.hrtime.bigint() - coldStart) / 1e6;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples;
}

let generated = 0;
const weights = timeIt(() => {
  const w = compiler.initWeights(graph, 0);
  generated = 0;
  for (const t of w.values()) generated += t.length;
});
if (generated !== total) {
  console.error(`initWeights produced ${generated} values, the graph has ${total} parameters`);
  process.exit(2);
}
const baseline = timeIt(() => {
  const out = new Float32Array(total);
  for (let i = 0; i < out.length; i++) out[i] = Math.random() * 2 - 1;
});

const w = median(weights);
const b = median(baseline);
console.log(
  `initial weights of ${values.spec}: ${total.toLocaleString("en-US")} float32 values, ${runs} runs`,
);
console.log(
  `  initWeights (counter-based, per-tensor keys)  median ${w.toFixed(1)} ms  min ${Math.min(...weights).toFixed(1)} ms  first (cold) ${weights.cold.toFixed(1)} ms`,
);
console.log(`  baseline: Math.random() into one Float32Array  median ${b.toFixed(1)} ms`);
console.log(
  `  ${(total / w / 1000).toFixed(1)} M values/s; ratio to baseline ${(w / b).toFixed(2)}`,
);
console.log(
  JSON.stringify({
    bench: "weights",
    values: total,
    runs,
    medianMs: +w.toFixed(2),
    coldMs: +weights.cold.toFixed(2),
    baselineMs: +b.toFixed(2),
    pass: w < 1000 && weights.cold < 1000,
  }),
);
process.exitCode = w < 1000 && weights.cold < 1000 ? 0 : 1;
