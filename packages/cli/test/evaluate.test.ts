/**
 * `rsc evaluate` as a real process: loss and accuracy of a model trained here, on the test and the
 * train split; a model folder whose weights come from another architecture, a missing folder and
 * data that does not fit the model are clear errors.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { located, root, rsc } from "./rsc-process.js";
import { trainTinyArgs, writeSignsFile } from "./train-support.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-evaluate-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DATA = join(tmp, "signs.h5");
const MODEL = join(tmp, "trained");

beforeAll(async () => {
  await writeSignsFile(DATA);
  const run = await rsc(
    trainTinyArgs(DATA, "--epochs", "4", "--batch-size", "8", "--lr", "0.01", "-o", MODEL),
  );
  expect(run.code).toBe(0);
}, 60_000);

describe("rsc evaluate", () => {
  it("reports loss and accuracy on the test split, as text and as JSON", async () => {
    const text = await rsc(["evaluate", MODEL, "--data", DATA, "--runtime", "cpu"]);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/^tfjs runtime: cpu/m);
    expect(text.stdout).toMatch(
      /^loss \d+\.\d{4} {2}accuracy \d\.\d{4} {2}\(24 examples, test split of .*signs\.h5\)\n$/,
    );
    const json = await rsc(["evaluate", MODEL, "--data", DATA, "--runtime", "cpu", "--json"]);
    const envelope = JSON.parse(json.stdout);
    expect(envelope).toMatchObject({
      command: "evaluate",
      ok: true,
      result: { split: "test", examples: 24 },
    });
    expect(envelope.result.loss).toBeGreaterThan(0);
    // The learnable pattern is learnt: better than chance (1/3).
    expect(envelope.result.accuracy).toBeGreaterThan(0.5);
    const train = await rsc(["evaluate", MODEL, "--data", DATA, "--split", "train", "--json"]);
    expect(JSON.parse(train.stdout).result).toMatchObject({ split: "train", examples: 64 });
  });

  it("rejects a model folder whose weights do not fit (RSC500 malformed, RSC401 mismatched)", async () => {
    const other = join(tmp, "other");
    const built = await rsc([
      "build",
      join(root, "specs", "tiny-branches.yaml"),
      "--target",
      "tfjs",
      "-o",
      other,
    ]);
    expect(built.code).toBe(0);
    const mixed = join(tmp, "mixed");
    mkdirSync(mixed);
    copyFileSync(join(MODEL, "model.json"), join(mixed, "model.json"));
    copyFileSync(join(other, "group1-shard1of1.bin"), join(mixed, "group1-shard1of1.bin"));
    const run = await rsc(["evaluate", mixed, "--data", DATA]);
    expect(run.code).toBe(1);
    // The shard does not hold what the manifest describes: malformed artifacts (RSC500), located
    // at the group's shard in model.json.
    expect(located(run.stderr).map((d) => [d[0], d[1], d[3]])).toEqual([
      [join(mixed, "model.json"), "1", "RSC500"],
    ]);
    expect(run.stderr).toMatch(/bytes of weights but the shards hold/);
    // Same bytes but weights of other layers: the compiler's weights check, as rsc build --weights.
    const renamed = join(tmp, "renamed");
    mkdirSync(renamed);
    const json = JSON.parse(readFileSync(join(MODEL, "model.json"), "utf8"));
    for (const w of json.weightsManifest[0].weights) w.name = w.name.replace(/^stem\//, "conv1/");
    writeFileSync(join(renamed, "model.json"), JSON.stringify(json));
    copyFileSync(join(MODEL, "group1-shard1of1.bin"), join(renamed, "group1-shard1of1.bin"));
    const run2 = await rsc(["evaluate", renamed, "--data", DATA]);
    expect(run2.code).toBe(1);
    const found = located(run2.stderr);
    expect(found.length).toBe(4);
    expect(found.every((d) => d[0] === join(renamed, "model.json") && d[3] === "RSC401")).toBe(
      true,
    );
    for (const name of ["stem/kernel", "stem/bias", "conv1/kernel", "conv1/bias"])
      expect(run2.stderr).toContain(`'${name}'`);
  });

  it("rejects a missing folder (exit 2) and data that does not fit the model (RSC501)", async () => {
    const missing = await rsc(["evaluate", join(tmp, "nope"), "--data", DATA]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/model folder .*nope: no such folder/);
    const small = join(tmp, "small.h5");
    await writeSignsFile(small, { size: 12 });
    const run = await rsc(["evaluate", MODEL, "--data", small]);
    expect(run.code).toBe(1);
    expect(located(run.stderr)).toEqual([[small, "1", "1", "RSC501"]]);
    expect(run.stderr).toMatch(/'test_set_x' images are 12x12x3 but the model's input is 16x16x3/);
  });
});
