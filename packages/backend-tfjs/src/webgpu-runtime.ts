/**
 * The `webgpu` tfjs runtime: tfjs-backend-webgpu on Dawn (the `webgpu` package's Node binding,
 * installed in-process by @rsc/gpu). The adapter is probed first in a child process (a driver
 * that crashes or hangs costs a reason, not the rsc process), so a machine without one is told
 * why and how to get one before Dawn is loaded here.
 *
 * tfjs-backend-webgpu cannot read a tensor synchronously in Node (`dataSync()` needs an
 * OffscreenCanvas): code that may run on this runtime reads with `await t.data()`.
 */
import { driverHint, type GpuAdapter, installWebGpu, probeAdapter } from "@rsc/gpu";
import { setBackend } from "@tensorflow/tfjs-core";
import { registerWebGpuKernels } from "./webgpu-kernels.js";

/** The adapter the webgpu runtime would run on, or why there is none. */
export async function probeWebGpu(): Promise<
  { readonly adapter: GpuAdapter } | { readonly reason: string }
> {
  const probe = await probeAdapter();
  return probe.found ? { adapter: probe.adapter } : { reason: probe.reason };
}

/** What a software adapter means, for messages. */
export const SOFTWARE_NOTE = "a CPU emulating a GPU, slower than the cpu runtimes";

/** `reason` with how to get a GPU driver, unless it says so already. */
export function withDriverHint(reason: string): string {
  const hint = driverHint();
  return reason.includes(hint) ? reason : `${reason}; ${hint}`;
}

/**
 * Makes tfjs-backend-webgpu the active backend; returns why it cannot be, or undefined. Dawn's
 * globals must exist before the backend's module is first imported: it registers itself only
 * where `navigator.gpu` is.
 */
export async function activateWebGpu(): Promise<string | undefined> {
  const installed = await installWebGpu();
  if (installed !== undefined) return withDriverHint(installed.reason);
  try {
    await import("@tensorflow/tfjs-backend-webgpu");
  } catch (error) {
    return `@tensorflow/tfjs-backend-webgpu failed to load: ${(error as Error).message.split("\n")[0]}`;
  }
  try {
    if (!(await setBackend("webgpu")))
      return withDriverHint("the webgpu backend failed to initialise (no device from the adapter)");
  } catch (error) {
    return `the webgpu backend failed to initialise: ${(error as Error).message.split("\n")[0]}`;
  }
  registerWebGpuKernels();
  return undefined;
}
