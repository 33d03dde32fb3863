/**
 * Every op of the registry has a fixture: some golden case `test/fixtures/<case>/spec.yaml`
 * (run by fixtures.test.ts against its expected.json) compiles to a graph with a node of that op.
 * A new op therefore comes with a fixture case (or a layer in an existing one). Each backend
 * checks its own lowering table against OP_NAMES in its package's tests.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { goldenCases } from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import { type CompileOptions, compileFile, OP_NAMES, type OpName } from "../src/index.js";

const root = join(import.meta.dirname, "fixtures");

function options(dir: string): CompileOptions {
  const file = join(dir, "options.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as CompileOptions) : {};
}

/** The fixture cases using each op. */
function fixturesByOp(): Map<OpName, string[]> {
  const byOp = new Map<OpName, string[]>();
  for (const name of goldenCases(root)) {
    const dir = join(root, name);
    const graph = compileFile(join(dir, "spec.yaml"), options(dir)).graph;
    for (const op of new Set(graph?.nodes.map((n) => n.op) ?? [])) {
      byOp.set(op, [...(byOp.get(op) ?? []), name]);
    }
  }
  return byOp;
}

describe("op fixtures", () => {
  const byOp = fixturesByOp();
  it.each(OP_NAMES)("%s is used by a golden fixture", (op) => {
    expect(byOp.get(op) ?? [], `no test/fixtures/<case>/spec.yaml uses op '${op}'`).not.toEqual([]);
  });
});
