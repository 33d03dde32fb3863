/**
 * The ONNX backend lowers every op of the compiler's registry: a runtime check over OP_NAMES, in
 * addition to the LoweringTable type, so an op added to the registry fails here until it has a
 * lowering (and a table entry for an op the registry does not know fails too).
 */
import { OP_NAMES } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import { ONNX_BACKEND, ONNX_LOWERINGS } from "../src/index.js";

describe("ONNX lowerings", () => {
  it.each(OP_NAMES)("%s has a lowering", (op) => {
    expect(typeof (ONNX_LOWERINGS as Record<string, unknown>)[op]).toBe("function");
  });

  it("lowers only ops of the registry, and the backend uses this table", () => {
    expect(Object.keys(ONNX_LOWERINGS).sort()).toEqual([...OP_NAMES].sort());
    expect(ONNX_BACKEND.ops).toBe(ONNX_LOWERINGS);
  });
});
