/**
 * Hints that the golden fixtures (codes and positions only) do not show: an unknown op with no
 * close name lists what there is; a misspelt one gets "did you mean".
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileSource, OP_NAMES } from "../src/index.js";

const compile = (layers: string) =>
  compileSource(
    `rsc: 1\nblocks:\n  unit:\n    layers: [relu]\ninput: { shape: [8, 8, 3] }\nlayers:\n${layers}`,
    join(import.meta.dirname, "inline.yaml"),
  );

describe("unknown op hints", () => {
  it("a close name gets 'did you mean'", () => {
    const [d] = compile("  - conv2dd: { filters: 4, kernel_size: 3 }").diagnostics;
    expect(d?.code).toBe("RSC108");
    expect(d?.hint).toContain("'conv2d'");
  });
  it("no close name: the ops, blocks and keywords are listed", () => {
    const [d] = compile("  - transformer_encoder: { heads: 4 }").diagnostics;
    expect(d?.code).toBe("RSC108");
    for (const op of OP_NAMES) expect(d?.hint).toContain(op);
    expect(d?.hint).toContain("blocks: unit");
    expect(d?.hint).toContain("stage");
  });
  it("an unknown stage block lists the blocks", () => {
    const [d] = compile("  - stage: { use: transformer, over: { i: 1..2 } }").diagnostics;
    expect(d?.code).toBe("RSC108");
    expect(d?.hint).toBe("blocks: unit");
  });
});
