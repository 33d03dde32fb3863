/**
 * `rsc summary`'s model: the layer list and parameter totals of a graph, counted as Keras's
 * `model.summary()` counts them, with each layer's multiply-accumulates and the activation
 * memory of one example (the compiler's cost.ts), and the text table in Keras's style.
 */
import {
  formatCount,
  type Graph,
  graphCost,
  graphParamCounts,
  layerMacs,
  nodeParamCounts,
  OPS,
} from "@rsc/compiler";

/** Bytes per parameter: the compiler's weights are float32, and Keras sizes them the same way. */
const BYTES_PER_PARAM = 4;

/** One row of the summary: one layer. */
export interface SummaryLayer {
  /** Layer name, e.g. `res2a_branch2a`. */
  readonly name: string;
  /** Keras layer class, e.g. `Conv2D`. */
  readonly type: string;
  /** IR op name, e.g. `conv2d`. */
  readonly op: string;
  /** Output shape with the symbolic batch dimension first as `null` (Keras's `None`); NHWC. */
  readonly outputShape: readonly (number | null)[];
  /** Parameter count of the layer (trainable + non-trainable). */
  readonly params: number;
  /** Trainable parameters of the layer. */
  readonly trainableParams: number;
  /** Non-trainable parameters (BatchNorm moving statistics). */
  readonly nonTrainableParams: number;
  /** Multiply-accumulates for one example (convolutions and dense layers; 0 for other ops). */
  readonly macs: number;
  /** Inputs in Keras functional notation, `layer[node_index][tensor_index]`, e.g. `conv1[0][0]`. */
  readonly connectedTo: readonly string[];
}

/** Parameter totals with their float32 sizes in bytes, and the compute cost of one example. */
export interface SummaryTotals {
  readonly total: number;
  readonly trainable: number;
  readonly nonTrainable: number;
  /** `total * 4` bytes (float32). */
  readonly totalBytes: number;
  /** `trainable * 4` bytes. */
  readonly trainableBytes: number;
  /** `nonTrainable * 4` bytes. */
  readonly nonTrainableBytes: number;
  /** Multiply-accumulates of every layer for one example. */
  readonly macs: number;
  /** Values of every layer's output (the Output Shape column, inputs included) for one example. */
  readonly activations: number;
  /** `activations * 4` bytes (float32). */
  readonly activationBytes: number;
}

/** The whole summary, as `rsc summary --json` prints it in its envelope's `result`. */
export interface ModelSummary {
  /** Model name (`name:` of the spec). */
  readonly name: string;
  readonly layers: readonly SummaryLayer[];
  readonly totals: SummaryTotals;
}

/** Builds the summary of a graph. */
export function summarize(graph: Graph): ModelSummary {
  const macs = layerMacs(graph);
  const layers = graph.nodes.map((node): SummaryLayer => {
    const counts = nodeParamCounts(node);
    return {
      name: node.name,
      type: OPS[node.op].kerasClass,
      op: node.op,
      outputShape: [null, ...node.outputShape],
      params: counts.total,
      trainableParams: counts.trainable,
      nonTrainableParams: counts.nonTrainable,
      macs: macs.get(node.name)!,
      // Every IR node has one output and is called once, so Keras's indices are always [0][0].
      connectedTo: node.inputs.map((input) => `${input}[0][0]`),
    };
  });
  const counts = graphParamCounts(graph);
  const cost = graphCost(graph);
  return {
    name: graph.name,
    layers,
    totals: {
      ...counts,
      totalBytes: counts.total * BYTES_PER_PARAM,
      trainableBytes: counts.trainable * BYTES_PER_PARAM,
      nonTrainableBytes: counts.nonTrainable * BYTES_PER_PARAM,
      macs: cost.macs,
      activations: cost.activations,
      activationBytes: cost.activationBytes,
    },
  };
}

/**
 * A byte count as Keras 2.13+ prints it next to the totals (`readable_memory_size`): divide by
 * 1024 while the value is at least 1024, two decimals, units Byte/KB/MB/GB/TB/PB.
 */
export function readableSize(bytes: number): string {
  const units = ["Byte", "KB", "MB", "GB", "TB", "PB"];
  let size = bytes;
  for (const unit of units) {
    if (size / 1024 < 1) return `${size.toFixed(2)} ${unit}`;
    size /= 1024;
  }
  return `${size.toFixed(2)} PB`;
}

/**
 * A count in decimal units, two decimals, as MACs are quoted (torchvision's 4.09 GFLOPS):
 * `4.09 G`, `300.77 M`, `1.50 K`; undefined below 1,000, where the count itself is as short.
 */
export function readableCount(n: number): string | undefined {
  const units = ["K", "M", "G", "T", "P", "E"];
  let unit = -1;
  let value = n;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit < 0 ? undefined : `${value.toFixed(2)} ${units[unit]}`;
}

/** A shape as Keras prints it: `(None, 32, 32, 64)`. */
export function formatShape(shape: readonly (number | null)[]): string {
  return `(${shape.map((d) => (d === null ? "None" : String(d))).join(", ")})`;
}

const HEADERS = ["Layer (type)", "Output Shape", "Param #", "MACs", "Connected to"] as const;
/** Spaces between columns. */
const GAP = 2;

/**
 * The summary as a text table in the style of Keras's `model.summary()` for functional models,
 * with a MACs column after Param # and the compute cost under the parameter totals.
 * Columns are sized to their content instead of Keras's fixed 98 characters (Keras wraps long
 * names mid-word, which makes the table hard to read and to diff); a layer with several inputs
 * lists one per line, as Keras 2 did. No trailing spaces, so golden files diff cleanly.
 */
export function formatSummary(summary: ModelSummary): string {
  const cells = summary.layers.map((l) => [
    `${l.name} (${l.type})`,
    formatShape(l.outputShape),
    formatCount(l.params),
    formatCount(l.macs),
  ]);
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(HEADERS[i]!.length, ...cells.map((row) => row[i]!.length)),
  ) as [number, number, number, number];
  const connectedWidth = Math.max(
    HEADERS[4].length,
    ...summary.layers.flatMap((l) => l.connectedTo.map((c) => c.length)),
  );
  const ruleWidth = widths[0] + widths[1] + widths[2] + widths[3] + 4 * GAP + connectedWidth;
  const gap = " ".repeat(GAP);

  const line = (
    first: string,
    shape: string,
    params: string,
    macs: string,
    connected: string,
  ): string =>
    [
      first.padEnd(widths[0]),
      shape.padEnd(widths[1]),
      params.padStart(widths[2]),
      macs.padStart(widths[3]),
      connected,
    ]
      .join(gap)
      .trimEnd();

  const out: string[] = [`Model: "${summary.name}"`, "_".repeat(ruleWidth)];
  out.push(line(...HEADERS));
  out.push("=".repeat(ruleWidth));
  summary.layers.forEach((layer, i) => {
    const [first, shape, params, macs] = cells[i]!;
    out.push(line(first!, shape!, params!, macs!, layer.connectedTo[0] ?? ""));
    for (const more of layer.connectedTo.slice(1)) out.push(line("", "", "", "", more));
  });
  out.push("=".repeat(ruleWidth));
  const t = summary.totals;
  out.push(`Total params: ${formatCount(t.total)} (${readableSize(t.totalBytes)})`);
  out.push(`Trainable params: ${formatCount(t.trainable)} (${readableSize(t.trainableBytes)})`);
  out.push(
    `Non-trainable params: ${formatCount(t.nonTrainable)} (${readableSize(t.nonTrainableBytes)})`,
  );
  const macs = readableCount(t.macs);
  out.push(`Total MACs: ${formatCount(t.macs)}${macs === undefined ? "" : ` (${macs})`}`);
  out.push(
    `Activation memory: ${formatCount(t.activations)} values (${readableSize(t.activationBytes)})`,
  );
  out.push("_".repeat(ruleWidth));
  return `${out.join("\n")}\n`;
}
