/**
 * onnxruntime-node session helpers: execution-provider selection (CUDA where its provider
 * libraries load, onnxruntime's WebGPU provider where Dawn finds a real GPU, CPU otherwise), runs
 * that fall back to the CPU when `auto` chose a provider that fails, and timed runs. A separate
 * entry (`@rsc/backend-onnx/runtime`) so that building a model never loads onnxruntime.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { dirname, join, relative } from "node:path";
import { driverHint, type GpuAdapter, hideSoftwareVulkanDrivers, probeAdapter } from "@rsc/gpu";
import type * as Ort from "onnxruntime-node";

/** The adapter probe and driver hint, for the CLI (which does not depend on @rsc/gpu itself). */
export { driverHint, type GpuAdapter, probeAdapter } from "@rsc/gpu";

const require = createRequire(import.meta.url);

/** The onnxruntime-node module (loaded on first use). */
export function ort(): typeof Ort {
  return require("onnxruntime-node") as typeof Ort;
}

/**
 * The execution provider a user asks for: `auto` picks CUDA when it works, else WebGPU on a real
 * (not software) adapter, else the CPU.
 */
export type ExecutionProviderChoice = "auto" | "cuda" | "webgpu" | "cpu";

/** An execution provider a session runs on. */
export type ExecutionProvider = Exclude<ExecutionProviderChoice, "auto">;

/** How messages name a provider. */
export const providerLabel: Readonly<Record<ExecutionProvider, string>> = {
  cuda: "CUDA",
  webgpu: "WebGPU",
  cpu: "the CPU",
};

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

/** A session and the provider it runs on. */
export interface SelectedSession {
  readonly session: Ort.InferenceSession;
  /** The execution provider in use. */
  readonly ep: ExecutionProvider;
  /** The WebGPU adapter Dawn reported, when it was probed (`--ep webgpu`, or `auto` got that far). */
  readonly adapter?: GpuAdapter;
  /**
   * One short line, no paths: for `auto`, which provider and why (always set); for an explicit
   * `webgpu` on a software adapter, that it is one.
   */
  readonly notice?: string;
  /** With `verbose`, how to enable the providers `auto` could not use (may name paths). */
  readonly hint?: string;
}

/**
 * The tensor layout onnxruntime's WebGPU provider computes in. Its default, NHWC, is wrong in
 * onnxruntime-node 1.30.0 for a Conv over 6, 9, 18 or 30 input channels (any C divisible by 3 and
 * not by 4, above 3: off by O(1), measured on lavapipe; packages/backend-onnx/test/webgpu-parity
 * pins it), while NCHW is right for every spec. NCHW costs ~1.7x on ResNet-50 at batch 1 on
 * lavapipe; a right answer comes first.
 */
export const WEBGPU_LAYOUT = "NCHW";

/**
 * Session options used for every session: full graph optimisation (Conv+BN fusion and more), and
 * onnxruntime's own log limited to fatal messages: a failure reaches the caller as an exception
 * with the same text, which rsc prints in one line (the log would print it a second time, in red).
 * `intraOpThreads` caps the threads one operator may use; 0 (default) is onnxruntime's choice,
 * one per core (on WebGPU it applies to the nodes left on the CPU).
 */
export function sessionOptions(
  ep: ExecutionProvider,
  intraOpThreads = 0,
): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep === "webgpu" ? { name: "webgpu", preferredLayout: WEBGPU_LAYOUT } : ep],
    graphOptimizationLevel: "all",
    logSeverityLevel: 4,
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
  };
}

/** How long `auto` waits for the adapter probe (it answers in ~0.1-0.4 s). */
export const AUTO_PROBE_TIMEOUT_MS = 5_000;

/** Options of {@link createSession}. */
export interface CreateSessionOptions {
  /** Also set {@link SelectedSession.hint} when `auto` passes over a provider. */
  readonly verbose?: boolean;
  /** Timeout of the adapter probe (default {@link AUTO_PROBE_TIMEOUT_MS} for `auto`, 20 s for `webgpu`). */
  readonly probeTimeoutMs?: number;
}

/**
 * Creates a session for `model` (a path, so external data resolves next to it) on the chosen
 * provider. CUDA and WebGPU are tried alone: a ['cuda', 'cpu'] list fails outright when CUDA's
 * libraries are missing. Throws {@link RuntimeUnavailableError} when `cuda` or `webgpu` is asked
 * for and cannot be used; any other error is the model's (onnxruntime cannot load it).
 *
 * `auto` probes the WebGPU adapter (in a child process, bounded) only when CUDA is not used, and
 * takes WebGPU only on a real adapter: a software one (lavapipe, SwiftShader) is slower than the
 * CPU provider. Before that first WebGPU session it hides the software Vulkan drivers from this
 * process, so onnxruntime's own Dawn cannot land on one either.
 */
export async function createSession(
  model: string,
  choice: ExecutionProviderChoice,
  intraOpThreads = 0,
  { verbose = false, probeTimeoutMs }: CreateSessionOptions = {},
): Promise<SelectedSession> {
  const runtime = ort();
  const create = (ep: ExecutionProvider) =>
    runtime.InferenceSession.create(model, sessionOptions(ep, intraOpThreads));
  if (choice === "cpu") return { session: await create("cpu"), ep: "cpu" };

  /** Why each provider `auto` passed over was not used, in the order tried. */
  const passed: string[] = [];
  const hints: string[] = [];
  if (choice === "cuda" || choice === "auto") {
    const provider = cudaProvider();
    let reason = "onnxruntime-node's CUDA provider is not installed";
    if (provider.installed) {
      try {
        const session = await create("cuda");
        return choice === "auto"
          ? { session, ep: "cuda", notice: "using CUDA: onnxruntime-node's CUDA provider loaded" }
          : { session, ep: "cuda" };
      } catch (error) {
        reason = `the CUDA provider failed to load: ${firstLine(error)}`;
      }
    }
    if (choice === "cuda") throw new RuntimeUnavailableError(`--ep cuda: ${reason}; ${cudaHint()}`);
    passed.push(reason);
    hints.push(cudaHint());
  }

  const probe = await probeAdapter({
    timeoutMs: probeTimeoutMs ?? (choice === "auto" ? AUTO_PROBE_TIMEOUT_MS : undefined),
  });
  if (choice === "webgpu") {
    if (!probe.found)
      throw new RuntimeUnavailableError(`--ep webgpu: ${withDriverHint(probe.reason)}`);
    if (!probe.adapter.software) hideSoftwareVulkanDrivers(process.env);
    const started = await createOnProvider(create, "webgpu", probe.adapter);
    if ("reason" in started)
      throw new RuntimeUnavailableError(`--ep webgpu: ${started.reason}; ${driverHint()}`);
    return probe.adapter.software
      ? {
          session: started.session,
          ep: "webgpu",
          adapter: probe.adapter,
          notice: `the WebGPU adapter is software (${probe.adapter.name}): the CPU emulates a GPU, expect it to be slower than --ep cpu`,
        }
      : { session: started.session, ep: "webgpu", adapter: probe.adapter };
  }

  // auto, CUDA passed over.
  if (!probe.found) {
    passed.unshift(shortReason(probe.reason));
    hints.push(`for WebGPU, ${driverHint()}`);
  } else if (probe.adapter.software) {
    passed.unshift(`the only WebGPU adapter is software (${probe.adapter.name})`);
  } else {
    hideSoftwareVulkanDrivers(process.env);
    const started = await createOnProvider(create, "webgpu", probe.adapter);
    if ("session" in started)
      return {
        session: started.session,
        ep: "webgpu",
        adapter: probe.adapter,
        notice: `using WebGPU on ${probe.adapter.name}: ${passed.join("; ")}`,
        ...(verbose ? { hint: hints.join("; ") } : {}),
      };
    passed.unshift(started.reason);
  }
  return {
    session: await create("cpu"),
    ep: "cpu",
    ...(probe.found ? { adapter: probe.adapter } : {}),
    notice: `using the CPU: ${passed.join("; ")}`,
    ...(verbose && hints.length > 0 ? { hint: hints.join("; ") } : {}),
  };
}

/**
 * Creates a session on `ep`; when that fails, a CPU session tells whether the model or the
 * provider is at fault: the model's error is thrown as is (the CPU cannot load it either), the
 * provider's is returned as a one-line reason.
 */
async function createOnProvider(
  create: (ep: ExecutionProvider) => Promise<Ort.InferenceSession>,
  ep: "webgpu",
  adapter: GpuAdapter,
): Promise<{ readonly session: Ort.InferenceSession } | { readonly reason: string }> {
  try {
    return { session: await create(ep) };
  } catch (error) {
    await (await create("cpu")).release();
    return {
      reason: `onnxruntime's ${providerLabel[ep]} provider failed to start on ${adapter.name}: ${firstLine(error)}`,
    };
  }
}

/** A probe's reason without the driver hint (`auto`'s line stays short; `--verbose` adds it). */
function shortReason(reason: string): string {
  const hint = `: ${driverHint()}`;
  return reason.endsWith(hint) ? reason.slice(0, -hint.length) : reason;
}

/** A probe's reason, with the driver hint when it does not carry it already. */
function withDriverHint(reason: string): string {
  return reason.includes(driverHint()) ? reason : `${reason}; ${driverHint()}`;
}

/** Outputs and latency of {@link runWithFallback}, and the session they came from. */
export interface FallbackRun {
  readonly outputs: Ort.InferenceSession.ReturnType;
  readonly latency: Latency;
  /** The session that produced the outputs (a CPU one after a fall back); the caller releases it. */
  readonly selected: SelectedSession;
  /** Set when `auto`'s provider failed during the run and the CPU ran instead: one line, why. */
  readonly fallback?: string;
}

/**
 * {@link timedRuns} on a selected session. When a GPU provider fails during the run, `auto`
 * falls back to a new CPU session (and says so in `fallback`); an explicit `cuda` or `webgpu`
 * throws {@link RuntimeUnavailableError}. A CPU session's failure is thrown as is.
 */
export async function runWithFallback(
  selected: SelectedSession,
  feeds: Ort.InferenceSession.FeedsType,
  runs: number,
  {
    model,
    choice,
    intraOpThreads = 0,
  }: {
    readonly model: string;
    readonly choice: ExecutionProviderChoice;
    readonly intraOpThreads?: number;
  },
): Promise<FallbackRun> {
  try {
    return { ...(await timedRuns(selected.session, feeds, runs)), selected };
  } catch (error) {
    if (selected.ep === "cpu") throw error;
    const on = selected.adapter ? ` on ${selected.adapter.name}` : "";
    const reason = `onnxruntime's ${providerLabel[selected.ep]} provider failed during the run${on}: ${firstLine(error)}`;
    if (choice !== "auto")
      throw new RuntimeUnavailableError(`--ep ${selected.ep}: ${reason}; --ep cpu runs on the CPU`);
    await selected.session.release();
    const session = await ort().InferenceSession.create(
      model,
      sessionOptions("cpu", intraOpThreads),
    );
    const cpu: SelectedSession = {
      session,
      ep: "cpu",
      ...(selected.adapter ? { adapter: selected.adapter } : {}),
    };
    return {
      ...(await timedRuns(session, feeds, runs)),
      selected: cpu,
      fallback: `running on the CPU instead: ${reason}`,
    };
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error)
    .split("\n")[0]!
    .trim();
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
