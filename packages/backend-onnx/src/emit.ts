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
import { type FloatType, onnxFloatType } from "./float-type.js";
import { FLOAT16_MAX, float16Bits, float16Value } from "./float16.js";
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

/** The float precision of a model's weights and activations (`rsc build --precision`). */
export type Precision = "fp32" | "fp16";

/** The ONNX float type of a {@link Precision}. */
export function floatTypeOf(precision: Precision): FloatType {
  return precision === "fp16" ? "float16" : "float32";
}

/** Options of {@link emitOnnx}. */
export interface EmitOptions {
  /**
   * Float type of weights (initializers) and activations (default fp32). fp16 stores every
   * float initializer as FLOAT16 (rounded to nearest, ties to even) and computes in float16;
   * recorded as `rsc.precision` (fp16 models only, so fp32 models are unchanged). Weights that
   * are not seeded (no `seed`) are checked first: one holding a value float16 rounds to infinity
   * (|v| >= 65520) is an RSC400 error at its layer.
   *
   * onnxruntime-node 1.30's CPU provider (x64) has float16 kernels for Cast, Clip, Concat,
   * Flatten, Identity, LayerNormalization, Max, Min, Reshape, Slice and Transpose only. For every
   * other op emitted here (Conv, ConvTranspose, Gemm, BatchNormalization, the pools, Softmax,
   * Add/Sub/Mul/Div/Sum/Mean, the activations, Erf, Sqrt, Pad, Resize, Greater, Where) its
   * session inserts Casts around the node and computes it in float32 (seen in the optimised
   * model it saves), so a float16 model runs there, at float32 cost between the Casts. The model
   * is not changed for it: WebGPU computes those ops in float16. Only normalization's
   * denominator is float32 by design (see its lowering).
   */
  readonly precision?: Precision;
  /**
   * Float type of the graph's inputs and outputs (default fp32). With `precision` fp16 and io
   * fp32, a Cast to float16 follows each input and a Cast to float32 precedes each output, so
   * callers feed and read float32. io fp16 needs precision fp16 (emitOnnx throws otherwise).
   */
  readonly ioPrecision?: Precision;
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
  /**
   * RSC400 (no lowering; in a float16 model, a constant or loaded weight float16 cannot hold),
   * RSC401 (weights) errors, located at the layer's spec line.
   */
  readonly diagnostics: readonly Diagnostic[];
}

/** A located error at a node's spec line, with its template call sites as related locations. */
export function nodeDiagnostic(node: Node, code: "RSC400" | "RSC401", message: string): Diagnostic {
  return locatedError(code, message, node.origin, { callSites: node.origin.callSites });
}

type Dims = readonly (number | undefined)[];

/** The float types of a model: of its activations and weights, and of its inputs and outputs. */
interface FloatTypes {
  readonly compute: FloatType;
  readonly io: FloatType;
}

function floatTypes(options: EmitOptions): FloatTypes {
  const compute = floatTypeOf(options.precision ?? "fp32");
  const io = floatTypeOf(options.ioPrecision ?? "fp32");
  if (io === "float16" && compute !== "float16")
    throw new Error("emitOnnx: ioPrecision fp16 needs precision fp16");
  return { compute, io };
}

function valueInfo(name: string, dims: Dims, type: FloatType): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnxFloatType(type),
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
  const types = floatTypes(options);
  const names = new OnnxNames(graph, types);
  // Seeded weights are small by construction (Keras's initializers); loaded ones may hold what
  // float16 cannot (a BatchNormalization's moving variance over raw pixels).
  const checkRange = types.compute === "float16" && options.seed === undefined;
  const initializers = new Initializers(weights, types.compute);
  const body = lowerNodes(lowered, names, initializers, lowerings, checkRange);
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

  /** The float types of the model (a Cast at the graph's edges when they differ). */
  readonly types: FloatTypes;

  constructor(graph: Graph, types: FloatTypes) {
    this.types = types;
    this.#values = new Set(graph.nodes.map((n) => n.name));
    // Images that enter or leave the graph are NCHW inside it, under a derived name, and so are
    // values that a Cast separates from the graph's input or output; the graph's own input and
    // output keep the layer's name.
    const outputs = new Set(graph.outputs);
    const cast = types.io !== types.compute;
    for (const node of graph.nodes) {
      const edge = node.op === "input" || outputs.has(node.name);
      const image = isChannelsFirst(node.outputShape);
      const inside =
        edge && image
          ? this.value(`${node.name}/nchw`)
          : edge && cast
            ? this.value(`${node.name}/${types.compute}`)
            : node.name;
      this.#valueOf.set(node.name, inside);
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
  checkFloat16Range: boolean,
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
      checkFloat16Range,
    });
    lower(ctx);
    if (node.op !== "input" && !outputs.has(node.name))
      body.values.push(valueInfo(ctx.output, onnxDims(node.outputShape), names.types.compute));
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
    /** Check each weight against float16's range (float16 models of weights not seeded). */
    readonly checkFloat16Range: boolean;
  },
): LoweringContext {
  const { names, body } = env;
  const { initializers, diagnostics } = body;
  const { types } = names;
  return {
    node,
    inputs: node.inputs.map((i) => names.valueOf(i)),
    inputShapes: env.inputShapes,
    output: names.valueOf(node.name),
    floatType: types.compute,
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
      if (error !== undefined) {
        diagnostics.push(nodeDiagnostic(node, "RSC401", error));
        return name;
      }
      if (env.checkFloat16Range) {
        const largest = initializers.largestMagnitude(name) ?? 0;
        if (Number.isFinite(largest) && !Number.isFinite(float16Value(float16Bits(largest))))
          diagnostics.push(
            nodeDiagnostic(
              node,
              "RSC400",
              `weight '${name}' holds ${Number(largest.toPrecision(7))}, beyond float16's largest value ${FLOAT16_MAX} (it would be infinite); build this model at fp32 precision`,
            ),
          );
      }
      initializers.addWeight(name, shape, transform);
      return name;
    },
    floatConstant(suffix, dims, data) {
      const name = names.value(`${node.name}/${suffix}`);
      if (types.compute === "float16") {
        const lost = data.find((v) => float16Loses(v));
        if (lost !== undefined) {
          const becomes = Math.abs(lost) > FLOAT16_MAX ? "infinite" : "0";
          diagnostics.push(
            nodeDiagnostic(
              node,
              "RSC400",
              `constant '${name}' = ${Number(lost.toPrecision(7))} of layer '${node.name}' is ${becomes} in float16 (its magnitudes run from 6e-8 to 65504); build this model at fp32 precision`,
            ),
          );
        }
      }
      initializers.addFloat(name, dims, data);
      return name;
    },
    float32Constant(suffix, dims, data) {
      const name = names.value(`${node.name}/${suffix}`);
      initializers.addFloat(name, dims, data, "float32");
      return name;
    },
    int64Constant(suffix, list) {
      const name = names.value(`${node.name}/${suffix}`);
      initializers.addInt64(name, list);
      return name;
    },
    graphInput(name, dims, into) {
      body.inputs.push(valueInfo(name, dims, types.io));
      if (types.io === types.compute) return name;
      const out = into ?? names.value(`${name}/${types.compute}`);
      body.nodes.push(
        castNode(names.node(`${name}/to_${types.compute}`), name, out, types.compute),
      );
      return out;
    },
    unsupported(message) {
      diagnostics.push(nodeDiagnostic(node, "RSC400", message));
    },
  };
}

/** True when float16 turns finite, nonzero `value` into 0 or infinity. */
function float16Loses(value: number): boolean {
  if (!Number.isFinite(value) || value === 0) return false;
  const half = float16Value(float16Bits(value));
  return half === 0 || !Number.isFinite(half);
}

/** A Cast node from `input` to `output` of float type `to`. */
function castNode(
  name: string,
  input: string,
  output: string,
  to: FloatType,
): OnnxTypes.INodeProto {
  return {
    input: [input],
    output: [output],
    name,
    opType: "Cast",
    attribute: attributeProtos({ to: { kind: "int", value: onnxFloatType(to) } }),
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

/**
 * Declares the graph outputs: in Keras's layout, under the layer's name, in the io float type
 * (a Cast last when it is not the model's).
 */
function addGraphOutputs(graph: Graph, names: OnnxNames, body: GraphBody): void {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const { compute, io } = names.types;
  for (const name of graph.outputs) {
    const node = byName.get(name)!;
    let value = names.valueOf(name);
    if (value !== name) body.values.push(valueInfo(value, onnxDims(node.outputShape), compute));
    if (isChannelsFirst(node.outputShape)) {
      const nhwc = io === compute ? name : names.value(`${name}/nhwc`);
      body.nodes.push({
        input: [value],
        output: [nhwc],
        name: names.node(`${name}/to_nhwc`),
        opType: "Transpose",
        attribute: attributeProtos({ perm: { kind: "ints", value: TO_NHWC } }),
      });
      if (nhwc !== name)
        body.values.push(valueInfo(nhwc, [undefined, ...node.outputShape], compute));
      value = nhwc;
    }
    if (io !== compute) body.nodes.push(castNode(names.node(`${name}/to_${io}`), value, name, io));
    body.outputs.push(valueInfo(name, [undefined, ...node.outputShape], io));
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
    docString: modelDoc(graph, options),
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

function modelDoc(graph: Graph, options: EmitOptions): string {
  const { compute, io } = floatTypes(options);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const dims = (name: string) => `[N, ${byName.get(name)!.outputShape.join(", ")}]`;
  const layout = (name: string) => (isChannelsFirst(byName.get(name)!.outputShape) ? "NHWC " : "");
  const ins = graph.inputs.map((n) => `'${n}' ${io} ${layout(n)}${dims(n)}`).join(", ");
  const outs = graph.outputs.map((n) => `'${n}' ${io} ${layout(n)}${dims(n)}`).join(", ");
  const precision =
    compute === "float32"
      ? []
      : [
          io === compute
            ? "Weights and activations are float16."
            : "Weights and activations are float16; a Cast follows each input and precedes each output.",
        ];
  return [
    `rsc model '${graph.name}'. Input ${ins}; output ${outs}; N is the batch size (symbolic).`,
    "Images enter and leave in Keras's NHWC layout and are NCHW inside the graph.",
    ...precision,
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
  // Recorded for fp16 only: an fp32 model's bytes stay what they were before precisions existed.
  if (options.precision === "fp16") {
    entries["rsc.precision"] = "fp16";
    entries["rsc.io_precision"] = options.ioPrecision ?? "fp32";
  }
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
