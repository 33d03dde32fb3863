/**
 * docs/spec-language.md's op table is generated from the registry (ops/op-table.ts): this test
 * fails when the doc's table differs, and `UPDATE_GOLDEN=1` rewrites the table in place (the
 * rest of the doc is left as it is).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UPDATE_GOLDEN } from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import { opTableMarkdown } from "../src/ops/op-table.js";

const doc = join(import.meta.dirname, "../../../docs/spec-language.md");
const BEGIN = /<!-- op-table: [^\n]*-->\n/;
const END = "<!-- op-table:end -->";

/** The doc split around its generated table: [before, table, after]. */
function splitDoc(text: string): [string, string, string] {
  const begin = BEGIN.exec(text);
  const end = text.indexOf(END);
  if (begin === null || end < begin.index) throw new Error(`${doc}: no op-table markers`);
  const tableStart = begin.index + begin[0].length;
  return [text.slice(0, tableStart), text.slice(tableStart, end), text.slice(end)];
}

describe("docs op table", () => {
  it("docs/spec-language.md's op table is the registry's", () => {
    const [before, table, after] = splitDoc(readFileSync(doc, "utf8"));
    const generated = opTableMarkdown();
    if (UPDATE_GOLDEN) {
      writeFileSync(doc, before + generated + after);
      return;
    }
    expect(
      table,
      "docs/spec-language.md's op table differs from the registry (refresh with UPDATE_GOLDEN=1)",
    ).toBe(generated);
  });
});
