import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFile, formatCount, graphFromLayers } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import {
  formatShape,
  formatSummary,
  readableCount,
  readableSize,
  summarize,
} from "../src/summary-table.js";
import { courseraResnet50 } from "./coursera-resnet50.js";

/** input -> conv -> bn -> relu, plus a 1x1 shortcut conv from the input, added, flattened, dense. */
function tinyResidual() {
  return graphFromLayers("tiny", [
    { name: "input_1", op: "input", attrs: { shape: [8, 8, 3] } },
    { name: "conv_a", op: "conv2d", attrs: { filters: 4, kernel_size: 3, padding: "same" } },
    { name: "bn_a", op: "batch_normalization" },
    { name: "relu_a", op: "activation", attrs: { activation: "relu" } },
    { name: "conv_s", op: "conv2d", attrs: { filters: 4, kernel_size: 1 }, inputs: ["input_1"] },
    { name: "add", op: "add", inputs: ["relu_a", "conv_s"] },
    { name: "flatten", op: "flatten" },
    { name: "fc2", op: "dense", attrs: { units: 2, activation: "softmax" } },
  ]);
}

describe("summarize", () => {
  it("counts parameters per layer and in total as Keras does", () => {
    const s = summarize(tinyResidual());
    const params = Object.fromEntries(s.layers.map((l) => [l.name, l.params]));
    // conv 3x3x3x4 + 4, BN 4 x (gamma, beta, mean, variance), 1x1 conv 3x4 + 4, dense 256x2 + 2.
    expect(params).toEqual({
      input_1: 0,
      conv_a: 112,
      bn_a: 16,
      relu_a: 0,
      conv_s: 16,
      add: 0,
      flatten: 0,
      fc2: 514,
    });
    expect(s.totals).toEqual({
      total: 658,
      trainable: 650,
      nonTrainable: 8,
      totalBytes: 2632,
      trainableBytes: 2600,
      nonTrainableBytes: 32,
      macs: 8192,
      // The input's 8x8x3, six 8x8x4 outputs, and fc2's 2.
      activations: 192 + 6 * 256 + 2,
      activationBytes: 4 * 1730,
    });
  });

  it("counts each layer's multiply-accumulates: convolutions and dense layers only", () => {
    const s = summarize(tinyResidual());
    const macs = Object.fromEntries(s.layers.map((l) => [l.name, l.macs]));
    // conv_a: 8x8x4 outputs x 3 channels x 3x3; conv_s: 8x8x4 x 3; fc2: 256 x 2.
    expect(macs).toEqual({
      input_1: 0,
      conv_a: 6912,
      bn_a: 0,
      relu_a: 0,
      conv_s: 768,
      add: 0,
      flatten: 0,
      fc2: 512,
    });
  });

  it("gives Keras types, batch-first shapes and functional connections", () => {
    const s = summarize(tinyResidual());
    const add = s.layers.find((l) => l.name === "add")!;
    expect(add).toMatchObject({
      type: "Add",
      op: "add",
      outputShape: [null, 8, 8, 4],
      connectedTo: ["relu_a[0][0]", "conv_s[0][0]"],
    });
    expect(s.layers[0]).toMatchObject({ type: "InputLayer", connectedTo: [] });
    expect(s.layers.at(-1)!.outputShape).toEqual([null, 2]);
  });

  it("matches Keras's totals for the Coursera ResNet-50 built from the op registry", () => {
    const s = summarize(courseraResnet50());
    expect(s.layers).toHaveLength(177);
    expect(s.totals.total).toBe(23_600_006);
    expect(s.totals.trainable).toBe(23_546_886);
    expect(s.totals.nonTrainable).toBe(53_120);
    expect(s.layers.find((l) => l.name === "conv1")!.outputShape).toEqual([null, 32, 32, 64]);
    expect(s.layers.find((l) => l.name === "avg_pool")!.outputShape).toEqual([null, 1, 1, 2048]);
  });
});

describe("specs/resnet50.yaml", () => {
  const spec = join(
    dirname(fileURLToPath(import.meta.url)),
    "..",
    "..",
    "..",
    "specs",
    "resnet50.yaml",
  );

  it("has Keras's totals: 23,600,006 / 23,546,886 / 53,120", () => {
    const { graph, diagnostics } = compileFile(spec);
    expect(diagnostics).toEqual([]);
    const s = summarize(graph!);
    expect([s.totals.total, s.totals.trainable, s.totals.nonTrainable]).toEqual([
      23_600_006, 23_546_886, 53_120,
    ]);
  });

  it("is, layer for layer, the Coursera model built by hand from the op registry", () => {
    const fromSpec = summarize(compileFile(spec).graph!);
    const byHand = summarize(courseraResnet50());
    expect(fromSpec.layers).toEqual(byHand.layers);
  });
});

describe("formatting", () => {
  it("separates thousands", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(1000)).toBe("1,000");
    expect(formatCount(23_600_006)).toBe("23,600,006");
    expect(formatCount(1_000_000_000)).toBe("1,000,000,000");
  });

  it("sizes bytes as Keras's readable_memory_size (1024 steps, two decimals)", () => {
    expect(readableSize(0)).toBe("0.00 Byte");
    expect(readableSize(1023)).toBe("1023.00 Byte");
    expect(readableSize(1024)).toBe("1.00 KB");
    expect(readableSize(53_120 * 4)).toBe("207.50 KB");
    expect(readableSize(23_600_006 * 4)).toBe("90.03 MB");
    expect(readableSize(23_546_886 * 4)).toBe("89.82 MB");
    expect(readableSize(3 * 1024 ** 3)).toBe("3.00 GB");
  });

  it("quotes MACs in decimal units, as torchvision's GFLOPS", () => {
    expect(readableCount(999)).toBeUndefined();
    expect(readableCount(1000)).toBe("1.00 K");
    expect(readableCount(300_774_272)).toBe("300.77 M");
    expect(readableCount(4_089_184_256)).toBe("4.09 G");
    expect(readableCount(15_470_264_320)).toBe("15.47 G");
    expect(readableCount(2.5e12)).toBe("2.50 T");
  });

  it("prints shapes as Python tuples with None", () => {
    expect(formatShape([null, 32, 32, 64])).toBe("(None, 32, 32, 64)");
    expect(formatShape([null, 6])).toBe("(None, 6)");
  });

  it("prints the table in Keras's layout", () => {
    const text = formatSummary(summarize(tinyResidual()));
    const lines = text.split("\n");
    expect(lines[0]).toBe('Model: "tiny"');
    expect(lines[1]).toMatch(/^_+$/);
    expect(lines[2]).toMatch(/^Layer \(type\) +Output Shape +Param # +MACs +Connected to$/);
    expect(lines[3]).toMatch(/^=+$/);
    expect(lines[1]!.length).toBe(lines[3]!.length);
    // Columns line up: every row's shape starts where the header's does.
    const shapeColumn = lines[2]!.indexOf("Output Shape");
    const conv = lines.find((l) => l.startsWith("conv_a (Conv2D)"))!;
    expect(conv.indexOf("(None, 8, 8, 4)")).toBe(shapeColumn);
    expect(conv).toMatch(/ 112 {2}6,912 {2}input_1\[0\]\[0\]$/);
    // Param # and MACs are right-aligned under their headers.
    expect(conv.indexOf(" 112 ") + 4).toBe(lines[2]!.indexOf("Param #") + "Param #".length);
    expect(conv.indexOf("6,912") + 5).toBe(lines[2]!.indexOf("MACs") + "MACs".length);
    // A second input goes on its own line under the first, in the Connected to column.
    const addAt = lines.findIndex((l) => l.startsWith("add (Add)"));
    expect(lines[addAt]).toMatch(/relu_a\[0\]\[0\]$/);
    expect(lines[addAt + 1]!.trim()).toBe("conv_s[0][0]");
    expect(lines[addAt + 1]!.indexOf("conv_s")).toBe(lines[2]!.indexOf("Connected to"));
    expect(text).toContain("Total params: 658 (2.57 KB)\n");
    expect(text).toContain("Trainable params: 650 (2.54 KB)\n");
    expect(text).toContain("Non-trainable params: 8 (32.00 Byte)\n");
    expect(text).toContain("Total MACs: 8,192 (8.19 K)\n");
    expect(text).toContain("Activation memory: 1,730 values (6.76 KB)\n");
    expect(lines.every((l) => l === l.trimEnd())).toBe(true);
    expect(text.endsWith("_\n")).toBe(true);
  });
});
