/** The training check the backend's tests share: a model fits a small seeded task. */
import { expect } from "vitest";
import { tf, type tfl } from "../src/index.js";

/**
 * Trains a 16x16x3 -> 3-class `model` (graphs.ts's classifiers) for `epochs` and expects its loss
 * to fall: Adam (learning rate 0.01), categorical cross-entropy, 24 seeded random images labelled
 * `i % 3`, unshuffled batches of 8. Every epoch's loss must be finite and the last below the
 * first. Returns the loss of each epoch.
 */
export async function expectLossFalls(model: tfl.LayersModel, epochs: number): Promise<number[]> {
  model.compile({ optimizer: tf.train.adam(0.01), loss: "categoricalCrossentropy" });
  const x = tf.randomUniform([24, 16, 16, 3], 0, 1, "float32", 4);
  const labels = tf.tensor1d(
    Array.from({ length: 24 }, (_, i) => i % 3),
    "int32",
  );
  const y = tf.cast(tf.oneHot(labels, 3), "float32");
  const history = await model.fit(x, y, { epochs, batchSize: 8, shuffle: false, verbose: 0 });
  tf.dispose([x, labels, y]);
  const loss = history.history["loss"] as number[];
  expect(loss.every(Number.isFinite), `losses ${loss.join(", ")}`).toBe(true);
  expect(loss.at(-1)!).toBeLessThan(loss[0]!);
  return loss;
}
