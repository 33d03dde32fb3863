/**
 * The functions every interpolation can call, whatever its scope: `max(...)` and `min(...)`.
 * Layer-shape functions (`channels(x)`, ...) depend on where an expression is written and come
 * from shape-scope.ts through the block's scope.
 */
import { ExprError, type ExprFunction, type Value, valueTypeName } from "./expr.js";

/** The numbers of `max(a, b, ...)` / `max([a, b, ...])`, or a type error naming `fn`. */
function numbers(fn: string, args: readonly Value[]): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly Value[]) : args;
  if (list.length === 0) throw new ExprError(`${fn}() needs at least one number`, "type");
  return list.map((v) => {
    if (typeof v !== "number")
      throw new ExprError(`${fn}() needs numbers, got ${valueTypeName(v)}`, "type");
    return v;
  });
}

/** The built-in functions, by name. */
export const BUILTIN_FUNCTIONS: ReadonlyMap<string, ExprFunction> = new Map([
  ["max", { call: (args: readonly Value[]) => Math.max(...numbers("max", args)) }],
  ["min", { call: (args: readonly Value[]) => Math.min(...numbers("min", args)) }],
]);
