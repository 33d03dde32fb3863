/**
 * The compiler's warnings: things that compile but are most likely mistakes. A warning never
 * fails a command (only errors do); it is located like an error, with template call sites.
 * - RSC221: a layer whose output feeds nothing (not an output, no layer takes it). Keras's
 *   `Model(inputs, outputs)` drops such a layer silently; rsc keeps it in the graph and says so.
 * - RSC222: a block parameter that no expression of the block reads.
 */
import type { BlockDef } from "./blocks.js";
import {
  type Diagnostic,
  type DiagnosticCode,
  type ErrorDetails,
  locatedError,
  type SourceLocation,
} from "./diagnostics.js";
import type { Graph } from "./ir.js";
import type { LNode } from "./located.js";

/** A warning at `loc` (the same shape as {@link locatedError}'s errors). */
function warning(
  code: DiagnosticCode,
  message: string,
  loc: SourceLocation,
  details: ErrorDetails = {},
): Diagnostic {
  return { ...locatedError(code, message, loc, details), severity: "warning" };
}

/**
 * RSC221 for each layer whose output nothing reads: not a graph output, no node's input. Only
 * the end of a dead branch is reported (the layers feeding only it are dead with it).
 */
export function unusedLayerWarnings(graph: Graph): Diagnostic[] {
  const read = new Set<string>(graph.outputs);
  for (const node of graph.nodes) for (const input of node.inputs) read.add(input);
  const out: Diagnostic[] = [];
  for (const node of graph.nodes) {
    if (read.has(node.name)) continue;
    const what = node.op === "input" ? "input" : "layer";
    out.push(
      warning(
        "RSC221",
        `${what} '${node.name}' feeds nothing: it is not an output and no layer takes its output`,
        node.origin,
        {
          hint: `list it in \`outputs:\`, take it with \`from:\`, or remove it${what === "layer" ? " (and the layers that only feed it)" : ""}`,
          callSites: node.origin.callSites,
        },
      ),
    );
  }
  return out;
}

/** RSC222 for each declared parameter of `blocks` that no expression in its block names. */
export function unusedParamWarnings(blocks: Iterable<BlockDef>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const block of blocks) {
    if (block.params.size === 0) continue;
    const used = new Set<string>();
    namesIn(block.layers, used);
    for (const { template } of block.names) namesIn(template, used);
    for (const [param, decl] of block.params) {
      if (used.has(param)) continue;
      out.push(
        warning("RSC222", `parameter '${param}' of block '${block.name}' is never used`, decl.loc, {
          hint: `remove it, or read it in the block's layers as "{${param}}"`,
        }),
      );
    }
  }
  return out;
}

/**
 * Adds to `into` every identifier that appears in a `{...}` expression of a string below `node`
 * (quoted strings inside expressions excluded). It over-approximates what an expression reads
 * (a layer name given to `channels(x)` counts too), so a warning is never wrong.
 */
function namesIn(node: LNode, into: Set<string>): void {
  const stack: LNode[] = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.kind === "seq") stack.push(...n.items);
    else if (n.kind === "map") for (const e of n.entries.values()) stack.push(e.value);
    else if (typeof n.value === "string" && n.value.includes("{")) {
      for (const expr of expressionsOf(n.value)) {
        const code = expr.replace(/'[^']*'|"[^"]*"/g, " ");
        for (const m of code.matchAll(/(?<![\w.])[A-Za-z_]\w*/g)) into.add(m[0]);
      }
    }
  }
}

/** The `{...}` expression texts of an interpolated string (`{{` and `}}` are literal braces). */
function expressionsOf(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "{" && s[i + 1] === "{") i++;
    else if (s[i] === "{") {
      const end = s.indexOf("}", i);
      if (end < 0) break;
      out.push(s.slice(i + 1, end));
      i = end;
    }
  }
  return out;
}
