/**
 * Layer items as the YAML writes them (`relu`, `conv2d: {...}`, `bottleneck: {...}`), and the one
 * "unknown op or block" diagnostic, shared by expansion and the check of block libraries.
 */
import {
  type CallSite,
  closest,
  type Diagnostic,
  locatedError,
  type SourceLocation,
} from "./diagnostics.js";
import type { LNode } from "./located.js";
import { OP_NAMES } from "./ops/registry.js";
import { ACTIVATION_SHORTHANDS, STRUCTURAL_KEYS } from "./schema.js";

/** A layer item's key, body (undefined for a bare item) and key location. */
export interface ItemParts {
  readonly key: string;
  readonly body: LNode | undefined;
  readonly loc: SourceLocation;
}

/** The key, body and key location of a layer item (`relu`, `conv2d: {...}`), if it is one. */
export function itemParts(item: LNode): ItemParts | undefined {
  if (item.kind === "scalar") return { key: String(item.value), body: undefined, loc: item.loc };
  if (item.kind !== "map") return undefined;
  const [key, e] = [...item.entries][0]!;
  const body = e.value.kind === "scalar" && e.value.value === null ? undefined : e.value;
  return { key, body, loc: e.keyLoc };
}

/** RSC108 for an item key that is no op, keyword or block: the closest name, else the list. */
export function unknownItemError(
  key: string,
  loc: SourceLocation,
  blockNames: readonly string[],
  callSites: readonly CallSite[] = [],
): Diagnostic {
  const candidates = [...OP_NAMES, ...ACTIVATION_SHORTHANDS, ...STRUCTURAL_KEYS, ...blockNames];
  const guess = closest(key, candidates);
  // Nothing close: list what there is, so the reader need not look it up.
  const known = `ops: ${[...OP_NAMES, ...ACTIVATION_SHORTHANDS].join(", ")}; ${
    blockNames.length > 0 ? `blocks: ${blockNames.join(", ")}; ` : ""
  }keywords: ${STRUCTURAL_KEYS.join(", ")}`;
  return locatedError("RSC108", `unknown op or block '${key}'`, loc, {
    callSites,
    hint: guess ? `did you mean '${guess}'?` : known,
  });
}
