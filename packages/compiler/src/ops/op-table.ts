/**
 * The docs' op table (docs/spec-language.md), generated from the registry: op, Keras class,
 * attributes with their defaults, description. A test compares the doc with this output, so the
 * table can never drift from the ops the compiler knows.
 */
import { ACTIVATION_SHORTHANDS } from "../schema.js";
import { ACTIVATIONS, activationSchema } from "./activation.js";
import type { JsonSchema, OpDef } from "./op-def.js";
import { isOpName, OP_NAMES, OPS } from "./registry.js";

const code = (text: string) => `\`${text}\``;

/** A default as a spec writes it: `valid`, 1, true, 0.001. */
function formatDefault(value: unknown): string {
  return typeof value === "string" ? code(value) : JSON.stringify(value);
}

/**
 * One attribute: bold when required, `= default` when it has one, the allowed values of an enum
 * (the activations are listed once, under the table).
 */
function formatAttr(def: OpDef, name: string, schema: JsonSchema): string {
  const required = def.attrs.required?.includes(name) ?? false;
  let text = required ? `**${code(name)}**` : code(name);
  if (Object.hasOwn(def.defaults, name)) text += ` = ${formatDefault(def.defaults[name])}`;
  const allowed = schema["enum"];
  if (schema === activationSchema) text += " (an activation)";
  else if (Array.isArray(allowed)) text += ` (${allowed.map((v) => formatDefault(v)).join(" / ")})`;
  if (def.shorthand === name) text += " (shorthand)";
  return text;
}

function row(def: OpDef): string[] {
  const attrs = Object.entries(def.attrs.properties).map(([k, s]) => formatAttr(def, k, s));
  return [code(def.op), def.kerasClass, attrs.length === 0 ? "none" : attrs.join(", "), def.doc];
}

/** Pads every cell to its column's width, as a Markdown formatter lays a table out. */
function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/** The op table in Markdown, one row per op in registry order, with a final newline. */
export function opTableMarkdown(): string {
  const layerNamed = ACTIVATIONS.filter((a) => isOpName(a));
  const rows = OP_NAMES.map((op) => row(OPS[op] as unknown as OpDef));
  return [
    ...markdownTable(["op", "Keras class", "attributes", "description"], rows),
    "",
    "Required attributes are in bold; `= value` is the default.",
    `Activations: ${ACTIVATIONS.map(code).join(", ")}; each is also a bare layer,`,
    `shorthand for \`activation: <name>\` (${ACTIVATION_SHORTHANDS.map((a) => code(`- ${a}`)).join(", ")}),`,
    `except where the name is an op: ${layerNamed.map((a) => code(`- ${a}`)).join(", ")} are those ops' layers.`,
    "",
  ].join("\n");
}
