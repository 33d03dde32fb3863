/**
 * Validation against the JSON Schema: the raw document (before expansion) and, after
 * interpolation, each layer's attributes against its op's strict schema. Both use the ajv
 * standalone validators generated from schema.ts (generated/validators.ts), so no schema is
 * compiled at start-up.
 */
import type { Diagnostic, RelatedLocation, SourceLocation } from "./diagnostics.js";
import * as generated from "./generated/validators.js";
import { type LNode, locate, pointerPath, toPlain } from "./located.js";
import { OPS } from "./ops/registry.js";
import type { OpName } from "./ops/types.js";
import { specSchema } from "./schema.js";
import { mapSchemaErrors, type SchemaError } from "./schema-errors.js";

type Validator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

const validators = generated as unknown as Record<string, Validator>;

let cachedSchema: ReturnType<typeof specSchema> | undefined;

type SchemaNode = { readonly [k: string]: unknown };

/** Follows `$ref` and takes the `then` branch (ops' mapping form) of a schema node. */
function resolveSchema(node: unknown): SchemaNode | undefined {
  cachedSchema ??= specSchema();
  let s = node as SchemaNode | undefined;
  for (let i = 0; i < 8 && s !== undefined; i++) {
    if (typeof s["$ref"] === "string") {
      s = (cachedSchema["definitions"] as SchemaNode)[
        (s["$ref"] as string).split("/").pop()!
      ] as SchemaNode;
    } else if (s["then"] !== undefined && s["properties"] === undefined)
      s = s["then"] as SchemaNode;
    else return s;
  }
  return s;
}

/** The keys the spec schema allows for the mapping at an instance path, for "did you mean" hints. */
function allowedKeysAt(instancePath: string): string[] {
  cachedSchema ??= specSchema();
  let s = resolveSchema(cachedSchema);
  for (const raw of instancePath.split("/").slice(1)) {
    if (s === undefined) return [];
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const props = s["properties"] as SchemaNode | undefined;
    if (/^\d+$/.test(seg) && s["items"] !== undefined) s = resolveSchema(s["items"]);
    else if (props !== undefined && Object.hasOwn(props, seg)) s = resolveSchema(props[seg]);
    else if (typeof s["additionalProperties"] === "object")
      s = resolveSchema(s["additionalProperties"]);
    else return [];
  }
  const props = s?.["properties"] as SchemaNode | undefined;
  return props ? Object.keys(props) : [];
}

/** What schema validation of one file found. */
export interface DocumentValidation {
  /** Every schema error, located at its YAML node. */
  readonly diagnostics: Diagnostic[];
  /**
   * True when expansion can go on despite the errors, so that one run also reports the file's
   * other (semantic) errors: every error is an unknown top-level key (expansion reads those keys
   * by name, so it never sees it) or lies inside a layer item, which is then in
   * {@link brokenItems}, or lies under `defaults:`. Other errors (in `input:`, `blocks:` parameters, ...) stop
   * the file's expansion: what follows from them could not be trusted.
   */
  readonly recoverable: boolean;
  /**
   * The layer items (elements of a `layers:` list, in a model, a template or a group) that
   * contain a schema error, deepest item per error: expansion keeps their name and `from:` (so
   * references to them resolve) and skips them and what depends on them without more errors.
   * Also the `defaults:` entries with a schema error (an op's entry, or one attribute's value):
   * the layers they would apply to are skipped the same way.
   */
  readonly brokenItems: ReadonlySet<LNode>;
}

/** The deepest element of a `layers:` list on the way to the node at `pointer`, if any. */
function enclosingLayerItem(root: LNode, pointer: string): LNode | undefined {
  let item: LNode | undefined;
  let parentKey: string | undefined;
  for (const step of pointerPath(root, pointer)) {
    if (step.key === undefined && parentKey === "layers") item = step.node;
    parentKey = step.key;
  }
  return item;
}

/**
 * The `defaults:` node a schema error at `pointer` (under `/defaults`) spoils: one attribute's
 * value (`/defaults/conv2d/padding`), else the op's whole entry (`/defaults/conv2d`: an unknown
 * or mistyped attribute key, or not a mapping). An error at `defaults:` itself (an unknown op, not
 * a mapping) spoils nothing: those defaults never apply to a layer.
 */
function spoiltDefault(root: LNode, pointer: string): LNode | undefined {
  const steps = [...pointerPath(root, pointer)];
  return steps[2]?.node ?? steps[1]?.node;
}

/** Validates a parsed file against the spec schema; errors point at the YAML nodes. */
export function validateDocument(root: LNode): DocumentValidation {
  const validate = validators["validateSpec"]!;
  if (validate(toPlain(root)))
    return { diagnostics: [], recoverable: true, brokenItems: new Set() };
  const errors = validate.errors ?? [];
  const diagnostics = mapSchemaErrors(errors, {
    locate(pointer) {
      const { node, keyLoc } = locate(root, pointer);
      return keyLoc === undefined ? { loc: node.loc } : { loc: node.loc, keyLoc };
    },
    allowedKeys: (_schemaPath, instancePath) => allowedKeysAt(instancePath),
  });
  const brokenItems = new Set<LNode>();
  let recoverable = root.kind === "map";
  for (const error of errors) {
    const item = enclosingLayerItem(root, error.instancePath);
    if (item !== undefined) brokenItems.add(item);
    else if (/^\/defaults(\/|$)/.test(error.instancePath)) {
      const spoilt = spoiltDefault(root, error.instancePath);
      if (spoilt !== undefined) brokenItems.add(spoilt);
    } else if (error.keyword !== "additionalProperties" || error.instancePath !== "")
      recoverable = false;
  }
  return { diagnostics, recoverable, brokenItems };
}

/** One interpolated attribute of a layer, with where it was written. */
export interface LocatedAttr {
  readonly value: unknown;
  /** The value's location. */
  readonly loc: SourceLocation;
  /** The key's location. */
  readonly keyLoc: SourceLocation;
}

/** Validates a layer's interpolated attributes against its op's strict schema. */
export function validateAttrs(
  op: OpName,
  attrs: ReadonlyMap<string, LocatedAttr>,
  layerLoc: SourceLocation,
  related: readonly RelatedLocation[],
): Diagnostic[] {
  const validate = validators[`validateAttrs_${op}`]!;
  const plain: Record<string, unknown> = {};
  for (const [k, a] of attrs) plain[k] = a.value;
  if (validate(plain)) return [];
  return mapSchemaErrors(validate.errors ?? [], {
    locate(pointer) {
      const key = pointer.split("/")[1];
      const attr = key === undefined ? undefined : attrs.get(key);
      if (attr === undefined) return { loc: layerLoc };
      return pointer.split("/").length === 2
        ? { loc: attr.loc, keyLoc: attr.keyLoc }
        : { loc: attr.loc };
    },
    allowedKeys: () => ["name", "from", "as", ...Object.keys(OPS[op].attrs.properties)],
    related,
  });
}
