/**
 * onnxruntime-node session helpers: execution-provider selection (CUDA where its provider
 * libraries load, CPU otherwise), and timed runs. A separate entry (`@rsc/backend-onnx/runtime`)
 * so that building a model never loads onnxruntime.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join, relative } from "node:path";
import type * as Ort from "onnxruntime-node";

const require = createRequire(import.meta.url);

/** The onnxruntime-node module (loaded on first use). */
export function ort(): typeof Ort {
  return require("onnxruntime-node") as typeof Ort;
}

/** The execution provider a user asks for: `auto` picks CUDA when it works, else CPU. */
export type ExecutionProviderChoice = "auto" | "cuda" | "cpu";

/** Thrown when the requested execution provider cannot be used; the message says why and how to fix it. */
export class RuntimeUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RuntimeUnavailableError";
  }
}

/** Folder of onnxruntime-node's native binding for this platform. */
export function ortBinaryFolder(): string {
  const pkg = require.resolve("onnxruntime-node/package.json");
  return join(dirname(pkg), "bin", "napi-v6", platform(), arch());
}

/** Where onnxruntime-node's CUDA provider library would be, and whether it is there. */
export function cudaProvider(): { readonly path: string; readonly installed: boolean } {
  const path = join(ortBinaryFolder(), "libonnxruntime_providers_cuda.so");
  return { path, installed: existsSync(path) };
}

/**
 * How to enable CUDA: onnxruntime-node downloads its CUDA 12 provider in a postinstall step,
 * which this workspace skips (pnpm-workspace.yaml `allowBuilds`), so it is run by hand.
 */
export function cudaHint(): string {
  if (platform() !== "linux" || arch() !== "x64")
    return `onnxruntime-node ships a CUDA provider for Linux x64 only (this is ${platform()}/${arch()})`;
  const script = join(
    dirname(require.resolve("onnxruntime-node/package.json")),
    "script",
    "install.js",
  );
  return `to enable CUDA (needs CUDA 12 and cuDNN 9): ONNXRUNTIME_NODE_INSTALL=cuda12 node ${relative(process.cwd(), script)}`;
}

/**
 * True when the machine seems to have an NVIDIA GPU (its driver's device nodes or /proc entry),
 * so a CPU fallback is worth a note; elsewhere the fallback is the expected case and says nothing.
 */
export function gpuDetected(): boolean {
  return ["/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia/version", "/dev/dxg"].some((p) =>
    existsSync(p),
  );
}

/** A session and the provider it runs on. */
export interface SelectedSession {
  readonly session: Ort.InferenceSession;
  /** The execution provider in use. */
  readonly ep: "cuda" | "cpu";
  /**
   * Set when `auto` fell back to the CPU and a GPU seems present (or `verbose`): one short line
   * saying why, no paths (the README says how to enable CUDA).
   */
  readonly notice?: string;
}

/**
 * Session options used for every session: full graph optimisation (Conv+BN fusion and more).
 * `intraOpThreads` caps the threads one operator may use; 0 (default) is onnxruntime's choice,
 * one per core.
 */
export function sessionOptions(
  ep: "cuda" | "cpu",
  intraOpThreads = 0,
): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep],
    graphOptimizationLevel: "all",
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
  };
}

/**
 * Creates a session for `model` (a path, so external data resolves next to it) on the chosen
 * provider. CUDA is tried alone: a ['cuda', 'cpu'] list fails outright when CUDA's libraries are
 * missing. Throws {@link RuntimeUnavailableError} when `cuda` is asked for and cannot be used.
 */
export async function createSession(
  model: string,
  choice: ExecutionProviderChoice,
  intraOpThreads = 0,
  { verbose = false }: { readonly verbose?: boolean } = {},
): Promise<SelectedSession> {
  const runtime = ort();
  const create = (ep: "cuda" | "cpu") =>
    runtime.InferenceSession.create(model, sessionOptions(ep, intraOpThreads));
  if (choice !== "cpu") {
    const provider = cudaProvider();
    let reason = "onnxruntime-node's CUDA provider is not installed";
    if (provider.installed) {
      try {
        const session = await create("cuda");
        return { session, ep: "cuda" };
      } catch (error) {
        reason = `the CUDA provider failed to load: ${firstLine(error)}`;
      }
    }
    if (choice === "cuda") throw new RuntimeUnavailableError(`--ep cuda: ${reason}; ${cudaHint()}`);
    const session = await create("cpu");
    if (!verbose && !gpuDetected()) return { session, ep: "cpu" };
    return {
      session,
      ep: "cpu",
      notice: `using the CPU: ${reason} (README: "GPUs and native runtimes")`,
    };
  }
  return {
    session: await create("cpu"),
    ep: "cpu",
  };
}

function firstLine(error: unknown): string {
  return String((error as Error).message ?? error).split("\n")[0]!;
}

/** Latency of repeated runs, in milliseconds. */
export interface Latency {
  /** The first run (includes one-time allocations). */
  readonly firstMs: number;
  /** Median of the runs after the first. */
  readonly medianMs: number;
  /** Every run after the first, in order. */
  readonly runsMs: readonly number[];
}

/** Runs `session` once, then `runs` more times, timing each; returns the last outputs. */
export async function timedRuns(
  session: Ort.InferenceSession,
  feeds: Ort.InferenceSession.FeedsType,
  runs: number,
): Promise<{ outputs: Ort.InferenceSession.ReturnType; latency: Latency }> {
  let start = performance.now();
  let outputs = await session.run(feeds);
  const firstMs = performance.now() - start;
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    start = performance.now();
    outputs = await session.run(feeds);
    runsMs.push(performance.now() - start);
  }
  return {
    outputs,
    latency: { firstMs, medianMs: median(runsMs.length ? runsMs : [firstMs]), runsMs },
  };
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
