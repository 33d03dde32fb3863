/**
 * WebGPU adapter discovery, shared by the ONNX backend (onnxruntime's WebGPU execution provider)
 * and the tfjs backend (tfjs-backend-webgpu). Both run on Dawn: onnxruntime-node carries its own
 * copy and exposes nothing about the adapter it picks, so the adapter is read with the `webgpu`
 * package (Dawn's Node binding, binaries inside the npm package, no download).
 *
 * The probe runs in a child process of our own (never anything from a spec or model file): a
 * driver that crashes or hangs while being enumerated then costs a one-line reason instead of the
 * rsc process, the probe is bounded by a timeout, and the warnings Dawn prints for some drivers go
 * to the child's stderr, not the user's terminal.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** What Dawn says of an adapter (`GPUAdapter.info`). */
export interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
}

/** An adapter, with the name rsc shows and whether it is a CPU emulating a GPU. */
export interface GpuAdapter extends AdapterInfo {
  /** A short name: the driver's description, else the device, else the vendor. */
  readonly name: string;
  /** A software renderer (lavapipe/llvmpipe, SwiftShader, WARP): correct but slower than the CPU. */
  readonly software: boolean;
}

/** The outcome of {@link probeAdapter}. */
export type AdapterProbe =
  | { readonly found: true; readonly adapter: GpuAdapter }
  | { readonly found: false; readonly reason: string };

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render|\bwarp\b/i;

/** True for adapters that emulate a GPU on the CPU. */
export function isSoftwareAdapter(info: AdapterInfo): boolean {
  return (
    info.isFallbackAdapter ||
    info.architecture.toLowerCase() === "software" ||
    SOFTWARE_NAMES.test(info.device) ||
    SOFTWARE_NAMES.test(info.description)
  );
}

/** Adds the name and software flag to what Dawn reported. */
export function describeAdapter(info: AdapterInfo): GpuAdapter {
  const name = (info.description || info.device || info.vendor || "unnamed adapter").trim();
  return { ...info, name, software: isSoftwareAdapter(info) };
}

/**
 * Globs (Vulkan loader `VK_LOADER_DRIVERS_DISABLE`, matched against driver manifest file names)
 * of the software Vulkan drivers: Mesa's lavapipe and Google's SwiftShader.
 */
export const SOFTWARE_VULKAN_DRIVERS: readonly string[] = ["*lvp_icd*", "*swiftshader*"];

/**
 * Hides the software Vulkan drivers from every Vulkan instance this process creates from now on
 * (onnxruntime's WebGPU provider has no adapter choice, but honours the loader's environment).
 * Keeps whatever the user already disabled. Must run before the first session is created.
 */
export function hideSoftwareVulkanDrivers(env: NodeJS.ProcessEnv = process.env): void {
  const current = (env["VK_LOADER_DRIVERS_DISABLE"] ?? "").split(",").filter((p) => p !== "");
  const added = SOFTWARE_VULKAN_DRIVERS.filter((p) => !current.includes(p));
  if (added.length > 0) env["VK_LOADER_DRIVERS_DISABLE"] = [...current, ...added].join(",");
}

/** How to give Dawn a GPU driver on this platform, in one clause. */
export function driverHint(platform: NodeJS.Platform = process.platform): string {
  if (platform === "linux")
    return "install the GPU's Vulkan driver (Debian/Ubuntu: mesa-vulkan-drivers for AMD/Intel, the NVIDIA driver's Vulkan ICD for NVIDIA; docs/gpu.md)";
  if (platform === "darwin") return "Metal is needed (macOS 11 or later; docs/gpu.md)";
  if (platform === "win32") return "a D3D12 or Vulkan GPU driver is needed (docs/gpu.md)";
  return `Dawn has no binary for ${platform} in the webgpu package (docs/gpu.md)`;
}

/** Path of the `webgpu` package's entry, or the reason it cannot be used. */
export function webgpuPackage(): { readonly path: string } | { readonly reason: string } {
  try {
    return { path: require.resolve("webgpu") };
  } catch {
    return { reason: "the webgpu package is not installed" };
  }
}

/** Options of {@link probeAdapter}. */
export interface ProbeOptions {
  /** Give up after this long (a driver can hang while enumerating). Default 20 s. */
  readonly timeoutMs?: number;
  /** Environment of the probe (default: this process's), e.g. with software drivers hidden. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Asks Dawn, in a child process, for its preferred (high-performance) adapter. Never throws:
 * every failure is a `found: false` with a one-line reason.
 */
export async function probeAdapter({
  timeoutMs = 20_000,
  env = process.env,
}: ProbeOptions = {}): Promise<AdapterProbe> {
  const pkg = webgpuPackage();
  if ("reason" in pkg) return { found: false, reason: pkg.reason };
  const child = require.resolve("@rsc/gpu/probe-child");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [child],
      { env, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1 << 20, windowsHide: true },
      (error, stdout) => {
        const answer = parseProbeOutput(String(stdout));
        if (answer !== undefined) resolve(answer);
        else if (error && (error as { killed?: boolean }).killed)
          resolve({
            found: false,
            reason: `the adapter probe did not answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}`,
          });
        else
          resolve({
            found: false,
            reason: `the adapter probe failed (${error?.signal ? `signal ${error.signal}` : `exit ${error?.code ?? 0}`})`,
          });
      },
    );
  });
}

/** Reads the child's last JSON line; undefined when there is none that makes sense. */
export function parseProbeOutput(stdout: string): AdapterProbe | undefined {
  const line = stdout.trim().split("\n").at(-1);
  if (!line) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as { reason?: unknown; info?: Record<string, unknown> };
  if (typeof v.reason === "string") return { found: false, reason: v.reason };
  if (typeof v.info !== "object" || v.info === null) return undefined;
  const text = (k: string) => (typeof v.info?.[k] === "string" ? (v.info[k] as string) : "");
  return {
    found: true,
    adapter: describeAdapter({
      vendor: text("vendor"),
      architecture: text("architecture"),
      device: text("device"),
      description: text("description"),
      isFallbackAdapter: v.info["isFallbackAdapter"] === true,
    }),
  };
}

let installed: { readonly gpu: unknown } | undefined;

/**
 * Makes WebGPU available in this process the way a browser has it (`navigator.gpu` and the
 * `GPUBufferUsage`-style constants), for tfjs-backend-webgpu. Idempotent; returns the reason when
 * Dawn's binding cannot be loaded.
 */
export async function installWebGpu(): Promise<{ readonly reason: string } | undefined> {
  if (installed) return undefined;
  const pkg = webgpuPackage();
  if ("reason" in pkg) return pkg;
  let binding: { create(options: string[]): unknown; globals: Record<string, unknown> };
  try {
    binding = (await import("webgpu")) as unknown as typeof binding;
  } catch (error) {
    return { reason: `Dawn's binding (webgpu package) failed to load: ${firstLine(error)}` };
  }
  for (const [key, value] of Object.entries(binding.globals))
    if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
  const gpu = binding.create([]);
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined)
    Object.defineProperty(globalThis, "navigator", {
      value: {},
      configurable: true,
      writable: true,
    });
  Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true });
  installed = { gpu };
  return undefined;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0]!;
}
