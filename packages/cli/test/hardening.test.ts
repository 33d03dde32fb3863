/**
 * Issue 11, the CLI's part, as real processes: outputs never replace what they must not, weight
 * shards stay inside their folder, everything printed is escaped, `rsc run` and the data reader
 * are bounded, signals and closed pipes end cleanly, and an ONNX model with external data is
 * one artifact. Exit statuses: 0, 1 (located errors), 2 (usage, I/O), 130/143 (signals); never 3.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { onnx } from "@rsc/backend-onnx";
import { ort } from "@rsc/backend-onnx/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bin, located, root, rsc } from "./rsc-process.js";
import { TINY_CNN, trainTinyArgs, writeSignsFile } from "./train-support.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-hardening-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const DATA = join(tmp, "signs.h5");
beforeAll(async () => {
  await writeSignsFile(DATA);
});

/** A fresh folder under the test's temporary folder. */
function folder(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Everything in `dir` whose name marks an rsc temp or lock. */
const leftovers = (dir: string) => readdirSync(dir).filter((f) => /\.(tmp-|lock)/.test(f));

/** The raw control characters that must never be printed. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

function waitFor(condition: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error("timed out"));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

function finished(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr })));
}

describe("outputs never replace what they must not", () => {
  it("-o refuses a device, a FIFO, a folder and the input spec itself (exit 2, nothing changed)", async () => {
    const dir = folder("outputs");
    const spec = join(dir, "spec.yaml");
    writeFileSync(spec, readFileSync(TINY_CNN));
    mkdirSync(join(dir, "blocks"));
    writeFileSync(
      join(dir, "blocks", "resnet.yaml"),
      readFileSync(join(root, "specs", "blocks", "resnet.yaml")),
    );
    const fifo = join(dir, "pipe.svg");
    execFileSync("mkfifo", [fifo]);
    mkdirSync(join(dir, "folder.onnx"));
    for (const args of [
      ["graph", spec, "--format", "dot", "-o", "/dev/null"],
      ["graph", spec, "-o", fifo],
      ["expand", spec, "-o", spec],
      ["build", spec, "-t", "onnx", "-o", spec],
      ["build", spec, "-t", "onnx", "-o", join(dir, "folder.onnx")],
    ]) {
      const run = await rsc(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(
        /rsc: error: cannot write .*: it is (a device|a FIFO|a folder|an input)/,
      );
    }
    expect(statSync("/dev/null").isCharacterDevice()).toBe(true);
    expect(statSync(fifo).isFIFO()).toBe(true);
    expect(readFileSync(spec, "utf8")).toBe(readFileSync(TINY_CNN, "utf8"));
    expect(readdirSync(dir).sort()).toEqual(["blocks", "folder.onnx", "pipe.svg", "spec.yaml"]);
  });

  it("--target tfjs -o DIR never deletes files it did not write; replaces its own output", async () => {
    const out = folder("tfjs-out");
    writeFileSync(join(out, "notes.txt"), "mine");
    const refused = await rsc(["build", TINY_CNN, "-t", "tfjs", "-o", out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("it is not empty and not an rsc output (it holds notes.txt)");
    expect(readdirSync(out)).toEqual(["notes.txt"]);

    rmSync(join(out, "notes.txt"));
    expect((await rsc(["build", TINY_CNN, "-t", "tfjs", "-o", out, "--seed", "1"])).code).toBe(0);
    // A previous rsc output is replaced whole.
    expect((await rsc(["build", TINY_CNN, "-t", "tfjs", "-o", out, "--seed", "2"])).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["group1-shard1of1.bin", "model.json"]);
    expect(leftovers(tmp)).toEqual([]);
  });
});

describe("weight shards stay inside the model folder", () => {
  /** A tfjs folder of tiny-cnn built by rsc, copied to `name`, with `shard` replaced by `make`. */
  async function tampered(name: string, make: (shard: string) => void): Promise<string> {
    const dir = join(tmp, name);
    expect((await rsc(["build", TINY_CNN, "-t", "tfjs", "-o", dir])).code).toBe(0);
    const shard = join(dir, "group1-shard1of1.bin");
    rmSync(shard);
    make(shard);
    return dir;
  }
  const buildWith = (weights: string) =>
    rsc(["build", TINY_CNN, "-t", "onnx", "-o", join(tmp, "never.onnx"), "--weights", weights]);

  it("refuses a shard that is a symlink out of the folder, a FIFO or /dev/zero, for build and evaluate", async () => {
    const passwd = await tampered("to-passwd", (shard) => symlinkSync("/etc/passwd", shard));
    const zero = await tampered("to-zero", (shard) => symlinkSync("/dev/zero", shard));
    const fifo = await tampered("fifo", (shard) => execFileSync("mkfifo", [shard]));
    for (const dir of [passwd, zero]) {
      const run = await buildWith(dir);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/weight shard .*: leads out of the model folder/);
      const evaluate = await rsc(["evaluate", dir, "--data", DATA]);
      expect(evaluate.code).toBe(2);
      expect(evaluate.stderr).toMatch(/leads out of the model folder/);
    }
    const run = await buildWith(fifo);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/weight shard .*: is not a regular file/);
    expect(existsSync(join(tmp, "never.onnx"))).toBe(false);
  });

  it("refuses /dev/zero as model.json and checks shard sizes before reading", async () => {
    const devZero = await buildWith("/dev/zero");
    expect(devZero.code).toBe(2);
    expect(devZero.stderr).toContain("weights file /dev/zero: is not a regular file");
    // A sparse 64 GB shard: refused by its size, never read.
    const huge = await tampered("huge", (shard) => {
      writeFileSync(shard, "");
      truncateSync(shard, 64 * 2 ** 30);
    });
    const started = Date.now();
    const run = await buildWith(huge);
    expect(run.code).toBe(1);
    expect(located(run.stderr)[0]?.[3]).toBe("RSC500");
    expect(run.stderr).toMatch(
      /the manifest describes \d+ bytes of weights but the shards hold 68719476736/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("everything printed is escaped", () => {
  it("escapes ESC/OSC, C1, U+2028 and newlines from paths and spec text, in text and JSON", async () => {
    const dir = folder("escapes");
    const name = join(dir, "evil\u001b]0;pwned\u0007\u009b2J\u2028x\ny.yaml");
    writeFileSync(
      name,
      "rsc: 1\nname: m\ninput: { shape: [4] }\nlayers:\n  - dense: { units: 0, nam\u001b[31me: 1 }\n",
    );
    for (const args of [
      ["check", name],
      ["summary", name],
      ["check", `${name}-missing`],
    ]) {
      const text = await rsc(args);
      expect(text.code).toBeGreaterThan(0);
      expect(text.code).toBeLessThan(3);
      expect(text.stderr).not.toMatch(RAW_CONTROL);
      expect(text.stderr).toContain("evil\\u001b]0;pwned\\u0007\\u009b2J\\u2028x\\ny.yaml");
      const json = await rsc([...args, "--json"]);
      expect(json.stdout).not.toMatch(RAW_CONTROL);
      // The compiler escapes its diagnostics' text at the source (a literal `\u001b` in the
      // value); the CLI's own messages keep the character, which JSON escapes. Either way no raw
      // control character reaches the terminal, and the name stays recognisable.
      const envelope = JSON.stringify(JSON.parse(json.stdout));
      expect(envelope).toMatch(/evil\\(\\)?u001b\]0;pwned/);
    }
  });
});

describe("rsc run and the data reader are bounded", () => {
  it("refuses a batch whose input exceeds 1 GiB, before allocating it (exit 2)", async () => {
    const model = join(tmp, "wide.onnx");
    const build = await rsc([
      "build",
      TINY_CNN,
      "-t",
      "onnx",
      "-o",
      model,
      "--set",
      "input_shape=[256, 256, 3]",
    ]);
    expect(build.code).toBe(0);
    const run = await rsc(["run", model, "--ep", "cpu", "--batch", "65536"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /--batch 65536 makes 48\.0 GiB of input, more than rsc run's 1\.0 GiB/,
    );
    const caps = await rsc(["run", model, "--batch", "100000000", "--threads", "99999"]);
    expect(caps.code).toBe(2);
  });

  it("reports a truncated HDF5 file in one line naming it, with nothing from libhdf5", async () => {
    const truncated = join(tmp, "truncated.h5");
    writeFileSync(truncated, readFileSync(DATA).subarray(0, 3000));
    const run = await rsc(trainTinyArgs(truncated, "--epochs", "1", "-o", join(tmp, "never")));
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(/HDF5-DIAG|#000|major:|name not defined/);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(2);
    expect(located(run.stderr)).toEqual([[truncated, "1", "1", "RSC500"]]);
    expect(run.stderr).toContain("cannot be read as HDF5 (corrupt or truncated?)");
  });

  it("refuses labels that would wrap through int32, naming the index and the value", async () => {
    const wide = join(tmp, "wide-labels.h5");
    await writeSignsFile(wide, { labelOffset: 2 ** 32 + 3, labelLayout: "flat" });
    const run = await rsc(trainTinyArgs(wide, "--epochs", "1", "-o", join(tmp, "never")));
    expect(run.code).toBe(1);
    expect(located(run.stderr)).toEqual([[wide, "1", "1", "RSC501"]]);
    expect(run.stderr).toContain("'train_set_y' has label 4294967299 at index 0");
  });
});

describe("signals and closed pipes", () => {
  it("SIGINT/SIGTERM during a build remove its temps, say what was kept, exit 130/143", async () => {
    for (const [signal, status] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      const dir = folder(`signal-${signal}`);
      const out = join(dir, "model.onnx");
      // Another (live) process holds the commit lock: the build waits there with its temps written.
      mkdirSync(join(dir, ".model.onnx.lock"));
      writeFileSync(
        join(dir, ".model.onnx.lock", "owner"),
        JSON.stringify({ pid: process.pid, host: hostname() }),
      );
      const child = spawn(
        process.execPath,
        [
          bin,
          "build",
          TINY_CNN,
          "-t",
          "onnx",
          "-o",
          out,
          "--external-data-threshold",
          "0",
          "--set",
          "classes=40",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      const done = finished(child);
      await waitFor(() => readdirSync(dir).filter((f) => f.includes(".tmp-")).length === 2);
      child.kill(signal);
      const { code, stderr } = await done;
      expect(code).toBe(status);
      expect(stderr).toBe(`rsc: interrupted by ${signal}: nothing was written\n`);
      expect(readdirSync(dir)).toEqual([".model.onnx.lock"]);
    }
  });

  it("SIGINT during rsc train keeps the last finished epoch and says so", async () => {
    const out = join(tmp, "train-interrupted");
    const child = spawn(
      process.execPath,
      [bin, ...trainTinyArgs(DATA, "--epochs", "500", "-o", out)],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let text = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      text += chunk;
    });
    const done = new Promise<number | null>((resolve) => child.on("close", resolve));
    await waitFor(() => /^Epoch 3\/500/m.test(text), 60_000);
    child.kill("SIGINT");
    expect(await done).toBe(130);
    const log = JSON.parse(readFileSync(join(out, "train-log.json"), "utf8"));
    const last = text.trimEnd().split("\n").at(-1);
    expect(last).toBe(
      `rsc: interrupted by SIGINT: ${out} holds the model after epoch ${log.epochs.length} of 500 (see its train-log.json)`,
    );
    expect(leftovers(tmp)).toEqual([]);
  });

  const hasScript = (() => {
    try {
      execFileSync("script", ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasScript)(
    "Ctrl-C on a terminal shows the cursor again after the progress bar",
    async () => {
      const out = join(tmp, "train-tty");
      const command = [process.execPath, bin, ...trainTinyArgs(DATA, "--epochs", "500", "-o", out)]
        .map((a) => `'${a}'`)
        .join(" ");
      // `script` gives rsc a terminal; ^C typed on it is SIGINT to rsc.
      const child = spawn("script", ["-qec", command, "/dev/null"], {
        stdio: ["pipe", "pipe", "ignore"],
        env: { ...process.env, NO_COLOR: "1" },
      });
      let text = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        text += chunk;
      });
      const done = new Promise<number | null>((resolve) => child.on("close", resolve));
      await waitFor(() => /Epoch 3\/500/.test(text), 60_000);
      child.stdin!.write("\u0003");
      expect(await done).toBe(130);
      expect(text).toContain("\u001b[?25l");
      expect(text.lastIndexOf("\u001b[?25h")).toBeGreaterThan(text.lastIndexOf("\u001b[?25l"));
      expect(text).toMatch(/rsc: interrupted by SIGINT: .* holds the model after epoch \d+ of 500/);
    },
  );

  it("ends quietly with exit 0 when the pipe it prints to closes", async () => {
    const child = spawn(process.execPath, [bin, "graph", "specs/resnet101.yaml"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.once("data", () => child.stdout!.destroy());
    const { code, stderr } = await finished(child);
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });
});

describe("an ONNX model with external data is one artifact", () => {
  const ARGS = ["--external-data-threshold", "0", "--set", "classes=40"];
  const seedOf = (model: string) =>
    onnx.ModelProto.decode(readFileSync(model)).metadataProps!.find((p) => p.key === "rsc.seed")
      ?.value;

  it("a failed build leaves neither file (the .onnx path is a folder)", async () => {
    const dir = folder("failed-pair");
    mkdirSync(join(dir, "model.onnx"));
    const run = await rsc([
      "build",
      TINY_CNN,
      "-t",
      "onnx",
      "-o",
      join(dir, "model.onnx"),
      ...ARGS,
    ]);
    expect(run.code).toBe(2);
    expect(readdirSync(dir)).toEqual(["model.onnx"]);
  });

  it("two racing builds of different seeds leave a model and the data of the same build", async () => {
    const dir = folder("race");
    const references = new Map<string, Buffer>();
    for (const seed of ["1", "2"]) {
      const ref = join(dir, `ref-${seed}.onnx`);
      expect(
        (await rsc(["build", TINY_CNN, "-t", "onnx", "-o", ref, "--seed", seed, ...ARGS])).code,
      ).toBe(0);
      references.set(seed, readFileSync(`${ref}.data`));
    }
    expect(references.get("1")).not.toEqual(references.get("2"));
    const out = join(dir, "model.onnx");
    for (let round = 0; round < 4; round++) {
      const runs = await Promise.all(
        ["1", "2", "1", "2"].map((seed) =>
          rsc(["build", TINY_CNN, "-t", "onnx", "-o", out, "--seed", seed, ...ARGS]),
        ),
      );
      expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
      const seed = seedOf(out)!;
      expect(readFileSync(`${out}.data`)).toEqual(references.get(seed));
      const session = await ort().InferenceSession.create(out);
      await session.release();
    }
    expect(leftovers(dir)).toEqual([]);
  });
});
