/**
 * Generated files must match their sources: src/generated/validators.ts (ajv standalone code of
 * the schema) and schema/spec.schema.json (the published schema for editors; biome leaves both
 * alone, so they are compared as text). A missing one fails; regenerate both with
 * `UPDATE_GOLDEN=1 npx vitest run packages/compiler`.
 */
import { join } from "node:path";
import { expectGolden, expectGoldenJson } from "@rsc/test-support";
import { it } from "vitest";
import { specSchema } from "../src/index.js";
import { generateValidatorsSource } from "./support/generate-validators.js";

const pkg = join(import.meta.dirname, "..");

it("src/generated/validators.ts is up to date with schema.ts", () => {
  expectGolden(join(pkg, "src/generated/validators.ts"), generateValidatorsSource());
});

it("schema/spec.schema.json is up to date with schema.ts", () => {
  expectGoldenJson(join(pkg, "schema/spec.schema.json"), specSchema());
});
