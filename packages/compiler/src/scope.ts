/** Lexical scopes for interpolation: block params, `names:`, model params, loop variables. */
import type { Scope, Value } from "./expr.js";

/** A scope with an optional parent; lookups fall through to the parent. */
export class MapScope implements Scope {
  private readonly values = new Map<string, Value>();

  constructor(private readonly parent?: Scope) {}

  /** Binds a name in this scope (shadowing the parent's). */
  set(name: string, value: Value): this {
    this.values.set(name, value);
    return this;
  }

  lookup(name: string): Value | undefined {
    return this.values.has(name) ? this.values.get(name) : this.parent?.lookup(name);
  }

  *names(): Iterable<string> {
    yield* this.values.keys();
    if (this.parent) yield* this.parent.names();
  }
}
