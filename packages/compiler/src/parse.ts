/**
 * Parse: bytes -> a located tree ({@link LNode}) plus diagnostics. Refuses binary files, empty
 * files, alias bombs and prototype-polluting keys before anything else sees the document.
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from "yaml";
import {
  type Diagnostic,
  type DiagnosticCode,
  locatedError,
  type SourceLocation,
} from "./diagnostics.js";
import type { LEntry, LNode } from "./located.js";

/** Most aliases (`*name`) one document may use; more is treated as an alias bomb. */
const MAX_ALIASES = 100;

/** Most nodes a document may hold once aliases are expanded. */
const MAX_NODES = 200_000;

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

/** Parses spec text into a located tree. Never throws. */
export function parseSpec(text: string, file: string): ParseResult {
  const diagnostics: Diagnostic[] = [];
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { prettyErrors: false, keepSourceTokens: false });
  } catch (e) {
    return {
      diagnostics: [error("RSC101", `malformed YAML: ${String(e)}`, { file, line: 1, column: 1 })],
    };
  }
  const at = locator(text, file);
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
  let nodes = 0;
  let bomb = false;
  const convert = (node: unknown, depth: number): LNode | undefined => {
    if (bomb) return undefined;
    if (++nodes > MAX_NODES || depth > 200) {
      bomb = true;
      diagnostics.push(
        error(
          "RSC103",
          `the document expands to more than ${MAX_NODES} values (alias bomb?)`,
          at(0),
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
      return convert(target, depth + 1);
    }
    if (isScalar(node)) {
      const v = node.value;
      const loc = at(node.range?.[0]);
      if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean")
        return { kind: "scalar", value: v, loc };
      if (typeof v === "bigint") return { kind: "scalar", value: Number(v), loc };
      diagnostics.push(error("RSC104", "unsupported YAML value", loc));
      return undefined;
    }
    if (isSeq(node)) {
      const items: LNode[] = [];
      for (const item of node.items) {
        const c = convert(item, depth + 1);
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
            : convert(pair.value, depth + 1);
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
