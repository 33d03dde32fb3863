/**
 * The canonical form of a graph: plain JSON with sorted keys and no source origins. Golden files,
 * `rsc diff` and {@link graphHash} work on it, so two specs that build the same architecture
 * (same layers, names, attributes, shapes and parameters) have the same canonical JSON, however
 * they were written. The model name is metadata, not architecture, and is left out.
 */
import { createHash } from "node:crypto";
import type { Graph } from "./ir.js";

/** A JSON value. */
export type Json =
  | null
  | boolean
  | number
  | string
  | readonly Json[]
  | { readonly [key: string]: Json };

/** `value` as JSON with every object's keys sorted (and undefined members dropped). */
function sortKeys(value: unknown): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value as Json;
}

/** JSON text with sorted object keys and no whitespace: equal values give equal strings. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

/** The graph as canonical JSON: `{ inputs, outputs, nodes: [{ name, op, inputs, attrs, outputShape, params }] }`, keys sorted. */
export function canonicalGraph(graph: Graph): Json {
  return sortKeys({
    inputs: graph.inputs,
    outputs: graph.outputs,
    nodes: graph.nodes.map((n) => ({
      name: n.name,
      op: n.op,
      inputs: n.inputs,
      attrs: n.attrs,
      outputShape: n.outputShape,
      params: n.params.map((p) => ({
        name: p.name,
        shape: p.shape,
        initializer: p.initializer,
        trainable: p.trainable,
      })),
    })),
  });
}

/** {@link canonicalGraph} serialised without whitespace. */
export function canonicalJson(graph: Graph): string {
  return JSON.stringify(canonicalGraph(graph)); // already key-sorted
}

/** sha256 (hex) of the canonical JSON: same architecture, same hash. */
export function graphHash(graph: Graph): string {
  return createHash("sha256").update(canonicalJson(graph)).digest("hex");
}
