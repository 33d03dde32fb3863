/**
 * Atomic writers: a finished write replaces the file whole; a failed one leaves neither the target
 * nor a temporary behind.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "../src/errors.js";
import { writeFileAtomicChunks } from "../src/fs-atomic.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rsc-fs-atomic-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("writeFileAtomicChunks", () => {
  it("writes every chunk in order, even when the producer reuses its buffer", () => {
    const path = join(dir, "sub", "model.bin");
    const buffer = new Uint8Array(3);
    writeFileAtomicChunks(path, (write) => {
      for (let i = 0; i < 4; i++) {
        buffer.fill(i);
        write(buffer);
      }
    });
    expect([...readFileSync(path)]).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(readdirSync(join(dir, "sub"))).toEqual(["model.bin"]);
  });

  it("leaves the old file and no temporary when the producer fails", () => {
    const path = join(dir, "model.bin");
    writeFileSync(path, "old");
    expect(() =>
      writeFileAtomicChunks(path, (write) => {
        write(new Uint8Array([1, 2, 3]));
        throw new CliError("weights do not fit");
      }),
    ).toThrow("weights do not fit");
    expect(readFileSync(path, "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["model.bin"]);
  });

  it("reports an I/O failure as a CliError naming the path", () => {
    writeFileSync(join(dir, "file"), "");
    const path = join(dir, "file", "model.bin");
    expect(() => writeFileAtomicChunks(path, (write) => write(new Uint8Array(1)))).toThrow(
      /cannot write .*file\/model\.bin: (ENOTDIR|EEXIST)/,
    );
  });
});
