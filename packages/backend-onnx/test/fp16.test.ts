/**
 * Float16 models (`rsc build --precision fp16`): the float32 -> float16 conversion against
 * hand-computed values and numpy, the model's types (FLOAT16 initializers and activations; float32
 * graph edges behind Casts, or float16 ones), golden text, located errors for constants float16
 * cannot hold, onnx.checker, and agreement with the fp32 model in real onnxruntime-node sessions:
 * on the CPU for every spec and for fixtures that use every op, and on WebGPU.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { compileFile, type Graph, initWeights, OP_NAMES } from "@rsc/compiler";
import { expectGolden, expectGoldenJson, webgpuForTests } from "@rsc/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { FLOAT16_MAX, float16Bits, float16Value, toFloat16 } from "../src/float16.js";
import { dumpModel, type EmitOptions, emitOnnxModel, type OnnxTypes, onnx } from "../src/index.js";
import { ort } from "../src/runtime.js";
import { randomBatch, randomWeights } from "./helpers.js";
import { checkerTitle, checkModels, onnxVersion } from "./onnx-checker.js";

const here = dirname(fileURLToPath(import.meta.url));
const specs = join(here, "..", "..", "..", "specs");
const compilerFixtures = join(here, "..", "..", "compiler", "test", "fixtures");
const fixtures = join(here, "fixtures", "_fp16_");
const tmp = mkdtempSync(join(tmpdir(), "rsc-onnx-fp16-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const specFiles = readdirSync(specs).filter((f) => f.endsWith(".yaml"));
const { FLOAT, FLOAT16, INT64 } = onnx.TensorProto.DataType;

/**
 * fp16 vs fp32 on the CPU: max|fp16 - fp32| <= TOLERANCE * max(1, max|fp32|) over a model's
 * outputs. Measured on onnxruntime-node 1.30 (x64 CPU), batch 1: with the specs' seed weights at
 * most 2.8e-4 (unet; resnet18 2.0e-4, resnet50 4.7e-5, the classifiers ending in a softmax of
 * near-uniform 1e-3 probabilities below 6e-6); with random weights, where no layer is near an
 * identity, 9.1e-4 (elementwise-ops) and 7.7e-4 (conv-family). 3e-3 leaves a 3x margin. A model
 * computing in float32 throughout would pass too, which is why the types are checked as well.
 */
const TOLERANCE = 3e-3;
/**
 * WebGPU fp16 vs CPU fp16, same measure: measured 7.6e-5 (tiny-cnn), 1.2e-4 (resnet50), 9.8e-4
 * (unet), 2.5e-3 (resnet18), 1.5e-3 and 6.3e-4 (conv-family, elementwise-ops with random
 * weights): WebGPU computes in float16 where the CPU provider casts most ops to float32 and back.
 * 1e-2 leaves a 4x margin.
 */
const WEBGPU_TOLERANCE = 1e-2;

function compiled(path: string): Graph {
  const r = compileFile(path);
  if (r.graph === undefined) throw new Error(`${path}: ${JSON.stringify(r.diagnostics)}`);
  return r.graph;
}

function shapeOf(graph: Graph, name: string): readonly number[] {
  return graph.nodes.find((n) => n.name === name)!.outputShape;
}

/** Seeded NHWC feeds, one per graph input, batch 1. */
function feedsOf(graph: Graph): Record<string, { data: Float32Array; dims: number[] }> {
  return Object.fromEntries(
    graph.inputs.map((name) => {
      const shape = shapeOf(graph, name);
      return [name, { data: randomBatch(shape, 1), dims: [1, ...shape] }];
    }),
  );
}

type Outputs = Record<string, { dims: number[]; data: Float32Array }>;

/**
 * Runs a model on float32 feeds (given as float16 when the graph's inputs are float16) and returns
 * float32 outputs, decoding float16 ones, and the element type of each output.
 */
async function run(
  model: Uint8Array,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
  { ep = "cpu", half = false }: { readonly ep?: "cpu" | "webgpu"; readonly half?: boolean } = {},
): Promise<{ outputs: Outputs; types: Record<string, string> }> {
  const runtime = ort();
  const session = await runtime.InferenceSession.create(model, {
    executionProviders: [ep],
    graphOptimizationLevel: "all",
  });
  const tensors = Object.fromEntries(
    Object.entries(feeds).map(([k, v]) => [
      k,
      half
        ? new runtime.Tensor("float16", toFloat16(v.data), v.dims)
        : new runtime.Tensor("float32", v.data, v.dims),
    ]),
  );
  const result = await session.run(tensors);
  await session.release();
  const outputs: Outputs = {};
  const types: Record<string, string> = {};
  for (const [k, v] of Object.entries(result)) {
    types[k] = `${v.type} ${v.data.constructor.name}`;
    const data =
      v.type === "float16"
        ? Float32Array.from(v.data as Uint16Array, float16Value)
        : (v.data as Float32Array);
    outputs[k] = { dims: v.dims.map(Number), data };
  }
  return { outputs, types };
}

/** max|a - b| and max|b| over every output; a non-finite value in `a` makes the deviation NaN. */
function deviation(a: Outputs, b: Outputs): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (const [name, { data }] of Object.entries(b)) {
    const other = a[name]!.data;
    expect(other.length).toBe(data.length);
    for (let i = 0; i < data.length; i++) {
      const d = Math.abs(other[i]! - data[i]!);
      diff = Number.isNaN(d) ? Number.NaN : Math.max(diff, d);
      scale = Math.max(scale, Math.abs(data[i]!));
    }
  }
  return { diff, scale };
}

function expectAgreement(a: Outputs, b: Outputs, tolerance: number): number {
  const { diff, scale } = deviation(a, b);
  expect(diff).not.toBeNaN();
  expect(diff).toBeLessThanOrEqual(tolerance * Math.max(1, scale));
  return diff;
}

function decode(bytes: Uint8Array): OnnxTypes.IModelProto {
  return onnx.ModelProto.decode(bytes);
}

function elemType(info: OnnxTypes.IValueInfoProto): number {
  return info.type!.tensorType!.elemType!;
}

/** The checks every float16 model passes: what is float16, what stays float32 or int64. */
function expectFloat16Model(model: OnnxTypes.IModelProto, io: "fp32" | "fp16"): void {
  const g = model.graph!;
  const edge = io === "fp16" ? FLOAT16 : FLOAT;
  expect(g.input!.map(elemType)).toEqual(g.input!.map(() => edge));
  expect(g.output!.map(elemType)).toEqual(g.output!.map(() => edge));
  // Every value between the edges is float16.
  expect(new Set(g.valueInfo!.map(elemType))).toEqual(new Set([FLOAT16]));
  // Initializers: float16, int64 (pads, shapes), and float32 only where ONNX types the input as
  // float: Resize's scales, and the float32 island of normalization's denominator.
  const resize = new Set(g.node!.filter((n) => n.opType === "Resize").map((n) => n.input![2]));
  for (const t of g.initializer!) {
    if (t.dataType === FLOAT)
      expect([t.name, resize.has(t.name!) || /\/epsilon$/.test(t.name!)]).toEqual([t.name, true]);
    else expect([t.name, t.dataType]).toEqual([t.name, t.dataType === INT64 ? INT64 : FLOAT16]);
  }
  const casts = g.node!.filter((n) => n.opType === "Cast");
  const inputs = new Set(g.input!.map((i) => i.name));
  const outputs = new Set(g.output!.map((o) => o.name));
  const castIn = casts.filter((n) => inputs.has(n.input![0]!));
  const castOut = casts.filter((n) => outputs.has(n.output![0]!));
  expect(castIn.length).toBe(io === "fp32" ? inputs.size : 0);
  expect(castOut.length).toBe(io === "fp32" ? outputs.size : 0);
  const meta = Object.fromEntries(model.metadataProps!.map((p) => [p.key, p.value]));
  expect(meta["rsc.precision"]).toBe("fp16");
  expect(meta["rsc.io_precision"]).toBe(io);
}

describe("float32 -> float16 (round to nearest, ties to even)", () => {
  it("gives the hand-computed bit patterns", () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66], // 0.0999755859375 below, 0.10003662109375 above: nearer below
      [FLOAT16_MAX, 0x7bff],
      [65519, 0x7bff], // below the halfway point to 65536
      [65520, 0x7c00], // halfway, and 65504's last mantissa bit is odd: up to infinity
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [Number.POSITIVE_INFINITY, 0x7c00],
      [6e-8, 0x0001], // 2^-24 = 5.96e-8 is the smallest subnormal
      [2 ** -25, 0x0000], // halfway to 2^-24: ties to even (zero)
      [1.5 * 2 ** -24, 0x0002], // halfway between 1 and 2 units: even is 2
      [2.5 * 2 ** -24, 0x0002], // halfway between 2 and 3 units: even is 2
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -14 - 2 ** -25, 0x0400], // halfway from the largest subnormal: even is the normal
      [1e-10, 0x0000],
      [-0, 0x8000],
      [0, 0x0000],
      [1 + 2 ** -11, 0x3c00], // halfway, 1's mantissa is even: down
      [1 + 3 * 2 ** -11, 0x3c02], // halfway, odd below: up
    ];
    for (const [value, bits] of cases)
      expect([value, float16Bits(value).toString(16)]).toEqual([value, bits.toString(16)]);
    const nan = float16Bits(Number.NaN);
    expect((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0).toBe(true);
    expect(float16Value(nan)).toBeNaN();
    expect(Object.is(float16Value(0x8000), -0)).toBe(true);
    expect(float16Value(0x7bff)).toBe(65504);
    expect(float16Value(0x0001)).toBe(2 ** -24);
  });

  const numpy = spawnSync("/usr/bin/python3", ["-c", "import numpy; print(numpy.__version__)"], {
    encoding: "utf8",
  });
  const title =
    numpy.status === 0
      ? `agrees with numpy ${numpy.stdout.trim()}'s astype(float16) on 200,000 float32 values`
      : "agrees with numpy's astype(float16) (SKIPPED: /usr/bin/python3 has no numpy)";
  it.skipIf(numpy.status !== 0)(title, () => {
    // Random bit patterns cover every exponent, NaNs and infinities included; the ties and
    // edges are added on purpose.
    const bits = new Uint32Array(200_000);
    let state = 12345;
    for (let i = 0; i < bits.length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      bits[i] = state;
    }
    const values = new Float32Array(bits.buffer);
    values.set([65504, 65519, 65520, 65536, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, -0, 1e-8]);
    // Values near float16's range, where rounding and subnormals matter most.
    for (let i = 10; i < 100_000; i++) values[i] = (values[i]! % 1) * 2 ** ((i % 44) - 28);
    const input = join(tmp, "values.f32");
    const output = join(tmp, "values.f16");
    writeFileSync(input, values);
    const script = [
      "import sys, numpy as np",
      "np.fromfile(sys.argv[1], dtype='<f4').astype(np.float16).tofile(sys.argv[2])",
    ].join("\n");
    // -W ignore: numpy warns of the overflows to infinity, which are the point here.
    const r = spawnSync("/usr/bin/python3", ["-W", "ignore", "-c", script, input, output], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    const expected = new Uint16Array(new Uint8Array(readFileSync(output)).buffer);
    const ours = toFloat16(values);
    const wrong: string[] = [];
    for (let i = 0; i < values.length; i++) {
      const nan = Number.isNaN(values[i]!);
      // NaN payloads may differ; both must be NaNs of the same sign.
      const same = nan
        ? Number.isNaN(float16Value(ours[i]!)) && (ours[i]! & 0x8000) === (expected[i]! & 0x8000)
        : ours[i] === expected[i];
      if (!same && wrong.length < 5)
        wrong.push(`${values[i]}: ${ours[i]!.toString(16)} vs ${expected[i]!.toString(16)}`);
    }
    expect(wrong).toEqual([]);
  });
});

/** Golden text of float16 models: `fixtures/_fp16_/<case>/expected.onnx.txt`. */
describe("golden float16 ONNX text", () => {
  const cases: [string, string, EmitOptions][] = [
    ["tiny-cnn", join(specs, "tiny-cnn.yaml"), { precision: "fp16" }],
    [
      "conv-family-io-fp16",
      join(compilerFixtures, "conv-family", "spec.yaml"),
      { precision: "fp16", ioPrecision: "fp16" },
    ],
    [
      "elementwise-ops",
      join(compilerFixtures, "elementwise-ops", "spec.yaml"),
      { precision: "fp16" },
    ],
  ];
  for (const [name, spec, options] of cases) {
    it(name, () => {
      const graph = compiled(spec);
      const r = emitOnnxModel(graph, initWeights(graph, 0), {
        producerVersion: "test",
        seed: 0,
        ...options,
      });
      expect(r.diagnostics).toEqual([]);
      expectGolden(join(fixtures, name, "expected.onnx.txt"), dumpModel(r.model!.bytes()));
    });
  }

  it("leaves fp32 models as they were: no Cast, no precision metadata", () => {
    const graph = compiled(join(specs, "tiny-cnn.yaml"));
    const weights = initWeights(graph, 0);
    const a = emitOnnxModel(graph, weights, { seed: 0 }).model!.bytes();
    const b = emitOnnxModel(graph, weights, { seed: 0, precision: "fp32" }).model!.bytes();
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    expect(dumpModel(a)).not.toMatch(/Cast|float16|rsc\.precision/);
  });

  it("refuses float16 inputs and outputs around float32 weights", () => {
    const graph = compiled(join(specs, "tiny-cnn.yaml"));
    expect(() => emitOnnxModel(graph, initWeights(graph, 0), { ioPrecision: "fp16" })).toThrow(
      "ioPrecision fp16 needs precision fp16",
    );
  });
});

describe("constants float16 cannot hold are RSC400 errors at the layer", () => {
  const dir = join(fixtures, "_error_");
  for (const name of readdirSync(dir)) {
    it(name, () => {
      const spec = join(dir, name, "spec.yaml");
      const graph = compiled(spec);
      const weights = initWeights(graph, 0);
      // The same spec is fine in fp32.
      expect(emitOnnxModel(graph, weights).diagnostics).toEqual([]);
      const r = emitOnnxModel(graph, weights, { precision: "fp16" });
      expect(r.model).toBeUndefined();
      expectGoldenJson(
        join(dir, name, "expected.json"),
        r.diagnostics.map((d) => ({
          code: d.code,
          severity: d.severity,
          file: relative(join(dir, name), d.file),
          line: d.line,
          column: d.column,
        })),
      );
      for (const d of r.diagnostics) expect(d.message).toMatch(/is (0|infinite) in float16/);
    });
  }
});

describe("loaded weights float16 cannot hold are RSC400 errors at the layer", () => {
  const graph = compiled(join(specs, "tiny-cnn.yaml"));
  const withVariance = (value: number) => {
    const weights = randomWeights(graph);
    weights.get("stem_bn/moving_variance")![3] = value;
    return weights;
  };

  it("refuses a moving variance that float16 rounds to infinity, at the layer's line", () => {
    const r = emitOnnxModel(graph, withVariance(65520), { precision: "fp16" });
    expect(r.model).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, relative(specs, d.file), d.line, d.column])).toEqual([
      ["RSC400", "tiny-cnn.yaml", 15, 5],
    ]);
    expect(r.diagnostics[0]!.message).toContain("weight 'stem_bn/moving_variance' holds 65520");
  });

  it("accepts the largest value that rounds to a finite float16, and any value at fp32", () => {
    expect(emitOnnxModel(graph, withVariance(65519), { precision: "fp16" }).diagnostics).toEqual(
      [],
    );
    expect(emitOnnxModel(graph, withVariance(1e6)).diagnostics).toEqual([]);
  });
});

describe("fp16 agrees with fp32 on the CPU (onnxruntime-node, batch 1)", () => {
  it("covers every op: the specs and the two op fixtures", () => {
    const graphs = [
      ...specFiles.map((f) => compiled(join(specs, f))),
      compiled(join(compilerFixtures, "conv-family", "spec.yaml")),
      compiled(join(compilerFixtures, "elementwise-ops", "spec.yaml")),
    ];
    const ops = new Set(graphs.flatMap((g) => g.nodes.map((n) => n.op)));
    expect(OP_NAMES.filter((op) => !ops.has(op))).toEqual([]);
    expect(specFiles).toContain("resnet50.yaml");
  });

  for (const file of specFiles) {
    it(`${file}, seed weights: float16 types, half the size, outputs within ${TOLERANCE} x max(1, max|fp32|)`, {
      timeout: 240_000,
    }, async () => {
      const { graph, info } = compileFile(join(specs, file));
      if (graph === undefined || info === undefined) throw new Error(`${file} does not compile`);
      const weights = initWeights(graph, info.seed);
      const feeds = feedsOf(graph);
      const full = emitOnnxModel(graph, weights, { seed: info.seed }).model!.bytes();
      const reference = (await run(full, feeds)).outputs;
      const half = emitOnnxModel(graph, weights, { seed: info.seed, precision: "fp16" });
      expect(half.diagnostics).toEqual([]);
      const bytes = half.model!.bytes();
      // Weights dominate every spec but the two tiny ones: about half the size.
      if (full.byteLength > 1e6) expect(bytes.byteLength / full.byteLength).toBeLessThan(0.51);
      else expect(bytes.byteLength).toBeLessThan(full.byteLength);
      expectFloat16Model(decode(bytes), "fp32");
      const { outputs, types } = await run(bytes, feeds);
      expect(Object.values(types)).toEqual(graph.outputs.map(() => "float32 Float32Array"));
      for (const name of graph.outputs)
        expect(outputs[name]!.dims).toEqual([1, ...shapeOf(graph, name)]);
      expectAgreement(outputs, reference, TOLERANCE);
    });
  }

  for (const name of ["conv-family", "elementwise-ops"]) {
    it(`${name}, random weights (no layer an identity): within ${TOLERANCE} x max(1, max|fp32|)`, async () => {
      const graph = compiled(join(compilerFixtures, name, "spec.yaml"));
      const weights = randomWeights(graph);
      const feeds = feedsOf(graph);
      const reference = (await run(emitOnnxModel(graph, weights).model!.bytes(), feeds)).outputs;
      const bytes = emitOnnxModel(graph, weights, { precision: "fp16" }).model!.bytes();
      expectFloat16Model(decode(bytes), "fp32");
      const diff = expectAgreement((await run(bytes, feeds)).outputs, reference, TOLERANCE);
      // The weights really were rounded: a float16 model equal to the float32 one is a bug.
      expect(diff).toBeGreaterThan(0);
    });
  }

  it("moves float16 weights to external data like float32 ones, with the same outputs", async () => {
    const graph = compiled(join(specs, "tiny-branches.yaml"));
    const weights = initWeights(graph, 0);
    const feeds = feedsOf(graph);
    const inline = emitOnnxModel(graph, weights, { precision: "fp16" }).model!.bytes();
    const split = emitOnnxModel(graph, weights, {
      precision: "fp16",
      externalDataThreshold: 0,
      externalDataName: "split.onnx.data",
    });
    const path = join(tmp, "split.onnx");
    writeFileSync(path, split.model!.bytes());
    writeFileSync(join(tmp, "split.onnx.data"), split.externalData!.bytes());
    const model = decode(split.model!.bytes());
    const external = model.graph!.initializer!.filter(
      (t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL,
    );
    // Tensors of 1 kB or more move: in float16 that is 512 values or more.
    const large = model.graph!.initializer!.filter(
      (t) => (t.dims ?? []).reduce((n: number, d) => n * Number(d), 1) >= 512,
    );
    expect(large.length).toBeGreaterThan(0);
    expect(external.map((t) => [t.name, t.dataType])).toEqual(large.map((t) => [t.name, FLOAT16]));
    const runtime = ort();
    const session = await runtime.InferenceSession.create(path);
    const input = feeds[graph.inputs[0]!]!;
    const fromFile = await session.run({
      [graph.inputs[0]!]: new runtime.Tensor("float32", input.data, input.dims),
    });
    await session.release();
    const expected = (await run(inline, feeds)).outputs;
    for (const name of graph.outputs)
      expect(Array.from(fromFile[name]!.data as Float32Array)).toEqual(
        Array.from(expected[name]!.data),
      );
  });

  it("--io fp16: float16 graph inputs and outputs, fed and read as Uint16Array tensors", async () => {
    const graph = compiled(join(compilerFixtures, "conv-family", "spec.yaml"));
    const weights = randomWeights(graph);
    const feeds = feedsOf(graph);
    const reference = (await run(emitOnnxModel(graph, weights).model!.bytes(), feeds)).outputs;
    const bytes = emitOnnxModel(graph, weights, {
      precision: "fp16",
      ioPrecision: "fp16",
    }).model!.bytes();
    expectFloat16Model(decode(bytes), "fp16");
    // onnxruntime-node 1.30 on Node 20 (no Float16Array) takes and gives float16 as Uint16Array.
    const { outputs, types } = await run(bytes, feeds, { half: true });
    expect(Object.values(types)).toEqual(graph.outputs.map(() => "float16 Uint16Array"));
    expectAgreement(outputs, reference, TOLERANCE);
    // Feeding float32 to a float16 input is refused by onnxruntime, not converted.
    await expect(run(bytes, feeds)).rejects.toThrow(/float16|type/i);
  });
});

describe.skipIf(onnxVersion === undefined)(checkerTitle(" of float16 models"), () => {
  it("accepts float16 models with float32 and float16 edges", { timeout: 240_000 }, () => {
    const paths: string[] = [];
    const models: [string, string, EmitOptions][] = [
      ["resnet50", join(specs, "resnet50.yaml"), { precision: "fp16" }],
      ["mobilenet_v2", join(specs, "mobilenet_v2.yaml"), { precision: "fp16" }],
      ["efficientnet_b0", join(specs, "efficientnet_b0.yaml"), { precision: "fp16" }],
      ["unet", join(specs, "unet.yaml"), { precision: "fp16", ioPrecision: "fp16" }],
      ["conv-family", join(compilerFixtures, "conv-family", "spec.yaml"), { precision: "fp16" }],
      [
        "elementwise-ops",
        join(compilerFixtures, "elementwise-ops", "spec.yaml"),
        { precision: "fp16", ioPrecision: "fp16" },
      ],
    ];
    for (const [name, spec, options] of models) {
      const graph = compiled(spec);
      const path = join(tmp, `${name}.fp16.onnx`);
      writeFileSync(path, emitOnnxModel(graph, initWeights(graph, 0), options).model!.bytes());
      paths.push(path);
    }
    const r = checkModels(paths);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(paths.length);
  });

  it("rejects a float16 model whose value types were mislabelled (the check can fail)", () => {
    const graph = compiled(join(specs, "tiny-cnn.yaml"));
    const model = decode(
      emitOnnxModel(graph, initWeights(graph, 0), { precision: "fp16" }).model!.bytes(),
    );
    for (const v of model.graph!.valueInfo!) v.type!.tensorType!.elemType = FLOAT;
    const path = join(tmp, "mislabelled.onnx");
    writeFileSync(path, onnx.ModelProto.encode(model).finish());
    expect(checkModels([path]).status).not.toBe(0);
  });
});

const gpu = await webgpuForTests();

describe.runIf(gpu.adapter)(`float16 models on onnxruntime-node ${gpu.title}`, () => {
  const cases: [string, () => { graph: Graph; weights: ReadonlyMap<string, Float32Array> }][] = [
    ...["tiny-cnn.yaml", "resnet18.yaml"].map(
      (file): [string, () => { graph: Graph; weights: ReadonlyMap<string, Float32Array> }] => [
        `${file}, seed weights`,
        () => {
          const { graph, info } = compileFile(join(specs, file));
          if (graph === undefined || info === undefined)
            throw new Error(`${file} does not compile`);
          return { graph, weights: initWeights(graph, info.seed) };
        },
      ],
    ),
    // Between them the two fixtures and the specs use every op.
    ...["conv-family", "elementwise-ops"].map(
      (name): [string, () => { graph: Graph; weights: ReadonlyMap<string, Float32Array> }] => [
        `${name}, random weights`,
        () => {
          const graph = compiled(join(compilerFixtures, name, "spec.yaml"));
          return { graph, weights: randomWeights(graph) };
        },
      ],
    ),
  ];
  for (const [name, make] of cases) {
    it(`${name}: WebGPU fp16 within ${WEBGPU_TOLERANCE} x max(1, max|CPU fp16|) of CPU fp16`, {
      timeout: 240_000,
    }, async () => {
      const { graph, weights } = make();
      const bytes = emitOnnxModel(graph, weights, { precision: "fp16" }).model!.bytes();
      const feeds = feedsOf(graph);
      const cpu = await run(bytes, feeds);
      const webgpu = await run(bytes, feeds, { ep: "webgpu" });
      expect(webgpu.types).toEqual(cpu.types);
      const diff = expectAgreement(webgpu.outputs, cpu.outputs, WEBGPU_TOLERANCE);
      // WebGPU computes in float16, the CPU mostly in float32 after its Casts: they differ a little.
      expect(diff).toBeGreaterThan(0);
    });
  }
});
