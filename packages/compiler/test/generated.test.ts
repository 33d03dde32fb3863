/**
 * Generated files must match their sources: src/generated/validators.ts (ajv standalone code of
 * the schema) and schema/spec.schema.json (the published schema for editors). Regenerate both
 * with `UPDATE_GOLDEN=1 npx vitest run packages/compiler`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";
import { specSchema } from "../src/index.js";
import { generateValidatorsSource } from "./support/generate-validators.js";

const update = process.env["UPDATE_GOLDEN"] === "1";
const pkg = join(import.meta.dirname, "..");

function golden(path: string, text: string) {
  if (update || !existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  expect(readFileSync(path, "utf8")).toBe(text);
}

it("src/generated/validators.ts is up to date with schema.ts", () => {
  golden(join(pkg, "src/generated/validators.ts"), generateValidatorsSource());
});

it("schema/spec.schema.json is up to date with schema.ts", () => {
  // Compared as JSON, not text, so biome may format the file.
  const path = join(pkg, "schema/spec.schema.json");
  if (update || !existsSync(path))
    writeFileSync(path, `${JSON.stringify(specSchema(), null, 2)}\n`);
  expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(specSchema());
});
