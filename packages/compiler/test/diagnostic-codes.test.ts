/**
 * The diagnostics registry is true: every registered code is emitted by some package's source,
 * and every code is shown to happen by a golden file, so a code cannot be registered and
 * forgotten, nor reused without a fixture noticing.
 *
 * Coverage rule: a code is covered when an expected/golden file under any package's `test/`
 * names it (`"code": "RSCnnn"` in expected JSON, `error RSCnnn:` in expected text). Codes of the
 * compiler's ranges (RSC1xx parse and schema, RSC2xx expansion, RSC3xx shapes) must be covered
 * that way: add a case under `fixtures/_error_/`. Backend and CLI codes (RSC4xx, RSC5xx) come
 * from artifacts, weights and data files that a compile fixture cannot hold, so for them a test
 * file (`*.test.ts`) that asserts the quoted code (`"RSC401"`) also counts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { DIAGNOSTIC_CODES } from "../src/index.js";

const packages = join(import.meta.dirname, "..", "..");

/**
 * Codes registered ahead of the change that emits them, with that change. An entry exempts its
 * code only while no source emits it; delete it once the emitter has landed.
 */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === "node_modules" || e.name === "dist") return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? filesUnder(path) : [path];
  });
}

const packageDirs = readdirSync(packages, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => join(packages, e.name));
const under = (sub: string) =>
  packageDirs.flatMap((p) => {
    try {
      return filesUnder(join(p, sub));
    } catch {
      return [];
    }
  });

/** Codes found by `pattern` (first group) in each file, as code -> files. */
function codesIn(files: readonly string[], pattern: RegExp): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of files) {
    for (const m of readFileSync(file, "utf8").matchAll(pattern)) {
      const list = found.get(m[1]!) ?? [];
      const name = relative(packages, file);
      if (!list.includes(name)) list.push(name);
      found.set(m[1]!, list);
    }
  }
  return found;
}

const registered = Object.keys(DIAGNOSTIC_CODES);
const sources = under("src").filter(
  (f) => f.endsWith(".ts") && !f.endsWith("diagnostics.ts") && !f.includes("generated"),
);
const emitted = codesIn(sources, /"(RSC\d{3})"/g);
const testFiles = under("test");
const goldens = testFiles.filter((f) => /(^|[\\/])expected\.[^\\/]+$|[\\/]golden/.test(f));
const inGoldens = codesIn(goldens, /(?:"code":\s*"|\berror )(RSC\d{3})\b/g);
const inTests = codesIn(
  testFiles.filter((f) => f.endsWith(".test.ts") && !f.endsWith("diagnostic-codes.test.ts")),
  /"(RSC\d{3})"/g,
);

describe("diagnostic codes", () => {
  it("finds the golden files and sources it checks", () => {
    expect(goldens.length).toBeGreaterThan(40);
    expect(sources.length).toBeGreaterThan(40);
  });

  it("registers every code that a source emits or a golden file names", () => {
    const unregistered = [...emitted.keys(), ...inGoldens.keys()].filter(
      (code) => !registered.includes(code),
    );
    expect(unregistered).toEqual([]);
  });

  for (const code of registered) {
    it(`${code} is emitted and has a fixture (${DIAGNOSTIC_CODES[code as keyof typeof DIAGNOSTIC_CODES]})`, () => {
      expect(emitted.has(code), `${code} is registered but no package source emits it`).toBe(true);
      const compilerRange = /^RSC[123]/.test(code);
      const covered = inGoldens.has(code) || (!compilerRange && inTests.has(code));
      expect(
        covered,
        compilerRange
          ? `${code} has no fixture: add packages/compiler/test/fixtures/_error_/<case>/`
          : `${code} has no golden file or test asserting "${code}"`,
      ).toBe(true);
    });
  }
});
