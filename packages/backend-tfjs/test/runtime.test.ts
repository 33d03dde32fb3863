import { describe, expect, it } from "vitest";
import { RuntimeUnavailableError, selectRuntime, tf } from "../src/index.js";

describe("selectRuntime", () => {
  it("refuses a forced native runtime that is not installed, naming the package", async () => {
    await expect(selectRuntime("node")).rejects.toThrow(RuntimeUnavailableError);
    await expect(selectRuntime("node-gpu")).rejects.toThrow(
      /@tensorflow\/tfjs-node-gpu is not installed/,
    );
  });

  it("auto picks wasm here (no tfjs-node), saying why the native ones were skipped", async () => {
    const choice = await selectRuntime("auto");
    expect(choice).toMatchObject({ runtime: "wasm", backend: "wasm" });
    expect(tf.getBackend()).toBe("wasm");
    expect(choice.message).toMatch(
      /^tfjs runtime: wasm \(node-gpu: .*not installed; node: .*not installed; webgpu: .+\)$/,
    );
    // The wasm binaries come from the installed package, no network: a conv runs.
    const y = tf.conv2d(
      tf.ones([1, 3, 3, 1]) as tf.Tensor4D,
      tf.ones([3, 3, 1, 1]) as tf.Tensor4D,
      1,
      "valid",
    );
    expect(Array.from(y.dataSync())).toEqual([9]);
  });

  it("forces cpu", async () => {
    const choice = await selectRuntime("cpu");
    expect(choice.runtime).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
  });
});
