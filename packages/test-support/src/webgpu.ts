/**
 * The WebGPU adapter the GPU tests run on. `.ci/run` installs Mesa's software Vulkan driver
 * (lavapipe) and sets RSC_REQUIRE_WEBGPU=1, so in CI a missing adapter fails the suite; elsewhere
 * the GPU tests are skipped and their titles say why (never a silent pass).
 */
import { type GpuAdapter, probeAdapter } from "@rsc/gpu";

/** The adapter, or the reason there is none (thrown when RSC_REQUIRE_WEBGPU=1). */
export async function webgpuForTests(): Promise<
  | { readonly adapter: GpuAdapter; readonly title: string }
  | { readonly adapter: undefined; readonly title: string }
> {
  const probe = await probeAdapter();
  if (probe.found) return { adapter: probe.adapter, title: `WebGPU on ${probe.adapter.name}` };
  if (process.env["RSC_REQUIRE_WEBGPU"] === "1")
    throw new Error(`RSC_REQUIRE_WEBGPU=1 but no WebGPU adapter: ${probe.reason}`);
  return { adapter: undefined, title: `WebGPU (SKIPPED: ${probe.reason})` };
}
