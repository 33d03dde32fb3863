/**
 * The JSON Schema of the spec language (draft-07, what yaml-language-server understands best),
 * generated from the op registry plus the structural keywords. It is the single source of truth
 * for structure: `rsc schema` prints it, editors autocomplete with it, and the compiler validates
 * every file against it (through the ajv standalone validator generated from it).
 *
 * Because any value may be an interpolation (`"{filters[0]}"`), every attribute also accepts an
 * interpolation string here; after interpolation each layer is checked again against its op's
 * strict attribute schema ({@link opAttrsSchema}).
 */
import { ACTIVATIONS, type ActivationName } from "./ops/activation.js";
import { isOpName, OP_NAMES, OPS } from "./ops/registry.js";
import type { JsonSchema, OpName } from "./ops/types.js";
import { PARAM_TYPE_PATTERN } from "./param-types.js";
import { MAX_SEED } from "./weights.js";

/** Where the published schema lives (its `$id`). */
export const SCHEMA_ID = "https://rsc.dev/schema/spec-v1.json";

/** The current (and only) format version. */
export const FORMAT_VERSION = 1;

/**
 * Activation shorthands usable as bare layers: `- relu`, one per activation that is not also an
 * op (`elu` and `leaky_relu` are Keras's ELU and LeakyReLU layers, whose attributes a bare
 * activation could not take). The identity (`linear`) comes last, the order the published schema
 * has always listed them in.
 */
export const ACTIVATION_SHORTHANDS: readonly ActivationName[] = [
  ...ACTIVATIONS.filter((a) => a !== "linear" && !isOpName(a)),
  "linear",
];

/** Layer keys that are not ops: structural keywords. */
export const STRUCTURAL_KEYS = ["stage", "repeat", "group"] as const;

/** Marks an interpolation branch so schema-error mapping can ignore it. */
const INTERPOLATION_PATTERN = "\\{[^{}]*\\}";

const interpolation: JsonSchema = {
  type: "string",
  pattern: INTERPOLATION_PATTERN,
  description: 'an interpolation, e.g. "{filters[0]}"',
};

/** Accepts a value of `schema` or an interpolation string. */
function orInterpolation(schema: JsonSchema): JsonSchema {
  const { description, ...rest } = schema as { description?: string };
  return { ...(description === undefined ? {} : { description }), anyOf: [rest, interpolation] };
}

const refSchema: JsonSchema = {
  description:
    "the layer's inputs: a layer name, a label (`as:`), or a list of them; default: the previous layer",
  type: ["string", "array"],
  items: { type: "string" },
};
const nameSchema: JsonSchema = {
  type: "string",
  description: "the layer's name (interpolated); default: Keras-style `conv2d_1`",
};
const asSchema: JsonSchema = {
  type: "string",
  description: "a label for this item's output, usable by `from:` within the enclosing block",
};

/** The strict schema of an op's attributes, as checked after interpolation. */
export function opAttrsSchema(op: OpName): JsonSchema {
  const def = OPS[op];
  return {
    type: "object",
    properties: def.attrs.properties,
    required: def.attrs.required ?? [],
    additionalProperties: false,
  };
}

/** References to the shared (loose) attribute definitions of an op: `#/definitions/attr_conv2d_filters`. */
function opAttrsLoose(op: OpName): { [k: string]: JsonSchema } {
  const out: { [k: string]: JsonSchema } = {};
  for (const k of Object.keys(OPS[op].attrs.properties))
    out[k] = { $ref: `#/definitions/attr_${op}_${k}` };
  return out;
}

function attrDefinitions(): { [k: string]: JsonSchema } {
  const out: { [k: string]: JsonSchema } = {};
  for (const op of OP_NAMES) {
    for (const [k, s] of Object.entries(OPS[op].attrs.properties))
      out[`attr_${op}_${k}`] = orInterpolation(s);
  }
  return out;
}

function opLayerSchema(op: OpName): JsonSchema {
  const def = OPS[op];
  const mapping: JsonSchema = {
    type: "object",
    properties: { name: nameSchema, from: refSchema, as: asSchema, ...opAttrsLoose(op) },
    additionalProperties: false,
  };
  const short =
    def.shorthand !== undefined
      ? { $ref: `#/definitions/attr_${op}_${def.shorthand}` }
      : def.arity.max > 1
        ? refSchema
        : { type: "null" };
  const hint = def.shorthand !== undefined ? ` A single value sets \`${def.shorthand}\`.` : "";
  return {
    description: `${def.kerasClass}: ${def.doc}${hint}`,
    if: { type: "object" },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword
    then: mapping,
    else: short,
  };
}

const activationShorthand: JsonSchema = {
  type: ["object", "null"],
  properties: { name: nameSchema, from: refSchema, as: asSchema },
  additionalProperties: false,
};

/** The published JSON Schema of a spec file (model or block library). */
export function specSchema(): JsonSchema {
  const opLayers: { [k: string]: JsonSchema } = {};
  for (const op of OP_NAMES) opLayers[op] = { $ref: `#/definitions/op_${op}` };
  for (const a of ACTIVATION_SHORTHANDS)
    opLayers[a] = {
      ...activationShorthand,
      description: `Activation ${a} (shorthand for \`activation: ${a}\`)`,
    };
  const opDefs: { [k: string]: JsonSchema } = {};
  for (const op of OP_NAMES) opDefs[`op_${op}`] = opLayerSchema(op);
  const defaults: { [k: string]: JsonSchema } = {};
  for (const op of OP_NAMES) {
    defaults[op] = {
      type: "object",
      properties: opAttrsLoose(op),
      additionalProperties: false,
      description: `defaults for every ${op} layer`,
    };
  }
  const value: JsonSchema = {
    description: "a parameter value: a number, string, bool or a list of them",
    type: ["number", "string", "boolean", "array"],
    items: { type: ["number", "string", "boolean", "array"] },
  };
  const args: JsonSchema = { type: "object", additionalProperties: value };
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: SCHEMA_ID,
    title: "rsc model spec",
    description: "A neural-network architecture for the rsc compiler (format version 1).",
    type: "object",
    properties: {
      rsc: { description: "format version of the spec language", const: FORMAT_VERSION },
      name: {
        type: "string",
        description: "model name (default: the file name without extension)",
      },
      doc: { type: "string", description: "free text describing the model or library" },
      import: {
        type: "array",
        items: { type: "string" },
        description: "block library files, relative to this file",
      },
      params: {
        type: "object",
        additionalProperties: value,
        description: "top-level parameters with their defaults; override with `--set name=value`",
      },
      seed: orInterpolation({
        type: "integer",
        minimum: 0,
        maximum: MAX_SEED,
        description: "global weight seed, an unsigned 32-bit integer (default 0)",
      }),
      defaults: {
        type: "object",
        properties: defaults,
        additionalProperties: false,
        description: "attribute defaults per op, applied under each layer's own attributes",
      },
      blocks: {
        type: "object",
        additionalProperties: { $ref: "#/definitions/block" },
        description: "block templates, called from `layers:` by name",
      },
      input: { $ref: "#/definitions/input" },
      inputs: {
        type: "array",
        items: { $ref: "#/definitions/input" },
        description: "several model inputs",
      },
      layers: { $ref: "#/definitions/layers" },
      outputs: {
        type: "array",
        items: { type: "string" },
        description: "output layer names (default: the last layer)",
      },
    },
    required: ["rsc"],
    additionalProperties: false,
    definitions: {
      input: {
        type: "object",
        description: "a model input (default name `input_1`)",
        properties: {
          name: nameSchema,
          shape: orInterpolation({
            type: "array",
            items: { type: "integer", minimum: 1 },
            minItems: 1,
            maxItems: 4,
            description: "shape without the batch dimension (NHWC)",
          }),
        },
        required: ["shape"],
        additionalProperties: false,
      },
      layers: {
        type: "array",
        items: { $ref: "#/definitions/layer" },
        description: "layers in order; each feeds the next unless it says `from:`",
      },
      layer: {
        description:
          "an op (`conv2d: {...}`, `relu`), a block call, or `stage` / `repeat` / `group`",
        type: ["string", "object"],
        minProperties: 1,
        maxProperties: 1,
        properties: {
          ...opLayers,
          stage: { $ref: "#/definitions/stage" },
          repeat: { $ref: "#/definitions/repeat" },
          group: { $ref: "#/definitions/group" },
        },
        additionalProperties: { $ref: "#/definitions/call" },
      },
      call: {
        description: "a block call: the block's arguments, plus `from:` and `as:`",
        type: ["object", "null"],
        properties: { from: refSchema, as: asSchema },
        additionalProperties: value,
      },
      stage: {
        type: "object",
        description: "calls one block for each value of a range, chaining them",
        properties: {
          use: { type: "string", description: "the block template to repeat" },
          over: {
            type: "object",
            minProperties: 1,
            maxProperties: 1,
            additionalProperties: {
              type: ["string", "integer", "array"],
              items: { type: ["string", "integer"] },
              description: "a range `a..f`, `1..22`, `b1..b22`, or a list of items and ranges",
            },
            description: "the loop variable and its range, e.g. `{ block: a..d }`",
          },
          with: { ...args, description: "arguments for every block" },
          first: { ...args, description: "arguments overriding `with` for the first block" },
          from: refSchema,
          as: asSchema,
        },
        required: ["use", "over"],
        additionalProperties: false,
      },
      repeat: {
        type: "object",
        description: "repeats a sequence of layers `times` times",
        properties: {
          times: orInterpolation({ type: "integer", minimum: 0 }),
          var: { type: "string", description: "the 0-based loop variable (default `i`)" },
          layers: { $ref: "#/definitions/layers" },
          from: refSchema,
          as: asSchema,
        },
        required: ["times", "layers"],
        additionalProperties: false,
      },
      group: {
        type: "object",
        description: "a sub-sequence; with `if:` false it is skipped and passes its input through",
        properties: {
          if: orInterpolation({ type: "boolean" }),
          layers: { $ref: "#/definitions/layers" },
          from: refSchema,
          as: asSchema,
        },
        required: ["layers"],
        additionalProperties: false,
      },
      block: {
        type: "object",
        description: "a block template",
        properties: {
          doc: { type: "string" },
          params: { type: "object", additionalProperties: { $ref: "#/definitions/param" } },
          input: {
            type: "string",
            description: "the name layers use for the block's input (default `input`)",
          },
          names: {
            type: "object",
            additionalProperties: { type: "string" },
            description:
              "local strings, interpolated in order, e.g. `conv: res{stage}{block}_branch`",
          },
          layers: { $ref: "#/definitions/layers" },
        },
        required: ["layers"],
        additionalProperties: false,
      },
      param: {
        description:
          "a type (`int`, `float`, `bool`, `str`, `any`, `int[3]`, `str[]`) or `{ type, default, doc }`",
        if: { type: "string" },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword
        then: { type: "string", pattern: PARAM_TYPE_PATTERN },
        else: {
          type: "object",
          properties: {
            type: { type: "string", pattern: PARAM_TYPE_PATTERN },
            default: value,
            doc: { type: "string" },
          },
          required: ["type"],
          additionalProperties: false,
        },
      },
      ...opDefs,
      ...attrDefinitions(),
    },
  };
}
