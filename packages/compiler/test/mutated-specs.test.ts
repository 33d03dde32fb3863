/**
 * Properties over mutated specs (issue 11, items 5, 8 and 9), in-process, seeded and bounded:
 * the spec fuzzer's mutations (bench/fuzz/mutate.mjs) applied to specs/*.yaml and
 * specs/blocks/*.yaml, each mutated spec compiled, and for every result:
 *   - every diagnostic's position (and every related one) exists in the file it names;
 *   - every diagnostic's text is safe to print (no control characters, no line separators);
 *   - a spec that compiles is faithfully expanded: its `rsc expand` text compiles to the same
 *     graph (same canonical hash) and the same model name.
 * A failure names the seed, the case and the mutations, so it can be replayed.
 */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript shared with the fuzzer, without type declarations
import { mutate, random, tokens } from "../../../bench/fuzz/mutate.mjs";
import {
  compileFile,
  compileSource,
  type Diagnostic,
  expandToSpec,
  graphHash,
} from "../src/index.js";

/** Replay or explore another seed with RSC_MUTATION_SEED=n. */
const SEED = Number(process.env["RSC_MUTATION_SEED"] ?? 11);
const CASES = 1_000;
const BUDGET_MS = 8_000;

const repo = resolve(import.meta.dirname, "../../..");
const project = mkdtempSync(join(tmpdir(), "rsc-mutated-"));
cpSync(join(repo, "specs"), join(project, "specs"), { recursive: true });
afterAll(() => rmSync(project, { recursive: true, force: true }));

const models = readdirSync(join(repo, "specs"))
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => `specs/${f}`);
const libraries = readdirSync(join(repo, "specs/blocks"))
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => `specs/blocks/${f}`);
const texts = new Map(
  [...models, ...libraries].map((f) => [f, readFileSync(join(repo, f), "utf8")]),
);
const pool = [...new Set([...texts.values()].flatMap(tokens))].filter((t) => /\w/.test(t));

/** What the tests print and check: characters a terminal could act on. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Why a position does not exist in its file (undefined when it does, or is not a file). */
function badPosition(at: { file: string; line: number; column: number }): string | undefined {
  if (at.file.startsWith("--") || !existsSync(at.file)) return undefined;
  const lines = readFileSync(at.file, "utf8").replace(/\r\n/g, "\n").split("\n");
  const text = lines[at.line - 1];
  if (text === undefined || at.line < 1) return `line ${at.line} outside the file`;
  if (at.column < 1 || at.column > text.length + 1)
    return `column ${at.column} outside line ${at.line}`;
  return undefined;
}

/** The problems of one compiled case. */
function problems(diagnostics: readonly Diagnostic[]): string[] {
  const found: string[] = [];
  for (const d of diagnostics) {
    for (const at of [d, ...(d.related ?? [])]) {
      const bad = badPosition(at);
      if (bad !== undefined) found.push(`${d.code} at ${at.file}: ${bad}`);
    }
    for (const text of [
      d.message,
      d.hint ?? "",
      d.file,
      ...(d.related ?? []).map((r) => r.message),
    ])
      if (UNSAFE.test(text)) found.push(`${d.code}: unsafe text ${JSON.stringify(text)}`);
  }
  return found;
}

interface Case {
  readonly index: number;
  readonly target: string;
  readonly model: string;
  readonly kinds: string[];
  readonly compiled: boolean;
  readonly problems: string[];
}

/** Runs the seeded cases until CASES or the time budget; returns them. */
function runCases(): Case[] {
  const rng = random(SEED);
  const deadline = performance.now() + BUDGET_MS;
  const cases: Case[] = [];
  for (let index = 0; index < CASES && performance.now() < deadline; index++) {
    const library = rng.next() < 0.25;
    const target: string = library ? rng.pick(libraries) : rng.pick(models);
    const model: string = library ? rng.pick(models) : target;
    let text = texts.get(target)!;
    const kinds: string[] = [];
    for (let i = 0, n = 1 + rng.int(3); i < n; i++) {
      const m = mutate(text, rng, pool);
      text = m.text;
      kinds.push(m.kind);
    }
    writeFileSync(join(project, target), text);
    try {
      const result = compileFile(join(project, model));
      const found = problems(result.diagnostics);
      if (result.graph !== undefined && result.info !== undefined) {
        const expanded = expandToSpec(result.graph, { seed: result.info.seed });
        const file = join(project, "specs/_expanded.yaml");
        writeFileSync(file, expanded);
        const again = compileSource(expanded, file);
        if (again.graph === undefined)
          found.push(
            `expand: the expansion does not compile: ${again.diagnostics.map((d) => `${d.code} ${d.line}:${d.column} ${d.message}`).join("; ")}`,
          );
        else {
          if (graphHash(again.graph) !== result.info.hash)
            found.push("expand: the expansion compiles to another graph");
          if (again.graph.name !== result.graph.name)
            found.push(
              `expand: model name ${JSON.stringify(again.graph.name)} is not ${JSON.stringify(result.graph.name)}`,
            );
        }
      }
      cases.push({
        index,
        target,
        model,
        kinds,
        compiled: result.graph !== undefined,
        problems: found,
      });
    } finally {
      writeFileSync(join(project, target), texts.get(target)!);
    }
  }
  return cases;
}

describe(`mutated specs (seed ${SEED})`, () => {
  const cases: Case[] = [];
  beforeAll(() => {
    cases.push(...runCases());
  });

  it("ran enough cases, some of which compile", () => {
    expect(cases.length).toBeGreaterThan(20);
    expect(cases.some((c) => c.compiled)).toBe(true);
    expect(cases.some((c) => !c.compiled)).toBe(true);
  });

  it("report positions inside their files, in safe text, and expand faithfully", () => {
    const failed = cases
      .filter((c) => c.problems.length > 0)
      .map(
        (c) =>
          `case ${c.index} (${c.target}: ${c.kinds.join(", ")}; compiled ${c.model}): ${c.problems.join(" | ")}`,
      );
    expect(failed).toEqual([]);
  });
});

describe("rsc expand writes any name back", () => {
  it("keeps braces, quotes, controls and separators in model and layer names", () => {
    const names = [
      "a{b}",
      'q"uote\\',
      "tab\there",
      "esc\u001b[2J",
      "line\u2028sep",
      "nel\u0085",
      "true",
      "1e3",
    ];
    const layers = names
      .map(
        (n, i) =>
          `  - dense: { name: ${JSON.stringify(n.replace(/[{}]/g, (c) => c + c))}, units: ${i + 1} }`,
      )
      .join("\n");
    const text = `rsc: 1\nname: "m{x}\\u2029"\ninput: { shape: [4] }\nlayers:\n${layers}\n`;
    const first = compileSource(text, join(project, "specs/names.yaml"));
    expect(first.diagnostics).toEqual([]);
    expect(first.graph!.nodes.slice(1).map((n) => n.name)).toEqual(names);
    const again = compileSource(expandToSpec(first.graph!), join(project, "specs/names2.yaml"));
    expect(again.diagnostics).toEqual([]);
    expect(again.graph!.name).toBe("m{x}\u2029");
    expect(graphHash(again.graph!)).toBe(first.info!.hash);
  });
});
