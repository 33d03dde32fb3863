/**
 * Parse: bytes -> a located tree ({@link LNode}) plus diagnostics. Refuses binary files, empty
 * files, alias bombs and prototype-polluting keys before anything else sees the document.
 */
import {
  Composer,
  CST,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  Parser,
  YAMLParseError,
} from "yaml";
import {
  type Diagnostic,
  type DiagnosticCode,
  locatedError,
  type SourceLocation,
} from "./diagnostics.js";
import type { LEntry, LNode } from "./located.js";

/** Most aliases (`*name`) one document may use; more is treated as an alias bomb. */
const MAX_ALIASES = 100;

/** Most values that aliases may expand to, in one document. */
export const MAX_ALIAS_VALUES = 100_000;

/**
 * Most values (scalars, keys, collections and sequence items, as the YAML lexer counts them) one
 * document may have, counted before it is parsed: 20 per layer at the 100,000-layer limit, so a
 * model written out layer by layer fits, while a file of millions of tiny values (which the
 * parser would need gigabytes for) is refused in one pass.
 */
export const MAX_YAML_VALUES = 2_000_000;

/**
 * Deepest nesting of collections in a document. Specs nest about ten deep; the YAML parser itself
 * gives up somewhere past a few hundred, depending on the stack.
 */
export const MAX_YAML_DEPTH = 100;

/** Keys that could reach an object prototype; refused wherever they appear. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** The result of parsing one file: the tree when the file is usable, and what was wrong. */
export interface ParseResult {
  /** The document's root value; absent when the file could not be parsed. */
  readonly root?: LNode;
  readonly diagnostics: readonly Diagnostic[];
}

function error(
  code: DiagnosticCode,
  message: string,
  loc: SourceLocation,
  hint?: string,
): Diagnostic {
  return locatedError(code, message, loc, hint === undefined ? {} : { hint });
}

/** Decodes bytes as UTF-8 text, or returns a diagnostic for a binary file. */
export function decodeText(bytes: Uint8Array, file: string): string | Diagnostic {
  const at = { file, line: 1, column: 1 };
  if (bytes.includes(0))
    return error("RSC100", "the file is binary (contains NUL bytes), not a YAML spec", at);
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    return error("RSC100", "the file is not valid UTF-8 text", at);
  }
}

/**
 * Maps a text offset to a 1-based line and column (UTF-16 units), counting lines at "\n" as
 * editors and git do. The YAML parser's own line counter misses line breaks inside tokens it
 * gave up on, which put columns past the end of their line.
 */
function locator(text: string, file: string): (offset: number | undefined) => SourceLocation {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (offset) => {
    const at = Math.max(0, Math.min(offset ?? 0, text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, column: at - starts[lo]! + 1 };
  };
}

/**
 * The offset at which `text` passes {@link MAX_YAML_VALUES} values, or undefined when it does
 * not. Lexing is linear, needs little memory, and stops at the limit.
 */
function valueLimitOffset(text: string): number | undefined {
  // Every value takes at least one character: a shorter text cannot pass the limit.
  if (text.length <= MAX_YAML_VALUES) return undefined;
  let values = 0;
  let offset = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === CST.SCALAR || token === "[" || token === "{" || token === "-") {
      if (++values > MAX_YAML_VALUES) return offset;
    }
    // The lexer's markers for documents, scalars and flow ends are not source text.
    if (token !== CST.SCALAR && token !== CST.DOCUMENT && token !== CST.FLOW_END)
      offset += token.length;
  }
  return undefined;
}

/**
 * The offset of the first node nested deeper than {@link MAX_YAML_DEPTH} in the syntax tree, or
 * undefined. The tree is walked with an explicit stack: the YAML library builds it without
 * recursion, but composes documents from it recursively, which would overflow the stack (or
 * crash V8 outright) on thousands of levels.
 */
function tooDeepOffset(tokens: readonly CST.Token[]): number | undefined {
  const stack: [CST.Token, number][] = tokens.map((t) => [t, -1]);
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [token, depth] = next;
    if (depth > MAX_YAML_DEPTH) return token.offset;
    if (token.type === "document") {
      if (token.value) stack.push([token.value, depth + 1]);
    } else if (
      token.type === "block-map" ||
      token.type === "block-seq" ||
      token.type === "flow-collection"
    ) {
      for (const item of token.items as CST.CollectionItem[]) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * The one document of `tokens`, as `parseDocument` composes it (a second document is an error),
 * from a syntax tree already checked for depth.
 */
function compose(tokens: readonly CST.Token[], text: string): Document.Parsed {
  let doc: Document.Parsed | undefined;
  for (const next of new Composer().compose(tokens, true, text.length)) {
    if (doc === undefined) doc = next;
    else {
      doc.errors.push(
        new YAMLParseError(
          [next.range[0], next.range[1]],
          "MULTIPLE_DOCS",
          "Source contains multiple documents",
        ),
      );
      break;
    }
  }
  return doc!;
}

/** True for the parser's report that it ran out of stack (deep nesting it could not refuse first). */
const isStackOverflow = (message: string) => /maximum call stack/i.test(message);

/** Parses spec text into a located tree. Never throws. */
export function parseSpec(text: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const at = locator(text, file);
  const tooMany = valueLimitOffset(text);
  if (tooMany !== undefined) {
    const count = MAX_YAML_VALUES.toLocaleString("en-US");
    return {
      diagnostics: [
        error(
          "RSC103",
          `the document has more than ${count} values (keys, scalars and collections)`,
          at(tooMany),
        ),
      ],
    };
  }
  let doc: Document.Parsed;
  try {
    const tokens = [...new Parser().parse(text)];
    const deep = tooDeepOffset(tokens);
    if (deep !== undefined) {
      const message = `the document nests collections more than ${MAX_YAML_DEPTH} deep`;
      return { diagnostics: [error("RSC112", message, at(deep))] };
    }
    doc = compose(tokens, text);
  } catch {
    // The parser records its errors; a throw is its own failure, whose text would mean nothing here.
    return {
      diagnostics: [error("RSC101", "malformed YAML: the parser gave up on this file", at(0))],
    };
  }
  const overflow = doc.errors.find((e) => isStackOverflow(e.message));
  if (overflow !== undefined) {
    return {
      diagnostics: [
        error(
          "RSC112",
          "the YAML is nested more deeply than the parser can take",
          at(overflow.pos[0]),
          `collections may nest at most ${MAX_YAML_DEPTH} deep`,
        ),
      ],
    };
  }
  // After the first syntax error the parser's later complaints follow from it (a single
  // unclosed flow map gives hundreds): report that one, and every duplicate key.
  let syntaxErrors = 0;
  for (const e of doc.errors) {
    const duplicate = e.code === "DUPLICATE_KEY";
    if (!duplicate && syntaxErrors++ > 0) continue;
    const message = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    diagnostics.push(
      error(
        duplicate ? "RSC111" : "RSC101",
        duplicate ? "duplicate key in a mapping" : `malformed YAML: ${message}`,
        at(e.pos[0]),
      ),
    );
  }
  if (syntaxErrors > 1) {
    const first = diagnostics.findIndex((d) => d.code === "RSC101");
    diagnostics[first] = {
      ...diagnostics[first]!,
      hint: `the parser reported ${syntaxErrors - 1} more error(s) after this one; they follow from it`,
    };
  }
  if (diagnostics.length > 0) return { diagnostics };
  if (
    doc.contents === null ||
    (isScalar(doc.contents) &&
      doc.contents.value === null &&
      text
        .trim()
        .split("\n")
        .every((l) => /^\s*(#.*)?$/.test(l)))
  ) {
    return {
      diagnostics: [
        error("RSC102", "the file is empty: a spec needs at least `rsc: 1`", {
          file,
          line: 1,
          column: 1,
        }),
      ],
    };
  }

  let aliases = 0;
  /** Values reached through aliases so far. */
  let aliasValues = 0;
  let bomb = false;
  /**
   * Converts one YAML node at `depth`; `alias` is where the alias being expanded is written,
   * when the node is reached through one.
   */
  const convert = (node: unknown, depth: number, alias?: SourceLocation): LNode | undefined => {
    if (bomb) return undefined;
    if (alias !== undefined && ++aliasValues > MAX_ALIAS_VALUES) {
      bomb = true;
      const count = MAX_ALIAS_VALUES.toLocaleString("en-US");
      diagnostics.push(
        error("RSC103", `YAML aliases expand to more than ${count} values (alias bomb?)`, alias),
      );
      return undefined;
    }
    if (depth > MAX_YAML_DEPTH) {
      bomb = true;
      const where = (node as { range?: [number] } | null)?.range?.[0];
      diagnostics.push(
        error(
          "RSC112",
          `the document nests collections more than ${MAX_YAML_DEPTH} deep`,
          alias ?? at(where),
        ),
      );
      return undefined;
    }
    if (isAlias(node)) {
      const loc = at(node.range?.[0]);
      if (++aliases > MAX_ALIASES) {
        bomb = true;
        diagnostics.push(
          error("RSC103", `more than ${MAX_ALIASES} YAML aliases (alias bomb?)`, loc),
        );
        return undefined;
      }
      const target = node.resolve(doc);
      if (target === undefined) {
        diagnostics.push(error("RSC101", `unknown alias *${node.source}`, loc));
        return undefined;
      }
      return convert(target, depth + 1, alias ?? loc);
    }
    if (isScalar(node)) {
      const v = node.value;
      const loc = at(node.range?.[0]);
      const n = typeof v === "bigint" ? Number(v) : v;
      if (typeof n === "number" && !Number.isFinite(n)) {
        // .inf, .nan, 1e309: no size, rate or seed is infinite, and none can be written back.
        diagnostics.push(error("RSC107", `the number ${node.source ?? n} is not finite`, loc));
        return undefined;
      }
      if (n === null || typeof n === "string" || typeof n === "number" || typeof n === "boolean")
        return { kind: "scalar", value: n, loc };
      diagnostics.push(error("RSC104", "unsupported YAML value", loc));
      return undefined;
    }
    if (isSeq(node)) {
      const items: LNode[] = [];
      for (const item of node.items) {
        const c = convert(item, depth + 1, alias);
        if (c !== undefined) items.push(c);
      }
      return { kind: "seq", items, loc: at(node.range?.[0]) };
    }
    if (isMap(node)) {
      const entries = new Map<string, LEntry>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key;
        const keyLoc = at((key as { range?: [number] } | null)?.range?.[0] ?? node.range?.[0]);
        if (!isScalar(key) || (typeof key.value !== "string" && typeof key.value !== "number")) {
          diagnostics.push(error("RSC104", "mapping keys must be plain strings", keyLoc));
          continue;
        }
        const name = String(key.value);
        if (FORBIDDEN_KEYS.has(name)) {
          diagnostics.push(error("RSC110", `the key '${name}' is not allowed`, keyLoc));
          continue;
        }
        const value =
          pair.value === null
            ? ({ kind: "scalar", value: null, loc: keyLoc } as const)
            : convert(pair.value, depth + 1, alias);
        if (value !== undefined && !entries.has(name)) entries.set(name, { keyLoc, value });
      }
      return { kind: "map", entries, loc: at(node.range?.[0]) };
    }
    return undefined;
  };
  const root = convert(doc.contents, 0);
  if (bomb || root === undefined) return { diagnostics };
  return { root, diagnostics };
}
