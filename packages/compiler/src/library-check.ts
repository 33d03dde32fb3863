/**
 * `rsc check` of a block library (a file with `blocks:` and no model keys), so that `rsc check
 * specs/**\/*.yaml` works in CI. A template's expressions need a call to be evaluated (their
 * parameters, input shapes), so a library is checked for what is known without one:
 * - the file and its imports load and validate (YAML, schema, imports: the loader's diagnostics);
 * - the block table is sound: no block defined twice or named like an op (RSC212), parameter
 *   defaults of their declared types (RSC206);
 * - every item of every template is an op, a keyword or a known block (RSC108, "did you mean");
 *   every call of a block, directly or in a `stage:`, names only that block's parameters (RSC205)
 *   and, for direct calls, gives every parameter without a default (RSC204);
 * - parameters no expression reads (warning RSC222).
 * The rest (expression values, shapes) is checked where the library is used: `rsc check` of
 * each model importing it.
 */
import {
  type BlockDef,
  collectBlocks,
  missingArgumentError,
  unknownArgumentError,
} from "./blocks.js";
import { closest, type Diagnostic, locatedError, type SourceLocation } from "./diagnostics.js";
import { itemParts, unknownItemError } from "./items.js";
import type { LoadedDocument, LoadResult } from "./load.js";
import { MODEL_ONLY_KEYS } from "./load.js";
import { get, type LMap, type LNode } from "./located.js";
import { isOpName } from "./ops/registry.js";
import { ACTIVATION_SHORTHANDS } from "./schema.js";
import { unusedParamWarnings } from "./warnings.js";

/** True when a loaded root document is a block library: `blocks:` and no model-only key. */
export function isLibraryDocument(doc: LoadedDocument): boolean {
  return doc.root.entries.has("blocks") && !MODEL_ONLY_KEYS.some((k) => doc.root.entries.has(k));
}

/** What checking a library found: its own blocks, and every diagnostic. */
export interface LibraryCheck {
  /** Names of the blocks the file itself defines. */
  readonly blocks: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

const isMap = (n: LNode | undefined): n is LMap => n?.kind === "map";

/** Checks a loaded library (see the module comment). */
export function checkLibrary(loaded: LoadResult): LibraryCheck {
  const table = collectBlocks(loaded.documents);
  const diagnostics: Diagnostic[] = [...loaded.diagnostics, ...table.diagnostics];
  const file = loaded.root?.file;
  const own = [...table.blocks.values()].filter((b) => b.file === file);
  const names = [...table.blocks.keys()];
  for (const block of own) walk(block.layers, table.blocks, names, diagnostics);
  diagnostics.push(...unusedParamWarnings(own));
  return { blocks: own.map((b) => b.name), diagnostics };
}

/** Checks the items of a template's sequence, recursing into groups, repeats and stages. */
function walk(
  seq: LNode | undefined,
  blocks: ReadonlyMap<string, BlockDef>,
  names: readonly string[],
  out: Diagnostic[],
): void {
  if (seq?.kind !== "seq") return;
  for (const item of seq.items) {
    const parts = itemParts(item);
    if (parts === undefined) continue;
    const { key, body, loc } = parts;
    if (isOpName(key) || (ACTIVATION_SHORTHANDS as readonly string[]).includes(key)) continue;
    if (key === "group" || key === "repeat") {
      walk(get(body, "layers"), blocks, names, out);
      continue;
    }
    if (key === "stage") {
      const use = get(body, "use");
      if (use?.kind !== "scalar" || typeof use.value !== "string") continue;
      const block = blocks.get(use.value);
      if (block === undefined) {
        out.push(unknownBlock(use.value, use.loc, names));
        continue;
      }
      const loopVars = isMap(get(body, "over"))
        ? [...(get(body, "over") as LMap).entries.keys()]
        : [];
      for (const part of ["with", "first"]) {
        const args = get(body, part);
        if (isMap(args)) checkArgs(block, args, [], loopVars, out);
      }
      continue;
    }
    const block = blocks.get(key);
    if (block === undefined) {
      out.push(unknownItemError(key, loc, names));
      continue;
    }
    checkArgs(block, isMap(body) ? body : undefined, ["from", "as"], [], out, loc);
  }
}

/** RSC108 for a `stage: { use: name }` that is no block. */
function unknownBlock(name: string, loc: SourceLocation, names: readonly string[]): Diagnostic {
  const guess = closest(name, names);
  return locatedError("RSC108", `unknown block '${name}'`, loc, {
    hint: guess ? `did you mean '${guess}'?` : `blocks: ${names.join(", ") || "(none)"}`,
  });
}

/**
 * RSC205 for each argument `block` does not declare; with `callLoc` (a direct call), RSC204 for
 * each parameter without a default that the call leaves out.
 */
function checkArgs(
  block: BlockDef,
  args: LMap | undefined,
  keywords: readonly string[],
  loopVars: readonly string[],
  out: Diagnostic[],
  callLoc?: SourceLocation,
): void {
  for (const [k, e] of args?.entries ?? []) {
    if (keywords.includes(k) || block.params.has(k) || loopVars.includes(k)) continue;
    out.push(unknownArgumentError(block, k, e.keyLoc));
  }
  if (callLoc === undefined) return;
  for (const [p, decl] of block.params)
    if (decl.default === undefined && !args?.entries.has(p))
      out.push(missingArgumentError(block, p, callLoc));
}
