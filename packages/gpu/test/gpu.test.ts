import { webgpuForTests } from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import {
  describeAdapter,
  hideSoftwareVulkanDrivers,
  parseProbeOutput,
  probeAdapter,
} from "../src/index.js";

const lavapipe = {
  vendor: "mesa",
  architecture: "software",
  device: "llvmpipe-llvm-15-0-6-256-bits-",
  description: "llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1",
  isFallbackAdapter: true,
};

describe("adapter classification", () => {
  it("calls lavapipe, SwiftShader and WARP software, a discrete GPU not", () => {
    expect(describeAdapter(lavapipe).software).toBe(true);
    expect(
      describeAdapter({ ...lavapipe, isFallbackAdapter: false, architecture: "" }).software,
    ).toBe(true);
    const swiftshader = {
      vendor: "google",
      architecture: "",
      device: "SwiftShader Device (Subzero)",
      description: "",
      isFallbackAdapter: false,
    };
    expect(describeAdapter(swiftshader).software).toBe(true);
    const nvidia = {
      vendor: "nvidia",
      architecture: "ada-lovelace",
      device: "",
      description: "NVIDIA GeForce RTX 4090",
      isFallbackAdapter: false,
    };
    expect(describeAdapter(nvidia)).toMatchObject({
      software: false,
      name: "NVIDIA GeForce RTX 4090",
    });
    const apple = {
      vendor: "apple",
      architecture: "metal-3",
      device: "",
      description: "",
      isFallbackAdapter: false,
    };
    expect(describeAdapter(apple)).toMatchObject({ software: false, name: "apple" });
  });

  it("reads the probe's last line and refuses garbage", () => {
    expect(parseProbeOutput(`noise\n${JSON.stringify({ info: lavapipe })}\n`)).toMatchObject({
      found: true,
      adapter: { software: true, device: lavapipe.device },
    });
    expect(parseProbeOutput('{"reason":"no WebGPU adapter"}')).toEqual({
      found: false,
      reason: "no WebGPU adapter",
    });
    expect(parseProbeOutput("")).toBeUndefined();
    expect(parseProbeOutput("Segmentation fault")).toBeUndefined();
    expect(parseProbeOutput('{"info": 3}')).toBeUndefined();
  });

  it("hides software Vulkan drivers and keeps the user's own list", () => {
    const env: NodeJS.ProcessEnv = { VK_LOADER_DRIVERS_DISABLE: "*radeon*" };
    hideSoftwareVulkanDrivers(env);
    hideSoftwareVulkanDrivers(env);
    expect(env["VK_LOADER_DRIVERS_DISABLE"]).toBe("*radeon*,*lvp_icd*,*swiftshader*");
  });
});

const gpu = await webgpuForTests();

describe.runIf(gpu.adapter)(`probe: ${gpu.title}`, () => {
  it("reports no adapter once the software drivers are hidden on a software-only machine", async () => {
    const env = { ...process.env };
    hideSoftwareVulkanDrivers(env);
    const probe = await probeAdapter({ env });
    if (gpu.adapter?.software) {
      expect(probe.found).toBe(false);
      if (!probe.found) expect(probe.reason).toMatch(/^no WebGPU adapter: /);
    } else expect(probe).toMatchObject({ found: true, adapter: { software: false } });
  });

  it("gives a reason, not a hang, when the probe times out", async () => {
    const probe = await probeAdapter({ timeoutMs: 1 });
    expect(probe).toEqual({ found: false, reason: "the adapter probe did not answer within 1 ms" });
  });
});
