/**
 * `rsc train` as a real process on a tiny spec and small HDF5 files made here: the loss falls,
 * the artifacts and the log are saved after every epoch (an interrupted run keeps them), and bad
 * input is a clear error naming the file, with nothing half-written.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileSystemHandler, selectRuntime, tfl } from "@rsc/backend-tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, located, rsc } from "./rsc-process.js";
import { trainTinyArgs, writeSignsFile } from "./train-support.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-train-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DATA = join(tmp, "signs.h5");
const TRAIN = trainTinyArgs(DATA, "--batch-size", "16");

beforeAll(async () => {
  await writeSignsFile(DATA);
});

interface Log {
  runtime: string;
  seed: number;
  complete: boolean;
  spec: { hash: string; name: string };
  data: { file: string; trainExamples: number; validationExamples: number };
  epochs: {
    epoch: number;
    loss: number;
    accuracy: number;
    valLoss?: number;
    valAccuracy?: number;
  }[];
}
const readLog = (dir: string) =>
  JSON.parse(readFileSync(join(dir, "train-log.json"), "utf8")) as Log;

describe("rsc train", () => {
  it("trains a tiny spec with a falling loss and saves a loadable model and its log", async () => {
    const out = join(tmp, "trained");
    const run = await rsc([...TRAIN, "--epochs", "3", "--val-split", "0.25", "-o", out]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^tfjs runtime: wasm \(/m);
    // Not a terminal: Keras's two plain lines per epoch (verbose=2).
    expect(run.stderr.match(/^Epoch \d\/3$/gm)).toHaveLength(3);
    expect(
      run.stderr.match(
        /^\d+\/\d+ - \d+s - \d+ms\/step - accuracy: [\d.]+ - loss: [\d.]+ - val_accuracy: [\d.]+ - val_loss: [\d.]+$/gm,
      ),
    ).toHaveLength(3);
    expect(readdirSync(out).sort()).toEqual([
      "group1-shard1of1.bin",
      "model.json",
      "train-log.json",
    ]);
    const log = readLog(out);
    expect(log).toMatchObject({
      runtime: "wasm",
      seed: 0,
      complete: true,
      spec: { name: "tiny-cnn" },
    });
    expect(log.data).toMatchObject({ file: DATA, trainExamples: 48, validationExamples: 16 });
    expect(log.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(log.epochs[2]!.loss).toBeLessThan(log.epochs[0]!.loss);
    const json = JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
    expect(json.userDefinedMetadata.rsc).toMatchObject({
      spec: "tiny-cnn",
      specHash: log.spec.hash,
      epochs: 3,
    });
    await selectRuntime("cpu");
    const model = await tfl.loadLayersModel(fileSystemHandler(out));
    expect(model.outputs[0]!.shape).toEqual([null, 3]);
    model.dispose();
  });

  it("is deterministic for a seed on the cpu runtime and prints one JSON envelope with --json", async () => {
    const seed3 = ["--epochs", "1", "--seed", "3", "--runtime", "cpu"];
    const a = await rsc([...TRAIN, ...seed3, "-o", join(tmp, "a"), "--json"]);
    const b = await rsc([...TRAIN, ...seed3, "-o", join(tmp, "b")]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const envelope = JSON.parse(a.stdout);
    expect(envelope).toMatchObject({
      command: "train",
      ok: true,
      result: { runtime: "cpu", seed: 3 },
    });
    expect(envelope.result.epochs).toHaveLength(1);
    expect(readFileSync(join(tmp, "a", "group1-shard1of1.bin"))).toEqual(
      readFileSync(join(tmp, "b", "group1-shard1of1.bin")),
    );
  });

  it("keeps every finished epoch when interrupted", async () => {
    const out = join(tmp, "interrupted");
    const child = spawn(process.execPath, [bin, ...TRAIN, "--epochs", "500", "-o", out], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    await new Promise<void>((resolve) => {
      let text = "";
      child.stderr!.on("data", (chunk: Buffer) => {
        text += chunk;
        // "Epoch 3/500" starts once epoch 2 is saved.
        if (/^Epoch 3\/500/m.test(text)) resolve();
      });
    });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("close", resolve));
    const log = readLog(out);
    expect(log.complete).toBe(false);
    expect(log.epochs.length).toBeGreaterThanOrEqual(2);
    expect(readdirSync(out).sort()).toEqual([
      "group1-shard1of1.bin",
      "model.json",
      "train-log.json",
    ]);
    const json = JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
    expect(json.userDefinedMetadata.rsc.epochs).toBe(log.epochs.length);
    // No temporary folder is left beside it by a completed save.
    expect(
      readdirSync(tmp).filter((f) => f.startsWith(".interrupted.tmp") && !f.endsWith("-old"))
        .length,
    ).toBeLessThanOrEqual(1);
  });
});

describe("rsc train: bad input", () => {
  async function expectDataError(
    data: string,
    code: string,
    message: RegExp,
    extra: string[] = [],
  ) {
    const out = join(tmp, `never-${code}-${Math.random().toString(36).slice(2)}`);
    const run = await rsc(trainTinyArgs(data, "--epochs", "1", "-o", out, ...extra));
    expect(run.code).toBe(1);
    expect(located(run.stderr)).toEqual([[data, "1", "1", code]]);
    expect(run.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  }

  it("rejects a file that is not HDF5", async () => {
    const file = join(tmp, "not.h5");
    writeFileSync(file, "train_set_x,train_set_y\n1,2\n");
    await expectDataError(file, "RSC500", /not an HDF5 file/);
  });

  it("rejects a file that lacks a dataset, naming it", async () => {
    const file = join(tmp, "no-labels.h5");
    await writeSignsFile(file, { omit: ["train_set_y"] });
    await expectDataError(
      file,
      "RSC500",
      /lacks the dataset 'train_set_y' \(it has: list_classes, test_set_x, test_set_y, train_set_x\)/,
    );
  });

  it("rejects images of the wrong shape for the spec's input", async () => {
    const file = join(tmp, "small.h5");
    await writeSignsFile(file, { size: 8 });
    await expectDataError(file, "RSC501", /images are 8x8x3 but the model's input is 16x16x3/);
  });

  it("rejects labels outside the class count", async () => {
    const file = join(tmp, "labels.h5");
    await writeSignsFile(file, { labelOffset: 1, labelLayout: "flat" });
    await expectDataError(file, "RSC501", /label 3 at index 2, outside the model's 3 classes/);
  });

  it("fails before training on an unwritable output folder (exit 2)", async () => {
    const blocker = join(tmp, "a-file");
    writeFileSync(blocker, "x");
    const run = await rsc([...TRAIN, "--epochs", "1", "-o", join(blocker, "out")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/rsc: error: cannot write .*a-file\/out: a parent is not a folder/);
    expect(run.stderr).not.toMatch(/^Epoch/m);
  });

  it("refuses a forced runtime that is not installed, and bad flags (exit 2)", async () => {
    const node = await rsc([...TRAIN, "--runtime", "node", "-o", join(tmp, "n")]);
    expect(node.code).toBe(2);
    expect(node.stderr).toMatch(
      /tfjs runtime 'node' is not available: @tensorflow\/tfjs-node is not installed/,
    );
    const epochs = await rsc([...TRAIN, "--epochs", "0"]);
    expect(epochs.code).toBe(2);
    expect(epochs.stderr).toMatch(/--epochs expects an integer from 1 to 1000000, got '0'/);
    expect(existsSync(join(tmp, "n"))).toBe(false);
  });
});
