/**
 * Dropout's `noise_shape` in tfjs, as Keras applies it in training: `[null, 1, 1, 1]` draws one
 * mask value per example (EfficientNet's drop-connect: an example's whole residual branch is
 * kept, scaled by 1 / (1 - rate), or zeroed), `[null, 1, 1, null]` one per example and channel;
 * identity at inference; saved in model.json as Keras's `noise_shape` and kept by
 * tf.loadLayersModel; and a drop-connect residual model trains on the cpu and wasm runtimes.
 */
import { graphFromLayers, initWeights, type LayerDescription } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import {
  memoryHandler,
  saveArtifacts,
  selectRuntime,
  tf,
  tfl,
  toLayersModel,
} from "../src/index.js";

const [N, H, W, C] = [64, 4, 4, 3];

/** input [H, W, C] -> dropout `drop` (rate 0.5) with `noise_shape` when given. */
function dropoutModel(noiseShape?: readonly (number | null)[]) {
  const graph = graphFromLayers("dropout", [
    { name: "input_1", op: "input", attrs: { shape: [H, W, C] } },
    {
      name: "drop",
      op: "dropout",
      attrs: { rate: 0.5, ...(noiseShape ? { noise_shape: [...noiseShape] } : {}) },
    },
  ]);
  return toLayersModel(graph, initWeights(graph, 0));
}

/** The training-mode output of `model` on ones [N, H, W, C], as [n][h * w * c] values. */
function trainingOutput(model: tfl.LayersModel): number[][] {
  const x = tf.ones([N, H, W, C]);
  const y = model.apply(x, { training: true }) as tf.Tensor;
  const flat = tf.reshape(y, [N, H * W * C]);
  const rows = flat.arraySync() as number[][];
  tf.dispose([x, y, flat]);
  return rows;
}

/** Checks every value is 0 or 1 / (1 - 0.5) = 2 (inverted dropout, as Keras scales). */
function expectKeptOrDropped(rows: number[][]) {
  for (const r of rows) for (const v of r) expect([0, 2]).toContain(Math.round(v * 1e6) / 1e6);
}

describe("dropout noise_shape in tfjs (cpu)", () => {
  it("[null, 1, 1, 1] keeps or drops each example whole in training", async () => {
    await selectRuntime("cpu");
    const model = dropoutModel([null, 1, 1, 1]);
    const rows = trainingOutput(model);
    expectKeptOrDropped(rows);
    for (const r of rows) expect(new Set(r).size).toBe(1);
    const dropped = rows.filter((r) => r[0] === 0).length;
    // Binomial(64, 0.5): outside 10..54 with probability below 1e-8.
    expect(dropped).toBeGreaterThan(10);
    expect(dropped).toBeLessThan(54);
    model.dispose();
  });

  it("without noise_shape draws a value per activation (so the test above can fail)", async () => {
    await selectRuntime("cpu");
    const model = dropoutModel();
    const rows = trainingOutput(model);
    expectKeptOrDropped(rows);
    expect(rows.filter((r) => new Set(r).size > 1).length).toBeGreaterThan(N / 2);
    model.dispose();
  });

  it("[null, 1, 1, null] draws one value per example and channel", async () => {
    await selectRuntime("cpu");
    const model = dropoutModel([null, 1, 1, null]);
    const rows = trainingOutput(model);
    expectKeptOrDropped(rows);
    let mixed = 0;
    for (const r of rows) {
      for (let c = 0; c < C; c++) {
        const channel = r.filter((_, i) => i % C === c);
        expect(new Set(channel).size).toBe(1);
      }
      if (new Set(r).size > 1) mixed++;
    }
    // An example keeps some channels and drops others with probability 3/4.
    expect(mixed).toBeGreaterThan(N / 4);
    model.dispose();
  });

  it("is the identity at inference", async () => {
    await selectRuntime("cpu");
    const model = dropoutModel([null, 1, 1, 1]);
    const x = tf.randomUniform([N, H, W, C], -1, 1, "float32", 3);
    const y = model.predict(x) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, y]);
    model.dispose();
  });

  it("is saved as Keras's noise_shape and kept by tf.loadLayersModel", async () => {
    await selectRuntime("cpu");
    const model = dropoutModel([null, 1, 1, 1]);
    const files = await saveArtifacts(model, { convertedBy: "rsc test" });
    const json = JSON.parse(new TextDecoder().decode(files.get("model.json")));
    const layer = (json.modelTopology.config.layers as { name: string; config: object }[]).find(
      (l) => l.name === "drop",
    )!;
    expect(layer.config).toMatchObject({ rate: 0.5, noise_shape: [null, 1, 1, 1] });
    const loaded = await tfl.loadLayersModel(memoryHandler(files));
    const rows = trainingOutput(loaded);
    expectKeptOrDropped(rows);
    for (const r of rows) expect(new Set(r).size).toBe(1);
    expect(rows.filter((r) => r[0] === 0).length).toBeGreaterThan(10);
    loaded.dispose();
    model.dispose();
  });

  it("is null in model.json without noise_shape, as Keras's default config and as before", async () => {
    await selectRuntime("cpu");
    const model = dropoutModel();
    const files = await saveArtifacts(model, { convertedBy: "rsc test" });
    const json = JSON.parse(new TextDecoder().decode(files.get("model.json")));
    const layer = (json.modelTopology.config.layers as { name: string; config: object }[]).find(
      (l) => l.name === "drop",
    )!;
    expect(layer.config).toMatchObject({ rate: 0.5, noise_shape: null });
    model.dispose();
  });
});

/** A drop-connect residual: conv -> bn -> dropout [null, 1, 1, 1] -> add with the input. */
const DROP_CONNECT: readonly LayerDescription[] = [
  { name: "input_1", op: "input", attrs: { shape: [8, 8, 4] } },
  { name: "conv", op: "conv2d", attrs: { filters: 4, kernel_size: 3, padding: "same" } },
  { name: "bn", op: "batch_normalization" },
  { name: "drop", op: "dropout", attrs: { rate: 0.3, noise_shape: [null, 1, 1, 1] } },
  { name: "add", op: "add", inputs: ["drop", "input_1"] },
  { name: "gap", op: "global_average_pooling2d" },
  { name: "fc3", op: "dense", attrs: { units: 3, activation: "softmax" } },
];

describe.each(["cpu", "wasm"] as const)("a drop-connect residual trains on %s", (runtime) => {
  it("fits: the loss is finite and goes down, the conv before the dropout learns", async () => {
    await selectRuntime(runtime);
    const graph = graphFromLayers("drop_connect", DROP_CONNECT);
    const weights = initWeights(graph, 0);
    const model = toLayersModel(graph, weights);
    model.compile({ optimizer: tf.train.adam(0.02), loss: "categoricalCrossentropy" });
    const x = tf.randomUniform([32, 8, 8, 4], 0, 1, "float32", 5);
    const labels = tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => i % 3),
      "int32",
    );
    const y = tf.oneHot(labels, 3).cast("float32");
    const history = await model.fit(x, y, { epochs: 8, batchSize: 8, shuffle: false, verbose: 0 });
    const loss = history.history["loss"] as number[];
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss.at(-1)!).toBeLessThan(loss[0]!);
    const kernel = model.weights
      .find((w) => w.originalName === "conv/kernel")!
      .read()
      .dataSync();
    expect(Array.from(kernel)).not.toEqual(Array.from(weights.get("conv/kernel")!));
    tf.dispose([x, labels, y]);
    model.dispose();
  });
});
