/**
 * The built `rsc` bin run as a real child process (`node packages/cli/bin/rsc.js`; the root
 * `test` script runs `tsc -b` first): exit statuses, what goes to stdout and stderr, JSON
 * envelopes, golden text, and that bad input never shows a stack trace.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expectGolden } from "@rsc/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { bin, type Run, root, rsc as rscProcess } from "./rsc-process.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const tmp = mkdtempSync(join(tmpdir(), "rsc-cli-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Runs `rsc args` from the repository root, colour decided only by `env`: by default neither
 * FORCE_COLOR nor NO_COLOR is set, so colour must be off by itself off a TTY.
 */
function rsc(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return rscProcess(args, { env });
}

/** Writes a spec into the temp folder and returns its path. */
function spec(name: string, text: string | Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

const BAD = `rsc: 1
name: bad
input: { shape: [8, 8, 3] }
layers:
  - conv2d: { name: c1, filters: 4, kernal_size: 3 }
  - dense: { units: 0 }
`;

const RESNET = "specs/resnet50.yaml";

describe.concurrent("rsc check", () => {
  it("says ok with the layer and parameter counts, exit 0, nothing on stdout", async () => {
    const r = await rsc(["check", RESNET]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("specs/resnet50.yaml: ok (177 layers, 23,600,006 params)\n");
  });

  it("checks the three ResNet specs clean in one run", async () => {
    const specs = ["specs/resnet50.yaml", "specs/resnet101.yaml", "specs/resnet18.yaml"];
    const r = await rsc(["check", ...specs]);
    expect(r.code).toBe(0);
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      "specs/resnet50.yaml: ok (177 layers, 23,600,006 params)",
      "specs/resnet101.yaml: ok (347 layers, 44,707,176 params)",
      "specs/resnet18.yaml: ok (87 layers, 11,699,112 params)",
    ]);
  });

  it("prints one JSON envelope with --json", async () => {
    const r = await rsc(["check", "--json", RESNET]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const envelope = JSON.parse(r.stdout);
    expect(envelope).toMatchObject({
      command: "check",
      ok: true,
      diagnostics: [],
      result: { files: [{ file: RESNET, ok: true, layers: 177, params: 23_600_006 }] },
    });
    expect(envelope.result.files[0].hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("reports every error of a bad spec as file:line:col, exit 1, without code frames off a TTY", async () => {
    const bad = spec("check-bad.yaml", BAD);
    const r = await rsc(["check", bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const located = r.stderr.split("\n").filter((l) => l.startsWith(`${bad}:`));
    expect(located.map((l) => /:(\d+):(\d+): error (RSC\d+):/.exec(l)?.slice(1))).toEqual([
      ["5", "37", "RSC105"],
      ["6", "21", "RSC302"],
    ]);
    expect(r.stderr).toContain("2 errors");
    // A code frame is `> 5 | <source line>` plus a caret line: only on a TTY.
    expect(r.stderr).not.toMatch(/^[> ] +\d+ \| /m);
    expect(r.stderr).not.toContain("\u001b[");
  });

  it("checks every file: one bad and one good give exit 1 and both reports", async () => {
    const bad = spec("check-bad-2.yaml", BAD);
    const r = await rsc(["check", bad, RESNET]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:5:37: error RSC105`);
    expect(r.stderr).toContain("specs/resnet50.yaml: ok (177 layers");
  });

  it("gives per-file diagnostics in the JSON envelope", async () => {
    const bad = spec("check-bad-3.yaml", BAD);
    const r = await rsc(["check", "--json", bad, RESNET]);
    expect(r.code).toBe(1);
    const envelope = JSON.parse(r.stdout);
    expect(envelope.ok).toBe(false);
    expect(envelope.diagnostics.map((d: { code: string }) => d.code)).toEqual(["RSC105", "RSC302"]);
    const [badFile, goodFile] = envelope.result.files;
    expect(badFile).toMatchObject({ file: bad, ok: false });
    expect(badFile.diagnostics[0]).toMatchObject({ code: "RSC105", line: 5, column: 37 });
    expect(goodFile).toMatchObject({ file: RESNET, ok: true, diagnostics: [] });
  });

  it("exits 2 for a missing file and still checks the others", async () => {
    const r = await rsc(["check", "specs/no-such-model.yaml", RESNET]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("rsc: error: spec specs/no-such-model.yaml: no such file");
    expect(r.stderr).toContain("specs/resnet50.yaml: ok");
    const json = await rsc(["check", "--json", "specs/no-such-model.yaml"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).result.files[0]).toMatchObject({ ok: false });
  });

  it("exits 2 for a folder given as a spec", async () => {
    const r = await rsc(["check", "specs"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is a directory");
  });

  it("reports binary and empty files as located errors, exit 1", async () => {
    const binary = spec("binary.yaml", new Uint8Array([0, 1, 2, 255, 0]));
    const empty = spec("empty.yaml", "");
    const r = await rsc(["check", "--json", binary, empty]);
    expect(r.code).toBe(1);
    const codes = JSON.parse(r.stdout).diagnostics.map((d: { code: string }) => d.code);
    expect(codes.sort()).toEqual(["RSC100", "RSC102"]);
  });

  it("applies --set, and reports an unknown parameter as a spec error", async () => {
    const r = await rsc(["check", "--json", "--set", "classes=10", RESNET]);
    expect(r.code).toBe(0);
    // fc: 2048 x 10 + 10 instead of 2048 x 6 + 6.
    expect(JSON.parse(r.stdout).result.files[0].params).toBe(23_600_006 + 4 * 2049);
    const unknown = await rsc(["check", "--set", "nosuch=1", RESNET]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("RSC211");
    // Messages read as English: "an int", not "a int".
    const kind = await rsc(["check", "--set", "classes=[1]", RESNET]);
    expect(kind.code).toBe(1);
    expect(kind.stderr).toContain("expected an int like the default, got list");
  });

  it("refuses a malformed --set, unknown flags and missing arguments with exit 2", async () => {
    for (const args of [
      ["check", "--set", "classes", RESNET],
      ["check", "--bogus", RESNET],
      ["check"],
      ["summary"],
      ["frobnicate"],
      [],
    ]) {
      const r = await rsc(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout, args.join(" ")).toBe("");
    }
  });

  it("prints a JSON envelope even for a usage error under --json", async () => {
    const r = await rsc(["summary", "--json", "--bogus", RESNET]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ command: "summary", ok: false });
  });
});

/** util-linux `script` runs a command on a pseudo-terminal: the one way to test TTY output. */
const hasScript = spawnSync("script", ["--version"], { stdio: "ignore" }).status === 0;

describe("on a terminal", () => {
  it.skipIf(!hasScript)("shows a code frame under each diagnostic", () => {
    const bad = spec("tty-bad.yaml", BAD);
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} check --no-color ${JSON.stringify(bad)}`;
    const r = spawnSync("script", ["-qec", command, "/dev/null"], { cwd: root, encoding: "utf8" });
    const text = r.stdout.replace(/\r/g, "");
    expect(r.status).toBe(1);
    expect(text).toContain(
      [
        `${bad}:5:37: error RSC105: unknown key 'kernal_size' in 'conv2d'`,
        "  hint: did you mean 'kernel_size'?",
        "  4 | layers:",
        "> 5 |   - conv2d: { name: c1, filters: 4, kernal_size: 3 }",
        `    | ${" ".repeat(36)}^`,
      ].join("\n"),
    );
  });
});

describe.concurrent("colour", () => {
  const bad = spec("colour-bad.yaml", BAD);
  it("colours diagnostics when forced", async () => {
    const r = await rsc(["check", bad], { FORCE_COLOR: "1" });
    expect(r.stderr).toContain("\u001b[31merror RSC105\u001b[0m");
  });
  it("never colours under NO_COLOR or --no-color", async () => {
    const noColor = await rsc(["check", bad], { FORCE_COLOR: "1", NO_COLOR: "1" });
    const flag = await rsc(["check", "--no-color", bad], { FORCE_COLOR: "1" });
    for (const r of [noColor, flag]) {
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain("\u001b[");
      expect(r.stderr).toContain("error RSC105");
    }
  });
});

describe.concurrent("rsc summary", () => {
  it("matches the golden table for specs/resnet50.yaml", async () => {
    const r = await rsc(["summary", RESNET]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expectGolden(join(fixtures, "summary-resnet50", "expected.txt"), r.stdout);
  });

  it("totals equal Keras's model.summary() for the Coursera ResNet-50", async () => {
    const r = await rsc(["summary", RESNET]);
    expect(r.stdout).toContain('Model: "resnet50"\n');
    expect(r.stdout).toContain("Total params: 23,600,006 (90.03 MB)\n");
    expect(r.stdout).toContain("Trainable params: 23,546,886 (89.82 MB)\n");
    expect(r.stdout).toContain("Non-trainable params: 53,120 (207.50 KB)\n");
    expect(r.stdout).toMatch(
      /^conv1 \(Conv2D\) +\(None, 32, 32, 64\) +9,472 +9,633,792 +zero_padding2d\[0\]\[0\]$/m,
    );
    // 32x32x64 outputs x 3 channels x 7x7 taps above; in total:
    expect(r.stdout).toContain("Total MACs: 308,178,944 (308.18 M)\n");
  });

  it("gives the layer list and totals with --json", async () => {
    const r = await rsc(["summary", "--json", RESNET]);
    expect(r.code).toBe(0);
    const { command, ok, result } = JSON.parse(r.stdout);
    expect([command, ok]).toEqual(["summary", true]);
    expect(result.name).toBe("resnet50");
    expect(result.layers).toHaveLength(177);
    expect(result.totals).toEqual({
      total: 23_600_006,
      trainable: 23_546_886,
      nonTrainable: 53_120,
      totalBytes: 94_400_024,
      trainableBytes: 94_187_544,
      nonTrainableBytes: 212_480,
      macs: 308_178_944,
      activations: 2_819_122,
      activationBytes: 11_276_488,
    });
    expect(result.layers.at(-1)).toEqual({
      name: "fc6",
      type: "Dense",
      op: "dense",
      outputShape: [null, 6],
      params: 12_294,
      trainableParams: 12_294,
      nonTrainableParams: 0,
      macs: 12_288,
      connectedTo: ["flatten[0][0]"],
    });
    const add = result.layers.find((l: { name: string }) => l.name === "add");
    expect(add.connectedTo).toEqual(["bn2a_branch2c[0][0]", "bn2a_branch1[0][0]"]);
  });

  it("renames and resizes the classifier with --set classes=10", async () => {
    const r = await rsc(["summary", "--set", "classes=10", RESNET]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^fc10 \(Dense\) +\(None, 10\) +20,490 +20,480 +flatten\[0\]\[0\]$/m);
    expect(r.stdout).not.toContain("fc6");
    expect(r.stdout).toContain("Total params: 23,608,202 ");
  });

  it("exits 1 with located diagnostics and no table for a bad spec", async () => {
    const bad = spec("summary-bad.yaml", BAD);
    const r = await rsc(["summary", bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${bad}:5:37: error RSC105`);
    const json = await rsc(["summary", "--json", bad]);
    expect(json.code).toBe(1);
    const envelope = JSON.parse(json.stdout);
    expect(envelope).toMatchObject({ command: "summary", ok: false });
    expect(envelope.diagnostics).toHaveLength(2);
  });

  it("exits 2 for a missing spec", async () => {
    const r = await rsc(["summary", "specs/missing.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("rsc: error: spec specs/missing.yaml: no such file\n");
  });
});

describe.concurrent("rsc expand", () => {
  it("prints a canonical spec that compiles to the same graph", async () => {
    const out = join(tmp, "expanded", "resnet50.yaml");
    const r = await rsc(["expand", RESNET, "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    const text = readFileSync(out, "utf8");
    expect(text).toMatch(/^# .*\nrsc: 1\n/);
    expect(text).not.toContain("stage:");
    expect(text).toContain("name: res4f_branch2c");
    const [original, expanded] = await Promise.all([
      rsc(["check", "--json", RESNET]),
      rsc(["check", "--json", out]),
    ]);
    const a = JSON.parse(original.stdout).result.files[0];
    const b = JSON.parse(expanded.stdout).result.files[0];
    expect(b.ok).toBe(true);
    expect(b.hash).toBe(a.hash);
    expect(b.params).toBe(a.params);
  });

  it("prints to stdout, applying --set", async () => {
    const r = await rsc(["expand", "--set", "classes=10", RESNET]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/name: fc10, units: 10\b/);
  });

  it("writes no file for a bad spec, exit 1", async () => {
    const bad = spec("expand-bad.yaml", BAD);
    const out = join(tmp, "expand-bad-out.yaml");
    const r = await rsc(["expand", bad, "-o", out]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });

  it("exits 2 when the output cannot be written", async () => {
    const blocker = spec("not-a-folder", "x");
    const r = await rsc(["expand", RESNET, "-o", join(blocker, "out.yaml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^rsc: error: cannot write /);
  });
});

describe.concurrent("rsc schema", () => {
  it("prints the spec language's JSON Schema", async () => {
    const r = await rsc(["schema"]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.properties.layers).toBeDefined();
    expect(JSON.stringify(schema)).toContain("kernel_size");
  });

  it("writes the same schema with -o", async () => {
    const out = join(tmp, "schema", "rsc.schema.json");
    const [written, printed] = await Promise.all([rsc(["schema", "-o", out]), rsc(["schema"])]);
    expect(written.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(printed.stdout);
  });
});

describe.concurrent("--help and --version", () => {
  it("answers --version on the program and on every command", async () => {
    const { version } = JSON.parse(
      readFileSync(join(root, "packages", "cli", "package.json"), "utf8"),
    );
    for (const args of [
      ["--version"],
      ["check", "--version"],
      ["summary", "-V"],
      ["schema", "--version"],
    ]) {
      const r = await rsc(args);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });

  it("answers --help on the program and on every command", async () => {
    const top = await rsc(["--help"]);
    expect(top.code).toBe(0);
    for (const command of ["check", "summary", "expand", "schema"]) {
      expect(top.stdout).toContain(command);
      const r = await rsc([command, "--help"]);
      expect(r.code, command).toBe(0);
      expect(r.stdout).toContain(`Usage: rsc ${command}`);
      // The schema is never coloured: its --no-color is accepted but not listed (help.test.ts).
      if (command !== "schema") expect(r.stdout).toContain("--no-color");
      if (command !== "schema") expect(r.stdout).toContain("--set <name=value>");
      if (command === "check" || command === "summary") expect(r.stdout).toContain("--json");
    }
  });
});
