/**
 * The webgpu tfjs runtime: forced, it runs on whatever adapter Dawn has (in CI lavapipe, whose
 * message says it is software); `auto` takes it only on a real GPU, naming a skipped software
 * adapter; without an adapter a forced webgpu is refused with the reason and the driver hint.
 */
import { driverHint } from "@rsc/gpu";
import { webgpuForTests } from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import { RuntimeUnavailableError, selectRuntime, tf } from "../src/index.js";

const gpu = await webgpuForTests();

describe.runIf(gpu.adapter)(`the webgpu runtime: ${gpu.title}`, () => {
  it("runs when forced, naming the adapter (and saying when it is software)", async () => {
    const choice = await selectRuntime("webgpu");
    expect(choice).toMatchObject({ runtime: "webgpu", backend: "webgpu" });
    expect(tf.getBackend()).toBe("webgpu");
    const note = gpu.adapter!.software
      ? "; the adapter is software: a CPU emulating a GPU, slower than the cpu runtimes"
      : "";
    expect(choice.message).toBe(
      `tfjs runtime: webgpu on ${gpu.adapter!.name} (forced with --runtime${note})`,
    );
    const y = tf.conv2d(
      tf.ones([1, 3, 3, 1]) as tf.Tensor4D,
      tf.ones([3, 3, 1, 1]) as tf.Tensor4D,
      1,
      "valid",
    );
    expect(Array.from(await y.data())).toEqual([9]);
  });

  it("is what auto picks on a real GPU only", async () => {
    const choice = await selectRuntime("auto");
    if (gpu.adapter!.software) {
      expect(choice.runtime).not.toBe("webgpu");
      expect(choice.message).toContain(
        `webgpu: adapter ${gpu.adapter!.name} is software (a CPU emulating a GPU, slower than the cpu runtimes)`,
      );
    } else {
      expect(choice.runtime).toMatch(/^(node-gpu|node|webgpu)$/);
      if (choice.runtime === "webgpu")
        expect(choice.message.startsWith(`tfjs runtime: webgpu on ${gpu.adapter!.name}`)).toBe(
          true,
        );
    }
  });
});

describe("the webgpu runtime without an adapter", () => {
  it.runIf(process.platform === "linux")(
    "is refused when forced, with the reason and the driver hint (every Vulkan driver hidden)",
    async () => {
      const saved = process.env["VK_LOADER_DRIVERS_DISABLE"];
      // The adapter probe's child process inherits this; nothing in this process loads Vulkan.
      process.env["VK_LOADER_DRIVERS_DISABLE"] = "*";
      try {
        const refused = selectRuntime("webgpu");
        await expect(refused).rejects.toThrow(RuntimeUnavailableError);
        await expect(refused).rejects.toThrow(
          `tfjs runtime 'webgpu' is not available: no WebGPU adapter: ${driverHint("linux")}`,
        );
        const auto = await selectRuntime("auto");
        expect(auto.runtime).not.toBe("webgpu");
        expect(auto.message).toContain(`webgpu: no WebGPU adapter: ${driverHint("linux")}`);
      } finally {
        if (saved === undefined) delete process.env["VK_LOADER_DRIVERS_DISABLE"];
        else process.env["VK_LOADER_DRIVERS_DISABLE"] = saved;
      }
    },
  );
});
