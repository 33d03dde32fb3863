/**
 * Golden fixtures, run by one glob-driven test: `fixtures/<case>/spec.yaml` must compile, and its
 * graph summary (layer, op, output shape, params) and its warnings, if any (`warnings`, like the
 * error fixtures' diagnostics), must equal `expected.json`;
 * `fixtures/_error_/<case>/spec.yaml` (or `spec.txt` / `spec.bin` for input biome cannot read)
 * must fail with exactly the diagnostics (code, file, line, column, related locations; never
 * message text) in `expected.json`. An optional `options.json` holds CompileOptions (e.g.
 * `{ "set": { "classes": "10" } }`). Other `_`-prefixed folders (`_diff_`) hold other kinds of
 * golden cases and have their own test.
 *
 * A missing expected file fails. Write or refresh the expected files after an intended change
 * with `UPDATE_GOLDEN=1 npx vitest run packages/compiler`, then review the diff.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { expectGoldenJson, goldenCases } from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import {
  type CompileOptions,
  compileFile,
  type Diagnostic,
  graphParamCounts,
  nodeParamCounts,
} from "../src/index.js";

const root = join(import.meta.dirname, "fixtures");

function options(dir: string): CompileOptions {
  const file = join(dir, "options.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as CompileOptions) : {};
}

/**
 * The spec of a case: `spec.yaml`, or the one `spec.*` file for inputs that biome must not parse
 * or format (malformed YAML as `spec.txt`, binary as `spec.bin`).
 */
function specFile(dir: string): string {
  if (existsSync(join(dir, "spec.yaml"))) return join(dir, "spec.yaml");
  const other = readdirSync(dir).find((f) => f.startsWith("spec."));
  if (other === undefined) throw new Error(`${dir}: no spec file`);
  return join(dir, other);
}

const rel = (dir: string, file: string) => (file.startsWith("--") ? file : relative(dir, file));

function summariseDiagnostics(dir: string, diagnostics: readonly Diagnostic[]) {
  return diagnostics.map((d) => ({
    code: d.code,
    file: rel(dir, d.file),
    line: d.line,
    column: d.column,
    ...(d.related?.length
      ? {
          related: d.related.map((r) => ({
            file: rel(dir, r.file),
            line: r.line,
            column: r.column,
          })),
        }
      : {}),
  }));
}

const check = (dir: string, actual: unknown) =>
  expectGoldenJson(join(dir, "expected.json"), actual);

describe("golden fixtures", () => {
  for (const name of goldenCases(root)) {
    it(name, () => {
      const dir = join(root, name);
      const result = compileFile(specFile(dir), options(dir));
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      expect(summariseDiagnostics(dir, errors)).toEqual([]);
      const warnings = summariseDiagnostics(dir, result.diagnostics);
      const graph = result.graph!;
      check(dir, {
        ...(warnings.length > 0 ? { warnings } : {}),
        inputs: graph.inputs,
        outputs: graph.outputs,
        layers: graph.nodes.map((n) => ({
          layer: n.name,
          op: n.op,
          from: n.inputs,
          shape: n.outputShape,
          params: nodeParamCounts(n).total,
        })),
        totals: graphParamCounts(graph),
      });
    });
  }
});

describe("error fixtures", () => {
  const errors = join(root, "_error_");
  for (const name of goldenCases(errors)) {
    it(name, () => {
      const dir = join(errors, name);
      const started = performance.now();
      const result = compileFile(specFile(dir), options(dir));
      const elapsed = performance.now() - started;
      expect(result.graph).toBeUndefined();
      expect(result.diagnostics.length).toBeGreaterThan(0);
      for (const d of result.diagnostics) {
        expect(d.line).toBeGreaterThanOrEqual(1);
        expect(d.column).toBeGreaterThanOrEqual(1);
        expect(d.message.length).toBeGreaterThan(0);
      }
      // Limits are checked before unrolling: huge repeats and alias bombs are refused at once.
      expect(elapsed).toBeLessThan(1000);
      check(dir, summariseDiagnostics(dir, result.diagnostics));
    });
  }
});
