/**
 * IR graph + weights -> ONNX ModelProto bytes. Deterministic: the same graph, weights and options
 * give the same bytes (no timestamps, attributes and metadata in sorted order).
 */
import {
  type Diagnostic,
  type Graph,
  graphParamCounts,
  isLazyWeightMap,
  locatedError,
  type Node,
  type OpName,
  type WeightMap,
} from "@rsc/compiler";
import { type Attrs, attributeProtos } from "./attributes.js";
import { externalize } from "./external-data.js";
import { isChannelsFirst, onnxDims, TO_NHWC } from "./layout.js";
import type { Lowering, LoweringContext, LoweringTable, WeightTransform } from "./lowering.js";
import {
  bytesPayload,
  type EncodedFile,
  encodeData,
  encodeModel,
  type TensorPayload,
} from "./model-writer.js";
import { type OnnxTypes, onnx } from "./onnx-proto.js";
import { float32Bytes, int64Bytes } from "./tensor-data.js";

/** The ONNX operator set the backend emits (onnx 1.12's newest; onnxruntime-node 1.30 runs it). */
export const OPSET_VERSION = 17;
/** The IR version that goes with opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;
/** Name of the symbolic batch dimension of every graph input and output. */
export const BATCH_DIM = "N";
/**
 * Default total initializer size, in bytes, above which tensors move to an external data file:
 * protobuf cannot encode a message of 2 GiB or more, so this leaves room for the graph itself.
 */
export const DEFAULT_EXTERNAL_DATA_THRESHOLD = 2 ** 31 - 2 ** 27;

/** Options of {@link emitOnnx}. */
export interface EmitOptions {
  /** rsc version recorded in `producer_version` and `metadata_props` (`rsc.version`). */
  readonly producerVersion?: string;
  /** sha256 (hex) of the spec's canonical IR (SpecInfo.hash), recorded as `rsc.spec_hash`. */
  readonly specHash?: string;
  /** Weight seed the initial weights came from, recorded as `rsc.seed`; omit for loaded weights. */
  readonly seed?: number;
  /** Where loaded weights came from (a file name, no folder, so bytes do not depend on paths). */
  readonly weightsSource?: string;
  /** Total initializer bytes above which tensors go to external data (default {@link DEFAULT_EXTERNAL_DATA_THRESHOLD}). */
  readonly externalDataThreshold?: number;
  /** External data file name, relative to the model's folder (default `<graph name>.onnx.data`). */
  readonly externalDataName?: string;
  /**
   * Fold a `zero_padding2d` whose every consumer is a conv2d into those convs' pads (exact:
   * both pad with zeros). Default true; the folded layer then has no ONNX node.
   */
  readonly foldZeroPadding?: boolean;
}

/** Size figures of an emitted model. */
export interface EmitStats {
  /** ONNX nodes in the graph. */
  readonly nodes: number;
  /** Initializers (Keras weights plus small constants). */
  readonly initializers: number;
  /** Parameter count, as Keras counts it. */
  readonly params: number;
  /** Bytes of initializer data (raw or external). */
  readonly tensorBytes: number;
}

/**
 * The emitted files: the model, and the external data file when the weights are too large. Both
 * are produced on demand: streamed chunk by chunk (`writeTo`) or gathered (`bytes()`).
 */
export interface EmitResult {
  /** The encoded ModelProto; absent when there were errors. */
  readonly model?: EncodedFile;
  /** External data, to be written as `name` next to the model; absent for self-contained models. */
  readonly externalData?: EncodedFile & { readonly name: string };
  readonly stats?: EmitStats;
  /** RSC400 (no lowering), RSC401 (weights) errors, located at the layer's spec line. */
  readonly diagnostics: readonly Diagnostic[];
}

/** A located error at a node's spec line, with its template call sites as related locations. */
export function nodeDiagnostic(node: Node, code: "RSC400" | "RSC401", message: string): Diagnostic {
  return locatedError(code, message, node.origin, { callSites: node.origin.callSites });
}

type Dims = readonly (number | undefined)[];

function valueInfo(name: string, dims: Dims): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: {
          dim: dims.map((d) => (d === undefined ? { dimParam: BATCH_DIM } : { dimValue: d })),
        },
      },
    },
  };
}

/** The nodes reading each node's result. */
function consumersOf(graph: Graph): Map<string, Node[]> {
  const consumers = new Map<string, Node[]>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  return consumers;
}

/** Zero paddings folded into their consumer convs: conv name -> the padding layer. */
function foldablePaddings(
  graph: Graph,
  consumers: ReadonlyMap<string, readonly Node[]>,
): Map<string, Extract<Node, { op: "zero_padding2d" }>> {
  const folded = new Map<string, Extract<Node, { op: "zero_padding2d" }>>();
  for (const node of graph.nodes) {
    if (node.op !== "zero_padding2d" || graph.outputs.includes(node.name)) continue;
    const users = consumers.get(node.name) ?? [];
    if (users.length === 0 || users.some((u) => u.op !== "conv2d")) continue;
    for (const user of users) folded.set(user.name, node);
  }
  return folded;
}

/**
 * Lowers `graph` with `lowerings` and encodes the model. Never throws for bad input: an op
 * without a lowering (RSC400) or a missing or wrong-sized weight (RSC401) is a diagnostic.
 */
export function emitOnnx(
  graph: Graph,
  weights: WeightMap,
  options: EmitOptions = {},
  lowerings: Partial<LoweringTable> = {},
): EmitResult {
  const diagnostics: Diagnostic[] = [];
  const nodes: OnnxTypes.INodeProto[] = [];
  const initializers: OnnxTypes.ITensorProto[] = [];
  const inputs: OnnxTypes.IValueInfoProto[] = [];
  const values: OnnxTypes.IValueInfoProto[] = [];
  const nodeNames = new Set<string>();
  const valueNames = new Set<string>(graph.nodes.map((n) => n.name));
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const outputs = new Set(graph.outputs);
  const consumers = consumersOf(graph);
  const folded =
    options.foldZeroPadding === false
      ? new Map<string, Extract<Node, { op: "zero_padding2d" }>>()
      : foldablePaddings(graph, consumers);
  const foldedAway = new Set([...folded.values()].map((p) => p.name));

  const uniqueValue = (base: string): string => {
    let name = base;
    for (let i = 1; valueNames.has(name); i++) name = `${base}_${i}`;
    valueNames.add(name);
    return name;
  };
  const uniqueNode = (base: string): string => {
    let name = base;
    for (let i = 1; nodeNames.has(name); i++) name = `${base}_${i}`;
    nodeNames.add(name);
    return name;
  };

  // The ONNX value holding each IR node's result. Images that enter or leave the graph are NCHW
  // inside it, under a derived name; the graph's own input and output keep the layer's name.
  const valueName = new Map<string, string>();
  for (const node of graph.nodes) {
    const image = isChannelsFirst(node.outputShape);
    const renamed = image && (node.op === "input" || outputs.has(node.name));
    valueName.set(node.name, renamed ? uniqueValue(`${node.name}/nchw`) : node.name);
  }

  // Tensor bytes are written later, straight into the output (model-writer.ts).
  const payloads: TensorPayload[] = [];
  let tensorBytes = 0;
  const addInitializer = (tensor: OnnxTypes.ITensorProto, payload: TensorPayload) => {
    initializers.push(tensor);
    payloads.push(payload);
    tensorBytes += payload.byteLength;
  };
  // Two buffers reused for every tensor, allocated once at the largest tensor's size (ResNet-50's
  // is 9.4 MB) when the first payload is written (all lowering is done by then): weights
  // generated on demand go to `generated`, kernels reordered from a Keras-layout copy to
  // `reordered`.
  let largest = 0;
  const buffers = { generated: new Float32Array(0), reordered: new Float32Array(0) };
  const buffer = (key: keyof typeof buffers, length: number): Float32Array => {
    if (buffers[key].length < length) buffers[key] = new Float32Array(Math.max(length, largest));
    return buffers[key].subarray(0, length);
  };
  const reorder = (data: Float32Array, transform: WeightTransform | undefined): Float32Array => {
    if (transform === undefined) return data;
    const out = buffer("reordered", data.length);
    transform.data(data, out);
    return out;
  };
  const lazyWeights = isLazyWeightMap(weights) ? weights : undefined;
  const weightPayload = (
    name: string,
    length: number,
    transform: WeightTransform | undefined,
  ): TensorPayload => {
    largest = Math.max(largest, length);
    if (lazyWeights === undefined) {
      const held = weights.get(name)!;
      if (transform === undefined) return bytesPayload(float32Bytes(held));
      return { byteLength: held.byteLength, bytes: () => float32Bytes(reorder(held, transform)) };
    }
    return {
      byteLength: length * Float32Array.BYTES_PER_ELEMENT,
      bytes() {
        const data = buffer("generated", length);
        // A permutation is applied as the values are generated: no Keras-layout copy.
        lazyWeights.fill(name, data, transform?.perm);
        return float32Bytes(transform?.perm === undefined ? reorder(data, transform) : data);
      },
    };
  };

  for (const node of graph.nodes) {
    if (foldedAway.has(node.name)) continue;
    const lower = (lowerings as Partial<Record<OpName, Lowering<OpName>>>)[node.op];
    if (lower === undefined) {
      diagnostics.push(
        nodeDiagnostic(
          node,
          "RSC400",
          `op '${node.op}' (layer '${node.name}') has no ONNX lowering`,
        ),
      );
      continue;
    }
    const pad = folded.get(node.name);
    const sources = pad === undefined ? node.inputs : pad.inputs;
    const [[pt, pb], [pl, pr]] = pad?.attrs.padding ?? [
      [0, 0],
      [0, 0],
    ];
    let first = true;
    const ctx: LoweringContext = {
      node,
      inputs: sources.map((i) => valueName.get(i)!),
      inputShapes: sources.map((i) => byName.get(i)!.outputShape),
      output: valueName.get(node.name)!,
      consumers: (consumers.get(node.name) ?? []).map((c) => c.op),
      foldedPadding: [pt, pb, pl, pr],
      add(opType, nodeInputs, { output, attrs = {}, suffix } = {}) {
        const name = uniqueNode(suffix === undefined ? node.name : `${node.name}/${suffix}`);
        const out = output ?? uniqueValue(`${name}/output`);
        const docString =
          first && pad !== undefined
            ? `pads include zero_padding2d layer '${pad.name}', folded into this conv`
            : undefined;
        first = false;
        nodes.push({
          input: [...nodeInputs],
          output: [out],
          name,
          opType,
          attribute: attributeProtos(attrs as Attrs),
          ...(docString === undefined ? {} : { docString }),
        });
        return out;
      },
      value: (suffix) => uniqueValue(`${node.name}/${suffix}`),
      weight(suffix, transform?: WeightTransform) {
        const spec = node.params.find((p) => p.suffix === suffix);
        const name = `${node.name}/${suffix}`;
        const length =
          lazyWeights === undefined ? weights.get(name)?.length : lazyWeights.lengthOf(name);
        const expected = spec?.shape ?? [];
        const size = expected.reduce((a, b) => a * b, 1);
        if (length === undefined) {
          diagnostics.push(nodeDiagnostic(node, "RSC401", `weight '${name}' is missing`));
        } else if (length !== size) {
          diagnostics.push(
            nodeDiagnostic(
              node,
              "RSC401",
              `weight '${name}' has ${length} values, expected ${size} for shape [${expected.join(", ")}]`,
            ),
          );
        } else {
          addInitializer(
            {
              dims: [...(transform?.dims ?? expected)],
              dataType: onnx.TensorProto.DataType.FLOAT,
              name,
              ...(transform === undefined
                ? {}
                : { docString: `Keras shape [${expected.join(", ")}], reordered for ONNX` }),
            },
            weightPayload(name, size, transform),
          );
        }
        return name;
      },
      floatConstant(suffix, dims, data) {
        const name = uniqueValue(`${node.name}/${suffix}`);
        addInitializer(
          { dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, name },
          bytesPayload(float32Bytes(data)),
        );
        return name;
      },
      int64Constant(suffix, list) {
        const name = uniqueValue(`${node.name}/${suffix}`);
        addInitializer(
          { dims: [list.length], dataType: onnx.TensorProto.DataType.INT64, name },
          bytesPayload(int64Bytes(list)),
        );
        return name;
      },
      graphInput(name, dims) {
        inputs.push(valueInfo(name, dims));
      },
      unsupported(message) {
        diagnostics.push(nodeDiagnostic(node, "RSC400", message));
      },
    };
    lower(ctx);
    // value_info lets onnx's checker (full_check) compare its shape inference against ours.
    if (node.op !== "input" && !outputs.has(node.name))
      values.push(valueInfo(ctx.output, onnxDims(node.outputShape)));
  }

  // Outputs leave the graph in Keras's layout, under the layer's name.
  const graphOutputs: OnnxTypes.IValueInfoProto[] = [];
  for (const name of graph.outputs) {
    const node = byName.get(name)!;
    const value = valueName.get(name)!;
    if (value !== name) {
      nodes.push({
        input: [value],
        output: [name],
        name: uniqueNode(`${name}/to_nhwc`),
        opType: "Transpose",
        attribute: attributeProtos({ perm: { kind: "ints", value: TO_NHWC } }),
      });
      values.push(valueInfo(value, onnxDims(node.outputShape)));
    }
    graphOutputs.push(valueInfo(name, [undefined, ...node.outputShape]));
  }

  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };

  const threshold = options.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD;
  const externalName = options.externalDataName ?? `${graph.name}.onnx.data`;
  const layout =
    tensorBytes > threshold ? externalize(initializers, payloads, externalName) : undefined;

  const model: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET_VERSION }],
    producerName: "rsc",
    producerVersion: options.producerVersion ?? "0.0.0",
    docString: modelDoc(graph, byName),
    graph: {
      node: nodes,
      name: graph.name,
      initializer: initializers,
      docString: `rsc model '${graph.name}'`,
      input: inputs,
      output: graphOutputs,
      valueInfo: values,
    },
    metadataProps: metadata(graph, options),
  };
  // Tensors moved to external data carry no raw_data.
  const inline = payloads.map((p, i) =>
    initializers[i]!.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL ? undefined : p,
  );
  const encoded = encodeModel(model, inline);
  return {
    model: encoded,
    ...(layout === undefined
      ? {}
      : { externalData: Object.assign(encodeData(layout), { name: externalName }) }),
    stats: {
      nodes: nodes.length,
      initializers: initializers.length,
      params: graphParamCounts(graph).total,
      tensorBytes,
    },
    diagnostics,
  };
}

function modelDoc(graph: Graph, byName: ReadonlyMap<string, Node>): string {
  const dims = (name: string) => `[N, ${byName.get(name)!.outputShape.join(", ")}]`;
  const layout = (name: string) => (isChannelsFirst(byName.get(name)!.outputShape) ? "NHWC " : "");
  const ins = graph.inputs.map((n) => `'${n}' float32 ${layout(n)}${dims(n)}`).join(", ");
  const outs = graph.outputs.map((n) => `'${n}' float32 ${layout(n)}${dims(n)}`).join(", ");
  return [
    `rsc model '${graph.name}'. Input ${ins}; output ${outs}; N is the batch size (symbolic).`,
    "Images enter and leave in Keras's NHWC layout and are NCHW inside the graph.",
    "Initializers carry Keras weight names (<layer>/kernel, <layer>/gamma, ...); conv kernels are stored OIHW.",
  ].join(" ");
}

function metadata(graph: Graph, options: EmitOptions): OnnxTypes.IStringStringEntryProto[] {
  const entries: Record<string, string> = {
    "rsc.model": graph.name,
    "rsc.version": options.producerVersion ?? "0.0.0",
    "rsc.input_layout": "NHWC",
  };
  if (options.specHash !== undefined) entries["rsc.spec_hash"] = `sha256:${options.specHash}`;
  if (options.seed !== undefined) entries["rsc.seed"] = String(options.seed);
  if (options.weightsSource !== undefined) entries["rsc.weights"] = options.weightsSource;
  return Object.keys(entries)
    .sort()
    .map((key) => ({ key, value: entries[key]! }));
}
