/**
 * `rsc import` as a real process:
 * - the round trip (issue 13 item 3): every spec in specs/ and every compiler fixture, built with
 *   `rsc build --target tfjs`, imported back from its model.json, is the same architecture
 *   (`rsc diff` exit 0), except what a tfjs artifact cannot hold (listed per fixture below, and
 *   asserted exactly); the imported spec counts the parameters of the artifact's weightsManifest;
 * - `--blocks` gives the same graph as the flat import (`rsc diff` exit 0), with templates where
 *   the model repeats itself;
 * - bad input: every refused model is exit 1 with `file:line:col: error RSC52x` naming the layer,
 *   and no output file (an existing one is left as it was); I/O problems are exit 2.
 */
import {
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
import { afterAll, describe, expect, it } from "vitest";
import { located, root, rsc } from "./rsc-process.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-import-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fixtures = join(root, "packages", "compiler", "test", "fixtures");
const importFixtures = join(fixtures, "_import_");

/** One round-trip case: a spec, the `--set`s it is built with, and what tfjs cannot keep. */
interface RoundTrip {
  readonly name: string;
  readonly spec: string;
  readonly set: readonly string[];
  /** `layer: attr` changes and `-layer` removals the diff must show, exactly; none: exit 0. */
  readonly lost?: readonly string[];
}

/**
 * What a tfjs artifact does not keep, so its import cannot give back: a layer that feeds no
 * output (tfjs, like Keras, leaves it out; the compiler warns, RSC221); Normalization's mean and
 * variance (tfjs holds them as weights only: `--weights` brings them back); a reshape's -1
 * (written resolved); and the alias an activation was spelt with (tfjs writes `swish` for silu
 * and swish, `hard_swish` for hard_silu and hard_swish).
 */
const LOST: Readonly<Record<string, readonly string[]>> = {
  "default-names": ["-activation_2"],
  warnings: ["-dead_a", "-dead_b", "-extra", "-probe6_side"],
  "efficientnet-stem": ["normalization: mean", "normalization: variance"],
  efficientnet_b0: ["normalization: mean", "normalization: variance"],
  "elementwise-ops": [
    "activation_2: activation",
    "activation_3: activation",
    "norm: mean",
    "norm: variance",
    "se_reshape: target_shape",
    "to_sequence: target_shape",
  ],
};

const specs: RoundTrip[] = readdirSync(join(root, "specs"))
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => ({
    name: f.replace(/\.yaml$/, ""),
    spec: join("specs", f),
    // VGG16's 224x224 head is 103M parameters of weights the round trip never reads.
    set: f === "vgg16.yaml" ? ["input_shape=[32,32,3]"] : [],
    ...(LOST[f.replace(/\.yaml$/, "")] ? { lost: LOST[f.replace(/\.yaml$/, "")] } : {}),
  }));

const compilerFixtures: RoundTrip[] = readdirSync(fixtures, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith("_"))
  .map((d) => {
    const options = join(fixtures, d.name, "options.json");
    const set = existsSync(options)
      ? Object.entries(
          (JSON.parse(readFileSync(options, "utf8")) as { set?: Record<string, string> }).set ?? {},
        ).map(([k, v]) => `${k}=${v}`)
      : [];
    return {
      name: `fixture-${d.name}`,
      spec: join("packages", "compiler", "test", "fixtures", d.name, "spec.yaml"),
      set,
      ...(LOST[d.name] ? { lost: LOST[d.name] } : {}),
    };
  });

/** The sum of a model.json's weight shapes: the parameters the artifact holds. */
function manifestTotal(modelJson: string): number {
  const json = JSON.parse(readFileSync(modelJson, "utf8"));
  let total = 0;
  for (const group of json.weightsManifest)
    for (const w of group.weights) total += w.shape.reduce((a: number, b: number) => a * b, 1);
  return total;
}

/** The changes of a `rsc diff --format json`, as `layer: attr` and `-layer` / `+layer`. */
function changes(diffJson: string): string[] {
  const d = JSON.parse(diffJson) as {
    layers: {
      added: { name: string }[];
      removed: { name: string }[];
      changed: { name: string; attrs: { attr: string }[] }[];
    };
  };
  return [
    ...d.layers.added.map((l) => `+${l.name}`),
    ...d.layers.removed.map((l) => `-${l.name}`),
    ...d.layers.changed.flatMap((c) =>
      c.attrs.length === 0 ? [`${c.name}: ?`] : c.attrs.map((a) => `${c.name}: ${a.attr}`),
    ),
  ].sort();
}

describe("rsc import: round trip through rsc build --target tfjs", () => {
  it("finds the specs and fixtures", () => {
    expect(specs.map((s) => s.name)).toEqual(
      expect.arrayContaining(["resnet50", "vgg16", "densenet121", "tiny-cnn"]),
    );
    expect(compilerFixtures.length).toBeGreaterThanOrEqual(8);
  });

  for (const c of [...specs, ...compilerFixtures]) {
    it(`${c.name}: import(build(spec)) is the same architecture`, {
      timeout: 120_000,
    }, async () => {
      const dir = join(tmp, c.name);
      const sets = c.set.flatMap((s) => ["--set", s]);
      const build = await rsc([
        "build",
        c.spec,
        "--target",
        "tfjs",
        "-o",
        join(dir, "tfjs"),
        ...sets,
      ]);
      expect(build.code, build.stderr).toBe(0);
      const imported = join(dir, "imported.yaml");
      const run = await rsc(["import", join(dir, "tfjs", "model.json"), "-o", imported, "--json"]);
      expect(run.code, run.stderr).toBe(0);
      const envelope = JSON.parse(run.stdout);
      expect(envelope.result.params.total).toBe(manifestTotal(join(dir, "tfjs", "model.json")));

      const oldSets = c.set.flatMap((s) => ["--old-set", s]);
      const diff = await rsc(["diff", c.spec, imported, "--format", "json", ...oldSets]);
      expect(changes(diff.stdout)).toEqual([...(c.lost ?? [])].sort());
      expect(diff.code).toBe(c.lost === undefined ? 0 : 1);

      const check = await rsc(["check", imported]);
      expect(check.code, check.stderr).toBe(0);
    });
  }
});

describe("rsc import --blocks", () => {
  for (const [name, spec, set, minTemplates] of [
    ["resnet50", "specs/resnet50.yaml", [], 2],
    ["densenet121", "specs/densenet121.yaml", [], 2],
    ["resnet18", "specs/resnet18.yaml", [], 1],
    ["tiny-cnn", "specs/tiny-cnn.yaml", [], 0],
  ] as const) {
    it(`${name}: templates that compile to the flat import's graph`, {
      timeout: 120_000,
    }, async () => {
      const dir = join(tmp, `blocks-${name}`);
      const model = join(dir, "tfjs", "model.json");
      expect(
        (await rsc(["build", spec, "--target", "tfjs", "-o", join(dir, "tfjs"), ...set])).code,
      ).toBe(0);
      expect((await rsc(["import", model, "-o", join(dir, "flat.yaml")])).code).toBe(0);
      const run = await rsc([
        "import",
        model,
        "--blocks",
        "-o",
        join(dir, "blocks.yaml"),
        "--json",
      ]);
      expect(run.code, run.stderr).toBe(0);
      const { blocks, layers } = JSON.parse(run.stdout).result;
      expect(blocks).toBeGreaterThanOrEqual(minTemplates);
      const text = readFileSync(join(dir, "blocks.yaml"), "utf8");
      if (blocks > 0) {
        expect(text).toContain("blocks:");
        expect(text).toContain("- stage:");
        // The point of blocks: fewer lines than one per layer.
        expect(text.split("\n").length).toBeLessThan(layers);
      } else expect(text).not.toContain("blocks:");
      const diff = await rsc(["diff", join(dir, "flat.yaml"), join(dir, "blocks.yaml")]);
      expect(diff.code, diff.stdout).toBe(0);
      const flatToOriginal = await rsc(["diff", spec, join(dir, "blocks.yaml")]);
      expect(flatToOriginal.code, flatToOriginal.stdout).toBe(0);
    });
  }
});

describe("rsc import: output and bad input", () => {
  it("prints the spec on stdout and a one-line report on stderr", async () => {
    const model = join(importFixtures, "keras3-two-inputs", "model.json");
    const run = await rsc(["import", model]);
    expect(run.code).toBe(0);
    // The spec the compiler test keeps as golden, its header naming the path as given.
    const golden = readFileSync(join(importFixtures, "keras3-two-inputs", "expected.yaml"), "utf8");
    expect(run.stdout.split("\n").slice(1)).toEqual(golden.split("\n").slice(1));
    expect(run.stdout.split("\n")[0]).toBe(
      `# Imported by \`rsc import ${model}\`: a Keras 3 Functional model 'two_inputs'.`,
    );
    expect(run.stderr).toMatch(
      /imported .*model\.json \(Keras 3 Functional\): 6 layers, 253 params/,
    );
  });

  it("prints warnings (what is not kept) and still writes the spec", async () => {
    const out = join(tmp, "keras2.yaml");
    const run = await rsc([
      "import",
      join(importFixtures, "keras2-sequential", "model.json"),
      "-o",
      out,
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /model\.json:\d+:\d+: warning RSC526: layer 'conv2d_1' \(Conv2D\): kernel_regularizer/,
    );
    expect(readFileSync(out, "utf8")).toContain("name: sequential");
  });

  const errorCases = readdirSync(join(importFixtures, "_error_"));
  for (const name of errorCases) {
    it(`${name}: exit 1, located errors naming the file, nothing written`, async () => {
      const model = join(importFixtures, "_error_", name, "model.json");
      const out = join(tmp, `${name}.yaml`);
      const run = await rsc(["import", model, "-o", out]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      const errors = located(run.stderr);
      expect(errors.length).toBeGreaterThan(0);
      for (const [file, , , code] of errors) {
        expect(file).toBe(model);
        expect(code).toMatch(/^RSC52\d$/);
      }
      expect(existsSync(out)).toBe(false);
    });
  }

  it("names each refused layer and its class in one run", async () => {
    const run = await rsc([
      "import",
      join(importFixtures, "_error_", "refused-layers", "model.json"),
    ]);
    expect(run.code).toBe(1);
    for (const layer of [
      "'lstm' (LSTM)",
      "'scale_by_two' (Lambda)",
      "'fancy_pool' (FancyPool)",
      "'scale' (Scale)",
    ])
      expect(run.stderr).toContain(`layer ${layer}`);
    expect(run.stderr).toMatch(/5 errors/);
  });

  it("leaves an existing output as it was when the import fails", async () => {
    const out = join(tmp, "kept.yaml");
    writeFileSync(out, "previous\n");
    const run = await rsc([
      "import",
      join(importFixtures, "_error_", "does-not-build", "model.json"),
      "-o",
      out,
    ]);
    expect(run.code).toBe(1);
    expect(readFileSync(out, "utf8")).toBe("previous\n");
  });

  it("--input-shape fixes an unknown input; a bad value is exit 2", async () => {
    const model = join(importFixtures, "_error_", "unknown-input-shape", "model.json");
    const ok = await rsc(["import", model, "--input-shape", "16,16,3"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("input: { name: input_1, shape: [16, 16, 3] }");
    const bad = await rsc(["import", model, "--input-shape", "16,0,3"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--input-shape");
  });

  const files = join(root, "packages", "cli", "test", "fixtures");
  it.each([
    ["import/lambda.h5", "(model_config)", "RSC522", "layer 'double' (Lambda)"],
    ["import/custom.keras", "(config.json)", "RSC522", "layer 'scale' (Scale)"],
    ["model-files/keras2-weights.h5", "", "RSC500", "it holds only weights"],
    ["model-files/keras3.weights.h5", "", "RSC500", "it holds only weights"],
    ["model-files/no-config.keras", "", "RSC500", "has no config.json"],
    ["model-files/truncated.h5", "", "RSC500", "is truncated"],
  ])(
    "%s: exit 1 naming the file (and the part read) and the layer",
    async (name, part, code, says) => {
      const model = join(files, name);
      const out = join(tmp, `${name.replace("/", "-")}.yaml`);
      const run = await rsc(["import", model, "-o", out]);
      expect(run.code).toBe(1);
      const [[file, , , got]] = located(run.stderr) as [[string, string, string, string]];
      expect(file).toBe(part === "" ? model : `${model} ${part}`);
      expect(got).toBe(code);
      expect(run.stderr).toContain(says);
      expect(existsSync(out)).toBe(false);
    },
  );

  it("a weights-only .h5 says how to proceed: the whole model, or --weights with a spec", async () => {
    const run = await rsc(["import", join(files, "model-files", "keras2-weights.h5")]);
    expect(run.stderr).toMatch(/hint: .*model\.save.*--weights/);
  });

  it.each(["model-files/keras2-full.h5", "model-files/keras2-nested.h5", "model-files/tiny.keras"])(
    "%s: imports the Keras model (its layer names kept)",
    async (name) => {
      const run = await rsc(["import", join(files, name)]);
      expect(run.code, run.stderr).toBe(0);
      for (const layer of ["conv1", "bn1", "relu1", "gap", "fc"])
        expect(run.stdout).toContain(`name: ${layer}`);
      expect(run.stderr).toMatch(/: 5 layers, 143 params/);
    },
  );

  it("I/O problems are exit 2; a binary file is exit 1 (not a model)", async () => {
    expect((await rsc(["import", join(tmp, "missing.json")])).code).toBe(2);
    const folder = join(tmp, "a-folder");
    mkdirSync(folder, { recursive: true });
    expect((await rsc(["import", folder])).code).toBe(2);
    const binary = join(tmp, "weights.bin");
    writeFileSync(binary, new Uint8Array([1, 0, 2, 0, 255, 254]));
    const run = await rsc(["import", binary]);
    expect(run.code).toBe(1);
    expect(located(run.stderr)).toEqual([[binary, "1", "1", "RSC500"]]);
  });

  it("refuses to write the spec over its own model file", async () => {
    const model = join(tmp, "self.json");
    writeFileSync(model, readFileSync(join(importFixtures, "keras3-two-inputs", "model.json")));
    const run = await rsc(["import", model, "-o", model]);
    expect(run.code).toBe(2);
    expect(JSON.parse(readFileSync(model, "utf8")).class_name).toBe("Functional");
  });
});
