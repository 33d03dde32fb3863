/**
 * Multiply-accumulates and activation memory (cost.ts, each op's `macs`): small cases computed
 * by hand for every op that multiplies weights, and whole models against PyTorch's own count
 * (fixtures/_macs_/expected.json, written by torchvision_macs.py with forward hooks on
 * torchvision's models), layer by layer: a ResNet-50 in torchvision's layout
 * (fixtures/_macs_/torchvision-resnet50.yaml) and the specs whose layout is torchvision's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  compileFile,
  formatDiagnostic,
  type Graph,
  graphCost,
  graphFromLayers,
  graphParamCounts,
  type LayerDescription,
  layerMacs,
  nodeParamCounts,
  OP_NAMES,
} from "../src/index.js";

/** The MACs of the last layer of `layers` (an input of `shape` first). */
function lastMacs(shape: number[], ...layers: LayerDescription[]): number {
  const graph = graphFromLayers("case", [
    { name: "x", op: "input", attrs: { shape } },
    ...layers.map((l, i) => ({ name: `l${i}`, ...l })),
  ]);
  return layerMacs(graph).get(graph.nodes.at(-1)!.name)!;
}

describe("MACs of one layer, computed by hand", () => {
  it("conv2d: output elements x in / groups x kh x kw (bias not counted)", () => {
    // 8x8x4 -> 8x8x6 (same): 384 outputs, each 4 channels x 9 taps.
    const conv = { filters: 6, kernel_size: 3, padding: "same" };
    expect(lastMacs([8, 8, 4], { op: "conv2d", attrs: conv })).toBe(384 * 4 * 9);
    expect(lastMacs([8, 8, 4], { op: "conv2d", attrs: { ...conv, use_bias: false } })).toBe(13_824);
    // groups 2: each output reads 2 of the 4 channels.
    expect(lastMacs([8, 8, 4], { op: "conv2d", attrs: { ...conv, groups: 2 } })).toBe(6_912);
    // groups = channels = filters is a depthwise conv: 9 taps per output.
    expect(lastMacs([8, 8, 4], { op: "conv2d", attrs: { ...conv, filters: 4, groups: 4 } })).toBe(
      256 * 9,
    );
  });

  it("conv2d: strides shrink the output; dilation and padding do not change the taps", () => {
    // 9x9x3, 3x3 stride 2 valid -> 4x4x5: 80 outputs x 3 x 9.
    expect(
      lastMacs([9, 9, 3], { op: "conv2d", attrs: { filters: 5, kernel_size: 3, strides: 2 } }),
    ).toBe(2_160);
    // 10x10x3, 3x3 dilated 2 (a 5x5 window) valid -> 6x6x5: 180 outputs x 3 x 9.
    expect(
      lastMacs([10, 10, 3], {
        op: "conv2d",
        attrs: { filters: 5, kernel_size: 3, dilation_rate: 2 },
      }),
    ).toBe(4_860);
    // 1x3 kernel: 8x6x2 -> 8x4x3 = 96 outputs x 2 x 3.
    expect(lastMacs([8, 6, 2], { op: "conv2d", attrs: { filters: 3, kernel_size: [1, 3] } })).toBe(
      576,
    );
  });

  it("a zero_padding2d folded or not gives the same count (it only widens the output)", () => {
    // pad 1 then 3x3 valid on 6x6x2 -> 6x6x4: 144 outputs x 2 x 9.
    expect(
      lastMacs(
        [6, 6, 2],
        { op: "zero_padding2d", attrs: { padding: 1 } },
        { op: "conv2d", attrs: { filters: 4, kernel_size: 3 } },
      ),
    ).toBe(2_592);
  });

  it("depthwise_conv2d: output elements x kh x kw", () => {
    // 8x8x4, multiplier 2, stride 2 same -> 4x4x8: 128 outputs x 9.
    expect(
      lastMacs([8, 8, 4], {
        op: "depthwise_conv2d",
        attrs: { kernel_size: 3, strides: 2, padding: "same", depth_multiplier: 2 },
      }),
    ).toBe(1_152);
    // Dilated 2, 5x5 kernel (a 9x9 window) on 12x12x3 valid -> 4x4x3: 48 outputs x 25.
    expect(
      lastMacs([12, 12, 3], {
        op: "depthwise_conv2d",
        attrs: { kernel_size: 5, dilation_rate: 2 },
      }),
    ).toBe(1_200);
  });

  it("separable_conv2d: the depthwise part plus the 1x1 part", () => {
    // 8x8x4 same, multiplier 1, 5 filters: depthwise 8x8x4 x 9 = 2,304, pointwise 8x8x5 x 4 = 1,280.
    expect(
      lastMacs([8, 8, 4], {
        op: "separable_conv2d",
        attrs: { filters: 5, kernel_size: 3, padding: "same" },
      }),
    ).toBe(3_584);
    // Multiplier 3, stride 2 valid on 9x9x2 -> 4x4: depthwise 4x4x6 x 9 = 864, pointwise 4x4x7 x 6 = 672.
    expect(
      lastMacs([9, 9, 2], {
        op: "separable_conv2d",
        attrs: { filters: 7, kernel_size: 3, strides: 2, depth_multiplier: 3 },
      }),
    ).toBe(1_536);
  });

  it("conv2d_transpose: input elements x filters x kh x kw (fvcore's count)", () => {
    // 4x4x3 -> 8x8x2 (3x3, stride 2, same): each of 48 inputs meets 2 x 9 weights.
    expect(
      lastMacs([4, 4, 3], {
        op: "conv2d_transpose",
        attrs: { filters: 2, kernel_size: 3, strides: 2, padding: "same" },
      }),
    ).toBe(864);
    // valid, output_padding 1: 5x5x1 -> 12x12x4 ((5 - 1) x 2 + 3 + 1): 25 inputs x 4 filters x 9
    // taps, whatever the output's size.
    expect(
      lastMacs([5, 5, 1], {
        op: "conv2d_transpose",
        attrs: { filters: 4, kernel_size: 3, strides: 2, output_padding: 1 },
      }),
    ).toBe(900);
  });

  it("dense: in x units", () => {
    expect(lastMacs([10], { op: "dense", attrs: { units: 7 } })).toBe(70);
    expect(lastMacs([10], { op: "dense", attrs: { units: 7, use_bias: false } })).toBe(70);
  });

  it("every other op counts 0: normalization, activations, pooling, element-wise, shapes", () => {
    const graph = graphFromLayers("zeros", [
      { name: "x", op: "input", attrs: { shape: [8, 8, 4] } },
      { name: "scale", op: "rescaling", attrs: { scale: 0.5 } },
      { name: "norm", op: "normalization" },
      { name: "pad", op: "zero_padding2d", attrs: { padding: 1 } },
      { name: "crop", op: "cropping2d", attrs: { cropping: 1 } },
      { name: "bn", op: "batch_normalization" },
      { name: "ln", op: "layer_normalization" },
      { name: "act", op: "activation", attrs: { activation: "relu" } },
      { name: "relu6", op: "re_lu", attrs: { max_value: 6 } },
      { name: "leaky", op: "leaky_relu" },
      { name: "elu", op: "elu" },
      { name: "max", op: "max_pooling2d" },
      { name: "avg", op: "average_pooling2d" },
      { name: "up", op: "up_sampling2d" },
      { name: "drop", op: "dropout", attrs: { rate: 0.5 } },
      { name: "add", op: "add", inputs: ["up", "drop"] },
      { name: "sub", op: "subtract", inputs: ["add", "up"] },
      { name: "mul", op: "multiply", inputs: ["sub", "up"] },
      { name: "mean", op: "average", inputs: ["mul", "up"] },
      { name: "maximum", op: "maximum", inputs: ["mean", "up"] },
      { name: "cat", op: "concatenate", inputs: ["maximum", "up"] },
      { name: "perm", op: "permute", attrs: { dims: [2, 1, 3] } },
      { name: "reshape", op: "reshape", attrs: { target_shape: [8, 8, 2] } },
      { name: "gap", op: "global_average_pooling2d", inputs: ["reshape"] },
      { name: "gmp", op: "global_max_pooling2d", inputs: ["reshape"] },
      { name: "flat", op: "flatten", inputs: ["reshape"] },
    ]);
    const zeroOps = new Set(graph.nodes.map((n) => n.op));
    // Every op of the registry is here except the five that multiply weights.
    expect(OP_NAMES.filter((op) => !zeroOps.has(op)).sort()).toEqual([
      "conv2d",
      "conv2d_transpose",
      "dense",
      "depthwise_conv2d",
      "separable_conv2d",
    ]);
    expect([...layerMacs(graph).values()].every((m) => m === 0)).toBe(true);
    expect(graphCost(graph).macs).toBe(0);
  });
});

describe("activation memory: every layer's output, the input included, float32", () => {
  it("sums the output sizes of a small graph", () => {
    const graph = graphFromLayers("small", [
      { name: "x", op: "input", attrs: { shape: [8, 8, 3] } }, // 192
      { name: "conv", op: "conv2d", attrs: { filters: 4, kernel_size: 3, padding: "same" } }, // 256
      { name: "relu", op: "activation", attrs: { activation: "relu" } }, // 256
      { name: "flat", op: "flatten" }, // 256
      { name: "fc", op: "dense", attrs: { units: 10 } }, // 10
    ]);
    expect(graphCost(graph)).toEqual({
      // conv 256 outputs x 3 x 9, dense 256 x 10.
      macs: 6_912 + 2_560,
      activations: 970,
      activationBytes: 3_880,
    });
  });
});

/** One layer as PyTorch's hooks recorded it. */
interface TorchLayer {
  readonly name: string;
  readonly op: string;
  readonly macs: number;
  readonly outputShape: readonly number[];
}

/** Written by fixtures/_macs_/torchvision_macs.py (torch 1.13, torchvision 0.14). */
const torch: {
  readonly models: Record<
    string,
    {
      readonly macs: number;
      readonly params: number;
      readonly batchNormStatistics: number;
      readonly layers: readonly TorchLayer[];
    }
  >;
} = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/_macs_/expected.json"), "utf8"));

function compile(file: string): Graph {
  const result = compileFile(file);
  if (result.graph === undefined)
    throw new Error(result.diagnostics.map(formatDiagnostic).join("\n"));
  return result.graph;
}

/** The layers that multiply weights, in graph order, in the fixture's terms. */
function weightLayers(graph: Graph): Omit<TorchLayer, "name">[] {
  const macs = layerMacs(graph);
  return graph.nodes
    .filter((n) => macs.get(n.name)! > 0)
    .map((n) => ({
      // torch's Conv2d is rsc's conv2d and depthwise_conv2d (groups = channels).
      op: n.op === "depthwise_conv2d" ? "conv2d" : n.op,
      macs: macs.get(n.name)!,
      outputShape: n.outputShape,
    }));
}

const specs = join(import.meta.dirname, "..", "..", "..", "specs");
const CASES: Record<string, string> = {
  resnet50: join(import.meta.dirname, "fixtures/_macs_/torchvision-resnet50.yaml"),
  resnet18: join(specs, "resnet18.yaml"),
  mobilenet_v2: join(specs, "mobilenet_v2.yaml"),
  vgg16: join(specs, "vgg16.yaml"),
  densenet121: join(specs, "densenet121.yaml"),
  efficientnet_b0: join(specs, "efficientnet_b0.yaml"),
};

describe("whole models against PyTorch's forward hooks on torchvision's models", () => {
  it("covers every model of the fixture", () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(torch.models).sort());
  });

  it("ResNet-50 in torchvision's layout: 4,089,184,256 MACs and 25,557,032 parameters", () => {
    const graph = compile(CASES["resnet50"]!);
    expect(torch.models["resnet50"]!.macs).toBe(4_089_184_256);
    expect(graphCost(graph).macs).toBe(4_089_184_256);
    // torchvision's parameters are rsc's trainable ones; BatchNorm's running statistics are
    // rsc's non-trainable moving_mean and moving_variance.
    expect(graphParamCounts(graph)).toEqual({
      total: 25_557_032 + 53_120,
      trainable: 25_557_032,
      nonTrainable: 53_120,
    });
  });

  for (const [model, file] of Object.entries(CASES)) {
    it(`${model}: the same MACs, layer by layer, and the same parameters`, () => {
      const expected = torch.models[model]!;
      const graph = compile(file);
      expect(weightLayers(graph)).toEqual(
        expected.layers.map(({ op, macs, outputShape }) => ({ op, macs, outputShape })),
      );
      expect(graphCost(graph).macs).toBe(expected.macs);
      const counts = graphParamCounts(graph);
      expect(counts.trainable).toBe(expected.params);
      // Non-trainable: BatchNorm's statistics, plus a `normalization` layer's mean, variance, count.
      const statistics = graph.nodes
        .filter((n) => n.op === "batch_normalization")
        .reduce((s, n) => s + nodeParamCounts(n).nonTrainable, 0);
      expect(statistics).toBe(expected.batchNormStatistics);
    });
  }
});
