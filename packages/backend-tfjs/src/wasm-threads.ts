/**
 * The threaded wasm binary (XNNPACK on a thread pool) under Node. tfjs-backend-wasm 4.22 turns
 * threads off under Node, and would fail if they were on: its Emscripten glue hands Node's
 * worker_threads `blob:` URLs (the worker script, and the module script each worker imports),
 * which Node's Worker cannot load, and the module script refers to the node bundle's own
 * top-level variables (`require$$N`, helpers), which a worker does not have. The loader here writes both scripts to
 * a private temporary folder while the backend initialises (Blobs are recorded as they are made,
 * `URL.createObjectURL` answers with the file's path), gives the module script the variables it
 * needs, and lets the worker resolve its module Blob to that file. The globals are restored and
 * the folder removed once the pool has started. The binary also sizes its pool from `os.cpus()`
 * (half of them, at most 8): it is shown twice the threads asked for while it starts.
 *
 * The pool's workers are then unref'd: they only ever run while the main thread waits for them
 * (XNNPACK's parallel loops are synchronous), so they must not keep a finished process alive.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Node's os module object itself (the one the wasm bundle's `require("os")` returns). */
const nodeOs = createRequire(import.meta.url)("node:os") as typeof import("node:os");

/** Emscripten preallocates this many workers; a larger pool would allocate more after start-up. */
export const MAX_WASM_THREADS = 8;

/**
 * What the threaded factory's source refers to from the node bundle's top level: its requires,
 * its global object, and three TypeScript down-level helpers (tslib's, written out here).
 */
const BUNDLE_PRELUDE = `var require$$0 = require("fs"), require$$1 = require("path"), require$$3 = require("perf_hooks"), require$$4 = require("os");
var commonjsGlobal = globalThis;
var __values = function (o) { var s = typeof Symbol === "function" && Symbol.iterator, m = s && o[s], i = 0; if (m) return m.call(o); if (o && typeof o.length === "number") return { next: function () { if (o && i >= o.length) o = void 0; return { value: o && o[i++], done: !o }; } }; throw new TypeError(s ? "Object is not iterable." : "Symbol.iterator is not defined."); };
var __read = function (o, n) { var m = typeof Symbol === "function" && o[Symbol.iterator]; if (!m) return o; var i = m.call(o), r, ar = [], e; try { while ((n === void 0 || n-- > 0) && !(r = i.next()).done) ar.push(r.value); } catch (error) { e = { error: error }; } finally { try { if (r && !r.done && (m = i["return"])) m.call(i); } finally { if (e) throw e.error; } } return ar; };
var __spreadArray = function (to, from, pack) { if (pack || arguments.length === 2) for (var i = 0, l = from.length, ar; i < l; i++) { if (ar || !(i in from)) { if (!ar) ar = Array.prototype.slice.call(from, 0, i); ar[i] = from[i]; } } return to.concat(ar || Array.prototype.slice.call(from)); };
`;

/**
 * Runs `init` (tfjs's `setBackend("wasm")` with the threaded binary allowed) with the worker
 * loader in place. Returns what `init` returns; the loader is removed either way.
 */
export async function withWorkerLoader<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "rsc-wasm-threads-"));
  const OriginalBlob = globalThis.Blob;
  const originalCreate = URL.createObjectURL;
  const texts = new WeakMap<object, string>();
  const modulePath = join(dir, "tfjs-backend-wasm-threaded-simd.cjs");
  const workerPath = join(dir, "tfjs-backend-wasm-threaded-simd.worker.cjs");
  let workerWritten = false;
  class RecordingBlob extends OriginalBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0];
      if (parts === undefined || !parts.every((p) => typeof p === "string")) return;
      const text = parts.join("");
      // The module script is posted to each worker as this Blob: written out now, for them.
      if (text.startsWith("var WasmBackendModuleThreadedSimd"))
        writeFileSync(modulePath, BUNDLE_PRELUDE + text);
      else texts.set(this, text);
    }
  }
  globalThis.Blob = RecordingBlob as typeof Blob;
  // The binary caps its pool at half the logical cores it is told of (its guess at hyperthreads),
  // read once as it starts: it is told of 2 * threads, so the pool gets the threads asked for.
  const realCpus = nodeOs.cpus;
  nodeOs.cpus = () => {
    const cpus = realCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % Math.max(1, cpus.length)]!);
  };
  URL.createObjectURL = (obj: Blob) => {
    const text = texts.get(obj);
    if (text === undefined) return originalCreate(obj);
    // The worker script, asked for once per worker: written once (rewriting it while an earlier
    // worker is still reading it would start that worker on a truncated script, silently).
    // Its module Blob (posted to it) resolves to the module file.
    if (!workerWritten) {
      writeFileSync(
        workerPath,
        `URL.createObjectURL = () => ${JSON.stringify(modulePath)}; URL.revokeObjectURL = () => {};\n${text}`,
      );
      workerWritten = true;
    }
    return workerPath;
  };
  try {
    return await init();
  } finally {
    globalThis.Blob = OriginalBlob;
    nodeOs.cpus = realCpus;
    URL.createObjectURL = originalCreate;
    rmSync(dir, { recursive: true, force: true });
  }
}

interface EmscriptenWorker {
  unref(): void;
}

/** Lets the process exit with the pool's workers still parked (see the module comment). */
export function unrefWorkers(wasmModule: unknown): void {
  const pthread = (
    wasmModule as {
      PThread?: { unusedWorkers?: EmscriptenWorker[]; runningWorkers?: EmscriptenWorker[] };
    }
  ).PThread;
  for (const worker of [...(pthread?.unusedWorkers ?? []), ...(pthread?.runningWorkers ?? [])])
    worker.unref();
}
