/**
 * Imported layers -> spec text that reads like a hand-written spec: a header comment, `rsc: 1`,
 * `name`, `input`/`inputs`, then `layers`, each with its `name:`, `from:` only where it does not
 * take the previous layer, and only the attributes that differ from the op's defaults.
 */
import { flow, literal } from "../expand-to-spec.js";
import { isOpName, type OpName } from "../ops/registry.js";
import { FORMAT_VERSION } from "../schema.js";

/** One layer to write. */
export interface SpecLayer {
  readonly name: string;
  readonly op: OpName;
  /** Non-default attributes, in spec form. */
  readonly attrs: Readonly<Record<string, unknown>>;
  /** Names of the layers (or inputs) feeding it, in order. */
  readonly inputs: readonly string[];
}

/** One model input. */
export interface SpecInput {
  readonly name: string;
  /** Batch excluded (NHWC). */
  readonly shape: readonly number[];
}

/** A model to write. */
export interface SpecModel {
  /** Comment lines at the top (without `# `). */
  readonly header: readonly string[];
  readonly name: string;
  readonly inputs: readonly SpecInput[];
  readonly layers: readonly SpecLayer[];
  readonly outputs: readonly string[];
}

/** A written spec: its text and the line (1-based) each layer is written on, by layer name. */
export interface WrittenSpec {
  readonly text: string;
  readonly lineOf: ReadonlyMap<string, number>;
}

/** A YAML comment line: no control character may end it early. */
export function commentText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "?");
}

/** The `- op: { ... }` item of one layer; `previous` is the layer written before it. */
export function layerItem(layer: SpecLayer, previous: string | undefined): string {
  const parts = [`name: ${flow(layer.name)}`];
  const sequential = layer.inputs.length === 1 && layer.inputs[0] === previous;
  if (!sequential) {
    parts.push(`from: ${layer.inputs.length === 1 ? flow(layer.inputs[0]) : flow(layer.inputs)}`);
  }
  let op: string = layer.op;
  let attrs = Object.entries(layer.attrs);
  // An activation layer is written as its activation (`- relu: { name: ... }`), as specs write
  // it, unless that name is an op of its own (`leaky_relu`, `elu` are layers with a slope).
  if (layer.op === "activation") {
    const name = String(layer.attrs["activation"]);
    if (!isOpName(name)) {
      op = name;
      attrs = [];
    }
  }
  for (const [k, v] of attrs) parts.push(`${k}: ${flow(v)}`);
  return `- ${op}: { ${parts.join(", ")} }`;
}

/** Writes a model as a flat spec. */
export function writeSpec(model: SpecModel): WrittenSpec {
  const lines: string[] = [];
  for (const h of model.header) lines.push(`# ${commentText(h)}`);
  lines.push(`rsc: ${FORMAT_VERSION}`, `name: ${literal(model.name)}`);
  const inputLine = (i: SpecInput) => `{ name: ${flow(i.name)}, shape: ${flow(i.shape)} }`;
  if (model.inputs.length === 1) lines.push(`input: ${inputLine(model.inputs[0]!)}`);
  else {
    lines.push("inputs:");
    for (const i of model.inputs) lines.push(`  - ${inputLine(i)}`);
  }
  lines.push("", "layers:");
  const lineOf = new Map<string, number>();
  let previous = model.inputs.length === 1 ? model.inputs[0]!.name : undefined;
  for (const layer of model.layers) {
    lines.push(`  ${layerItem(layer, previous)}`);
    lineOf.set(layer.name, lines.length);
    previous = layer.name;
  }
  const last = model.layers.at(-1)?.name;
  if (!(model.outputs.length === 1 && model.outputs[0] === last)) {
    lines.push("", `outputs: ${flow(model.outputs)}`);
  }
  return { text: `${lines.join("\n")}\n`, lineOf };
}

/**
 * The layers in an order a reader follows: topological, and after each layer the one that
 * continues its chain (the earliest in the file's order that takes it and is ready), so a branch
 * is written whole before the next one and `from:` appears only where branches meet.
 */
export function readingOrder<
  T extends { readonly name: string; readonly inputs: readonly string[] },
>(layers: readonly T[], inputs: readonly string[]): T[] {
  const index = new Map(layers.map((l, i) => [l.name, i]));
  const waiting = layers.map((l) => new Set(l.inputs.filter((x) => index.has(x))).size);
  const consumers = layers.map(() => [] as number[]);
  for (const [i, l] of layers.entries()) {
    for (const x of new Set(l.inputs)) {
      const from = index.get(x);
      if (from !== undefined) consumers[from]!.push(i);
    }
  }
  // A min-heap of ready layers by file order.
  const heap: number[] = [];
  const push = (v: number) => {
    heap.push(v);
    for (let k = heap.length - 1; k > 0; ) {
      const p = (k - 1) >> 1;
      if (heap[p]! <= heap[k]!) break;
      [heap[p], heap[k]] = [heap[k]!, heap[p]!];
      k = p;
    }
  };
  const done = new Array<boolean>(layers.length).fill(false);
  const pop = (): number | undefined => {
    while (heap.length > 0) {
      const top = heap[0]!;
      const end = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = end;
        for (let k = 0; ; ) {
          const a = 2 * k + 1;
          const b = a + 1;
          let m = k;
          if (a < heap.length && heap[a]! < heap[m]!) m = a;
          if (b < heap.length && heap[b]! < heap[m]!) m = b;
          if (m === k) break;
          [heap[m], heap[k]] = [heap[k]!, heap[m]!];
          k = m;
        }
      }
      if (!done[top]) return top;
    }
    return undefined;
  };
  for (const [i, w] of waiting.entries()) if (w === 0) push(i);
  const out: T[] = [];
  let last: number | undefined;
  const lastInput = inputs.length === 1 ? inputs[0] : undefined;
  while (out.length < layers.length) {
    let next: number | undefined;
    const after =
      last === undefined
        ? layers.flatMap((l, i) =>
            lastInput !== undefined && l.inputs[0] === lastInput ? [i] : [],
          )
        : consumers[last]!;
    for (const c of after)
      if (!done[c] && waiting[c] === 0 && (next === undefined || c < next)) next = c;
    next ??= pop();
    if (next === undefined) break; // a cycle: the compiler reports it
    done[next] = true;
    out.push(layers[next]!);
    for (const c of consumers[next]!) {
      waiting[c] = waiting[c]! - 1;
      if (waiting[c] === 0) push(c);
    }
    last = next;
  }
  // Whatever a cycle left out keeps its place at the end, for the compiler to report.
  for (const [i, l] of layers.entries()) if (!done[i]) out.push(l);
  return out;
}
