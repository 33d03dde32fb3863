#!/usr/bin/env node
// A seeded, time-bounded mutation fuzzer over the specs in specs/: each case mutates one spec (or
// the block library), runs the real `rsc` bin on it (check --json, summary, expand, and build for
// the small models) and asserts what rsc promises on untrusted input (docs/reliability.md):
//   - the exit status is 0, 1 or 2, and no command runs past its time limit (a hang);
//   - stderr holds no stack trace and no "internal error";
//   - every diagnostic's file:line:col exists in the file it names;
//   - no temporary or partial file is left beside the output;
//   - `rsc expand` is faithful: the expansion compiles to the same graph (same IR hash).
//
//   node bench/fuzz/fuzz-specs.mjs [--seconds 600] [--seed 1] [--jobs 2] [--findings DIR] [--json]
// Needs the built bin (npx -y pnpm@12.4.2 build). Exit status 1 when any case failed.
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { mutate, random, tokens } from "./mutate.mjs";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "packages/cli/bin/rsc.js");

/** Parses `--name value` flags with defaults. */
function flags(argv) {
  const get = (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  return {
    seconds: Number(get("seconds", "60")),
    seed: Number(get("seed", "1")),
    jobs: Number(get("jobs", "2")),
    findings: get("findings", undefined),
    json: argv.includes("--json"),
    commandTimeoutMs: Number(get("command-timeout", "30")) * 1000,
  };
}

/** Runs the bin; resolves with its exit code (or "hang"/signal), stdout and stderr. */
function rsc(args, cwd, timeoutMs) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out = [];
    const err = [];
    let bytes = 0;
    const keep = (list) => (chunk) => {
      bytes += chunk.length;
      if (bytes < 4 * 2 ** 20) list.push(chunk);
    };
    child.stdout.on("data", keep(out));
    child.stderr.on("data", keep(err));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      done({
        code: hung ? "hang" : (code ?? `signal ${signal}`),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>)$/m;

/** What is wrong with one command's result, as finding classes (empty when all is well). */
function processProblems(command, result) {
  const problems = [];
  if (result.code === "hang") problems.push(`${command}: hang`);
  else if (![0, 1, 2].includes(result.code)) problems.push(`${command}: exit ${result.code}`);
  if (STACK_FRAME.test(result.stderr)) problems.push(`${command}: stack trace`);
  if (/internal error/i.test(result.stderr)) problems.push(`${command}: internal error`);
  return problems;
}

/** Diagnostics whose file:line:col does not exist in the file they name. */
function locationProblems(diagnostics, cwd) {
  const problems = [];
  for (const d of diagnostics) {
    const file = resolve(cwd, d.file);
    if (relative(cwd, file).startsWith("..") || !existsSync(file)) continue;
    const lines = readFileSync(file, "utf8").replace(/\r\n/g, "\n").split("\n");
    const text = lines[d.line - 1];
    if (text === undefined || d.line < 1) problems.push(`${d.code}: line ${d.line} outside file`);
    else if (d.column < 1 || d.column > text.length + 1)
      problems.push(`${d.code}: column ${d.column} outside line ${d.line}`);
  }
  return problems;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Files in `dir` (recursively) that rsc must not leave: temporaries and partial outputs. */
function leftovers(dir, allowed) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => !allowed.some((a) => f === a || f.startsWith(`${a}/`)));
}

/** One worker's project copy: specs/ as in the repository, and an output folder. */
function makeProject() {
  const dir = mkdtempSync(join(tmpdir(), "rsc-fuzz-"));
  cpSync(join(root, "specs"), join(dir, "specs"), { recursive: true });
  mkdirSync(join(dir, "out"));
  return dir;
}

/** The spec files a case may mutate, the models it may run, and the corpus's tokens. */
function corpus() {
  const specs = readdirSync(join(root, "specs"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => `specs/${f}`);
  const libraries = readdirSync(join(root, "specs/blocks")).map((f) => `specs/blocks/${f}`);
  const texts = new Map(
    [...specs, ...libraries].map((f) => [f, readFileSync(join(root, f), "utf8")]),
  );
  const pool = [...new Set([...texts.values()].flatMap(tokens))].filter((t) => /\w/.test(t));
  return { specs, libraries, texts, pool };
}

/** Models small enough to build on every case. */
const SMALL = new Set(["specs/tiny-cnn.yaml", "specs/tiny-branches.yaml", "specs/resnet18.yaml"]);

/** Runs one case; returns its finding classes. */
async function runCase(project, c, rng, options) {
  const mutateLibrary = rng.next() < 0.25;
  const target = mutateLibrary ? rng.pick(c.libraries) : rng.pick(c.specs);
  const model = mutateLibrary ? rng.pick([...SMALL]) : target;
  let text = c.texts.get(target);
  const kinds = [];
  for (let i = 0, n = 1 + rng.int(3); i < n; i++) {
    const m = mutate(text, rng, c.pool);
    text = m.text;
    kinds.push(m.kind);
  }
  writeFileSync(join(project, target), text);
  const problems = [];
  const run = async (command, args) => {
    const result = await rsc(args, project, options.commandTimeoutMs);
    problems.push(...processProblems(command, result));
    return result;
  };
  try {
    const check = await run("check", ["check", model, "--json"]);
    const envelope = parseJson(check.stdout);
    if (check.code === 0 || check.code === 1) {
      if (envelope === undefined) problems.push("check: --json is not JSON");
      else problems.push(...locationProblems(envelope.diagnostics ?? [], project));
    }
    await run("summary", ["summary", model]);
    const expand = await run("expand", ["expand", model]);
    const ok = check.code === 0;
    if (ok && expand.code === 0) {
      const hash = envelope?.result?.files?.[0]?.hash;
      writeFileSync(join(project, "specs/_expanded.yaml"), expand.stdout);
      const again = await run("expand round trip", ["check", "specs/_expanded.yaml", "--json"]);
      const hash2 = parseJson(again.stdout)?.result?.files?.[0]?.hash;
      if (again.code !== 0) problems.push("expand: the expansion does not compile");
      else if (hash !== hash2) problems.push("expand: the expansion compiles to another graph");
      rmSync(join(project, "specs/_expanded.yaml"), { force: true });
    } else if (ok && expand.code !== 0) {
      problems.push("expand: fails on a spec that checks clean");
    }
    if (ok && SMALL.has(model)) {
      const build = await run("build", ["build", model, "--target", "onnx", "-o", "out/m.onnx"]);
      const allowed = build.code === 0 ? ["m.onnx", "m.onnx.data"] : [];
      for (const f of leftovers(join(project, "out"), allowed)) problems.push(`build: left ${f}`);
      rmSync(join(project, "out"), { recursive: true, force: true });
      mkdirSync(join(project, "out"));
    }
  } finally {
    writeFileSync(join(project, target), c.texts.get(target));
  }
  const stray = leftovers(join(project, "specs"), [
    "blocks",
    ...[...c.specs, ...c.libraries].map((f) => relative("specs", f)),
  ]);
  for (const f of stray) problems.push(`left ${f} beside the specs`);
  return { target, model, kinds, text, problems };
}

/** Runs the fuzzer; returns a report. */
export async function fuzz(options) {
  const c = corpus();
  const deadline = performance.now() + options.seconds * 1000;
  const classes = new Map();
  let cases = 0;
  let failed = 0;
  const worker = async (index) => {
    const project = makeProject();
    const rng = random(options.seed * 1000003 + index);
    try {
      while (performance.now() < deadline) {
        const result = await runCase(project, c, rng, options);
        cases++;
        if (result.problems.length === 0) continue;
        failed++;
        for (const p of new Set(result.problems)) {
          const key = p.replace(/\d+/g, "N");
          const entry = classes.get(key) ?? { count: 0, example: undefined };
          entry.count++;
          entry.example ??= { target: result.target, model: result.model, kinds: result.kinds };
          classes.set(key, entry);
          if (options.findings !== undefined && entry.count === 1) {
            mkdirSync(options.findings, { recursive: true });
            const name = `${key.replace(/[^\w]+/g, "-")}.yaml`;
            writeFileSync(join(options.findings, name), result.text);
            entry.example.file = join(options.findings, name);
          }
        }
      }
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  };
  await Promise.all(Array.from({ length: options.jobs }, (_, i) => worker(i)));
  return {
    seed: options.seed,
    seconds: options.seconds,
    cases,
    failed,
    classes: Object.fromEntries([...classes].sort((a, b) => b[1].count - a[1].count)),
  };
}

if (process.argv[1] === import.meta.filename) {
  const options = flags(process.argv.slice(2));
  const report = await fuzz(options);
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(
      `rsc spec fuzzer: seed ${report.seed}, ${report.seconds} s, ${report.cases} cases, ${report.failed} failed`,
    );
    for (const [key, v] of Object.entries(report.classes))
      console.log(
        `  ${String(v.count).padStart(5)}  ${key}  (e.g. ${v.example.target}: ${v.example.kinds.join(", ")}${v.example.file ? ` -> ${v.example.file}` : ""})`,
      );
  }
  process.exitCode = report.failed > 0 ? 1 : 0;
}
