import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { PROGRESS_MIN_BYTES, writeProgress } from "../src/write-progress.js";

/** A stream that says it is a terminal and keeps what is written to it. */
function fakeTerminal(isTTY = true): NodeJS.WriteStream & { text(): string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text(): string };
  const written: string[] = [];
  stream.on("data", (chunk: Buffer) => written.push(chunk.toString()));
  Object.assign(stream, { isTTY, columns: 100, text: () => written.join("") });
  return stream;
}

const human = { json: false, color: false };
const big = PROGRESS_MIN_BYTES * 2;

describe("write progress", () => {
  it("shows nothing for --json, a non-terminal, or a small file", async () => {
    expect(await writeProgress("m.onnx", big, { ...human, json: true }, fakeTerminal())).toBe(
      undefined,
    );
    expect(await writeProgress("m.onnx", big, human, fakeTerminal(false))).toBeUndefined();
    const small = await writeProgress("m.onnx", PROGRESS_MIN_BYTES - 1, human, fakeTerminal());
    expect(small).toBeUndefined();
  });

  it("passes every chunk through in order and draws the bar up to 100%", async () => {
    const terminal = fakeTerminal();
    const progress = await writeProgress("m.onnx.data", big, human, terminal);
    expect(progress).toBeDefined();
    const received: number[] = [];
    const sink = progress!.track((chunk) => received.push(chunk[0]!));
    const chunk = new Uint8Array(big / 4);
    for (let i = 0; i < 4; i++) {
      chunk[0] = i;
      sink(chunk);
      await new Promise((resolve) => setTimeout(resolve, 250)); // past the bar's redraw throttle
    }
    progress!.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(received).toEqual([0, 1, 2, 3]);
    const text = terminal.text();
    expect(text).toContain("writing m.onnx.data [");
    expect(text).toMatch(/ 50% 256\/512 MB/);
    expect(text).toMatch(/ 100% 512\/512 MB/);
  });
});
