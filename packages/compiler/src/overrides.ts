/**
 * `--set name=value` overrides of a model's top-level params: each value is parsed as a YAML
 * flow value and must have the kind of the parameter's default (an int for an int, a list of
 * strings for a list of strings, ...). Errors are RSC211 at the pseudo-file {@link SET_FILE}.
 */
import { parseDocument } from "yaml";
import { closest, type Diagnostic, locatedError, type SourceLocation } from "./diagnostics.js";
import { type Value, valueTypeName } from "./expr.js";
import type { MapScope } from "./scope.js";

/** The pseudo-file that `--set` diagnostics name. */
const SET_FILE = "--set";

/** A declared top-level parameter: where its key is written and its value before overrides. */
export interface DeclaredParam {
  readonly loc: SourceLocation;
  readonly value: Value;
}

/**
 * Binds each override in `scope`; returns the diagnostics of the ones that name no declared
 * parameter or do not fit its kind (those are left out). `file` is the spec, for hints.
 */
export function applyOverrides(
  set: Readonly<Record<string, string>>,
  declared: ReadonlyMap<string, DeclaredParam>,
  scope: MapScope,
  file: string,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const at = { file: SET_FILE, line: 1, column: 1 };
  for (const [key, text] of Object.entries(set)) {
    const decl = declared.get(key);
    if (decl === undefined) {
      const guess = closest(key, declared.keys());
      diagnostics.push(
        locatedError("RSC211", `--set ${key}: the spec has no parameter '${key}'`, at, {
          hint: guess
            ? `did you mean '${guess}'?`
            : declared.size > 0
              ? `parameters: ${[...declared.keys()].join(", ")}`
              : `${file} declares no params`,
        }),
      );
      continue;
    }
    const v = toValue(parseFlowValue(text));
    const why = v === undefined ? `'${text}' is not a value` : sameKind(decl.value, v);
    if (why !== undefined || v === undefined) {
      diagnostics.push(
        locatedError("RSC211", `--set ${key}=${text}: ${why}`, at, {
          related: [{ ...decl.loc, message: `parameter '${key}' declared here` }],
        }),
      );
      continue;
    }
    scope.set(key, v);
  }
  return diagnostics;
}

/**
 * `--set` text read as YAML, or undefined when it is not clean YAML: any error or warning (an
 * unknown tag such as `!!js/function`, which \`yaml.parse\` would report as a process warning with
 * a stack trace), an alias, or more than one document.
 */
function parseFlowValue(text: string): unknown {
  try {
    const doc = parseDocument(text);
    if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
    return doc.toJS({ maxAliasCount: 0 });
  } catch {
    return undefined;
  }
}

/** A value parsed from `--set` text, if it is one the spec language has. */
function toValue(v: unknown): Value | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (Array.isArray(v)) {
    const items = v.map(toValue);
    return items.every((x) => x !== undefined) ? (items as Value[]) : undefined;
  }
  return undefined;
}

/** `an int`, `a list`: the indefinite article a type name takes. */
function withArticle(type: string): string {
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

/** Checks that an override has the same kind as the parameter's default. */
function sameKind(declared: Value, given: Value): string | undefined {
  const kind = (v: Value) =>
    Array.isArray(v) ? "list" : typeof v === "number" ? "number" : typeof v;
  if (kind(declared) !== kind(given))
    return `expected ${withArticle(valueTypeName(declared))} like the default, got ${valueTypeName(given)}`;
  if (
    typeof declared === "number" &&
    Number.isInteger(declared) &&
    !Number.isInteger(given as number)
  )
    return "expected an int";
  if (Array.isArray(declared) && Array.isArray(given)) {
    const k = declared[0];
    if (k !== undefined && given.some((g) => sameKind(k, g) !== undefined))
      return `expected a list of ${valueTypeName(k)}`;
  }
  return undefined;
}
