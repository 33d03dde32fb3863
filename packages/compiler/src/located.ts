/**
 * The spec as a tree of located values: every scalar, mapping and sequence keeps the place it was
 * written, so any later stage (validation, expansion, shape inference) can point at the spec line.
 * Mappings are `Map`s, never plain objects, so no YAML key can reach an object prototype.
 */
import type { SourceLocation } from "./diagnostics.js";

/** A YAML scalar value after the core schema resolved it. */
export type ScalarValue = string | number | boolean | null;

/** A located scalar. */
export interface LScalar {
  readonly kind: "scalar";
  readonly value: ScalarValue;
  /** Where the scalar starts (1-based line and column). */
  readonly loc: SourceLocation;
}

/** One key of a located mapping. */
export interface LEntry {
  /** Where the key is written (unknown-key diagnostics point here). */
  readonly keyLoc: SourceLocation;
  readonly value: LNode;
}

/** A located mapping; keys in document order. */
export interface LMap {
  readonly kind: "map";
  readonly entries: ReadonlyMap<string, LEntry>;
  readonly loc: SourceLocation;
}

/** A located sequence. */
export interface LSeq {
  readonly kind: "seq";
  readonly items: readonly LNode[];
  readonly loc: SourceLocation;
}

/** Any located YAML value. */
export type LNode = LScalar | LMap | LSeq;

/** A plain JSON value, as ajv and the op registry see it. */
export type Plain = ScalarValue | readonly Plain[] | { readonly [key: string]: Plain };

/** Converts a located tree to plain JSON (for schema validation). */
export function toPlain(node: LNode): Plain {
  if (node.kind === "scalar") return node.value;
  if (node.kind === "seq") return node.items.map(toPlain);
  const out: Record<string, Plain> = {};
  // Forbidden keys were dropped by the parser, so plain objects are safe here.
  for (const [key, entry] of node.entries) out[key] = toPlain(entry.value);
  return out;
}

/** The entry's value node, or undefined. */
export function get(node: LNode | undefined, key: string): LNode | undefined {
  return node?.kind === "map" ? node.entries.get(key)?.value : undefined;
}

/** One step of a JSON-pointer walk: the node reached, and the mapping key that led to it. */
export interface PointerStep {
  readonly node: LNode;
  /** The key, when the step went into a mapping entry (absent for a sequence item). */
  readonly key?: string;
  /** Where that key is written. */
  readonly keyLoc?: SourceLocation;
}

/**
 * The nodes along a JSON pointer (`/layers/3/conv2d/filters`) below `root`, in order, as far as
 * the pointer matches the tree.
 */
export function* pointerPath(root: LNode, pointer: string): Generator<PointerStep> {
  if (pointer === "") return;
  let node = root;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node.kind === "map") {
      const entry = node.entries.get(segment);
      if (entry === undefined) return;
      node = entry.value;
      yield { node, key: segment, keyLoc: entry.keyLoc };
    } else if (node.kind === "seq") {
      const item = node.items[Number(segment)];
      if (item === undefined) return;
      node = item;
      yield { node };
    } else return;
  }
}

/**
 * Finds the node at a JSON pointer, for mapping schema errors back to a line. Returns the deepest
 * node reached and, when the last segment reached names a key, its location.
 */
export function locate(root: LNode, pointer: string): { node: LNode; keyLoc?: SourceLocation } {
  let last: PointerStep = { node: root };
  for (const step of pointerPath(root, pointer)) last = step;
  return last.keyLoc === undefined ? { node: last.node } : { node: last.node, keyLoc: last.keyLoc };
}
