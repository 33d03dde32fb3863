/**
 * Block parameter types: `int`, `float`, `bool`, `str`, `any`, and lists `T[]` or `T[N]`
 * (exactly N items). An int is accepted where a float is expected.
 */
import { type Value, valueTypeName } from "./expr.js";

/** The pattern every type string matches (also used by the JSON Schema). */
export const PARAM_TYPE_PATTERN = "^(int|float|bool|str|any)(\\[\\d*\\])?$";

/** Checks a value against a type string; returns an explanation when it does not fit. */
export function checkParamType(type: string, value: Value): string | undefined {
  const m = /^(int|float|bool|str|any)(?:\[(\d*)\])?$/.exec(type);
  if (m === null) return `unknown type '${type}'`;
  const [, base, count] = m;
  const fits = (v: Value): boolean =>
    base === "any" ||
    (base === "int" && typeof v === "number" && Number.isInteger(v)) ||
    (base === "float" && typeof v === "number") ||
    (base === "bool" && typeof v === "boolean") ||
    (base === "str" && typeof v === "string");
  if (count === undefined)
    return fits(value) ? undefined : `expected ${type}, got ${valueTypeName(value)}`;
  if (!Array.isArray(value)) return `expected a list ${type}, got ${valueTypeName(value)}`;
  if (count !== "" && value.length !== Number(count))
    return `expected ${type} (${count} items), got ${value.length} items`;
  const bad = value.find((v) => !fits(v));
  return bad === undefined
    ? undefined
    : `expected ${type}, got an item of type ${valueTypeName(bad)}`;
}
