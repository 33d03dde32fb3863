/**
 * Flags are parsed once, when commander reads the command line: every out-of-range, non-integer
 * or unknown value is a usage error (exit 2) naming the flag and what it accepts, never an
 * internal error (exit 3), and it comes before any work (no file read, no model loaded).
 */
import { MAX_SEED } from "@rsc/compiler";
import { describe, expect, it } from "vitest";
import { CliError } from "../src/errors.js";
import { ExitCode } from "../src/exit-codes.js";
import { parseChoice, parseInteger, parseNumber } from "../src/flags.js";
import { rsc } from "./rsc-process.js";

const TINY = "specs/tiny-cnn.yaml";
/** Neither file exists: a flag error must be reported before either is looked at. */
const MODEL = "no-such-model.onnx";
const DATA = "no-such-data.h5";

describe("flag parsers", () => {
  it("take whole numbers in range, and name the flag and the range otherwise", () => {
    const range = { min: 1, max: 10 };
    expect(parseInteger("--n", "7", range)).toBe(7);
    expect(parseInteger("--n", "010", range)).toBe(10);
    for (const bad of ["0", "11", "-1", "1.5", "1e1", " 3", "", "x", "0x5"]) {
      const error = (() => {
        try {
          parseInteger("--n", bad, range);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(ExitCode.UsageError);
      expect((error as CliError).message).toBe(`--n expects an integer from 1 to 10, got '${bad}'`);
    }
    expect(() => parseInteger("--b", "x", { min: 0, max: 5, unit: "bytes" })).toThrow(
      "--b expects an integer from 0 to 5 (bytes), got 'x'",
    );
  });

  it("take one of the words, and list them otherwise", () => {
    expect(parseChoice("--ep", "cpu", ["auto", "cuda", "cpu"])).toBe("cpu");
    expect(() => parseChoice("--ep", "CPU", ["auto", "cuda", "cpu"])).toThrow(
      "--ep expects auto, cuda or cpu, got 'CPU'",
    );
    expect(() => parseChoice("--split", "val", ["test", "train"])).toThrow(
      "--split expects test or train, got 'val'",
    );
  });

  it("take finite numbers that meet the rule", () => {
    const rule = { ok: (n: number) => n > 0, what: "a positive number" };
    expect(parseNumber("--lr", "0.01", rule)).toBe(0.01);
    for (const bad of ["0", "-1", "", "inf", "Infinity", "NaN", "x"])
      expect(() => parseNumber("--lr", bad, rule)).toThrow(
        `--lr expects a positive number, got '${bad}'`,
      );
  });
});

/** Runs rsc and expects a usage error naming the flag and its accepted values. */
async function usageError(args: readonly string[], message: string): Promise<void> {
  const r = await rsc(args);
  expect(r.code, r.stderr).toBe(ExitCode.UsageError);
  expect(r.stderr).toContain(`rsc: error: ${message}`);
}

const SEED = `--seed expects an integer from 0 to ${MAX_SEED}, got '5000000000'`;

describe("bad flag values end in exit 2 with the flag and its range", () => {
  it("--seed beyond 32 bits: run, train and build (run and train used to exit 3)", async () => {
    await Promise.all([
      usageError(["run", MODEL, "--seed", "5000000000"], SEED),
      usageError(["train", TINY, "--data", DATA, "--seed", "5000000000"], SEED),
      usageError(["build", TINY, "-t", "onnx", "--seed", "5000000000"], SEED),
      usageError(
        ["build", TINY, "-t", "onnx", "--seed", "-1"],
        `--seed expects an integer from 0 to ${MAX_SEED}, got '-1'`,
      ),
    ]);
  });

  it("integers out of range or not integers", async () => {
    await Promise.all([
      usageError(["run", MODEL, "--batch", "70000"], "--batch expects an integer from 1 to 65536"),
      usageError(["run", MODEL, "--runs", "2.5"], "--runs expects an integer from 0 to 1000000"),
      usageError(["run", MODEL, "--top", "0"], "--top expects an integer from 1 to 1000000"),
      usageError(
        ["train", TINY, "--data", DATA, "--epochs", "1e3"],
        "--epochs expects an integer from 1 to 1000000, got '1e3'",
      ),
      usageError(
        ["train", TINY, "--data", DATA, "--batch-size", "0"],
        "--batch-size expects an integer from 1 to 65536, got '0'",
      ),
      usageError(
        ["evaluate", "no-such-dir", "--data", DATA, "--batch-size", "x"],
        "--batch-size expects an integer from 1 to 65536, got 'x'",
      ),
      usageError(
        ["build", TINY, "-t", "onnx", "--external-data-threshold", "1.5GB"],
        `--external-data-threshold expects an integer from 0 to ${Number.MAX_SAFE_INTEGER} (bytes), got '1.5GB'`,
      ),
    ]);
  });

  it("numbers that break their rule", async () => {
    await Promise.all([
      usageError(
        ["train", TINY, "--data", DATA, "--lr", "0"],
        "--lr expects a positive number, got '0'",
      ),
      usageError(
        ["train", TINY, "--data", DATA, "--val-split", "1"],
        "--val-split expects a fraction in [0, 1), got '1'",
      ),
    ]);
  });

  it("unknown words of an enumeration", async () => {
    await Promise.all([
      usageError(["build", TINY, "-t", "coreml"], "--target expects onnx or tfjs, got 'coreml'"),
      usageError(
        ["run", MODEL, "--ep", "tpu"],
        "--ep expects auto, cuda, webgpu or cpu, got 'tpu'",
      ),
      usageError(
        ["train", TINY, "--data", DATA, "--runtime", "gpu"],
        "--runtime expects auto, node-gpu, node, webgpu, wasm or cpu, got 'gpu'",
      ),
      usageError(
        ["evaluate", "no-such-dir", "--data", DATA, "--split", "val"],
        "--split expects test or train, got 'val'",
      ),
      usageError(
        ["graph", TINY, "--format", "gif"],
        "--format expects svg, png, dot or mermaid, got 'gif'",
      ),
      usageError(
        ["diff", TINY, TINY, "--fail-on", "names"],
        "--fail-on expects any, weights or io, got 'names'",
      ),
    ]);
  });

  it("gives a --json caller one envelope naming the flag", async () => {
    const r = await rsc(["run", MODEL, "--seed", "5000000000", "--json"]);
    expect(r.code).toBe(ExitCode.UsageError);
    const envelope = JSON.parse(r.stdout);
    expect(envelope).toMatchObject({ command: "run", ok: false, result: { error: SEED } });
  });
});
