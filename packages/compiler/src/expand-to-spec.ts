/**
 * `rsc expand`: a graph written back as a flat spec in canonical form, for review. Every layer is
 * named, every attribute explicit (normalised), `from:` written only where a layer does not take
 * the previous layer's output, and no blocks, imports, params or defaults remain. The text is
 * itself a valid spec that compiles to the same graph (same canonical JSON).
 */
import { escapeBraces } from "./expr.js";
import type { Graph } from "./ir.js";
import { FORMAT_VERSION } from "./schema.js";

const PLAIN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i;

/**
 * Code units a YAML double-quoted scalar must escape: `"` and `\\`, and everything YAML does not
 * allow printed (C0 controls, DEL, C1 controls, surrogates without their pair, U+FFFE/F)
 * or would fold (NEL, line and paragraph separators: line breaks to some readers).
 */
const YAML_ESCAPE =
  /["\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` as a YAML double-quoted scalar that reads back to exactly `s`. */
function quoted(s: string): string {
  const body = s.replace(YAML_ESCAPE, (c) =>
    c === '"' || c === "\\" ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `"${body}"`;
}

/** A string as a YAML scalar: plain when it reads back as the same string, else quoted. */
export function literal(s: string): string {
  return PLAIN.test(s) && !RESERVED.test(s) ? s : quoted(s);
}

/**
 * Formats a scalar or list as a YAML flow value that reads back to the same value once
 * interpolated: braces are doubled, as every string value of a layer is interpolated.
 */
export function flow(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flow).join(", ")}]`;
  if (typeof value === "string") return literal(escapeBraces(value));
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} in a spec`);
    return String(value);
  }
  return String(value);
}

/** The fully expanded spec of a graph, as YAML text. */
export function expandToSpec(
  graph: Graph,
  options: { readonly seed?: number; readonly header?: string } = {},
): string {
  const lines: string[] = [];
  if (options.header) for (const h of options.header.split("\n")) lines.push(`# ${h}`);
  // The model's `name:` is not interpolated: written as it is, braces and all.
  lines.push(`rsc: ${FORMAT_VERSION}`, `name: ${literal(graph.name)}`);
  if (options.seed !== undefined && options.seed !== 0) lines.push(`seed: ${options.seed}`);
  lines.push("layers:");
  let previous: string | undefined;
  for (const node of graph.nodes) {
    const parts = [`name: ${flow(node.name)}`];
    const sequential =
      node.op !== "input" && node.inputs.length === 1 && node.inputs[0] === previous;
    if (!sequential && node.op !== "input") {
      parts.push(`from: ${node.inputs.length === 1 ? flow(node.inputs[0]) : flow(node.inputs)}`);
    }
    for (const [k, v] of Object.entries(node.attrs)) parts.push(`${k}: ${flow(v)}`);
    lines.push(`  - ${node.op}: { ${parts.join(", ")} }`);
    previous = node.name;
  }
  const last = graph.nodes.at(-1)?.name;
  if (!(graph.outputs.length === 1 && graph.outputs[0] === last)) {
    lines.push(`outputs: ${flow(graph.outputs)}`);
  }
  return `${lines.join("\n")}\n`;
}
