/** Code frames are read only from text files: a data or weights file's bytes never reach the terminal. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { frameSource } from "../src/output.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-frame-source-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("frameSource", () => {
  it("reads a spec's text", () => {
    writeFileSync(join(tmp, "spec.yaml"), "rsc: 1\nname: x\n");
    expect(frameSource(join(tmp, "spec.yaml"))).toBe("rsc: 1\nname: x\n");
  });

  it("refuses binary files: an HDF5 signature, invalid UTF-8, a missing file", () => {
    writeFileSync(
      join(tmp, "data.h5"),
      Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, 0]),
    );
    expect(frameSource(join(tmp, "data.h5"))).toBeUndefined();
    writeFileSync(join(tmp, "latin1.yaml"), Buffer.from([0x61, 0xe9, 0x0a]));
    expect(frameSource(join(tmp, "latin1.yaml"))).toBeUndefined();
    expect(frameSource(join(tmp, "missing.yaml"))).toBeUndefined();
  });
});
