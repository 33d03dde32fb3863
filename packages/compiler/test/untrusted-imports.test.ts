/**
 * Imports from an untrusted spec (issue 11, item 1) for what a golden fixture cannot hold: FIFOs,
 * devices, symbolic links out of the project, thousands of files. Every case must come back as
 * located diagnostics at once (no hang, no throw) and must not echo a byte of a refused file.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileFile, compileSource, type Diagnostic } from "../src/index.js";
import { MAX_IMPORTED_FILES } from "../src/load.js";
import { ReadRefusal, readSpecFile } from "../src/read-file.js";

const dir = mkdtempSync(join(tmpdir(), "rsc-untrusted-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODEL_TAIL = "input: { shape: [8, 8, 3] }\nlayers: [relu]\n";
const secret = "TOP-SECRET-LINE: do not print me";

/** A project folder under `dir` with these files; returns its path. */
function project(name: string, files: Record<string, string>): string {
  const root = join(dir, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(root, file, ".."), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

const codes = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.code} ${d.line}:${d.column}`);
const printed = (ds: readonly Diagnostic[]) => JSON.stringify(ds);

describe("imports stay inside the project", () => {
  const outside = project("outside", { "secret.yaml": `${secret}\n` });

  it("refuses `..` out of the project, without reading or naming the outside file", () => {
    const root = project("p1", {
      "spec.yaml": `rsc: 1\nimport: [../outside/secret.yaml]\n${MODEL_TAIL}`,
    });
    const result = compileFile(join(root, "spec.yaml"), { root });
    expect(codes(result.diagnostics)).toEqual(["RSC215 2:10"]);
    expect(printed(result.diagnostics)).not.toContain("TOP-SECRET");
    expect(printed(result.diagnostics)).not.toContain(outside);
  });

  it("refuses a symbolic link that leads out of the project", () => {
    const root = project("p2", {
      "spec.yaml": `rsc: 1\nimport: [lib.yaml, libs/x.yaml]\n${MODEL_TAIL}`,
    });
    symlinkSync(join(outside, "secret.yaml"), join(root, "lib.yaml"));
    symlinkSync(outside, join(root, "libs"));
    const result = compileFile(join(root, "spec.yaml"), { root });
    expect(codes(result.diagnostics)).toEqual(["RSC215 2:10", "RSC215 2:20"]);
    expect(printed(result.diagnostics)).not.toContain("TOP-SECRET");
  });

  it("allows what `root` allows, and defaults to the git work tree of the spec", () => {
    const root = project("p3", {
      ".git": "gitdir: elsewhere\n",
      "blocks/lib.yaml": "rsc: 1\n",
      "models/spec.yaml": `rsc: 1\nimport: [../blocks/lib.yaml]\n${MODEL_TAIL}`,
    });
    expect(compileFile(join(root, "models/spec.yaml")).diagnostics).toEqual([]);
    // Without a git work tree the project is the spec's own folder.
    const loose = project("p4", {
      "blocks/lib.yaml": "rsc: 1\n",
      "models/spec.yaml": `rsc: 1\nimport: [../blocks/lib.yaml]\n${MODEL_TAIL}`,
    });
    expect(codes(compileFile(join(loose, "models/spec.yaml")).diagnostics)).toEqual([
      "RSC215 2:10",
    ]);
    expect(compileFile(join(loose, "models/spec.yaml"), { root: loose }).diagnostics).toEqual([]);
  });

  it("refuses absolute paths (POSIX and Windows) instead of making them relative", () => {
    const text = `rsc: 1\nimport: [/etc/passwd, 'C:\\Windows\\win.ini', '\\\\server\\share\\x.yaml']\n${MODEL_TAIL}`;
    const result = compileSource(text, join(dir, "abs.yaml"), { root: "/" });
    expect(result.diagnostics.map((d) => d.code)).toEqual(["RSC216", "RSC216", "RSC216"]);
  });
});

describe("only regular files are read", () => {
  it("refuses a FIFO without blocking on it", () => {
    const root = project("fifo", { "spec.yaml": `rsc: 1\nimport: [pipe.yaml]\n${MODEL_TAIL}` });
    execFileSync("mkfifo", [join(root, "pipe.yaml")]);
    const result = compileFile(join(root, "spec.yaml"), { root });
    expect(codes(result.diagnostics)).toEqual(["RSC200 2:10"]);
    // The root spec too: the compiler refuses it, the run does not hang.
    expect(codes(compileFile(join(root, "pipe.yaml")).diagnostics)).toEqual(["RSC100 1:1"]);
  });

  it("refuses devices and /dev/stdin before reading a byte", () => {
    const text = `rsc: 1\nimport: [../../dev/zero, ../../dev/stdin, ../../dev/null, ../../tmp]\n${MODEL_TAIL}`;
    const started = performance.now();
    const result = compileSource(text, "/tmp/x/spec.yaml", { root: "/" });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["RSC200", "RSC200", "RSC200", "RSC200"]);
    expect(() => readSpecFile("/dev/zero")).toThrow(ReadRefusal);
    // /dev/stdin is refused as a FIFO or TTY, or cannot even be opened (ENXIO on a socket).
    expect(() => readSpecFile("/dev/stdin")).toThrow();
  });

  it("checks the size limit before reading, for the disk and for other readers", () => {
    const root = project("size", { "spec.yaml": `rsc: 1\n${MODEL_TAIL}` });
    try {
      readSpecFile(join(root, "spec.yaml"), 10);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ReadRefusal);
      expect((e as ReadRefusal).reason).toBe("too-large");
    }
    expect(codes(compileFile(join(root, "spec.yaml"), { maxFileBytes: 10 }).diagnostics)).toEqual([
      "RSC100 1:1",
    ]);
    const readFile = () => new Uint8Array(100);
    const text = `rsc: 1\nimport: [lib.yaml]\n${MODEL_TAIL}`;
    const viaReader = compileSource(text, join(root, "spec.yaml"), { readFile, maxFileBytes: 90 });
    expect(codes(viaReader.diagnostics)).toEqual(["RSC200 2:10"]);
    expect(compileFile(join(root, "spec.yaml")).diagnostics).toEqual([]);
  });
});

describe("import chains are bounded", () => {
  it("reports a chain of 5,000 files at the limit instead of overflowing the stack", () => {
    const files: Record<string, string> = {
      "spec.yaml": `rsc: 1\nimport: [l1.yaml]\n${MODEL_TAIL}`,
    };
    for (let i = 1; i < 5000; i++) files[`l${i}.yaml`] = `rsc: 1\nimport: [l${i + 1}.yaml]\n`;
    files["l5000.yaml"] = "rsc: 1\n";
    const root = project("chain", files);
    const result = compileFile(join(root, "spec.yaml"), { root });
    expect(codes(result.diagnostics)).toEqual(["RSC217 2:10"]);
  });

  it("reports more files than the limit once, at the import past it", () => {
    const n = MAX_IMPORTED_FILES + 10;
    const list = Array.from({ length: n }, (_, i) => `l${i}.yaml`);
    const files: Record<string, string> = {
      "spec.yaml": `rsc: 1\nimport: [${list.join(", ")}]\n${MODEL_TAIL}`,
    };
    for (const f of list) files[f] = "rsc: 1\n";
    const root = project("wide", files);
    const result = compileFile(join(root, "spec.yaml"), { root });
    expect(result.diagnostics.map((d) => d.code)).toEqual(["RSC217"]);
  });
});
