/**
 * Cross-backend parity: run the tfjs model and the ONNX model (onnxruntime-node) built from the
 * same graph and weights on the same input, and compare their outputs.
 */
import { emitOnnx, ONNX_LOWERINGS } from "@rsc/backend-onnx";
import { ort } from "@rsc/backend-onnx/runtime";
import { tf, toLayersModel } from "@rsc/backend-tfjs";
import { type Graph, shapeSize, uniformStream, type WeightMap } from "@rsc/compiler";

/** Input values for each graph input, `batch` examples, NHWC, uniform in [0, 1). */
export function randomInputs(graph: Graph, batch: number, seed = 1): Float32Array[] {
  return graph.inputs.map((name) => {
    const node = graph.nodes.find((n) => n.name === name)!;
    const next = uniformStream(seed, `parity-input/${name}`);
    return Float32Array.from({ length: batch * shapeSize(node.outputShape) }, () => next());
  });
}

/**
 * The weights with every BatchNorm's gamma, beta and moving statistics randomised (at init they
 * are 1/0/0/1, which would hide an epsilon or a mean/variance mix-up).
 */
export function randomizeBatchNorm(
  graph: Graph,
  weights: WeightMap,
  seed = 5,
): Map<string, Float32Array> {
  const out = new Map(weights);
  for (const node of graph.nodes) {
    if (node.op !== "batch_normalization") continue;
    for (const p of node.params) {
      const next = uniformStream(seed, `parity-bn/${p.name}`);
      const [lo, hi] =
        p.suffix === "gamma" ? [0.5, 1.5] : p.suffix === "moving_variance" ? [0.2, 2] : [-0.5, 0.5];
      out.set(
        p.name,
        Float32Array.from({ length: shapeSize(p.shape) }, () => lo! + (hi! - lo!) * next()),
      );
    }
  }
  return out;
}

function batchShape(graph: Graph, name: string, batch: number): number[] {
  return [batch, ...graph.nodes.find((n) => n.name === name)!.outputShape];
}

/** Outputs of the tfjs model (on the active tfjs runtime), one array per graph output. */
export function tfjsOutputs(
  graph: Graph,
  weights: WeightMap,
  inputs: Float32Array[],
  batch: number,
): Float32Array[] {
  const model = toLayersModel(graph, weights);
  try {
    const xs = inputs.map((data, i) => tf.tensor(data, batchShape(graph, graph.inputs[i]!, batch)));
    const ys = model.predict(xs.length === 1 ? xs[0]! : xs);
    const out = (Array.isArray(ys) ? ys : [ys]).map((y) => y.dataSync() as Float32Array);
    tf.dispose([...xs, ...(Array.isArray(ys) ? ys : [ys])]);
    return out;
  } finally {
    model.dispose();
  }
}

/** Outputs of the ONNX model of the same graph and weights, run by onnxruntime-node on the CPU. */
export async function onnxOutputs(
  graph: Graph,
  weights: WeightMap,
  inputs: Float32Array[],
  batch: number,
): Promise<Float32Array[]> {
  const emitted = emitOnnx(graph, weights, {}, ONNX_LOWERINGS);
  if (emitted.model === undefined)
    throw new Error(`ONNX emit failed: ${JSON.stringify(emitted.diagnostics)}`);
  return runOnnx(emitted.model.bytes(), graph, inputs, batch);
}

/** Runs an ONNX model (bytes or a path) on NHWC inputs named as the graph's inputs. */
export async function runOnnx(
  model: Uint8Array | string,
  graph: Graph,
  inputs: Float32Array[],
  batch: number,
): Promise<Float32Array[]> {
  const runtime = ort();
  const session =
    typeof model === "string"
      ? await runtime.InferenceSession.create(model)
      : await runtime.InferenceSession.create(model);
  const feeds = Object.fromEntries(
    graph.inputs.map((name, i) => [
      name,
      new runtime.Tensor("float32", inputs[i]!, batchShape(graph, name, batch)),
    ]),
  );
  const results = await session.run(feeds);
  await session.release();
  return graph.outputs.map((name) => results[name]!.data as Float32Array);
}

/** Largest absolute difference between two equally long arrays (Infinity if lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
