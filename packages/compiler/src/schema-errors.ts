/**
 * Turns JSON Schema (ajv) errors into located diagnostics: one per offending value, with the
 * code by keyword (unknown key RSC105 with a "did you mean" hint, missing RSC106, wrong type
 * RSC104, non-positive size RSC302, other range or enum violations RSC107, format version RSC109).
 */
import {
  closest,
  type Diagnostic,
  type DiagnosticCode,
  locatedError,
  type SourceLocation,
} from "./diagnostics.js";

/** The part of an ajv error object the mapping reads. */
export interface SchemaError {
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly keyword: string;
  readonly params: { readonly [k: string]: unknown };
  readonly message?: string;
}

/** How to locate values and which keys were allowed, for one validated document. */
export interface ErrorContext {
  /** The value at a JSON pointer (and its key when it is a mapping entry). */
  locate(pointer: string): { readonly loc: SourceLocation; readonly keyLoc?: SourceLocation };
  /** Keys allowed by the schema at `schemaPath` (of an additionalProperties error), for hints. */
  allowedKeys(schemaPath: string, instancePath: string): readonly string[];
  /** Related notes (template call sites) to attach. */
  readonly related?: Diagnostic["related"];
}

const UMBRELLA = new Set(["anyOf", "oneOf", "if", "then", "else", "$ref"]);

function describe(pointer: string): string {
  if (pointer === "") return "the document";
  const parts = pointer.slice(1).split("/");
  return `'${parts.filter((p) => !/^\d+$/.test(p)).at(-1) ?? parts.at(-1)}'`;
}

/** Maps ajv errors to diagnostics, at most one per value (plus one per unknown or missing key). */
export function mapSchemaErrors(errors: readonly SchemaError[], ctx: ErrorContext): Diagnostic[] {
  const relevant = errors.filter(
    (e) =>
      !UMBRELLA.has(e.keyword) &&
      !/\/anyOf\/1\//.test(e.schemaPath) &&
      !e.schemaPath.endsWith("/anyOf/1"),
  );
  const byPath = new Map<string, SchemaError[]>();
  for (const e of relevant) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const out: Diagnostic[] = [];
  const push = (code: DiagnosticCode, message: string, loc: SourceLocation, hint?: string) =>
    out.push(locatedError(code, message, loc, { hint, related: ctx.related }));
  for (const [path, list] of byPath) {
    const at = ctx.locate(path);
    const seenKeys = new Set<string>();
    let reported = false;
    for (const e of list) {
      if (e.keyword === "additionalProperties") {
        const key = String(e.params["additionalProperty"]);
        if (seenKeys.has(key)) continue;
        seenKeys.add(key);
        const keyAt = ctx.locate(`${path}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`);
        const allowed = ctx.allowedKeys(e.schemaPath, path);
        const guess = closest(key, allowed);
        push(
          "RSC105",
          `unknown key '${key}' in ${describe(path)}`,
          keyAt.keyLoc ?? keyAt.loc,
          guess !== undefined
            ? `did you mean '${guess}'?`
            : allowed.length > 0
              ? `allowed: ${allowed.join(", ")}`
              : undefined,
        );
        reported = true;
      } else if (e.keyword === "required") {
        const key = String(e.params["missingProperty"]);
        if (seenKeys.has(`?${key}`)) continue;
        seenKeys.add(`?${key}`);
        push(
          "RSC106",
          `${describe(path)} is missing the required field '${key}'`,
          at.keyLoc ?? at.loc,
        );
        reported = true;
      }
    }
    if (reported) continue;
    const nonType = list.find((e) => e.keyword !== "type");
    if (nonType === undefined) {
      const types = [...new Set(list.flatMap((e) => String(e.params["type"]).split(",")))];
      const viaInterp = errors.some(
        (e) => e.instancePath === path && /\/anyOf\/1/.test(e.schemaPath),
      );
      push(
        "RSC104",
        `${describe(path)} must be ${types.join(" or ")}${viaInterp ? ' (or an interpolation "{...}")' : ""}`,
        at.loc,
      );
      continue;
    }
    const e = nonType;
    if (e.keyword === "const" && path === "/rsc") {
      push(
        "RSC109",
        `unsupported format version; this compiler reads \`rsc: ${String(e.params["allowedValue"])}\``,
        at.loc,
      );
    } else if (
      (e.keyword === "minimum" && Number(e.params["limit"]) >= 1) ||
      (e.keyword === "exclusiveMinimum" &&
        Number(e.params["limit"]) >= 0 &&
        /size|filters|units|stride|shape|pool/.test(path))
    ) {
      push("RSC302", `${describe(path)} must be positive (${e.message ?? "out of range"})`, at.loc);
    } else if (e.keyword === "enum") {
      const allowed = (e.params["allowedValues"] as unknown[]).map(String);
      push("RSC107", `${describe(path)} must be one of ${allowed.join(", ")}`, at.loc);
    } else if (e.keyword === "minProperties" || e.keyword === "maxProperties") {
      push(
        "RSC104",
        `${describe(path)} must be a mapping with exactly one key (the op, block or keyword)`,
        at.loc,
      );
    } else {
      push("RSC107", `${describe(path)} ${e.message ?? "is not allowed"}`, at.loc);
    }
  }
  return out;
}
