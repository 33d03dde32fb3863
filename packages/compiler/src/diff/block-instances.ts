/**
 * Block-template instances of a graph, recovered from node origins. `rsc diff` uses them to say
 * "+17 bottleneck blocks (res4g..res4w)" and `rsc graph --collapse-blocks` to draw one box per
 * instance.
 */
import type { CallSite } from "../diagnostics.js";
import type { Graph, Node, Origin } from "../ir.js";
import { commonSuffix } from "./format-values.js";

/** One instance of an outermost block-template call. */
export interface BlockInstance {
  /** The block template's name. */
  readonly block: string;
  /** Where the call (or the `stage:` that made it) is written; 1-based line and column. */
  readonly callSite: { readonly file: string; readonly line: number; readonly column: number };
  /** Names of the instance's nodes, in graph order. */
  readonly nodes: readonly string[];
  /**
   * A short label: the first node's name without the suffix that every instance of the same
   * call site shares (`res4g` from `res4g_branch2a`), or the first node's name.
   */
  readonly label: string;
}

const siteKey = (c: CallSite) => `${c.file}:${c.line}:${c.column}:${c.block}`;
/** Where a node was written, down to the template line and every call site but the outermost. */
const placeKey = (o: Origin) =>
  [`${o.file}:${o.line}:${o.column}`, ...o.callSites.slice(0, -1).map(siteKey)].join("<");

/**
 * Splits the nodes made by outermost template calls into instances. The IR records call sites,
 * not instances, and every instance of one `stage:` shares the stage's call site; so a new
 * instance starts where the call site changes or where a template line repeats within the
 * current instance (an instance makes each of its template layers once). An optional numeric
 * `instance` on the call site, when the compiler provides one, is used as well.
 */
export function blockInstances(graph: Graph): BlockInstance[] {
  const raw: { site: CallSite; key: string; nodes: Node[]; places: Set<string> }[] = [];
  let current: (typeof raw)[number] | undefined;
  for (const node of graph.nodes) {
    const site = node.origin.callSites.at(-1);
    if (site === undefined) {
      current = undefined;
      continue;
    }
    const instance = (site as { instance?: unknown }).instance;
    const key = `${siteKey(site)}#${typeof instance === "number" ? instance : ""}`;
    const place = placeKey(node.origin);
    if (current === undefined || current.key !== key || current.places.has(place)) {
      current = { site, key, nodes: [], places: new Set() };
      raw.push(current);
    }
    current.nodes.push(node);
    current.places.add(place);
  }
  // Labels: strip the suffix shared by the first-node names of all instances of one call site.
  const firstNames = new Map<string, string[]>();
  for (const r of raw) {
    const k = siteKey(r.site);
    firstNames.set(k, [...(firstNames.get(k) ?? []), r.nodes[0]!.name]);
  }
  return raw.map((r) => {
    const names = firstNames.get(siteKey(r.site))!;
    const suffix = names.length > 1 ? commonSuffix(names) : "";
    const first = r.nodes[0]!.name;
    const label =
      suffix.length > 0 && suffix.length < first.length ? first.slice(0, -suffix.length) : first;
    return {
      block: r.site.block,
      callSite: { file: r.site.file, line: r.site.line, column: r.site.column },
      nodes: r.nodes.map((n) => n.name),
      label: label.replace(/_+$/, ""),
    };
  });
}
