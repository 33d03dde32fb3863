/**
 * Golden files, one rule for every package: the expected file must exist and equal the actual
 * output. A missing expected file is a failure, never written silently; `UPDATE_GOLDEN=1`
 * (re)writes every expected file the run touches, for review in the diff.
 *
 * Layout (CONVENTIONS 7): `test/fixtures/<case>/{spec.yaml, expected.<kind>}`, failing cases under
 * `test/fixtures/_error_/<case>/`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { expect } from "vitest";

/** True when this run refreshes golden files instead of comparing with them. */
export const UPDATE_GOLDEN = process.env["UPDATE_GOLDEN"] === "1";

/** How to refresh golden files, named in every failure. */
const HOW_TO_UPDATE = "UPDATE_GOLDEN=1 npx -y pnpm@12.4.2 test, then review the diff";

/**
 * Asserts that `actual` equals the golden file at `path` (text compared as text, bytes as bytes).
 * With UPDATE_GOLDEN=1 it writes `actual` there instead.
 */
export function expectGolden(path: string, actual: string | Uint8Array): void {
  if (UPDATE_GOLDEN) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) {
    throw new Error(`golden file ${path} is missing (create it with ${HOW_TO_UPDATE})`);
  }
  if (typeof actual === "string") {
    expect(actual, `${path} differs (refresh with ${HOW_TO_UPDATE})`).toBe(
      readFileSync(path, "utf8"),
    );
  } else {
    const expected = new Uint8Array(readFileSync(path));
    expect(
      Buffer.compare(Buffer.from(actual), Buffer.from(expected)) === 0,
      `${path} differs (refresh with ${HOW_TO_UPDATE})`,
    ).toBe(true);
  }
}

/** {@link expectGolden} for JSON values, stored pretty-printed with a final newline. */
export function expectGoldenJson(path: string, actual: unknown): void {
  expectGolden(path, `${JSON.stringify(actual, null, 2)}\n`);
}

/** The case folders under `dir` (sorted), leaving out `_error_` and `_`-prefixed helper folders. */
export function goldenCases(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith("_"))
    .map((d) => d.name)
    .sort();
}
