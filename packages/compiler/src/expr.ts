/**
 * The interpolation expression language: a small, safe evaluator (no `eval`, no property access).
 *
 * Grammar, loosest first:
 *   expr    = or ["if" or "else" expr]
 *   or      = and {"or" and}        and = not {"and" not}       not = "not" not | cmp
 *   cmp     = sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum]
 *   sum     = term {("+" | "-") term}                term = unary {("*" | "/" | "//" | "%") unary}
 *   unary   = "-" unary | postfix                    postfix = atom {"[" expr "]"}
 *   atom    = number | 'string' | "string" | true | false | identifier | call | "(" expr ")" | "[" [expr {"," expr}] "]"
 *   call    = identifier "(" [expr {"," expr}] ")"     (functions come from the scope: Scope.func)
 * `+` adds numbers, concatenates strings and lists; `//` is floor division; indexes may be negative.
 */

/** A value an expression can produce or a spec parameter can hold. */
export type Value = number | string | boolean | null | readonly Value[];

/** Deepest nesting of one expression (parentheses, brackets, `not`, unary minus, `if`/`else`). */
export const MAX_EXPR_DEPTH = 100;

/**
 * Largest value an expression may make, in units: a string counts its length, a list one plus
 * the sizes of its items, anything else one. `"{l + l}"` doubling through nested templates stops
 * here with a diagnostic instead of exhausting memory.
 */
export const MAX_VALUE_SIZE = 1_000_000;

/**
 * Why an expression failed: an undefined name (RSC202), a value past {@link MAX_VALUE_SIZE}
 * (RSC210) or anything else (RSC203).
 */
export class ExprError extends Error {
  constructor(
    message: string,
    /** `undefined-name` for RSC202, `too-large` for RSC210, `syntax` / `type` for RSC203. */
    readonly kind: "undefined-name" | "syntax" | "type" | "too-large",
    /** The undefined name, for "did you mean" hints. */
    readonly undefinedName?: string,
  ) {
    super(message);
  }
}

/** A function an expression can call, `max(a, b)` or `channels(x)`. */
export interface ExprFunction {
  /**
   * True when a bare name argument (`channels(x)`) names a layer and is passed as its text,
   * not looked up as a value; any other argument expression is evaluated as usual.
   */
  readonly takesLayerName?: boolean;
  /** Computes the result; throws {@link ExprError} (or a caller's own error) for bad arguments. */
  call(args: readonly Value[]): Value;
}

/** Names visible to an expression. */
export interface Scope {
  lookup(name: string): Value | undefined;
  /** Every visible name, for hints. */
  names(): Iterable<string>;
  /** The function called `name`, if any (absent: the scope has no functions). */
  func?(name: string): ExprFunction | undefined;
  /** Every function name, for hints. */
  funcNames?(): Iterable<string>;
}

type Token =
  | { t: "num"; v: number }
  | { t: "str"; v: string }
  | { t: "id"; v: string }
  | { t: "op"; v: string };

const OPERATORS = [
  "//",
  "==",
  "!=",
  "<=",
  ">=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "<",
  ">",
  "(",
  ")",
  "[",
  "]",
  ",",
];

const NUMBER = /(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/y;
const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPACE = /\s/y;

/** The tokens of an expression, in one pass (sticky regexes: linear in the expression's length). */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const at = (re: RegExp, i: number): string | undefined => {
    re.lastIndex = i;
    return re.exec(src)?.[0];
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (at(SPACE, i) !== undefined) {
      i++;
      continue;
    }
    const num = at(NUMBER, i);
    if (num !== undefined) {
      const v = Number(num);
      if (!Number.isFinite(v)) throw new ExprError(`the number ${num} is too large`, "type");
      out.push({ t: "num", v });
      i += num.length;
      continue;
    }
    const id = at(IDENTIFIER, i);
    if (id !== undefined) {
      out.push({ t: "id", v: id });
      i += id.length;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new ExprError(`unterminated string in '${src}'`, "syntax");
      out.push({ t: "str", v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op === undefined) throw new ExprError(`unexpected character '${c}' in '${src}'`, "syntax");
    out.push({ t: "op", v: op });
    i += op.length;
  }
  return out;
}

/** Sizes of lists already measured (lists are immutable, and shared by `l + l`). */
const listSizes = new WeakMap<readonly Value[], number>();

/** The size of a value in the units of {@link MAX_VALUE_SIZE}. */
export function valueSize(v: Value): number {
  if (typeof v === "string") return v.length;
  if (!Array.isArray(v)) return 1;
  let size = listSizes.get(v);
  if (size === undefined) {
    size = 1;
    for (const item of v as readonly Value[]) size += valueSize(item);
    listSizes.set(v, size);
  }
  return size;
}

/** Throws when a value of `size` would be larger than {@link MAX_VALUE_SIZE}. */
export function checkValueSize(size: number): void {
  if (size > MAX_VALUE_SIZE)
    throw new ExprError(
      `a value of size ${size.toLocaleString("en-US")} is larger than the limit of ${MAX_VALUE_SIZE.toLocaleString("en-US")} (characters and list items)`,
      "too-large",
    );
}

/** `v`, unless it is larger than {@link MAX_VALUE_SIZE}. */
function bounded<V extends Value>(v: V): V {
  checkValueSize(valueSize(v));
  return v;
}

/** A number, unless it overflowed to ±Infinity (or became NaN). */
function finite(v: number, src: string): number {
  if (!Number.isFinite(v)) throw new ExprError(`'${src}' gives ${v}, not a finite number`, "type");
  return v;
}

function show(v: Value): string {
  return typeof v === "string"
    ? `'${v}'`
    : Array.isArray(v)
      ? `[${v.map(show).join(", ")}]`
      : String(v);
}

function typeName(v: Value): string {
  return v === null
    ? "null"
    : Array.isArray(v)
      ? "list"
      : typeof v === "number"
        ? Number.isInteger(v)
          ? "int"
          : "float"
        : typeof v === "boolean"
          ? "bool"
          : "str";
}

function truthy(v: Value): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

function equal(a: Value, b: Value): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => equal(x, b[i]!));
  return a === b;
}

/** Evaluates one expression against a scope. Throws {@link ExprError}. */
export function evaluate(src: string, scope: Scope): Value {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (v: string) => {
    const t = peek();
    return t !== undefined && (t.t === "op" || t.t === "id") && t.v === v;
  };
  const expect = (v: string) => {
    if (!isOp(v)) throw new ExprError(`expected '${v}' in '${src}'`, "syntax");
    pos++;
  };
  let depth = 0;
  /** Runs one nested production, at most MAX_EXPR_DEPTH deep. */
  const nested = <T>(f: () => T): T => {
    if (++depth > MAX_EXPR_DEPTH)
      throw new ExprError(`the expression is nested more than ${MAX_EXPR_DEPTH} deep`, "syntax");
    try {
      return f();
    } finally {
      depth--;
    }
  };
  const num = (v: Value, op: string): number => {
    if (typeof v !== "number")
      throw new ExprError(`'${op}' needs numbers, got ${typeName(v)} ${show(v)}`, "type");
    return v;
  };

  const expr = (): Value => nested(exprBody);
  const exprBody = (): Value => {
    const value = or();
    if (!isOp("if")) return value;
    pos++;
    const cond = or();
    expect("else");
    const other = expr();
    return truthy(cond) ? value : other;
  };
  const or = (): Value => {
    let v = and();
    while (isOp("or")) {
      pos++;
      const r = and();
      v = truthy(v) ? v : r;
    }
    return v;
  };
  const and = (): Value => {
    let v = not();
    while (isOp("and")) {
      pos++;
      const r = not();
      v = truthy(v) ? r : v;
    }
    return v;
  };
  const not = (): Value => {
    if (isOp("not")) {
      pos++;
      return !truthy(nested(not));
    }
    return cmp();
  };
  const cmp = (): Value => {
    const a = sum();
    const t = peek();
    if (t?.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.v)) {
      pos++;
      const b = sum();
      if (t.v === "==") return equal(a, b);
      if (t.v === "!=") return !equal(a, b);
      if (typeof a !== typeof b || Array.isArray(a) || Array.isArray(b) || typeof a === "boolean")
        throw new ExprError(`cannot compare ${show(a)} ${t.v} ${show(b)}`, "type");
      const x = a as number | string;
      const y = b as number | string;
      return t.v === "<" ? x < y : t.v === "<=" ? x <= y : t.v === ">" ? x > y : x >= y;
    }
    return a;
  };
  const sum = (): Value => {
    let v = term();
    for (;;) {
      const t = peek();
      if (t?.t !== "op" || (t.v !== "+" && t.v !== "-")) return v;
      pos++;
      const r = term();
      if (t.v === "+" && typeof v === "string" && typeof r === "string") {
        checkValueSize(v.length + r.length);
        v = v + r;
      } else if (t.v === "+" && Array.isArray(v) && Array.isArray(r)) {
        checkValueSize(valueSize(v) + valueSize(r) - 1);
        v = [...v, ...r];
      } else v = finite(t.v === "+" ? num(v, "+") + num(r, "+") : num(v, "-") - num(r, "-"), src);
    }
  };
  const term = (): Value => {
    let v = unary();
    for (;;) {
      const t = peek();
      if (t?.t !== "op" || !["*", "/", "//", "%"].includes(t.v)) return v;
      pos++;
      const a = num(v, t.v);
      const b = num(unary(), t.v);
      if (t.v !== "*" && b === 0) throw new ExprError(`division by zero in '${src}'`, "type");
      v = finite(
        t.v === "*"
          ? a * b
          : t.v === "/"
            ? a / b
            : t.v === "//"
              ? Math.floor(a / b)
              : a - b * Math.floor(a / b),
        src,
      );
    }
  };
  const unary = (): Value => {
    if (isOp("-")) {
      pos++;
      return -num(nested(unary), "-");
    }
    return postfix();
  };
  const postfix = (): Value => {
    let v = atom();
    while (isOp("[")) {
      pos++;
      const index = expr();
      expect("]");
      if (typeof index !== "number" || !Number.isInteger(index))
        throw new ExprError(`an index must be an int, got ${show(index)}`, "type");
      if (!Array.isArray(v) && typeof v !== "string")
        throw new ExprError(`cannot index ${typeName(v)} ${show(v)}`, "type");
      const i = index < 0 ? v.length + index : index;
      const item = v[i];
      if (item === undefined)
        throw new ExprError(`index ${index} is out of range for ${show(v)}`, "type");
      v = item;
    }
    return v;
  };
  const atom = (): Value => {
    const t = tokens[pos++];
    if (t === undefined) throw new ExprError(`unexpected end of expression '${src}'`, "syntax");
    if (t.t === "num" || t.t === "str") return t.v;
    if (t.t === "id") {
      if (t.v === "true" || t.v === "false") return t.v === "true";
      if (["and", "or", "not", "if", "else"].includes(t.v))
        throw new ExprError(`unexpected '${t.v}' in '${src}'`, "syntax");
      if (isOp("(")) return call(t.v);
      const v = scope.lookup(t.v);
      if (v === undefined) throw new ExprError(`'${t.v}' is not defined`, "undefined-name", t.v);
      return v;
    }
    if (t.v === "(") {
      const v = expr();
      expect(")");
      return v;
    }
    if (t.v === "[") {
      const items: Value[] = [];
      if (!isOp("]")) {
        items.push(expr());
        while (isOp(",")) {
          pos++;
          items.push(expr());
        }
      }
      expect("]");
      return bounded(items);
    }
    throw new ExprError(`unexpected '${t.v}' in '${src}'`, "syntax");
  };

  /** `name(args...)`, the `(` next: a bare-name argument of a layer-name function is its text. */
  const call = (name: string): Value => {
    const f = scope.func?.(name);
    if (f === undefined) {
      const known = [...(scope.funcNames?.() ?? [])];
      throw new ExprError(
        `unknown function '${name}'${known.length > 0 ? ` (functions: ${known.join(", ")})` : ""}`,
        "syntax",
      );
    }
    pos++;
    const args: Value[] = [];
    const arg = (): Value => {
      const t = peek();
      const after = tokens[pos + 1];
      if (
        f.takesLayerName &&
        t?.t === "id" &&
        after?.t === "op" &&
        (after.v === ")" || after.v === ",")
      ) {
        pos++;
        return t.v;
      }
      return expr();
    };
    if (!isOp(")")) {
      args.push(arg());
      while (isOp(",")) {
        pos++;
        args.push(arg());
      }
    }
    expect(")");
    return f.call(args);
  };

  if (tokens.length === 0) throw new ExprError("empty expression '{}'", "syntax");
  const value = expr();
  if (pos < tokens.length)
    throw new ExprError(`unexpected '${(tokens[pos] as Token).v}' in '${src}'`, "syntax");
  return value;
}

/** Formats a value for string interpolation: `3`, `a`, `[64, 64, 3]`, `true`. */
export function formatInterpolated(v: Value): string {
  return Array.isArray(v) ? `[${v.map(formatInterpolated).join(", ")}]` : String(v);
}

/** The type name of a value as the spec language spells it: int, float, bool, str, list. */
export { typeName as valueTypeName };

/**
 * Interpolates a string. A string that is exactly one `{expr}` keeps the expression's type;
 * otherwise the parts are formatted and joined. `{{` and `}}` are literal braces.
 */
export function interpolate(s: string, scope: Scope): Value {
  const whole = /^\{([^{}]*)\}$/.exec(s);
  if (whole) return evaluate(whole[1]!, scope);
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "{" && s[i + 1] === "{") {
      out += "{";
      i += 2;
    } else if (c === "}" && s[i + 1] === "}") {
      out += "}";
      i += 2;
    } else if (c === "{") {
      const end = s.indexOf("}", i);
      if (end < 0) throw new ExprError(`unclosed '{' in '${s}'`, "syntax");
      const part = evaluate(s.slice(i + 1, end), scope);
      // Formatting writes every item of a list: measure it before writing it.
      checkValueSize(out.length + valueSize(part));
      out += formatInterpolated(part);
      checkValueSize(out.length);
      i = end + 1;
    } else if (c === "}") {
      throw new ExprError(`unmatched '}' in '${s}' (write '}}' for a literal brace)`, "syntax");
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Escapes braces so a literal string survives interpolation unchanged. */
export function escapeBraces(s: string): string {
  return s.replace(/\{/g, "{{").replace(/\}/g, "}}");
}
