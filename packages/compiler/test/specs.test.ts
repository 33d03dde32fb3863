/** The shipped specs: structure, names, parameter totals (against Keras / torchvision), round trip. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  compileFile,
  compileSource,
  expandToSpec,
  type Graph,
  graphParamCounts,
  nodeParamCounts,
} from "../src/index.js";

const specs = join(import.meta.dirname, "../../../specs");
const compile = (name: string, set?: Record<string, string>) => {
  const result = compileFile(join(specs, name), set ? { set } : {});
  expect(result.diagnostics).toEqual([]);
  return result as Required<typeof result>;
};
const node = (g: Graph, name: string) => g.nodes.find((n) => n.name === name)!;

describe("resnet50 (Coursera)", () => {
  const { graph, info } = compile("resnet50.yaml");
  it("matches Keras's model.summary() totals", () => {
    expect(graphParamCounts(graph)).toEqual({
      total: 23_600_006,
      trainable: 23_546_886,
      nonTrainable: 53_120,
    });
  });
  it("has the assignment's layers, names and shapes", () => {
    expect(graph.nodes).toHaveLength(177);
    expect(graph.inputs).toEqual(["input_1"]);
    expect(graph.outputs).toEqual(["fc6"]);
    expect(node(graph, "conv1").outputShape).toEqual([32, 32, 64]);
    expect(node(graph, "max_pooling2d").outputShape).toEqual([15, 15, 64]);
    expect(node(graph, "res2a_branch1").inputs).toEqual(["max_pooling2d"]);
    expect(node(graph, "bn2a_branch1").outputShape).toEqual([15, 15, 256]);
    expect(node(graph, "res3a_branch2a").attrs).toMatchObject({
      strides: [2, 2],
      kernel_size: [1, 1],
    });
    expect(node(graph, "res4f_branch2c").outputShape).toEqual([4, 4, 1024]);
    expect(node(graph, "res5c_branch2c").outputShape).toEqual([2, 2, 2048]);
    expect(node(graph, "avg_pool").outputShape).toEqual([1, 1, 2048]);
    expect(node(graph, "fc6").attrs).toMatchObject({ units: 6, activation: "softmax" });
    expect(node(graph, "bn_conv1").attrs).toMatchObject({ epsilon: 1e-3, momentum: 0.99 });
    expect(
      graph.nodes
        .filter((n) => n.op === "add")
        .map((n) => n.name)
        .slice(0, 2),
    ).toEqual(["add", "add_1"]);
    expect(graph.nodes.filter((n) => n.op === "conv2d").every((n) => n.params.length === 2)).toBe(
      true,
    );
  });
  it("keeps template call sites in each node's origin", () => {
    const origin = node(graph, "res3b_branch2b").origin;
    expect(origin.file.endsWith("blocks/resnet.yaml")).toBe(true);
    expect(origin.callSites).toHaveLength(1);
    expect(origin.callSites[0]!.file.endsWith("resnet50.yaml")).toBe(true);
    expect(origin.callSites[0]!.block).toBe("bottleneck");
    expect(info.files.map((f) => f.split("/").pop())).toEqual(["resnet50.yaml", "resnet.yaml"]);
    expect(info.hash).toMatch(/^[0-9a-f]{64}$/);
  });
  it("takes --set overrides", () => {
    const ten = compile("resnet50.yaml", { classes: "10", input_shape: "[96, 96, 3]" }).graph;
    expect(ten.outputs).toEqual(["fc10"]);
    expect(node(ten, "conv1").outputShape).toEqual([48, 48, 64]);
  });
  it("compiles in a few milliseconds once warm", () => {
    for (let i = 0; i < 3; i++) compileFile(join(specs, "resnet50.yaml"));
    const started = performance.now();
    for (let i = 0; i < 10; i++) compileFile(join(specs, "resnet50.yaml"));
    // About 10-20 ms on an idle 2-core machine; the bound leaves room for a busy CI runner.
    expect((performance.now() - started) / 10).toBeLessThan(150);
  });
});

describe("resnet101 (Keras conventions, Caffe names)", () => {
  const { graph } = compile("resnet101.yaml");
  it("matches keras.applications.ResNet101's total", () => {
    expect(graphParamCounts(graph)).toEqual({
      total: 44_707_176,
      trainable: 44_601_832,
      nonTrainable: 105_344,
    });
  });
  it("names stage 4 res4a, res4b1 .. res4b22", () => {
    const stage4 = graph.nodes
      .filter((n) => /^res4[a-z0-9]+_branch2a$/.test(n.name))
      .map((n) => n.name);
    expect(stage4).toHaveLength(23);
    expect(stage4[0]).toBe("res4a_branch2a");
    expect(stage4[1]).toBe("res4b1_branch2a");
    expect(stage4.at(-1)).toBe("res4b22_branch2a");
    expect(node(graph, "avg_pool").outputShape).toEqual([1, 1, 2048]);
    expect(graph.outputs).toEqual(["fc1000"]);
  });
});

describe("resnet18 (torchvision)", () => {
  const { graph } = compile("resnet18.yaml");
  it("has torchvision's 11,689,512 trainable params plus 9,600 BN moving statistics", () => {
    expect(graphParamCounts(graph)).toEqual({
      total: 11_699_112,
      trainable: 11_689_512,
      nonTrainable: 9_600,
    });
  });
  it("uses torch's arithmetic: 112 after conv1, 56 after maxpool, 7 at the end, no conv biases", () => {
    expect(node(graph, "conv1").outputShape).toEqual([112, 112, 64]);
    expect(node(graph, "maxpool").outputShape).toEqual([56, 56, 64]);
    expect(node(graph, "layer4_1_out").outputShape).toEqual([7, 7, 512]);
    expect(graph.nodes.filter((n) => n.op === "conv2d").every((n) => n.params.length === 1)).toBe(
      true,
    );
    expect(node(graph, "bn1").attrs).toMatchObject({ epsilon: 1e-5, momentum: 0.9 });
    expect(node(graph, "layer1_0_add").inputs).toEqual(["layer1_0_bn2", "maxpool"]);
    expect(node(graph, "layer2_0_add").inputs).toEqual(["layer2_0_bn2", "layer2_0_downsample_bn"]);
  });
});

describe("the ResNet-50 spec reads well", () => {
  it("is well under 150 lines with its block library", async () => {
    const { readFileSync } = await import("node:fs");
    const lines = (f: string) => readFileSync(join(specs, f), "utf8").split("\n").length;
    expect(lines("resnet50.yaml") + lines("blocks/resnet.yaml")).toBeLessThan(130);
  });
});

describe("expandToSpec round trip", () => {
  const files = readdirSync(specs).filter((f) => f.endsWith(".yaml"));
  it("covers every spec", () => expect(files.length).toBeGreaterThanOrEqual(5));
  for (const file of files) {
    it(`${file}: the expanded spec compiles to the same graph`, () => {
      const { graph, info } = compile(file);
      const text = expandToSpec(graph, { seed: info.seed });
      expect(text).not.toMatch(/stage:|import:|params:|\{[a-z]/);
      const again = compileSource(text, join(specs, `expanded-${file}`));
      expect(again.diagnostics).toEqual([]);
      expect(canonicalJson(again.graph!)).toBe(canonicalJson(graph));
      expect(again.info!.hash).toBe(info.hash);
      expect(again.info!.seed).toBe(info.seed);
    });
  }
});

describe("docs/spec-language.md's squeeze-excitation example", () => {
  it("is specs/blocks/efficientnet.yaml's text, line for line", async () => {
    const { readFileSync } = await import("node:fs");
    const doc = readFileSync(join(specs, "../docs/spec-language.md"), "utf8");
    const example =
      /```yaml\n(- swish: \{ name: "\{name\}activation", as: features \}\n[^`]*)```/.exec(doc)![1]!;
    const library = readFileSync(join(specs, "blocks/efficientnet.yaml"), "utf8")
      .split("\n")
      .map((l) => l.trim());
    const lines = example.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(10);
    const first = library.indexOf(lines[0]!.trim());
    const body = library.slice(first).filter((l) => !/^(- group:|if: |layers:)/.test(l));
    expect(body.slice(0, lines.length)).toEqual(lines.map((l) => l.trim()));
  });
});

describe("keras.applications families: totals as Keras's model.summary() reports them", () => {
  it("vgg16: 138,357,544 params, Keras's layer names and shapes", () => {
    const { graph } = compile("vgg16.yaml");
    expect(graphParamCounts(graph)).toEqual({
      total: 138_357_544,
      trainable: 138_357_544,
      nonTrainable: 0,
    });
    expect(node(graph, "block1_conv1").outputShape).toEqual([224, 224, 64]);
    expect(node(graph, "block5_pool").outputShape).toEqual([7, 7, 512]);
    expect(graph.nodes.filter((n) => n.op === "conv2d").map((n) => n.name)).toHaveLength(13);
    expect(graph.outputs).toEqual(["predictions"]);
  });

  it("densenet121: 8,062,504 / 7,978,856 / 83,648, transitions to half the incoming channels", () => {
    const { graph } = compile("densenet121.yaml");
    expect(graphParamCounts(graph)).toEqual({
      total: 8_062_504,
      trainable: 7_978_856,
      nonTrainable: 83_648,
    });
    expect(graph.nodes).toHaveLength(429);
    expect(node(graph, "pool2_conv").outputShape).toEqual([56, 56, 128]);
    expect(node(graph, "pool4_conv").outputShape).toEqual([14, 14, 512]);
    expect(node(graph, "conv5_block16_concat").outputShape).toEqual([7, 7, 1024]);
  });

  it("mobilenet_v2: 3,538,984 / 3,504,872 / 34,112, expansions from the input's channels", () => {
    const { graph } = compile("mobilenet_v2.yaml");
    expect(graphParamCounts(graph)).toEqual({
      total: 3_538_984,
      trainable: 3_504_872,
      nonTrainable: 34_112,
    });
    expect(graph.nodes).toHaveLength(156);
    // Block 0 has no expansion; block 1 expands 16 channels 6 times and pads for its stride 2.
    expect(graph.nodes.some((n) => n.name === "expanded_conv_expand")).toBe(false);
    expect(node(graph, "block_1_expand").outputShape).toEqual([112, 112, 96]);
    expect(node(graph, "block_1_pad").outputShape).toEqual([113, 113, 96]);
    expect(node(graph, "block_16_project_BN").outputShape).toEqual([7, 7, 320]);
    // Shortcuts where a block keeps its size and width: Keras's ten `block_N_add` layers.
    expect(graph.nodes.filter((n) => n.op === "add").map((n) => n.name)).toEqual(
      [2, 4, 5, 7, 8, 9, 11, 12, 14, 15].map((i) => `block_${i}_add`),
    );
  });
});

describe("unet: the totals and shapes of a PyTorch re-implementation (fixtures/_unet_/torch_unet.py)", () => {
  /** Written by torch_unet.py (torch 1.13): per-layer counts, total and output shape per config. */
  const torch: Record<
    string,
    {
      set: Record<string, string>;
      total: number;
      layers: Record<string, number>;
      output_shape: number[];
    }
  > = JSON.parse(readFileSync(join(import.meta.dirname, "fixtures/_unet_/expected.json"), "utf8"));
  const withParams = (g: Graph) =>
    Object.fromEntries(
      g.nodes.filter((n) => n.params.length > 0).map((n) => [n.name, nodeParamCounts(n).total]),
    );

  it("256x256x3 -> 256x256x2 with 31,031,810 params (the arithmetic is in torch_unet.py)", () => {
    const { graph } = compile("unet.yaml");
    expect(graphParamCounts(graph)).toEqual({
      total: 31_031_810,
      trainable: 31_031_810,
      nonTrainable: 0,
    });
    expect(torch["default"]!.total).toBe(31_031_810);
    expect(graph.outputs).toEqual(["segmentation"]);
    expect(node(graph, "segmentation").outputShape).toEqual([256, 256, 2]);
    expect(node(graph, "segmentation").attrs).toMatchObject({ activation: "softmax" });
    expect(node(graph, "bottleneck_conv2").outputShape).toEqual([16, 16, 1024]);
    expect(node(graph, "dec4_upconv").op).toBe("conv2d_transpose");
    expect(node(graph, "dec4_upconv").outputShape).toEqual([32, 32, 512]);
    expect(node(graph, "dec4_concat").inputs).toEqual(["dec4_upconv", "enc4_conv2"]);
    expect(node(graph, "dec1_concat").outputShape).toEqual([256, 256, 128]);
    // Sizes divisible by 16 need no cropping: Keras's tutorials' layers, no more.
    expect(graph.nodes.filter((n) => n.op === "cropping2d")).toEqual([]);
    expect(graph.nodes).toHaveLength(32);
  });

  it("the paper's Figure 1 with --set padding=valid: 572x572x1 -> 388x388x2, 31,030,658 params", () => {
    const { graph } = compile("unet.yaml", { padding: "valid", input_shape: "[572, 572, 1]" });
    expect(graphParamCounts(graph).total).toBe(31_030_658);
    expect(torch["paper"]!.total).toBe(31_030_658);
    expect(node(graph, "bottleneck_conv2").outputShape).toEqual([28, 28, 1024]);
    // The skips are centre-cropped to the up-sampled size: 64 -> 56, 136 -> 104, 280 -> 200, 568 -> 392.
    expect(node(graph, "dec4_crop").attrs).toMatchObject({
      cropping: [
        [4, 4],
        [4, 4],
      ],
    });
    expect(node(graph, "dec1_crop").attrs).toMatchObject({
      cropping: [
        [88, 88],
        [88, 88],
      ],
    });
    expect(node(graph, "dec1_concat").inputs).toEqual(["dec1_upconv", "dec1_crop"]);
    expect(node(graph, "segmentation").outputShape).toEqual([388, 388, 2]);
  });

  it("the up-sampling variant: up_sampling2d + a 2x2 conv, the same count", () => {
    const { graph } = compile("unet.yaml", { upsampling: "bilinear" });
    expect(graphParamCounts(graph).total).toBe(31_031_810);
    expect(node(graph, "dec4_upsample").attrs).toMatchObject({
      size: [2, 2],
      interpolation: "bilinear",
    });
    expect(node(graph, "dec4_upconv").op).toBe("conv2d");
    expect(node(graph, "dec4_upconv").inputs).toEqual(["dec4_upsample"]);
    expect(graph.nodes.some((n) => n.op === "conv2d_transpose")).toBe(false);
  });

  it("odd sizes crop the larger skip, the odd row or column at the bottom or right", () => {
    const { graph } = compile("unet.yaml", { input_shape: "[37, 35, 3]", filters: "8" });
    expect(node(graph, "dec3_crop").attrs).toMatchObject({
      cropping: [
        [0, 1],
        [0, 0],
      ],
    });
    expect(node(graph, "dec1_crop").attrs).toMatchObject({
      cropping: [
        [2, 3],
        [1, 2],
      ],
    });
    expect(node(graph, "dec1_crop").outputShape).toEqual([32, 32, 8]);
    // 37 x 35 pools to 4 x 4 at level 4, which up-samples back to enc4's 4 x 4: nothing to crop.
    expect(graph.nodes.map((n) => n.name)).not.toContain("dec4_crop");
  });

  for (const [config, expected] of Object.entries(torch)) {
    it(`${config}: every layer's count, the total and the output shape equal PyTorch's`, () => {
      const { graph } = compile("unet.yaml", expected.set);
      expect(withParams(graph)).toEqual(expected.layers);
      expect(graphParamCounts(graph).total).toBe(expected.total);
      expect(node(graph, graph.outputs[0]!).outputShape).toEqual(expected.output_shape);
    });
  }
  it("docs/spec-language.md shows the library's decoder_block and center_crop as they are", () => {
    // The library without its `doc:` entries, its blocks one indent in, as the docs show them.
    const library = readFileSync(join(specs, "blocks/unet.yaml"), "utf8")
      .replace(/^ {4}doc: (>\n( {6}.*\n)+|.*\n)/gm, "")
      .replace(/^ {2}/gm, "");
    const docs = readFileSync(join(specs, "../docs/spec-language.md"), "utf8");
    for (const block of ["decoder_block", "center_crop"]) {
      const shown = docs.match(new RegExp(`\`\`\`yaml\n(${block}:\n[^\`]*)\`\`\``))?.[1];
      expect(shown, block).toBeDefined();
      expect(library).toContain(shown);
    }
  });

  it("has the PyTorch configurations", () =>
    expect(Object.keys(torch)).toEqual([
      "default",
      "nearest",
      "paper",
      "odd-small",
      "valid-bilinear-small",
    ]));
  it("efficientnet_b0: 5,330,571 / 5,288,548 / 42,023, Keras's blocks, pads and drop-connect", () => {
    const { graph } = compile("efficientnet_b0.yaml");
    expect(graphParamCounts(graph)).toEqual({
      total: 5_330_571,
      trainable: 5_288_548,
      nonTrainable: 42_023,
    });
    expect(graph.nodes).toHaveLength(241);
    const blocks = [...new Set(graph.nodes.map((n) => /^(block\d[a-z])_/.exec(n.name)?.[1]))];
    expect(blocks.filter(Boolean).join(" ")).toBe(
      "block1a block2a block2b block3a block3b block4a block4b block4c block5a block5b block5c " +
        "block6a block6b block6c block6d block7a",
    );
    // block1a has no expansion (expand_ratio 1); squeeze-excitation to a quarter of the input.
    expect(graph.nodes.some((n) => n.name === "block1a_expand_conv")).toBe(false);
    expect(node(graph, "block1a_se_reduce").outputShape).toEqual([1, 1, 8]);
    expect(node(graph, "block2a_se_reduce").outputShape).toEqual([1, 1, 4]);
    expect(node(graph, "block6d_se_reshape").outputShape).toEqual([1, 1, 1152]);
    expect(node(graph, "block6d_se_excite").inputs).toEqual([
      "block6d_activation",
      "block6d_se_expand",
    ]);
    // correct_pad before each stride-2 depthwise conv (k 3: (0, 1); k 5: (1, 2)), then 'valid'.
    expect(node(graph, "stem_conv_pad").attrs).toEqual({
      padding: [
        [0, 1],
        [0, 1],
      ],
    });
    expect(node(graph, "block3a_dwconv_pad").attrs).toEqual({
      padding: [
        [1, 2],
        [1, 2],
      ],
    });
    expect(node(graph, "block3a_dwconv").attrs).toMatchObject({
      padding: "valid",
      strides: [2, 2],
    });
    expect(node(graph, "block3b_dwconv").attrs).toMatchObject({ padding: "same", strides: [1, 1] });
    // Drop-connect (one mask value per example) before each of the 9 residual adds, at
    // 0.2 * b / 16 for the running block index b (block1a is 0), as Keras computes it.
    const drops = graph.nodes.filter((n) => n.op === "dropout" && n.name !== "top_dropout");
    expect(drops.map((n) => [n.name, n.attrs])).toEqual(
      [
        ["block2b_drop", 2],
        ["block3b_drop", 4],
        ["block4b_drop", 6],
        ["block4c_drop", 7],
        ["block5b_drop", 9],
        ["block5c_drop", 10],
        ["block6b_drop", 12],
        ["block6c_drop", 13],
        ["block6d_drop", 14],
      ].map(([name, b]) => [
        name,
        { rate: (0.2 * (b as number)) / 16, noise_shape: [null, 1, 1, 1] },
      ]),
    );
    expect(node(graph, "block6c_add").inputs).toEqual(["block6c_drop", "block6b_add"]);
    expect(node(graph, "top_dropout").attrs).toEqual({ rate: 0.2 });
    expect(node(graph, "top_activation").outputShape).toEqual([7, 7, 1280]);
    expect(graph.outputs).toEqual(["predictions"]);
  });
});
