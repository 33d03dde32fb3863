/**
 * The ONNX emitter: golden text of small graphs, numbers against an independent NHWC reference
 * (reference.ts) in real onnxruntime-node sessions, determinism, external data, and errors as
 * located diagnostics.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  compileFile,
  type Graph,
  graphFromLayers,
  initWeights,
  OP_NAMES,
  seededWeights,
  shapeSize,
} from "@rsc/compiler";
import { expectGolden, goldenCases } from "@rsc/test-support";
import { afterAll, describe, expect, it } from "vitest";
import {
  dumpModel,
  EXTERNAL_MIN_BYTES,
  emitOnnx,
  emitOnnxModel,
  HWIO_TO_OIHW,
  ONNX_LOWERINGS,
  onnx,
  permute,
} from "../src/index.js";
import { maxAbsDiff, randomBatch, randomWeights, referenceBatch, runOnnx } from "./helpers.js";

const here = dirname(fileURLToPath(import.meta.url));
const specs = join(here, "..", "..", "..", "specs");
const tmp = mkdtempSync(join(tmpdir(), "rsc-onnx-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Fixed emit options so golden text does not change with the rsc version or the spec hash. */
const fixed = { producerVersion: "test", seed: 0 };

/** Hand-built layers stand one a line in `test.yaml` at column 3, so diagnostics' positions can be checked. */
const inTestYaml = { firstLayerAt: { file: "test.yaml", line: 1, column: 3 } };

function compiled(spec: string): Graph {
  const r = compileFile(join(specs, spec));
  if (r.graph === undefined) throw new Error(JSON.stringify(r.diagnostics));
  return r.graph;
}

/** Every op at least once: pad before a pool (not foldable), pad before a conv (folded), BN
 * without gamma/beta, softmax over NCHW channels, dilation, same pooling, Sum of 3, GAP, dense. */
function zoo(): Graph {
  return graphFromLayers(
    "zoo",
    [
      { name: "image", op: "input", attrs: { shape: [9, 7, 3] } },
      { name: "pad_pool", op: "zero_padding2d", attrs: { padding: 1 } },
      { name: "pool", op: "max_pooling2d", attrs: { pool_size: 3, strides: 2, padding: "same" } },
      {
        name: "pad_conv",
        op: "zero_padding2d",
        attrs: {
          padding: [
            [0, 1],
            [2, 0],
          ],
        },
      },
      {
        name: "conv_a",
        op: "conv2d",
        attrs: { filters: 4, kernel_size: 2, strides: 2, padding: "same", use_bias: false },
      },
      {
        name: "bn_bare",
        op: "batch_normalization",
        attrs: { center: false, scale: false, epsilon: 0.01 },
      },
      { name: "soft", op: "activation", attrs: { activation: "softmax" } },
      {
        name: "conv_d",
        op: "conv2d",
        attrs: { filters: 4, kernel_size: 3, padding: "same", dilation_rate: 2 },
        inputs: ["soft"],
      },
      {
        name: "avg",
        op: "average_pooling2d",
        attrs: { pool_size: 2, strides: 1, padding: "same" },
        inputs: ["soft"],
      },
      { name: "sum3", op: "add", inputs: ["soft", "conv_d", "avg"] },
      { name: "gap", op: "global_average_pooling2d" },
      { name: "bn_flat", op: "batch_normalization" },
      { name: "fc", op: "dense", attrs: { units: 3 } },
      { name: "drop", op: "dropout", attrs: { rate: 0.5 } },
      { name: "out", op: "activation", attrs: { activation: "tanh" } },
    ],
    inTestYaml,
  );
}

/** Two image outputs, each transposed back to NHWC; zero padding counted by an average pool. */
function imageOut(): Graph {
  return graphFromLayers(
    "image_out",
    [
      { name: "x", op: "input", attrs: { shape: [6, 5, 2] } },
      {
        name: "c",
        op: "conv2d",
        attrs: {
          filters: 3,
          kernel_size: 3,
          strides: [2, 1],
          padding: "same",
          activation: "sigmoid",
        },
      },
      { name: "p", op: "max_pooling2d", attrs: { pool_size: 1 } },
      { name: "cat", op: "concatenate", attrs: { axis: -1 }, inputs: ["c", "p"] },
      {
        name: "zp",
        op: "zero_padding2d",
        attrs: {
          padding: [
            [1, 0],
            [0, 2],
          ],
        },
        inputs: ["x"],
      },
      { name: "avg", op: "average_pooling2d", attrs: { pool_size: 2, strides: 1 } },
    ],
    { outputs: ["cat", "avg"] },
  );
}

/** Issue 12's element-wise, activation, shape and normalization ops: the compiler's fixture. */
function elementwiseOps(): Graph {
  const spec = join(
    here,
    "..",
    "..",
    "compiler",
    "test",
    "fixtures",
    "elementwise-ops",
    "spec.yaml",
  );
  const r = compileFile(spec);
  if (r.graph === undefined) throw new Error(JSON.stringify(r.diagnostics));
  return r.graph;
}

/**
 * The conv family (issue 12): zero padding folded into a depthwise conv, separable with
 * dilation, grouped conv, both up-samplings, cropping, transposed convs ('same' stride 2;
 * 'valid' with output_padding), global max/average pooling keeping their dims.
 */
function convFamily(): Graph {
  return graphFromLayers(
    "conv_family",
    [
      { name: "image", op: "input", attrs: { shape: [9, 8, 4] } },
      {
        name: "pad_dw",
        op: "zero_padding2d",
        attrs: {
          padding: [
            [1, 0],
            [0, 1],
          ],
        },
      },
      {
        name: "dw",
        op: "depthwise_conv2d",
        attrs: {
          kernel_size: 3,
          strides: 2,
          padding: "same",
          depth_multiplier: 2,
          activation: "relu",
        },
      },
      {
        name: "sep",
        op: "separable_conv2d",
        attrs: { filters: 6, kernel_size: 3, padding: "same", dilation_rate: 2 },
      },
      {
        name: "grp",
        op: "conv2d",
        attrs: { filters: 4, kernel_size: 3, padding: "same", groups: 2 },
      },
      { name: "up_n", op: "up_sampling2d", attrs: { size: [2, 1] } },
      {
        name: "up_b",
        op: "up_sampling2d",
        attrs: { size: 2, interpolation: "bilinear" },
        inputs: ["grp"],
      },
      {
        name: "crop",
        op: "cropping2d",
        attrs: {
          cropping: [
            [1, 2],
            [0, 5],
          ],
        },
      },
      {
        name: "tconv",
        op: "conv2d_transpose",
        attrs: { filters: 4, kernel_size: 3, strides: 2, padding: "same" },
      },
      {
        name: "tconv_v",
        op: "conv2d_transpose",
        attrs: { filters: 4, kernel_size: [3, 2], strides: [2, 3], output_padding: [1, 2] },
        inputs: ["up_n"],
      },
      { name: "gmp", op: "global_max_pooling2d", attrs: { keepdims: true } },
      {
        name: "gap",
        op: "global_average_pooling2d",
        attrs: { keepdims: true },
        inputs: ["tconv"],
      },
      { name: "sum", op: "add", inputs: ["gmp", "gap"] },
      { name: "gmp2", op: "global_max_pooling2d" },
    ],
    { ...inTestYaml, outputs: ["gmp2", "tconv"] },
  );
}

const cases: [string, () => Graph][] = [
  ["tiny-cnn", () => compiled("tiny-cnn.yaml")],
  ["tiny-branches", () => compiled("tiny-branches.yaml")],
  ["zoo", zoo],
  ["image-out", imageOut],
  ["elementwise-ops", elementwiseOps],
  ["conv-family", convFamily],
];

/** Golden text of each case: `test/fixtures/<case>/expected.onnx.txt` (a missing file fails). */
const fixtures = join(here, "fixtures");

describe("golden ONNX text", () => {
  it("has a case for every fixture folder, and the cases use every op", () => {
    expect(goldenCases(fixtures)).toEqual(cases.map(([name]) => name).sort());
    const ops = new Set(cases.flatMap(([, make]) => make().nodes.map((n) => n.op)));
    expect(OP_NAMES.filter((op) => !ops.has(op))).toEqual([]);
  });

  for (const [name, make] of cases) {
    it(name, () => {
      const graph = make();
      const result = emitOnnxModel(graph, initWeights(graph, 0), fixed);
      expect(result.diagnostics).toEqual([]);
      expectGolden(join(fixtures, name, "expected.onnx.txt"), dumpModel(result.model!.bytes()));
    });
  }
});

describe("numbers against the NHWC reference (onnxruntime-node, batch 2)", () => {
  for (const [name, make] of cases) {
    it(name, async () => {
      const graph = make();
      const weights = randomWeights(graph);
      const input = graph.nodes.find((n) => n.name === graph.inputs[0])!;
      const x = randomBatch(input.outputShape, 2);
      const { model } = emitOnnxModel(graph, weights, fixed);
      const got = await runOnnx(model!.bytes(), {
        [input.name]: { data: x, dims: [2, ...input.outputShape] },
      });
      const want = referenceBatch(graph, weights, x, 2);
      for (const out of graph.outputs) {
        const node = graph.nodes.find((n) => n.name === out)!;
        expect(got[out]!.dims).toEqual([2, ...node.outputShape]);
        expect(maxAbsDiff(got[out]!.data, want[out]!)).toBeLessThan(1e-4);
      }
    });
  }

  it("folding zero padding into a conv changes no number and removes the Pad node", async () => {
    const graph = compiled("resnet18.yaml");
    const small = zoo();
    for (const g of [small]) {
      const weights = randomWeights(g);
      const x = randomBatch([9, 7, 3], 1);
      const feeds = { image: { data: x, dims: [1, 9, 7, 3] } };
      const folded = emitOnnxModel(g, weights, fixed).model!.bytes();
      const unfolded = emitOnnxModel(g, weights, {
        ...fixed,
        foldZeroPadding: false,
      }).model!.bytes();
      const ops = (m: Uint8Array) => onnx.ModelProto.decode(m).graph!.node!.map((n) => n.opType);
      expect(ops(folded).filter((o) => o === "Pad")).toHaveLength(1); // pad_pool stays
      expect(ops(unfolded).filter((o) => o === "Pad")).toHaveLength(2);
      const a = await runOnnx(folded, feeds);
      const b = await runOnnx(unfolded, feeds);
      expect(maxAbsDiff(a["out"]!.data, b["out"]!.data)).toBeLessThan(1e-6);
    }
    // resnet18 writes its torch-style padding as zero_padding2d + valid conv: all fold, except
    // the one before its max pool.
    const text = dumpModel(emitOnnxModel(graph, initWeights(graph, 0), fixed).model!.bytes());
    expect(text.match(/= Pad\(.*/g)).toEqual([
      '= Pad(relu, maxpool_pad/pads, maxpool_pad/value) {mode="constant"} -> maxpool_pad: float[N,64,114,114]',
    ]);
  });
});

describe("a conv 3x3 'same' stride 2 + BatchNorm + ReLU, computed by hand", () => {
  // TensorFlow SAME_UPPER: out = ceil(in / 2); total padding (out - 1) * 2 + 3 - in, the odd
  // pixel at the bottom/right. 5x5 pads 1/1; 6x6 pads 0 before and 1 after.
  for (const size of [5, 6]) {
    it(`${size}x${size}x2 input`, async () => {
      const graph = graphFromLayers("hand", [
        { name: "x", op: "input", attrs: { shape: [size, size, 2] } },
        {
          name: "conv",
          op: "conv2d",
          attrs: { filters: 3, kernel_size: 3, strides: 2, padding: "same" },
        },
        { name: "bn", op: "batch_normalization", attrs: { epsilon: 1e-3 } },
        { name: "relu", op: "activation", attrs: { activation: "relu" } },
      ]);
      const w = randomWeights(graph, 5);
      const x = randomBatch([size, size, 2], 1, 9);
      const k = w.get("conv/kernel")!; // HWIO [3, 3, 2, 3]
      const out = Math.ceil(size / 2);
      const total = (out - 1) * 2 + 3 - size;
      const top = Math.floor(total / 2);
      const want: number[] = [];
      for (let oy = 0; oy < out; oy++) {
        for (let ox = 0; ox < out; ox++) {
          for (let f = 0; f < 3; f++) {
            let s = w.get("conv/bias")![f]!;
            for (let ky = 0; ky < 3; ky++) {
              for (let kx = 0; kx < 3; kx++) {
                const iy = oy * 2 + ky - top;
                const ix = ox * 2 + kx - top;
                if (iy < 0 || ix < 0 || iy >= size || ix >= size) continue;
                for (let c = 0; c < 2; c++)
                  s += x[(iy * size + ix) * 2 + c]! * k[((ky * 3 + kx) * 2 + c) * 3 + f]!;
              }
            }
            const [gm, bt, mu, v] = ["gamma", "beta", "moving_mean", "moving_variance"].map(
              (p) => w.get(`bn/${p}`)![f]!,
            );
            const y = ((s - mu!) / Math.sqrt(v! + 1e-3)) * gm! + bt!;
            want.push(Math.max(0, y));
          }
        }
      }
      const { model } = emitOnnxModel(graph, w, fixed);
      const got = await runOnnx(model!.bytes(), { x: { data: x, dims: [1, size, size, 2] } });
      expect(got["relu"]!.dims).toEqual([1, out, out, 3]);
      expect(maxAbsDiff(got["relu"]!.data, want)).toBeLessThan(1e-5);
      const conv = onnx.ModelProto.decode(model!.bytes()).graph!.node!.find(
        (n) => n.name === "conv",
      )!;
      const pads = conv.attribute!.find((a) => a.name === "pads")!.ints!.map(Number);
      expect(pads).toEqual([top, top, total - top, total - top]);
    });
  }
});

describe("model properties", () => {
  const graph = compiled("tiny-cnn.yaml");

  it("is byte-identical for the same spec and seed, and differs for another seed", () => {
    const a = emitOnnxModel(graph, initWeights(graph, 0), fixed).model!.bytes();
    const b = emitOnnxModel(compiled("tiny-cnn.yaml"), initWeights(graph, 0), fixed).model!.bytes();
    const c = emitOnnxModel(graph, initWeights(graph, 1), { ...fixed, seed: 1 }).model!.bytes();
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, c)).not.toBe(0);
    expect(a.length).toBe(c.length);
  });

  it("streams the same bytes it gathers, in chunks the sink must consume at once", () => {
    const big = compiled("resnet18.yaml");
    const model = emitOnnxModel(big, initWeights(big, 0), fixed).model!;
    const chunks: Buffer[] = [];
    model.writeTo((chunk) => chunks.push(Buffer.from(chunk))); // copies: chunks may be reused
    const streamed = Buffer.concat(chunks);
    expect(streamed.length).toBe(model.byteLength);
    expect(Buffer.compare(streamed, model.bytes())).toBe(0);
    // Large tensors are written straight from the weights or the reorder buffer, not staged.
    expect(chunks.length).toBeGreaterThan(20);
  });

  it("writes the same bytes from weights generated on demand as from held weights", () => {
    const big = compiled("resnet18.yaml");
    const held = emitOnnxModel(big, initWeights(big, 5), fixed).model!.bytes();
    const lazy = emitOnnxModel(big, seededWeights(big, 5), fixed).model!.bytes();
    expect(lazy.length).toBe(held.length);
    expect(Buffer.compare(lazy, held)).toBe(0);
  });

  it("records opset, IR version, metadata and layout, with a symbolic batch", () => {
    const m = onnx.ModelProto.decode(
      emitOnnxModel(graph, initWeights(graph, 3), {
        producerVersion: "9.9.9",
        specHash: "ab",
        seed: 3,
      }).model!.bytes(),
    );
    expect(Number(m.irVersion)).toBe(8);
    expect(m.opsetImport!.map((o) => [o.domain, Number(o.version)])).toEqual([["", 17]]);
    expect(m.producerName).toBe("rsc");
    expect(Object.fromEntries(m.metadataProps!.map((p) => [p.key, p.value]))).toEqual({
      "rsc.input_layout": "NHWC",
      "rsc.model": "tiny-cnn",
      "rsc.seed": "3",
      "rsc.spec_hash": "sha256:ab",
      "rsc.version": "9.9.9",
    });
    expect(m.docString).toContain("NHWC [N, 16, 16, 3]");
    const dims = m.graph!.input![0]!.type!.tensorType!.shape!.dim!;
    expect(dims.map((d) => d.dimParam || Number(d.dimValue))).toEqual(["N", 16, 16, 3]);
    // Nodes are in topological order with unique names.
    const names = m.graph!.node!.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    const produced = new Set([
      ...m.graph!.input!.map((i) => i.name),
      ...m.graph!.initializer!.map((t) => t.name),
    ]);
    for (const n of m.graph!.node!) {
      for (const i of n.input!)
        expect(produced.has(i), `${n.name} reads ${i} before it exists`).toBe(true);
      for (const o of n.output!) produced.add(o);
    }
  });

  it("writes conv kernels OIHW from Keras's HWIO", () => {
    const hwio = Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i);
    const oihw = permute(hwio, [2, 3, 4, 5], HWIO_TO_OIHW);
    for (let h = 0; h < 2; h++)
      for (let w = 0; w < 3; w++)
        for (let i = 0; i < 4; i++)
          for (let o = 0; o < 5; o++)
            expect(oihw[((o * 4 + i) * 2 + h) * 3 + w]).toBe(hwio[((h * 3 + w) * 4 + i) * 5 + o]);
  });
});

describe("weight permutations", () => {
  /** numpy's transpose, one value at a time. */
  function naive(data: Float32Array, shape: readonly number[], perm: readonly number[]) {
    const outShape = perm.map((p) => shape[p]!);
    const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
    const out = new Float32Array(data.length);
    const index = outShape.map(() => 0);
    for (let i = 0; i < out.length; i++) {
      out[i] = data[index.reduce((s, v, k) => s + v * strides[perm[k]!]!, 0)]!;
      for (let k = index.length - 1; k >= 0; k--) {
        if (++index[k]! < outShape[k]!) break;
        index[k] = 0;
      }
    }
    return out;
  }

  it.each([
    [
      [3, 3, 40, 70],
      [3, 2, 0, 1],
    ],
    [
      [1, 1, 33, 65],
      [3, 2, 0, 1],
    ],
    [
      [2, 5, 1, 7],
      [3, 2, 0, 1],
    ],
    [
      [4, 6],
      [1, 0],
    ],
    [
      [4, 6],
      [0, 1],
    ],
    [
      [2, 3, 4],
      [2, 0, 1],
    ],
    [
      [2, 3, 4],
      [1, 0, 2],
    ],
    [[5], [0]],
  ])("%j by %j is numpy's transpose", (shape, perm) => {
    const data = Float32Array.from({ length: shapeSize(shape) }, (_, i) => i);
    expect(permute(data, shape, perm)).toEqual(naive(data, shape, perm));
  });
});

describe("external data", () => {
  it("moves large tensors to <model>.onnx.data, and onnxruntime loads them", async () => {
    const graph = graphFromLayers("wide", [
      { name: "input", op: "input", attrs: { shape: [8, 8, 4] } },
      // 2304-byte kernel.
      { name: "conv", op: "conv2d", attrs: { filters: 16, kernel_size: 3, padding: "same" } },
      { name: "bn", op: "batch_normalization" },
      { name: "gap", op: "global_average_pooling2d" },
      { name: "logits", op: "dense", attrs: { units: 10 } }, // 640-byte kernel: stays inline
    ]);
    const weights = randomWeights(graph);
    const inline = emitOnnxModel(graph, weights, fixed);
    const external = emitOnnxModel(graph, weights, {
      ...fixed,
      externalDataThreshold: 1000,
      externalDataName: "tiny.onnx.data",
    });
    expect(inline.externalData).toBeUndefined();
    expect(external.externalData?.name).toBe("tiny.onnx.data");
    const tensors = onnx.ModelProto.decode(external.model!.bytes()).graph!.initializer!;
    const moved = tensors.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    expect(moved.length).toBeGreaterThan(0);
    for (const t of tensors) {
      const external = t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
      const size = shapeSize((t.dims ?? []).map(Number)) * 4;
      expect(external).toBe(size >= EXTERNAL_MIN_BYTES);
      if (external) {
        const keys = Object.fromEntries(t.externalData!.map((e) => [e.key, e.value]));
        expect(keys["location"]).toBe("tiny.onnx.data");
        expect(Number(keys["length"])).toBe(size);
        expect(t.rawData?.length ?? 0).toBe(0);
      }
    }
    writeFileSync(join(tmp, "tiny.onnx"), external.model!.bytes());
    writeFileSync(join(tmp, "tiny.onnx.data"), external.externalData!.bytes());
    const x = randomBatch([8, 8, 4], 2);
    const feeds = { input: { data: x, dims: [2, 8, 8, 4] } };
    const a = await runOnnx(inline.model!.bytes(), feeds);
    const b = await runOnnx(join(tmp, "tiny.onnx"), feeds);
    expect(maxAbsDiff(a["logits"]!.data, b["logits"]!.data)).toBe(0);
  });
});

describe("errors are located diagnostics, never crashes", () => {
  it("an op with no lowering is RSC400 at the layer's line", () => {
    const graph = zoo();
    const { conv2d: _omitted, ...partial } = ONNX_LOWERINGS;
    const result = emitOnnx(graph, initWeights(graph), fixed, partial);
    expect(result.model).toBeUndefined();
    const convs = graph.nodes.filter((n) => n.op === "conv2d");
    expect(result.diagnostics.map((d) => [d.code, d.file, d.line, d.column])).toEqual(
      convs.map((n) => ["RSC400", "test.yaml", n.origin.line, 3]),
    );
  });

  it("a configuration the lowering cannot express is RSC400", () => {
    const graph = graphFromLayers(
      "seq",
      [
        { name: "x", op: "input", attrs: { shape: [4, 5] } },
        { name: "bn", op: "batch_normalization" },
      ],
      inTestYaml,
    );
    const result = emitOnnxModel(graph, initWeights(graph), fixed);
    expect(result.model).toBeUndefined();
    expect(result.diagnostics.map((d) => [d.code, d.line])).toEqual([["RSC400", 2]]);
  });

  it("a missing or wrong-sized weight is RSC401 naming it", () => {
    const graph = compiled("tiny-cnn.yaml");
    const weights = initWeights(graph);
    weights.delete("stem/bias");
    weights.set("logits/kernel", new Float32Array(3));
    const result = emitOnnxModel(graph, weights, fixed);
    expect(result.model).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toEqual(["RSC401", "RSC401"]);
    expect(result.diagnostics[0]!.message).toContain("stem/bias");
    expect(result.diagnostics[1]!.message).toContain("logits/kernel");
  });
});
