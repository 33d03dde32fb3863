/**
 * Picks the fastest tfjs runtime installed here: tfjs-node-gpu, then tfjs-node (optional peers:
 * they download libtensorflow at install time, which not every machine can), then WebGPU (Dawn,
 * only on a real GPU: a software adapter is slower than the CPU runtimes, so `auto` skips it and
 * only `--runtime webgpu` uses one), then the wasm backend (XNNPACK, SIMD), then the pure-JS cpu
 * backend. Nothing is fetched from the network: the wasm binaries are read from the installed
 * package's dist folder, Dawn is inside the `webgpu` package.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  enableProdMode,
  engine,
  env,
  findBackend,
  getBackend,
  setBackend,
} from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { registerCpuKernelFixes } from "./cpu-kernels.js";
import { MAX_WASM_THREADS, unrefWorkers, withWorkerLoader } from "./wasm-threads.js";
import { registerWasmTrainingKernels } from "./wasm-training-kernels.js";
import { activateWebGpu, probeWebGpu, SOFTWARE_NOTE, withDriverHint } from "./webgpu-runtime.js";

/** A tfjs runtime rsc can use. */
export type RuntimeName = "node-gpu" | "node" | "webgpu" | "wasm" | "cpu";

/** `--runtime`: one runtime, or `auto` for the fastest available. */
export type RuntimePreference = RuntimeName | "auto";

/** Every accepted `--runtime` value. */
export const RUNTIME_PREFERENCES: readonly RuntimePreference[] = [
  "auto",
  "node-gpu",
  "node",
  "webgpu",
  "wasm",
  "cpu",
];

/** What the model will run on. */
export interface RuntimeChoice {
  readonly runtime: RuntimeName;
  /** The tfjs backend name (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  readonly backend: string;
  /** One line for the user: what was picked and why the faster ones were not. */
  readonly message: string;
}

/** A forced runtime is not available (the CLI exits 2). */
export class RuntimeUnavailableError extends Error {
  constructor(
    readonly runtime: RuntimeName,
    reason: string,
  ) {
    super(`tfjs runtime '${runtime}' is not available: ${reason}`);
    this.name = "RuntimeUnavailableError";
  }
}

const NATIVE_PACKAGES = {
  "node-gpu": "@tensorflow/tfjs-node-gpu",
  node: "@tensorflow/tfjs-node",
} as const;

const require = createRequire(import.meta.url);

/** How the wasm backend runs once started: its thread count, and why not more when it fell back. */
export interface WasmThreads {
  readonly threads: number;
  /** Why the threaded binary is not used (one line), when threads were wanted. */
  readonly fallback?: string;
}

let wasmThreads: WasmThreads | undefined;

/** The wasm backend's threads, once {@link selectRuntime} has started it; else undefined. */
export function wasmThreadInfo(): WasmThreads | undefined {
  return wasmThreads;
}

/** How long the threaded binary may take to start its pool before rsc falls back. */
const THREADED_START_MS = 30_000;

/**
 * Starts the threaded wasm binary with `threads` threads (wasm-threads.ts); undefined on success,
 * else why not (the caller then starts the single-threaded binary).
 */
async function startThreadedWasm(
  wasm: typeof import("@tensorflow/tfjs-backend-wasm"),
  threads: number,
): Promise<string | undefined> {
  env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  wasm.setThreadsCount(threads);
  let timer: NodeJS.Timeout | undefined;
  try {
    const started = await withWorkerLoader(threads, () =>
      Promise.race([
        setBackend("wasm"),
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), THREADED_START_MS);
        }),
      ]),
    );
    if (started === true) {
      unrefWorkers((engine().backend as unknown as { wasm: unknown }).wasm);
      wasmThreads = { threads: wasm.getThreadsCount() };
      return undefined;
    }
    return started === "timeout"
      ? `its thread pool did not start within ${THREADED_START_MS / 1000} s`
      : "the threaded binary failed to initialise";
  } catch (error) {
    return `the threaded binary failed: ${(error as Error).message.split("\n")[0]}`;
  } finally {
    clearTimeout(timer);
    env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  }
}

/** Options of {@link selectRuntime}. */
export interface RuntimeOptions {
  /**
   * Threads of the wasm backend (XNNPACK's pool; at most {@link MAX_WASM_THREADS}); default: the
   * available cores. 1: the single-threaded binary. Only the first start of wasm uses it.
   */
  readonly threads?: number;
}

/** Why a runtime cannot be used, or undefined once it is the active tfjs backend. */
async function activate(
  runtime: RuntimeName,
  options: RuntimeOptions,
): Promise<string | undefined> {
  switch (runtime) {
    case "node-gpu":
    case "node": {
      const pkg = NATIVE_PACKAGES[runtime];
      try {
        // Installed at all? Asked of Node's resolver first, so a bundler's or test runner's
        // own resolution error for an absent optional peer still reads "not installed".
        require.resolve(`${pkg}/package.json`);
      } catch {
        return `${pkg} is not installed`;
      }
      try {
        // A variable specifier: the packages are optional peers, absent at type-check time.
        await import(pkg as string);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND"
          ? `${pkg} is not installed`
          : `${pkg} failed to load: ${(error as Error).message.split("\n")[0]}`;
      }
      // The native package registers 'tensorflow' in the tfjs-core it resolves; a different copy
      // of tfjs-core (another version) would leave ours without it.
      if (findBackend("tensorflow") === null && !engine().registryFactory["tensorflow"]) {
        return `${pkg} is installed but registered its backend in another copy of @tensorflow/tfjs-core (install version 4.22.x)`;
      }
      return (await setBackend("tensorflow")) ? undefined : `${pkg} backend failed to initialise`;
    }
    case "wasm": {
      let dist: string;
      let wasm: typeof import("@tensorflow/tfjs-backend-wasm");
      try {
        dist = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
        wasm = (await import(
          "@tensorflow/tfjs-backend-wasm"
        )) as typeof import("@tensorflow/tfjs-backend-wasm");
        // Local files only: the node build reads the .wasm with fs, given a path prefix.
        wasm.setWasmPaths(`${dist}/`);
        registerWasmTrainingKernels();
      } catch (error) {
        return `@tensorflow/tfjs-backend-wasm failed to load: ${(error as Error).message.split("\n")[0]}`;
      }
      // Threads are chosen once, when the backend first starts (tfjs cannot restart it).
      let fallback: string | undefined;
      if (wasmThreads === undefined) {
        const wanted = Math.min(MAX_WASM_THREADS, options.threads ?? availableParallelism());
        if (wanted > 1) {
          const reason = await startThreadedWasm(wasm, wanted);
          if (reason === undefined) return undefined;
          fallback = reason;
        }
      }
      try {
        if (!(await setBackend("wasm")))
          return `the wasm backend failed to initialise (binaries in ${pathToFileURL(dist).href})`;
      } catch (error) {
        return `the wasm backend failed to initialise: ${(error as Error).message.split("\n")[0]}`;
      }
      wasmThreads ??= { threads: 1, ...(fallback === undefined ? {} : { fallback }) };
      return undefined;
    }
    case "webgpu":
      return activateWebGpu();
    case "cpu":
      registerCpuKernelFixes();
      return (await setBackend("cpu")) ? undefined : "the cpu backend failed to initialise";
  }
}

const BACKEND_OF: Record<RuntimeName, string> = {
  "node-gpu": "tensorflow",
  node: "tensorflow",
  webgpu: "webgpu",
  wasm: "wasm",
  cpu: "cpu",
};

/** Order `auto` tries, fastest first. */
export const AUTO_ORDER: readonly RuntimeName[] = ["node-gpu", "node", "webgpu", "wasm", "cpu"];

/**
 * Makes the chosen runtime tfjs's active backend. `auto` tries {@link AUTO_ORDER}; a forced runtime
 * that cannot be used throws {@link RuntimeUnavailableError}. WebGPU's adapter is probed (in a
 * child process) before Dawn is loaded here; the message names it. `auto` skips a software
 * adapter (saying which); a forced `webgpu` runs on it and says it is software.
 */
export async function selectRuntime(
  preference: RuntimePreference = "auto",
  options: RuntimeOptions = {},
): Promise<RuntimeChoice> {
  selected = true;
  // Production mode: no debug checks, and no "install tfjs-node" banner on stderr (the choice is
  // reported in one line by the caller instead).
  if (!env().getBool("PROD")) enableProdMode();
  if (preference !== "auto") {
    // WebGPU's adapter is probed first: none is a reason; a software one is used, and said.
    const gpu = preference === "webgpu" ? await probeWebGpu() : undefined;
    if (gpu !== undefined && "reason" in gpu)
      throw new RuntimeUnavailableError("webgpu", withDriverHint(gpu.reason));
    const reason = await activate(preference, options);
    if (reason !== undefined) throw new RuntimeUnavailableError(preference, reason);
    const why = ["forced with --runtime"];
    if (gpu?.adapter.software) why.push(`the adapter is software: ${SOFTWARE_NOTE}`);
    return {
      runtime: preference,
      backend: getBackend(),
      message: `tfjs runtime: ${preference}${gpu ? ` on ${gpu.adapter.name}` : ""} (${why.join("; ")})`,
    };
  }
  const skipped: string[] = [];
  for (const runtime of AUTO_ORDER) {
    // `auto` takes WebGPU on a real GPU only: a software adapter is slower than wasm or cpu.
    const gpu = runtime === "webgpu" ? await probeWebGpu() : undefined;
    if (gpu !== undefined && ("reason" in gpu || gpu.adapter.software)) {
      skipped.push(
        `webgpu: ${"reason" in gpu ? gpu.reason : `adapter ${gpu.adapter.name} is software (${SOFTWARE_NOTE})`}`,
      );
      continue;
    }
    const reason = await activate(runtime, options);
    if (reason === undefined) {
      return {
        runtime,
        backend: BACKEND_OF[runtime],
        message: `tfjs runtime: ${runtime}${gpu ? ` on ${gpu.adapter.name}` : ""}${skipped.length > 0 ? ` (${skipped.join("; ")})` : ""}`,
      };
    }
    skipped.push(`${runtime}: ${reason}`);
  }
  throw new RuntimeUnavailableError("cpu", skipped.join("; "));
}

/** True once {@link selectRuntime} was called in this process. */
let selected = false;

/**
 * Makes sure a runtime is active: the one {@link selectRuntime} chose, else the always-present cpu
 * backend (what building and serialising need; training chooses its runtime itself).
 */
export async function ensureRuntime(): Promise<void> {
  if (!selected) await selectRuntime("cpu");
}
