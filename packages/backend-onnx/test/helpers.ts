/** Shared test helpers: random weights, onnxruntime sessions, batched reference runs. */
import { type Graph, graphParams, shapeSize, uniformStream } from "@rsc/compiler";
import { ort } from "../src/runtime.js";
import { referenceRun } from "./reference.js";

/**
 * Random weights for every parameter, BatchNorm and Normalization statistics included (variances
 * in [0.5, 1.5)),
 * so no layer is an identity and a wrong axis or order shows.
 */
export function randomWeights(graph: Graph, seed = 1): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const p of graphParams(graph)) {
    const next = uniformStream(seed, p.name);
    const n = shapeSize(p.shape);
    const data = new Float32Array(n);
    const variance = p.suffix === "moving_variance" || p.suffix === "variance";
    for (let i = 0; i < n; i++) data[i] = variance ? 0.5 + next() : next() - 0.5;
    out.set(p.name, data);
  }
  return out;
}

/** A seeded random NHWC batch for one input of `shape` (batch excluded). */
export function randomBatch(shape: readonly number[], batch: number, seed = 2): Float32Array {
  const next = uniformStream(seed, "input");
  const data = new Float32Array(batch * shapeSize(shape));
  for (let i = 0; i < data.length; i++) data[i] = next() * 2 - 1;
  return data;
}

/** Runs an encoded model (bytes or path) on NHWC feeds; returns each output's dims and data. */
export async function runOnnx(
  model: Uint8Array | string,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
): Promise<Record<string, { dims: number[]; data: Float32Array }>> {
  const runtime = ort();
  const session =
    typeof model === "string"
      ? await runtime.InferenceSession.create(model, { graphOptimizationLevel: "all" })
      : await runtime.InferenceSession.create(model, { graphOptimizationLevel: "all" });
  const tensors = Object.fromEntries(
    Object.entries(feeds).map(([k, v]) => [k, new runtime.Tensor("float32", v.data, v.dims)]),
  );
  const result = await session.run(tensors);
  const out = Object.fromEntries(
    Object.entries(result).map(([k, v]) => [
      k,
      { dims: v.dims.map(Number), data: v.data as Float32Array },
    ]),
  );
  await session.release();
  return out;
}

/** The reference computation over a batch: runs each example and concatenates. */
export function referenceBatch(
  graph: Graph,
  weights: ReadonlyMap<string, Float32Array>,
  input: Float32Array,
  batch: number,
): Record<string, Float64Array> {
  const inputName = graph.inputs[0]!;
  const per = input.length / batch;
  const outs: Record<string, number[]> = {};
  for (let b = 0; b < batch; b++) {
    const r = referenceRun(graph, weights, { [inputName]: input.subarray(b * per, (b + 1) * per) });
    for (const [k, v] of Object.entries(r)) {
      outs[k] ??= [];
      outs[k].push(...v);
    }
  }
  return Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, Float64Array.from(v)]));
}

/** Largest absolute difference of two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
