/** Lexical scopes for interpolation: block params, `names:`, model params, loop variables. */
import type { ExprFunction, Scope, Value } from "./expr.js";
import { BUILTIN_FUNCTIONS } from "./expr-functions.js";

/**
 * A scope with an optional parent; lookups fall through to the parent. Functions too: a scope's
 * own functions, then its parent's, then the built-ins (`max`, `min`).
 */
export class MapScope implements Scope {
  private readonly values = new Map<string, Value>();
  private functions: ReadonlyMap<string, ExprFunction> | undefined;

  constructor(private readonly parent?: Scope) {}

  /** Binds a name in this scope (shadowing the parent's). */
  set(name: string, value: Value): this {
    this.values.set(name, value);
    return this;
  }

  /** Makes `functions` callable in this scope and its children (shadowing the parent's). */
  withFunctions(functions: ReadonlyMap<string, ExprFunction>): this {
    this.functions = functions;
    return this;
  }

  lookup(name: string): Value | undefined {
    return this.values.has(name) ? this.values.get(name) : this.parent?.lookup(name);
  }

  *names(): Iterable<string> {
    yield* this.values.keys();
    if (this.parent) yield* this.parent.names();
  }

  func(name: string): ExprFunction | undefined {
    return (
      this.functions?.get(name) ??
      (this.parent?.func ? this.parent.func(name) : BUILTIN_FUNCTIONS.get(name))
    );
  }

  funcNames(): Iterable<string> {
    const names = new Set<string>(this.functions?.keys());
    for (const n of this.parent?.funcNames?.() ?? BUILTIN_FUNCTIONS.keys()) names.add(n);
    return [...names].sort();
  }
}
