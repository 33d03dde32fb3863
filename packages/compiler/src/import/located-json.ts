/**
 * A JSON reader that remembers where each object and array was written, so an import diagnostic
 * can point at a layer's `{` in a Keras config or a tfjs model.json (file:line:col). Objects are
 * created without a prototype: a `"__proto__"` key is an ordinary key, and no key of an untrusted
 * file can reach `Object.prototype`. Nesting and size are bounded (a config is never deeper than
 * a few dozen levels); malformed text is one error at the place the reader stopped.
 */
import type { SourceLocation } from "../diagnostics.js";

/** A JSON value as read (objects have no prototype). */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object as read: a null-prototype record. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Deepest nesting of arrays and objects read; a Keras config nests about 12 deep per model. */
export const MAX_JSON_DEPTH = 512;

/** A parsed text with the position of every object and array, or the place it went wrong. */
export type LocatedJson =
  | {
      readonly ok: true;
      readonly value: JsonValue;
      /** Where each object or array of `value` starts (its `{` or `[`), 1-based. */
      readonly where: (value: object) => SourceLocation | undefined;
    }
  | { readonly ok: false; readonly message: string; readonly loc: SourceLocation };

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Reads `text` (the file's name is `file`) as JSON with positions. Never throws. */
export function parseLocatedJson(text: string, file: string): LocatedJson {
  const offsets = new WeakMap<object, number>();
  let i = 0;
  const n = text.length;

  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const fail = (message: string, at = i): never => {
    throw new JsonSyntaxError(message, at);
  };
  const describe = (at: number) =>
    at >= n ? "the end of the text" : `'${text.slice(at, at + 1).replace(/[^\x20-\x7e]/, "?")}'`;

  const readString = (): string => {
    const start = i;
    i++; // opening quote
    let out = "";
    let run = i;
    while (true) {
      if (i >= n) fail("unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(run, i);
        i++;
        return out;
      }
      if (c < 0x20) fail("control character in a string (escape it)");
      if (c === 0x5c) {
        out += text.slice(run, i);
        const e = text[i + 1];
        const simple: Record<string, string> = {
          '"': '"',
          "\\": "\\",
          "/": "/",
          b: "\b",
          f: "\f",
          n: "\n",
          r: "\r",
          t: "\t",
        };
        if (e !== undefined && Object.hasOwn(simple, e)) {
          out += simple[e];
          i += 2;
        } else if (e === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape in a string");
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 6;
        } else fail("bad escape in a string");
        run = i;
        continue;
      }
      i++;
    }
  };

  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const readNumber = (): number => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null || m[0] === "-") fail(`unexpected ${describe(i)}`);
    i += m![0].length;
    const value = Number(m![0]);
    // Python's json writes NaN and Infinity bare (not JSON); a finite literal past float range
    // (1e999) has no value either.
    if (!Number.isFinite(value)) fail("number out of range", i - m![0].length);
    return value;
  };

  const readValue = (depth: number): JsonValue => {
    ws();
    if (i >= n) fail("unexpected end of the text");
    const c = text[i]!;
    if (c === "{" || c === "[") {
      if (depth >= MAX_JSON_DEPTH) fail(`nested more than ${MAX_JSON_DEPTH} levels deep`);
      return c === "{" ? readObject(depth + 1) : readArray(depth + 1);
    }
    if (c === '"') return readString();
    if (c === "t" && text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (c === "f" && text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (c === "n" && text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    if (c === "N" && text.startsWith("NaN", i)) fail("NaN is not JSON");
    if (c === "I" && text.startsWith("Infinity", i)) fail("Infinity is not JSON");
    return readNumber();
  };

  const readObject = (depth: number): JsonObject => {
    const obj = Object.create(null) as JsonObject;
    offsets.set(obj, i);
    i++;
    ws();
    if (text[i] === "}") {
      i++;
      return obj;
    }
    while (true) {
      ws();
      if (text[i] !== '"') fail(`expected a key in double quotes, found ${describe(i)}`);
      const key = readString();
      ws();
      if (text[i] !== ":") fail(`expected ':' after the key, found ${describe(i)}`);
      i++;
      obj[key] = readValue(depth);
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        return obj;
      }
      fail(`expected ',' or '}' in an object, found ${describe(i)}`);
    }
  };

  const readArray = (depth: number): JsonValue[] => {
    const arr: JsonValue[] = [];
    offsets.set(arr, i);
    i++;
    ws();
    if (text[i] === "]") {
      i++;
      return arr;
    }
    while (true) {
      arr.push(readValue(depth));
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "]") {
        i++;
        return arr;
      }
      fail(`expected ',' or ']' in an array, found ${describe(i)}`);
    }
  };

  // Lines are counted only when a position is asked for: most texts have no errors.
  let lineStarts: number[] | undefined;
  const locate = (offset: number): SourceLocation => {
    if (lineStarts === undefined) {
      lineStarts = [0];
      for (let k = 0; k < n; k++) if (text.charCodeAt(k) === 0x0a) lineStarts.push(k + 1);
    }
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, column: offset - lineStarts[lo]! + 1 };
  };

  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    const value = readValue(0);
    ws();
    if (i < n) fail(`unexpected ${describe(i)} after the JSON value`);
    return {
      ok: true,
      value,
      where: (v) => {
        const at = offsets.get(v);
        return at === undefined ? undefined : locate(at);
      },
    };
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    return { ok: false, message: error.message, loc: locate(error.offset) };
  }
}
