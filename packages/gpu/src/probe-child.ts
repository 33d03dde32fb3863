/**
 * The adapter probe's child process (started by `probeAdapter`, never with user input): asks
 * Dawn for its high-performance adapter and prints one JSON line, `{"info": {...}}` or
 * `{"reason": "..."}`. Exits explicitly: Dawn's instance keeps the event loop alive.
 */
import { driverHint } from "./index.js";

function answer(value: object): never {
  process.stdout.write(`${JSON.stringify(value)}\n`);
  process.exit(0);
}

let binding: { create(options: string[]): GPU };
try {
  binding = (await import("webgpu")) as unknown as typeof binding;
} catch (error) {
  answer({
    reason: `Dawn's binding (webgpu package) failed to load: ${String((error as Error)?.message ?? error).split("\n")[0]}`,
  });
}
interface GPU {
  requestAdapter(options?: { powerPreference?: string }): Promise<{
    readonly info: Record<string, unknown>;
  } | null>;
}
const adapter = await binding.create([]).requestAdapter({ powerPreference: "high-performance" });
if (adapter === null) answer({ reason: `no WebGPU adapter: ${driverHint()}` });
const { vendor, architecture, device, description, isFallbackAdapter } = adapter.info;
answer({ info: { vendor, architecture, device, description, isFallbackAdapter } });
