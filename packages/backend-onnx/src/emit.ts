/**
 * IR graph + weights -> ONNX ModelProto bytes. Deterministic: the same graph, weights and options
 * give the same bytes (no timestamps, attributes and metadata in sorted order).
 */
import {
  type BackendOptions,
  type Diagnostic,
  foldPoolReshape,
  foldZeroPadding,
  type Graph,
  graphParamCounts,
  graphReaders,
  locatedError,
  type Node,
  type OpName,
  type Shape,
  shapeSize,
  type WeightMap,
} from "@rsc/compiler";
import { type Attrs, attributeProtos } from "./attributes.js";
import { externalize } from "./external-data.js";
import { Initializers } from "./initializers.js";
import { isChannelsFirst, onnxDims, TO_NHWC } from "./layout.js";
import type { Lowering, LoweringContext, LoweringTable, WeightTransform } from "./lowering.js";
import { type EncodedFile, encodeData, encodeModel } from "./model-writer.js";
import { type OnnxTypes, onnx } from "./onnx-proto.js";

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
  /**
   * The input scaling the weights were trained with (x * scale + offset), recorded as
   * `rsc.input_scale`, `rsc.input_offset` and `rsc.input_preprocessing` (`baked` when it is a
   * layer of the graph, so the model takes raw pixels; `outside` when the caller applies it).
   */
  readonly inputScaling?: BackendOptions["inputScaling"];
  /** Total initializer bytes above which tensors go to external data (default {@link DEFAULT_EXTERNAL_DATA_THRESHOLD}). */
  readonly externalDataThreshold?: number;
  /** External data file name, relative to the model's folder (default `<graph name>.onnx.data`). */
  readonly externalDataName?: string;
  /**
   * Run the compiler's fold-zero-padding pass first: a `zero_padding2d` whose every consumer can
   * absorb padding (conv2d) becomes part of their pads (exact: both pad with zeros). Default
   * true; the folded layer then has no ONNX node.
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

/**
 * Lowers `graph` with `lowerings` and encodes the model, in four steps: IR passes (zero padding
 * folded into convs), naming (the ONNX value of every IR node), lowering (each node through its
 * op's lowering into ONNX nodes and initializers), and encoding (graph outputs back to NHWC,
 * external data when large, the ModelProto). Never throws for bad input: an op without a
 * lowering (RSC400) or a missing or wrong-sized weight (RSC401) is a diagnostic.
 */
export function emitOnnx(
  graph: Graph,
  weights: WeightMap,
  options: EmitOptions = {},
  lowerings: Partial<LoweringTable> = {},
): EmitResult {
  // IR passes first: zero padding into the convolutions that read it; a global pooling + reshape
  // to [1, 1, c] (squeeze-and-excitation) into one pooling with keepdims.
  const lowered = foldPoolReshape(
    options.foldZeroPadding === false ? graph : foldZeroPadding(graph),
  );
  // Names of every layer of the spec stay reserved, folded ones too, so a helper value never
  // takes a layer's name.
  const names = new OnnxNames(graph);
  const body = lowerNodes(lowered, names, new Initializers(weights), lowerings);
  addGraphOutputs(lowered, names, body);
  if (body.diagnostics.some((d) => d.severity === "error"))
    return { diagnostics: body.diagnostics };
  return encode(graph, options, body);
}

/** Unique ONNX node and value names, and the ONNX value holding each IR node's result. */
class OnnxNames {
  readonly #nodes = new Set<string>();
  readonly #values: Set<string>;
  readonly #valueOf = new Map<string, string>();

  constructor(graph: Graph) {
    this.#values = new Set(graph.nodes.map((n) => n.name));
    // Images that enter or leave the graph are NCHW inside it, under a derived name; the graph's
    // own input and output keep the layer's name.
    const outputs = new Set(graph.outputs);
    for (const node of graph.nodes) {
      const image = isChannelsFirst(node.outputShape);
      const renamed = image && (node.op === "input" || outputs.has(node.name));
      this.#valueOf.set(node.name, renamed ? this.value(`${node.name}/nchw`) : node.name);
    }
  }

  /** The ONNX value holding IR node `layer`'s result. */
  valueOf(layer: string): string {
    return this.#valueOf.get(layer)!;
  }

  /** A fresh value name: `base`, or `base_1`, `base_2`, ... when taken. */
  value(base: string): string {
    return unique(this.#values, base);
  }

  /** A fresh node name: `base`, or `base_1`, `base_2`, ... when taken. */
  node(base: string): string {
    return unique(this.#nodes, base);
  }
}

function unique(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

/** The ONNX graph's parts, as lowering produces them. */
interface GraphBody {
  readonly nodes: OnnxTypes.INodeProto[];
  readonly inputs: OnnxTypes.IValueInfoProto[];
  readonly outputs: OnnxTypes.IValueInfoProto[];
  /** value_info lets onnx's checker (full_check) compare its shape inference against ours. */
  readonly values: OnnxTypes.IValueInfoProto[];
  readonly initializers: Initializers;
  readonly diagnostics: Diagnostic[];
}

/** Lowers every node in order through its op's lowering. */
function lowerNodes(
  graph: Graph,
  names: OnnxNames,
  initializers: Initializers,
  lowerings: Partial<LoweringTable>,
): GraphBody {
  const body: GraphBody = {
    nodes: [],
    inputs: [],
    outputs: [],
    values: [],
    initializers,
    diagnostics: [],
  };
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const outputs = new Set(graph.outputs);
  const consumers = graphReaders(graph);
  for (const node of graph.nodes) {
    const lower = (lowerings as Partial<Record<OpName, Lowering<OpName>>>)[node.op];
    if (lower === undefined) {
      body.diagnostics.push(
        nodeDiagnostic(
          node,
          "RSC400",
          `op '${node.op}' (layer '${node.name}') has no ONNX lowering`,
        ),
      );
      continue;
    }
    const ctx = loweringContext(node, {
      inputShapes: node.inputs.map((i) => byName.get(i)!.outputShape),
      consumers: (consumers.get(node.name) ?? []).map((c) => c.op),
      names,
      body,
    });
    lower(ctx);
    if (node.op !== "input" && !outputs.has(node.name))
      body.values.push(valueInfo(ctx.output, onnxDims(node.outputShape)));
  }
  return body;
}

/** What a lowering of `node` sees and can do: its inputs, and writers into `body`. */
function loweringContext(
  node: Node,
  env: {
    readonly inputShapes: readonly Shape[];
    readonly consumers: readonly OpName[];
    readonly names: OnnxNames;
    readonly body: GraphBody;
  },
): LoweringContext {
  const { names, body } = env;
  const { initializers, diagnostics } = body;
  return {
    node,
    inputs: node.inputs.map((i) => names.valueOf(i)),
    inputShapes: env.inputShapes,
    output: names.valueOf(node.name),
    consumers: env.consumers,
    add(opType, nodeInputs, { output, attrs = {}, suffix, doc } = {}) {
      const name = names.node(suffix === undefined ? node.name : `${node.name}/${suffix}`);
      const out = output ?? names.value(`${name}/output`);
      body.nodes.push({
        input: [...nodeInputs],
        output: [out],
        name,
        opType,
        attribute: attributeProtos(attrs as Attrs),
        ...(doc === undefined ? {} : { docString: doc }),
      });
      return out;
    },
    value: (suffix) => names.value(`${node.name}/${suffix}`),
    weight(suffix, transform?: WeightTransform) {
      const name = `${node.name}/${suffix}`;
      const shape = node.params.find((p) => p.suffix === suffix)?.shape ?? [];
      const error = weightError(name, initializers.lengthOf(name), shape);
      if (error === undefined) initializers.addWeight(name, shape, transform);
      else diagnostics.push(nodeDiagnostic(node, "RSC401", error));
      return name;
    },
    floatConstant(suffix, dims, data) {
      const name = names.value(`${node.name}/${suffix}`);
      initializers.addFloat(name, dims, data);
      return name;
    },
    int64Constant(suffix, list) {
      const name = names.value(`${node.name}/${suffix}`);
      initializers.addInt64(name, list);
      return name;
    },
    graphInput(name, dims) {
      body.inputs.push(valueInfo(name, dims));
    },
    unsupported(message) {
      diagnostics.push(nodeDiagnostic(node, "RSC400", message));
    },
  };
}

/**
 * Why weight `name` cannot be used (missing, or not `shape`'s size), or undefined. A guard for
 * programmatic callers: the CLI has already checked loaded weights with the compiler's
 * checkWeights, so a build never reaches it.
 */
function weightError(
  name: string,
  length: number | undefined,
  shape: readonly number[],
): string | undefined {
  const size = shapeSize(shape);
  if (length === undefined) return `weight '${name}' is missing`;
  if (length !== size) {
    return `weight '${name}' has ${length} values, expected ${size} for shape [${shape.join(", ")}]`;
  }
  return undefined;
}

/** Declares the graph outputs: in Keras's layout, under the layer's name. */
function addGraphOutputs(graph: Graph, names: OnnxNames, body: GraphBody): void {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  for (const name of graph.outputs) {
    const node = byName.get(name)!;
    const value = names.valueOf(name);
    if (value !== name) {
      body.nodes.push({
        input: [value],
        output: [name],
        name: names.node(`${name}/to_nhwc`),
        opType: "Transpose",
        attribute: attributeProtos({ perm: { kind: "ints", value: TO_NHWC } }),
      });
      body.values.push(valueInfo(value, onnxDims(node.outputShape)));
    }
    body.outputs.push(valueInfo(name, [undefined, ...node.outputShape]));
  }
}

/** The ModelProto around `body`, encoded; tensors go to external data when they are too large. */
function encode(graph: Graph, options: EmitOptions, body: GraphBody): EmitResult {
  const { tensors, payloads, tensorBytes } = body.initializers;
  const threshold = options.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD;
  const externalName = options.externalDataName ?? `${graph.name}.onnx.data`;
  const layout = tensorBytes > threshold ? externalize(tensors, payloads, externalName) : undefined;

  const model: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET_VERSION }],
    producerName: "rsc",
    producerVersion: options.producerVersion ?? "0.0.0",
    docString: modelDoc(graph),
    graph: {
      node: body.nodes,
      name: graph.name,
      initializer: tensors,
      docString: `rsc model '${graph.name}'`,
      input: body.inputs,
      output: body.outputs,
      valueInfo: body.values,
    },
    metadataProps: metadata(graph, options),
  };
  // Tensors moved to external data carry no raw_data.
  const inline = payloads.map((p, i) =>
    tensors[i]!.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL ? undefined : p,
  );
  return {
    model: encodeModel(model, inline),
    ...(layout === undefined
      ? {}
      : { externalData: Object.assign(encodeData(layout), { name: externalName }) }),
    stats: {
      nodes: body.nodes.length,
      initializers: tensors.length,
      params: graphParamCounts(graph).total,
      tensorBytes,
    },
    diagnostics: body.diagnostics,
  };
}

function modelDoc(graph: Graph): string {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
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
  const scaling = options.inputScaling;
  if (scaling !== undefined) {
    entries["rsc.input_scale"] = String(scaling.scale);
    entries["rsc.input_offset"] = String(scaling.offset);
    entries["rsc.input_preprocessing"] = scaling.baked
      ? "baked: the graph scales its inputs; feed raw values (0-255 pixels)"
      : "outside: feed input * rsc.input_scale + rsc.input_offset";
  }
  return Object.keys(entries)
    .sort()
    .map((key) => ({ key, value: entries[key]! }));
}
