/**
 * Atomic writers: a finished write replaces the file whole; a failed one leaves neither the target
 * nor a temporary behind; an output never replaces what it must not (a folder, a device, a FIFO,
 * an input, a folder of someone else's files).
 */
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesFile } from "@rsc/compiler";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockPath } from "../src/commit-lock.js";
import { CliError } from "../src/errors.js";
import { writeDirAtomic, writeFileAtomic, writeFilesAtomic } from "../src/fs-atomic.js";
import { checkOutputFile } from "../src/output-checks.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rsc-fs-atomic-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("writeFilesAtomic", () => {
  it("writes every chunk in order, even when the producer reuses its buffer", async () => {
    const path = join(dir, "sub", "model.bin");
    const buffer = new Uint8Array(3);
    await writeFilesAtomic([
      {
        path,
        produce: (write) => {
          for (let i = 0; i < 4; i++) {
            buffer.fill(i);
            write(buffer);
          }
        },
      },
    ]);
    expect([...readFileSync(path)]).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(readdirSync(join(dir, "sub"))).toEqual(["model.bin"]);
  });

  it("leaves the old files and no temporary when a producer fails", async () => {
    const data = join(dir, "model.onnx.data");
    const path = join(dir, "model.onnx");
    writeFileSync(data, "old data");
    writeFileSync(path, "old");
    await expect(
      writeFilesAtomic([
        { path: data, produce: (write) => write(Buffer.from("new data")) },
        {
          path,
          produce: (write) => {
            write(new Uint8Array([1, 2, 3]));
            throw new CliError("weights do not fit");
          },
        },
      ]),
    ).rejects.toThrow("weights do not fit");
    expect(readFileSync(path, "utf8")).toBe("old");
    expect(readFileSync(data, "utf8")).toBe("old data");
    expect(readdirSync(dir).sort()).toEqual(["model.onnx", "model.onnx.data"]);
  });

  it("reports an I/O failure as a CliError naming the path", async () => {
    writeFileSync(join(dir, "file"), "");
    const path = join(dir, "file", "model.bin");
    await expect(writeFileAtomic(path, "x")).rejects.toThrow(
      /cannot write .*file\/model\.bin: a parent is not a folder/,
    );
  });

  it("waits for the lock of another commit, and breaks a lock left by a dead process", async () => {
    const path = join(dir, "model.onnx");
    const lock = lockPath(path);
    mkdirSync(lock);
    // A pid that is not running: the lock is stale and broken.
    writeFileSync(
      join(lock, "owner"),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import("node:os")).hostname() }),
    );
    await writeFileAtomic(path, "new");
    expect(readFileSync(path, "utf8")).toBe("new");
    expect(readdirSync(dir)).toEqual(["model.onnx"]);

    // A live owner (this test): the writer waits until the lock goes.
    mkdirSync(lock);
    writeFileSync(join(lock, "owner"), JSON.stringify({ pid: process.pid, host: "here" }));
    const writing = writeFileAtomic(path, "newer");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(readFileSync(path, "utf8")).toBe("new");
    rmSync(lock, { recursive: true });
    await writing;
    expect(readFileSync(path, "utf8")).toBe("newer");
  });
});

describe("what an output may replace", () => {
  it("refuses a folder, a FIFO, a device and a symlink to one, and an input", () => {
    mkdirSync(join(dir, "folder"));
    execFileSync("mkfifo", [join(dir, "fifo")]);
    symlinkSync("/dev/null", join(dir, "null"));
    writeFileSync(join(dir, "spec.yaml"), "rsc: 1\n");
    symlinkSync(join(dir, "spec.yaml"), join(dir, "spec-link.yaml"));
    const refused = (path: string, inputs: string[] = []) => {
      try {
        checkOutputFile(path, inputs);
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        expect((error as CliError).exitCode).toBe(2);
        return (error as CliError).message;
      }
      return undefined;
    };
    expect(refused(join(dir, "folder"))).toMatch(/it is a folder, not a regular file/);
    expect(refused(join(dir, "fifo"))).toMatch(/it is a FIFO, not a regular file/);
    expect(refused("/dev/null")).toMatch(/it is a device, not a regular file/);
    expect(refused(join(dir, "null"))).toMatch(/it is a symlink to a device/);
    const spec = join(dir, "spec.yaml");
    expect(refused(spec, [spec])).toMatch(/it is an input of this command/);
    expect(refused(join(dir, "spec-link.yaml"), [spec])).toMatch(/it is an input of this command/);
    expect(refused(join(dir, "new.onnx"), [spec])).toBeUndefined();
  });

  it("replaces a previous rsc folder whole, and refuses a folder of other files", async () => {
    const out = join(dir, "model");
    const manifest = (paths: string[]) =>
      JSON.stringify({ convertedBy: "rsc 0.1.0", weightsManifest: [{ paths, weights: [] }] });
    await writeDirAtomic(out, [
      bytesFile("model.json", Buffer.from(manifest(["a.bin", "b.bin"]))),
      bytesFile("a.bin", Buffer.from("a")),
      bytesFile("b.bin", Buffer.from("b")),
    ]);
    await writeDirAtomic(out, [
      bytesFile("model.json", Buffer.from(manifest(["a.bin"]))),
      bytesFile("a.bin", Buffer.from("A")),
    ]);
    // The stale shard of the older output is gone with it.
    expect(readdirSync(out).sort()).toEqual(["a.bin", "model.json"]);

    writeFileSync(join(out, "notes.txt"), "mine");
    await expect(
      writeDirAtomic(out, [bytesFile("model.json", Buffer.from(manifest([])))]),
    ).rejects.toThrow(/it is not empty and not an rsc output \(it holds notes\.txt\)/);
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("mine");

    const theirs = join(dir, "theirs");
    mkdirSync(theirs);
    writeFileSync(join(theirs, "model.json"), "{}");
    await expect(writeDirAtomic(theirs, [])).rejects.toThrow(/not an rsc output/);
    expect(readdirSync(dir).sort()).toEqual(["model", "theirs"]);
  });
});
