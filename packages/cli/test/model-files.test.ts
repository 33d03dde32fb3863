/**
 * The model-file readers and `--weights` on the files Keras and the tensorflowjs converter write
 * (fixtures/model-files, made by make_fixtures.py with h5py and zipfile in their layouts): every
 * format gives back the numpy arrays that made it; `rsc build --weights` then computes what
 * PyTorch computes from those arrays (onnxruntime, 1e-4); every bad file is one clear error
 * naming the file (and the layer), exit 1, nothing written.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ort } from "@rsc/backend-onnx/runtime";
import { readArtifacts } from "@rsc/backend-tfjs/artifacts-format";
import { unzipSync, zipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { permuteTo } from "../src/model-files/file-weights.js";
import { type Hdf5Reader, openHdf5File } from "../src/model-files/hdf5.js";
import { Hdf5Unsupported, openLiteFile } from "../src/model-files/hdf5-lite.js";
import { readModelConfig, readModelWeights } from "../src/model-files/index.js";
import { located, root, rsc } from "./rsc-process.js";
import { writeSignsFile } from "./train-support.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-model-files-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DIR = join(root, "packages", "cli", "test", "fixtures", "model-files");
const at = (name: string) => join(DIR, name);
const SPEC = at("tiny.yaml");

/** The arrays every fixture holds (make_fixtures.py's W), as float32. */
const ARRAYS = new Map(
  Object.entries(
    JSON.parse(readFileSync(at("arrays.json"), "utf8")) as Record<
      string,
      { shape: number[]; data: number[] }
    >,
  ).map(([name, { shape, data }]) => [name, { shape, data: Float32Array.from(data) }]),
);

/** The tiny model's layers, as the expected model of a Keras 3 `.weights.h5`. */
const EXPECTED = [
  { name: "input_1", kerasClass: "InputLayer", weights: [] },
  { name: "conv1", kerasClass: "Conv2D", weights: ["conv1/kernel", "conv1/bias"] },
  {
    name: "bn1",
    kerasClass: "BatchNormalization",
    weights: ["bn1/gamma", "bn1/beta", "bn1/moving_mean", "bn1/moving_variance"],
  },
  { name: "relu1", kerasClass: "Activation", weights: [] },
  { name: "gap", kerasClass: "GlobalAveragePooling2D", weights: [] },
  { name: "fc", kerasClass: "Dense", weights: ["fc/kernel", "fc/bias"] },
];

function expectSameTensors(
  read: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>,
  want: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>,
): void {
  expect([...read.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, w] of want) {
    const got = read.get(name)!;
    expect(got.shape, name).toEqual(w.shape);
    // Bit-exact: a float32 read back is the float32 numpy wrote.
    expect(Array.from(got.data), name).toEqual(Array.from(w.data));
  }
}

describe("readModelWeights gives back the arrays that made each file", () => {
  it.each([
    ["keras2-full.h5", "keras-h5"],
    ["keras2-weights.h5", "keras-h5"],
    ["keras2-chunked.h5", "keras-h5"],
    ["keras2-nested.h5", "keras-h5"],
    ["keras3.weights.h5", "keras3-h5"],
    ["tiny.keras", "keras-archive"],
    ["tiny-deflated.keras", "keras-archive"],
  ])("%s (%s)", async (name, format) => {
    const read = await readModelWeights(at(name), { expected: EXPECTED });
    expect(read.format).toBe(format);
    expectSameTensors(read.weights, ARRAYS);
  });

  it("needs no expected model for Keras 2 files and .keras archives (names come from the file)", async () => {
    for (const name of ["keras2-full.h5", "keras2-weights.h5", "keras2-nested.h5", "tiny.keras"])
      expectSameTensors((await readModelWeights(at(name))).weights, ARRAYS);
  });

  it("dequantizes a converter-style sharded tfjs folder (uint8, uint16, float16) as numpy does", async () => {
    const want = JSON.parse(readFileSync(at("tfjs-quantized-expected.json"), "utf8")) as Record<
      string,
      number[]
    >;
    const read = await readModelWeights(at("tfjs-quantized"));
    expect(read.format).toBe("tfjs");
    expect(read.files.filter((f) => f.endsWith(".bin"))).toHaveLength(3);
    const manifest = read.artifacts!.json.weightsManifest[0]!.weights;
    expect(manifest.map((w) => w.quantization?.dtype ?? "float32")).toEqual([
      "uint8",
      "float32",
      "float16",
      "float32",
      "float32",
      "uint8",
      "uint16",
      "float32",
    ]);
    expectSameTensors(
      read.weights,
      new Map(
        Object.entries(want).map(([n, data]) => [
          n,
          { shape: ARRAYS.get(n)!.shape, data: Float32Array.from(data) },
        ]),
      ),
    );
    // Quantized, not equal: uint8 is coarse, uint16 and float16 close.
    const close = (n: string) =>
      Math.max(...read.weights.get(n)!.data.map((v, i) => Math.abs(v - ARRAYS.get(n)!.data[i]!)));
    expect(close("conv1/kernel")).toBeGreaterThan(1e-4);
    expect(close("conv1/kernel")).toBeLessThan(1 / 255);
    expect(close("fc/kernel")).toBeLessThan(1e-4);
    expect(close("conv1/bias")).toBe(0);
  });

  it("drops a nested model's prefix from tfjs weight names (Teachable Machine style)", async () => {
    const dir = join(tmp, "tfjs-nested");
    const src = at("tfjs-quantized");
    mkdirSync(dir);
    for (const f of readdirSync(src)) copyFileSync(join(src, f), join(dir, f));
    const json = JSON.parse(readFileSync(join(src, "model.json"), "utf8"));
    for (const w of json.weightsManifest[0].weights) w.name = `sequential_1/sequential/${w.name}`;
    writeFileSync(join(dir, "model.json"), JSON.stringify(json));
    const read = await readModelWeights(dir, { expected: EXPECTED });
    expect([...read.weights.keys()].sort()).toEqual([...ARRAYS.keys()].sort());
    expect(read.locate("fc/bias").column).toBeGreaterThan(1);
    // Without the model's layer names, nothing says where the prefix ends: names kept.
    const bare = await readModelWeights(dir);
    expect([...bare.weights.keys()][0]).toBe("sequential_1/sequential/conv1/kernel");
  });

  it("tells the format by content, not by the file name", async () => {
    const renamed = join(tmp, "weights.bin");
    copyFileSync(at("tiny.keras"), renamed);
    expect((await readModelWeights(renamed)).format).toBe("keras-archive");
    const json = join(tmp, "keras-weights.json");
    copyFileSync(at("keras2-full.h5"), json);
    expect((await readModelWeights(json)).format).toBe("keras-h5");
  });

  it("maps a Teachable-Machine-style nesting to the inner layers' names", async () => {
    // Sequential [Functional trunk, Sequential head]: variables `conv1/kernel:0` under `trunk`
    // and `head/fc/kernel:0` under `head`.
    const read = await readModelWeights(at("keras2-nested.h5"));
    expect(read.layerOf.get("conv1/kernel")).toBe("trunk");
    expect(read.layerOf.get("fc/bias")).toBe("head");
  });
});

/** Everything a reader sees of a file: every group, attribute and dataset, in order. */
function walk(h5: Hdf5Reader, path = "/", out: unknown[] = []): unknown[] {
  const plain = (v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v);
  out.push([path, h5.attrNames(path).map((n) => [n, plain(h5.attr(path, n))])]);
  for (const key of h5.keys(path)) {
    const sub = path === "/" ? `/${key}` : `${path}/${key}`;
    if (h5.isGroup(sub)) walk(h5, sub, out);
    else {
      const t = h5.tensor(sub);
      out.push([sub, t.shape, Array.from(t.data), h5.attrNames(sub)]);
    }
  }
  return out;
}

describe("the lite HDF5 reader (fast path) and h5wasm see the same files", () => {
  it.each([
    "keras2-full.h5",
    "keras2-weights.h5",
    "keras2-chunked.h5",
    "keras2-nested.h5",
    "keras3.weights.h5",
    "other-arch.h5",
    "missing-layer.h5",
  ])("%s", async (name) => {
    const lite = openLiteFile(at(name));
    const full = await openHdf5File(at(name));
    try {
      expect(walk(lite)).toEqual(walk(full));
    } finally {
      lite.close();
      full.close();
    }
  });

  it("hands compressed, new-format and truncated files to h5wasm, which reads them", async () => {
    for (const name of ["keras2-gzip.h5", "keras2-latest.h5", "truncated.h5"])
      expect(() => walk(openLiteFile(at(name))), name).toThrow(Hdf5Unsupported);
    for (const name of ["keras2-gzip.h5", "keras2-latest.h5", "tiny-gzip.keras"])
      expectSameTensors((await readModelWeights(at(name))).weights, ARRAYS);
  });

  it("never fails but with a located error on corrupt bytes (both readers)", async () => {
    const good = readFileSync(at("keras2-full.h5"));
    let next = 7;
    const random = () => {
      next = (Math.imul(next, 1664525) + 1013904223) >>> 0;
      return next / 2 ** 32;
    };
    let refused = 0;
    for (let round = 0; round < 60; round++) {
      const bad = Buffer.from(good);
      // A few bytes changed among the first 4 kB (superblock, headers, B-trees, heaps).
      for (let k = 0; k < 3; k++) bad[Math.floor(random() * 4096)] = Math.floor(random() * 256);
      const path = join(tmp, `corrupt-${round}.h5`);
      writeFileSync(path, bad);
      const outcome = await readModelWeights(path, { expected: EXPECTED }).then(
        () => "read",
        (e: unknown) => e,
      );
      if (outcome !== "read") {
        expect(outcome, `round ${round}`).toMatchObject({ name: "CliError" });
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
  }, 60_000);

  it("defers the values of a deferred read until asked, straight into the caller's buffer", async () => {
    const read = await readModelWeights(at("keras2-full.h5"), { deferred: true });
    try {
      const kernel = read.weights.get("conv1/kernel") as unknown as {
        count: number;
        fill(out: Float32Array): void;
      };
      const out = new Float32Array(kernel.count);
      kernel.fill(out);
      expect(Array.from(out)).toEqual(Array.from(ARRAYS.get("conv1/kernel")!.data));
    } finally {
      read.release();
    }
  });
});

describe("readModelConfig", () => {
  it.each([
    ["keras2-full.h5", "keras-h5", "Functional", "2.11.0"],
    ["keras2-nested.h5", "keras-h5", "Sequential", "2.11.0"],
    ["keras2-model.json", "keras-json", "Functional", "2.11.0"],
    ["tiny.keras", "keras-archive", "Sequential", "3.6.0"],
    ["tfjs-quantized", "tfjs", "Functional", "2.11.0"],
  ])("reads %s as %s (%s, Keras %s)", async (name, format, className, version) => {
    const read = await readModelConfig(at(name));
    expect(read).toMatchObject({
      format,
      kerasVersion: version,
      config: { class_name: className },
    });
    const layers = (read.config.config as { layers: { config: { name: string } }[] }).layers;
    expect(layers.length).toBeGreaterThan(0);
  });

  it.each([
    ["keras2-weights.h5", /holds only weights \(a Keras save_weights file\)/],
    ["keras3.weights.h5", /holds only weights \(a Keras 3 \.weights\.h5\)/],
    ["no-config.keras", /has no config\.json.*\(it holds: metadata\.json, model\.weights\.h5\)/],
    ["truncated.h5", /is truncated: it has [\d,]+ bytes of the [\d,]+ its HDF5 header declares/],
  ])("refuses %s naming the file (RSC500)", async (name, message) => {
    const error = await readModelConfig(at(name)).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 1, diagnostics: [{ code: "RSC500", file: at(name) }] });
    expect((error as Error).message).toMatch(message);
  });
});

/** onnxruntime's output of an ONNX model on forward.json's input. */
async function runOnnx(path: string): Promise<Float32Array> {
  const forward = JSON.parse(readFileSync(at("forward.json"), "utf8"));
  const runtime = ort();
  const session = await runtime.InferenceSession.create(path);
  try {
    const input = new runtime.Tensor(
      "float32",
      Float32Array.from(forward.input),
      forward.inputShape,
    );
    const out = await session.run({ [session.inputNames[0]!]: input });
    return out[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const FORWARD = (JSON.parse(readFileSync(at("forward.json"), "utf8")) as { output: number[] })
  .output;

describe.concurrent("rsc build --weights from Keras files", () => {
  it.each([
    "keras2-full.h5",
    "keras2-weights.h5",
    "keras2-nested.h5",
    "keras3.weights.h5",
    "tiny.keras",
  ])(
    "%s: the ONNX model computes PyTorch's forward pass of the same arrays (1e-4)",
    async (name) => {
      const out = join(tmp, `${name}.onnx`);
      const run = await rsc(["build", SPEC, "-t", "onnx", "-o", out, "--weights", at(name)]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`weights from ${at(name)}`);
      const got = await runOnnx(out);
      expect(got.length).toBe(FORWARD.length);
      for (let i = 0; i < got.length; i++)
        expect(Math.abs(got[i]! - FORWARD[i]!)).toBeLessThan(1e-4);
      // A build from seeded weights computes something else: the check can fail.
      const seeded = join(tmp, `${name}-seeded.onnx`);
      expect((await rsc(["build", SPEC, "-t", "onnx", "-o", seeded])).code).toBe(0);
      const other = await runOnnx(seeded);
      expect(Math.max(...other.map((v, i) => Math.abs(v - FORWARD[i]!)))).toBeGreaterThan(1e-2);
    },
  );

  it("writes a tfjs model holding the .keras archive's weights (--target tfjs)", async () => {
    const out = join(tmp, "from-keras-tfjs");
    const run = await rsc(["build", SPEC, "-t", "tfjs", "-o", out, "--weights", at("tiny.keras")]);
    expect(run.code, run.stderr).toBe(0);
    expectSameTensors(readArtifacts(out).weights, ARRAYS);
  });
});

/** Runs `rsc build --weights <weights>` expecting failure: exit 1, nothing written. */
async function refused(weights: string, out = join(tmp, "never.onnx")) {
  const run = await rsc(["build", SPEC, "-t", "onnx", "-o", out, "--weights", weights]);
  expect(run.code, run.stderr).toBe(1);
  expect(existsSync(out)).toBe(false);
  return { run, errors: located(run.stderr) };
}

describe.concurrent("bad weights files: one clear error naming the file (and layer), exit 1", () => {
  it("a truncated .h5", async () => {
    const { errors, run } = await refused(at("truncated.h5"));
    expect(errors).toEqual([[at("truncated.h5"), "1", "1", "RSC500"]]);
    expect(run.stderr).toMatch(/is truncated: it has [\d,]+ bytes of the [\d,]+ its HDF5 header/);
  });

  it("an .h5 with an unreadable weight or a layer without its group names the layer", async () => {
    const broken = await refused(at("broken-layer.h5"));
    expect(broken.errors).toEqual([[at("broken-layer.h5"), "1", "1", "RSC500"]]);
    expect(broken.run.stderr).toContain(
      "layer 'fc': weight 'fc/kernel:0' cannot be read: '/fc/fc/kernel:0' does not hold numbers",
    );
    const missing = await refused(at("missing-layer.h5"));
    expect(missing.run.stderr).toContain("layer 'bn1': is listed in layer_names but has no group");
  });

  it("a tfjs model.json whose weight file is missing, located at its manifest entry", async () => {
    const file = at("tfjs-missing-shard/model.json");
    const { errors, run } = await refused(at("tfjs-missing-shard"));
    expect(errors).toHaveLength(1);
    expect(errors[0]![0]).toBe(file);
    expect(errors[0]![3]).toBe("RSC500");
    expect(run.stderr).toMatch(
      /weight file 'group1-shard2of3\.bin' is missing from the model folder \(it holds weights of layer 'conv1'/,
    );
  });

  it("a tfjs weight file shorter than the manifest names the weights cut off", async () => {
    const { run } = await refused(at("tfjs-short-shard/model.json"));
    expect(run.stderr).toMatch(
      /describes 204 bytes of weights but the shards hold 202: weights of layer 'fc' \(fc\/bias\) are cut off/,
    );
  });

  it("a quantized weight with an unknown dtype", async () => {
    const { errors, run } = await refused(at("tfjs-bad-dtype"));
    expect(errors[0]![3]).toBe("RSC500");
    expect(Number(errors[0]![2])).toBeGreaterThan(1);
    expect(run.stderr).toContain("weight 'fc/kernel' is quantized as 'int4'");
  });

  it("weights of another architecture: every missing, extra and wrong-shaped weight", async () => {
    const file = at("other-arch.h5");
    const { errors, run } = await refused(file);
    expect(errors.map((e) => e[3])).toEqual(Array(7).fill("RSC401"));
    for (const text of [
      "weight 'conv1/kernel' has shape [5, 5, 3, 4]",
      "weight 'fc/kernel' has shape [8, 3]",
      "weight 'dense_7/kernel' in",
      "weight 'bn1/gamma' [4] of layer 'bn1' is missing",
      "weight 'bn1/beta'",
      "weight 'bn1/moving_mean'",
      "weight 'bn1/moving_variance'",
    ])
      expect(run.stderr).toContain(text);
    // Missing weights point at their layer in the spec, the others at the file.
    expect(errors.filter((e) => e[0] === SPEC)).toHaveLength(4);
  });

  it("a .keras without config.json, and a bare nested Keras 3 .weights.h5", async () => {
    const { run } = await refused(at("no-config.keras"));
    expect(run.stderr).toContain("has no config.json");
    const bare = join(tmp, "nested.weights.h5");
    writeFileSync(bare, unzipSync(readFileSync(at("tiny.keras")))["model.weights.h5"]!);
    const nested = await refused(bare);
    expect(nested.run.stderr).toContain("holds a nested model ('/layers/functional')");
    expect(nested.run.stderr).toContain("give the model's .keras file instead");
  });

  it("a zip entry declaring more than its limit is refused before it is inflated", async () => {
    const zip = zipSync({
      "config.json": new TextEncoder().encode("{}"),
      "model.weights.h5": new Uint8Array(8),
    });
    // Patch the central directory's uncompressed size of config.json to 2 GB.
    const view = new DataView(zip.buffer);
    for (let i = zip.length - 22; i >= 0; i--) {
      if (view.getUint32(i, true) === 0x02014b50) view.setUint32(i + 24, 2 ** 31, true);
    }
    const bomb = join(tmp, "bomb.keras");
    writeFileSync(bomb, zip);
    const { run } = await refused(bomb);
    expect(run.stderr).toMatch(/entry 'config\.json' inflates to 2,147,483,648 bytes, more than/);
  });

  it("a to_json() file holds no weights", async () => {
    const { run } = await refused(at("keras2-model.json"));
    expect(run.stderr).toContain("is a Keras model config (to_json()), which holds no weights");
  });

  it("a file that is no model file", async () => {
    const { run } = await refused(at("make_fixtures.py"));
    expect(run.stderr).toContain("is not a model file: neither HDF5");
  });

  it("leaves no temporary files behind", () => {
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith("rsc-in-memory"))).toEqual([]);
  });
});

describe("rsc train --weights (fine-tuning) and rsc evaluate --weights", () => {
  const CLASSIFIER = at("tiny-classifier.yaml");
  const data = join(tmp, "signs8.h5");
  const trained = join(tmp, "tuned");

  it("trains from a Keras file's weights and records where they came from", async () => {
    await writeSignsFile(data, { size: 8 });
    const run = await rsc([
      "train",
      CLASSIFIER,
      "--data",
      data,
      "--epochs",
      "1",
      "--batch-size",
      "64",
      "--lr",
      "1e-9",
      "--runtime",
      "cpu",
      "--weights",
      at("keras2-nested.h5"),
      "-o",
      trained,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const log = JSON.parse(readFileSync(join(trained, "train-log.json"), "utf8"));
    expect(log.initialWeights).toBe(at("keras2-nested.h5"));
    // One Adam step of 1e-9 from the file's weights: the trainable weights are still the file's
    // (seeded ones would differ by ~0.1).
    const saved = readArtifacts(trained).weights;
    for (const name of ["conv1/kernel", "conv1/bias", "bn1/gamma", "bn1/beta", "fc/kernel"]) {
      const want = ARRAYS.get(name)!.data;
      const got = saved.get(name)!.data;
      expect(Math.max(...got.map((v, i) => Math.abs(v - want[i]!))), name).toBeLessThan(1e-6);
    }
  }, 60_000);

  it("refuses initial weights of another architecture, every weight named, nothing written", async () => {
    const out = join(tmp, "never-trained");
    const run = await rsc([
      "train",
      CLASSIFIER,
      "--data",
      data,
      "--epochs",
      "1",
      "--weights",
      at("other-arch.h5"),
      "-o",
      out,
    ]);
    expect(run.code).toBe(1);
    expect(located(run.stderr).map((e) => e[3])).toEqual(Array(7).fill("RSC401"));
    expect(existsSync(out)).toBe(false);
  });

  it("evaluates a model folder with a .keras file's weights: as a folder holding them", async () => {
    const built = join(tmp, "built-classifier");
    const build = await rsc([
      "build",
      CLASSIFIER,
      "-t",
      "tfjs",
      "-o",
      built,
      "--weights",
      at("tiny.keras"),
    ]);
    expect(build.code, build.stderr).toBe(0);
    const evaluate = async (...args: string[]) => {
      const run = await rsc(["evaluate", ...args, "--data", data, "--runtime", "cpu", "--json"]);
      expect(run.code, run.stderr).toBe(0);
      const { loss, accuracy } = JSON.parse(run.stdout).result;
      return { loss, accuracy } as { loss: number; accuracy: number };
    };
    const own = await evaluate(built);
    const withKeras = await evaluate(trained, "--weights", at("tiny.keras"));
    const withH5 = await evaluate(trained, "--weights", at("keras3.weights.h5"));
    const tuned = await evaluate(trained);
    expect(withKeras).toEqual(own);
    expect(withH5).toEqual(own);
    // The folder's own weights (moving statistics updated by training) give another loss.
    expect(tuned.loss).not.toBe(own.loss);
    const bad = await rsc(["evaluate", trained, "--data", data, "--weights", at("other-arch.h5")]);
    expect(bad.code).toBe(1);
    expect(located(bad.stderr).map((e) => e[3])).toEqual(Array(7).fill("RSC401"));
  }, 60_000);
});

describe("permuteTo (deferred weights into ONNX's layout)", () => {
  /** numpy's transpose, one index at a time. */
  function naive(data: Float32Array, shape: number[], perm: number[]): Float32Array {
    const dims = perm.map((a) => shape[a]!);
    const strides = shape.map((_, k) => shape.slice(k + 1).reduce((n, d) => n * d, 1));
    const out = new Float32Array(data.length);
    for (let t = 0; t < out.length; t++) {
      let rest = t;
      let src = 0;
      for (let k = dims.length - 1; k >= 0; k--) {
        src += (rest % dims[k]!) * strides[perm[k]!]!;
        rest = Math.floor(rest / dims[k]!);
      }
      out[t] = data[src]!;
    }
    return out;
  }
  it.each([
    [
      [3, 3, 5, 37],
      [3, 2, 0, 1],
    ],
    [
      [1, 1, 40, 17],
      [3, 2, 0, 1],
    ],
    [
      [3, 3, 6, 2],
      [2, 3, 0, 1],
    ],
    [
      [7, 5],
      [1, 0],
    ],
    [
      [2, 3, 4],
      [0, 1, 2],
    ],
  ])("shape %j by %j", (shape, perm) => {
    const data = Float32Array.from({ length: shape.reduce((n, d) => n * d, 1) }, (_, i) => i);
    const out = new Float32Array(data.length);
    permuteTo(data, shape, perm, out);
    expect(Array.from(out)).toEqual(Array.from(naive(data, shape, perm)));
  });
});
