import type { Diagnostic } from "@rsc/compiler";
import { afterEach, describe, expect, it } from "vitest";
import { codeFrame, useColor } from "../src/output.js";

const at = (line: number, column: number): Diagnostic => ({
  severity: "error",
  code: "RSC105",
  message: "unknown key",
  file: "x.yaml",
  line,
  column,
});

describe("codeFrame", () => {
  const source = "rsc: 1\nlayers:\n  - conv2d: { filters: 4, kernal_size: 3 }\n";

  it("shows the line with a caret under the column, and a line either side", () => {
    expect(codeFrame(at(3, 27), source)).toBe(
      [
        "  2 | layers:",
        "> 3 |   - conv2d: { filters: 4, kernal_size: 3 }",
        "    |                           ^",
        "  4 | ",
      ].join("\n"),
    );
  });

  it("clips at the start of the file and gives nothing for a line outside it", () => {
    expect(codeFrame(at(1, 1), source)!.split("\n")[0]).toBe("> 1 | rsc: 1");
    expect(codeFrame(at(99, 1), source)).toBeUndefined();
    expect(codeFrame(at(1, 1), undefined)).toBeUndefined();
  });
});

describe("useColor", () => {
  const saved = { NO_COLOR: process.env["NO_COLOR"], FORCE_COLOR: process.env["FORCE_COLOR"] };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;

  it("colours a TTY only, never with --no-color or NO_COLOR", () => {
    delete process.env["NO_COLOR"];
    delete process.env["FORCE_COLOR"];
    expect(useColor(undefined, tty)).toBe(true);
    expect(useColor(undefined, pipe)).toBe(false);
    expect(useColor(false, tty)).toBe(false);
    process.env["NO_COLOR"] = "1";
    expect(useColor(undefined, tty)).toBe(false);
    process.env["FORCE_COLOR"] = "1";
    expect(useColor(undefined, tty)).toBe(false);
    delete process.env["NO_COLOR"];
    expect(useColor(undefined, pipe)).toBe(true);
  });
});
