/**
 * The block table: every `blocks:` template of the loaded documents, by name, with its declared
 * parameters (types and literal defaults), `names:` templates, input label and layer items.
 * Block names are global across a spec and its imports; a second definition or a name that is an
 * op or keyword is RSC212.
 */
import {
  type CallSite,
  closest,
  type Diagnostic,
  locatedError,
  type SourceLocation,
} from "./diagnostics.js";
import type { Value } from "./expr.js";
import type { LoadedDocument } from "./load.js";
import { get, type LMap, type LNode, type LSeq } from "./located.js";
import { isOpName } from "./ops/registry.js";
import { checkParamType } from "./param-types.js";
import { ACTIVATION_SHORTHANDS, STRUCTURAL_KEYS } from "./schema.js";

/** One declared block parameter. */
export interface ParamDecl {
  /** A type string (`int`, `str`, `int[3]`, ...; see param-types.ts). */
  readonly type: string;
  /** The literal default, when declared. */
  readonly default?: Value;
  /** Where the parameter's key is written. */
  readonly loc: SourceLocation;
}

/** One block template. */
export interface BlockDef {
  readonly name: string;
  /** The file that defines it. */
  readonly file: string;
  /** Where the block's key is written. */
  readonly loc: SourceLocation;
  readonly params: ReadonlyMap<string, ParamDecl>;
  /** The label of the block's input inside its layers (`input` unless `input:` says). */
  readonly input: string;
  /** `names:` templates, evaluated in order at each call (later ones may use earlier ones). */
  readonly names: readonly { readonly key: string; readonly template: LNode }[];
  readonly layers: LSeq;
}

/** The block table of a spec and the errors found in its definitions. */
export interface BlockTable {
  readonly blocks: ReadonlyMap<string, BlockDef>;
  readonly diagnostics: readonly Diagnostic[];
}

const isMap = (n: LNode | undefined): n is LMap => n?.kind === "map";

/** RSC205: a call passes `name`, which `block` does not declare (with the closest, or the list). */
export function unknownArgumentError(
  block: BlockDef,
  name: string,
  at: SourceLocation,
  callSites: readonly CallSite[] = [],
): Diagnostic {
  const guess = closest(name, block.params.keys());
  return locatedError("RSC205", `block '${block.name}' has no parameter '${name}'`, at, {
    callSites,
    hint: guess
      ? `did you mean '${guess}'?`
      : `parameters: ${[...block.params.keys()].join(", ") || "(none)"}`,
    related: [{ ...block.loc, message: `block '${block.name}' defined here` }],
  });
}

/** RSC204: a call at `at` leaves out `param`, which has no default. */
export function missingArgumentError(
  block: BlockDef,
  param: string,
  at: SourceLocation,
  callSites: readonly CallSite[] = [],
): Diagnostic {
  return locatedError("RSC204", `block '${block.name}' needs the parameter '${param}'`, at, {
    callSites,
    related: [{ ...block.params.get(param)!.loc, message: `parameter '${param}' declared here` }],
  });
}

/** Collects the blocks of `documents` in their order (imports before the files importing them). */
export function collectBlocks(documents: readonly LoadedDocument[]): BlockTable {
  const blocks = new Map<string, BlockDef>();
  const diagnostics: Diagnostic[] = [];
  for (const { file, root } of documents) {
    const defs = get(root, "blocks");
    if (!isMap(defs)) continue;
    for (const [name, entry] of defs.entries) {
      const reserved =
        isOpName(name) ||
        (ACTIVATION_SHORTHANDS as readonly string[]).includes(name) ||
        (STRUCTURAL_KEYS as readonly string[]).includes(name);
      if (reserved) {
        diagnostics.push(
          locatedError(
            "RSC212",
            `block name '${name}' is reserved (an op or keyword)`,
            entry.keyLoc,
          ),
        );
        continue;
      }
      const previous = blocks.get(name);
      if (previous) {
        diagnostics.push(
          locatedError("RSC212", `block '${name}' is defined twice`, entry.keyLoc, {
            related: [{ ...previous.loc, message: "first defined here" }],
          }),
        );
        continue;
      }
      blocks.set(name, parseBlock(name, file, entry.keyLoc, entry.value as LMap, diagnostics));
    }
  }
  return { blocks, diagnostics };
}

function parseBlock(
  name: string,
  file: string,
  loc: SourceLocation,
  node: LMap,
  diagnostics: Diagnostic[],
): BlockDef {
  const params = new Map<string, ParamDecl>();
  const declared = get(node, "params");
  if (isMap(declared)) {
    for (const [p, e] of declared.entries) {
      if (p === "from" || p === "as") {
        diagnostics.push(
          locatedError(
            "RSC107",
            `'${p}' cannot be a block parameter (it is a keyword of calls)`,
            e.keyLoc,
          ),
        );
        continue;
      }
      if (e.value.kind === "scalar") params.set(p, { type: String(e.value.value), loc: e.keyLoc });
      else if (isMap(e.value)) {
        const type = String((get(e.value, "type") as { value?: unknown } | undefined)?.value);
        const d = get(e.value, "default");
        const dv = d === undefined ? undefined : literal(d);
        if (dv !== undefined) {
          const why = checkParamType(type, dv);
          if (why !== undefined)
            diagnostics.push(locatedError("RSC206", `default of '${p}': ${why}`, d!.loc));
        }
        params.set(p, { type, ...(dv === undefined ? {} : { default: dv }), loc: e.keyLoc });
      }
    }
  }
  const names: { key: string; template: LNode }[] = [];
  const nameMap = get(node, "names");
  if (isMap(nameMap))
    for (const [key, e] of nameMap.entries) names.push({ key, template: e.value });
  const input = get(node, "input");
  return {
    name,
    file,
    loc,
    params,
    input: input?.kind === "scalar" && typeof input.value === "string" ? input.value : "input",
    names,
    layers: get(node, "layers") as LSeq,
  };
}

/** A YAML value without interpolation (defaults of block params). */
function literal(node: LNode): Value | undefined {
  if (node.kind === "scalar") return node.value === null ? undefined : node.value;
  if (node.kind === "seq") {
    const items = node.items.map(literal);
    return items.every((v) => v !== undefined) ? (items as Value[]) : undefined;
  }
  return undefined;
}
