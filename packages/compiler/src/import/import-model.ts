/**
 * `rsc import`'s conversion, pure: a Keras model config as JSON text (a Keras `to_json()` file, a
 * Keras 2 `.h5`'s `model_config`, a Keras 3 `.keras`'s `config.json`, a tfjs Layers model.json)
 * -> spec text + diagnostics. Nothing is read from disk and nothing in the file is run.
 *
 * The steps: read the JSON with positions -> flatten the model (keras-graph.ts) -> convert each
 * layer (keras-layers.ts) -> write a flat spec (spec-writer.ts) -> compile it (so the output is
 * known to check clean, and shapes are known) -> with `blocks`, look for repeated subgraphs
 * (blocks.ts) and keep the template version only when it compiles to the same graph.
 */
import { compileSource } from "../compile.js";
import {
  type Diagnostic,
  hasErrors,
  locatedError,
  type SourceLocation,
  sortDiagnostics,
} from "../diagnostics.js";
import { type Graph, graphParamCounts, type ParamCounts } from "../ir.js";
import { findBlocks } from "./blocks.js";
import { type FlatModel, field, readKerasGraph } from "./keras-graph.js";
import { type ConvertContext, type ConvertedLayer, convertLayer } from "./keras-layers.js";
import { type JsonObject, type JsonValue, parseLocatedJson } from "./located-json.js";
import {
  readingOrder,
  type SpecInput,
  type SpecLayer,
  type SpecModel,
  writeSpec,
} from "./spec-writer.js";

/** Options of {@link importKerasModel}. */
export interface ImportOptions {
  /** The name diagnostics give the text, e.g. `model.json` or `model.h5 (model_config)`. */
  readonly file: string;
  /** How the header comment names the source, e.g. the path given to `rsc import`. */
  readonly source: string;
  /** Look for repeated subgraphs and write them as block templates (`--blocks`). */
  readonly blocks?: boolean;
  /** `keras_version` recorded beside the config (an `.h5` attribute, a `.keras`'s metadata.json). */
  readonly kerasVersion?: string;
  /** The input shape (batch excluded) for a model whose single input has unknown dimensions. */
  readonly inputShape?: readonly number[];
}

/** What an import made. */
export interface ImportStats {
  /** Layers of the spec, inputs excluded. */
  readonly layers: number;
  /** Nested models flattened. */
  readonly nestedModels: number;
  /** Parameter totals of the spec (Keras's count). */
  readonly params: ParamCounts;
  /** Block templates written (0: flat layers). */
  readonly blocks: number;
  /** `Keras 3 Functional`, `tfjs Sequential`, ... */
  readonly format: string;
}

/** The result of an import: the spec when there were no errors, and every diagnostic. */
export interface ImportResult {
  readonly spec?: string;
  /** The compiled spec's graph (the flat one; the `blocks` text compiles to the same graph). */
  readonly graph?: Graph;
  readonly stats?: ImportStats;
  readonly diagnostics: readonly Diagnostic[];
}

const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The model config inside a file's JSON, and what kind of file it is. */
function modelConfig(
  value: JsonValue,
): { config: JsonValue; tfjs: boolean; version?: string } | string {
  if (!isObject(value))
    return "not a Keras model config or tfjs model.json (the JSON is not an object)";
  let tfjs = false;
  let root: JsonValue = value;
  const topology = field(value, "modelTopology");
  if (topology !== undefined) {
    tfjs = true;
    if (field(value, "format") === "graph-model") {
      return "a tfjs graph model (a TensorFlow graph, not Keras layers) cannot be imported; only tfjs Layers models can";
    }
    if (!isObject(topology)) return "modelTopology is not an object";
    root = topology;
  }
  let version = isObject(root) ? field(root, "keras_version") : undefined;
  // tensorflowjs_converter wraps the Keras config: { keras_version, backend, model_config }.
  const inner = isObject(root) ? field(root, "model_config") : undefined;
  if (isObject(inner)) {
    version ??= field(inner, "keras_version");
    root = inner;
  }
  return {
    config: root,
    tfjs,
    ...(typeof version === "string" ? { version } : {}),
  };
}

/** Converts a Keras model config (JSON text) to a spec. Never throws for bad input. */
export function importKerasModel(text: string, options: ImportOptions): ImportResult {
  const { file } = options;
  const parsed = parseLocatedJson(text, file);
  if (!parsed.ok) {
    return {
      diagnostics: [locatedError("RSC520", `malformed JSON: ${parsed.message}`, parsed.loc)],
    };
  }
  const top: SourceLocation = { file, line: 1, column: 1 };
  const at = (obj: object | undefined): SourceLocation => (obj && parsed.where(obj)) || top;
  const found = modelConfig(parsed.value);
  if (typeof found === "string") return { diagnostics: [locatedError("RSC520", found, top)] };

  const read = readKerasGraph(found.config);
  const diagnostics: Diagnostic[] = read.problems.map((p) =>
    locatedError(p.code, p.message, at(p.at ?? undefined)),
  );
  const model = read.model;
  if (model === undefined) return { diagnostics };

  const root = found.config as JsonObject;
  const kerasMajor =
    !found.tfjs &&
    (field(root, "module") !== undefined ||
      (options.kerasVersion ?? found.version ?? model.kerasVersion)?.startsWith("3"))
      ? 3
      : 2;
  const ctx: ConvertContext = { kerasMajor, tfjs: found.tfjs };
  const format = `${found.tfjs ? "tfjs" : `Keras ${kerasMajor}`} ${model.className === "Model" ? "Functional" : model.className}`;

  const inputs = specInputs(model, options, at, diagnostics);
  const converted = new Map<string, ConvertedLayer>();
  let frozen: { first: JsonObject; count: number } | undefined;
  for (const layer of model.layers) {
    const label = `layer '${layer.name}' (${layer.className || "no class"}${layer.scope.length > 0 ? `, in nested model '${layer.scope.at(-1)}'` : ""})`;
    const { converted: c, issues } = convertLayer(layer, ctx);
    for (const issue of issues) {
      const d = locatedError(issue.code, `${label}: ${issue.message}`, at(layer.object));
      diagnostics.push(issue.severity === "error" ? d : { ...d, severity: "warning" });
    }
    if (c !== undefined) converted.set(layer.name, c);
    if (field(layer.config, "trainable") === false) {
      frozen =
        frozen === undefined
          ? { first: layer.object, count: 1 }
          : { ...frozen, count: frozen.count + 1 };
    }
  }
  if (frozen !== undefined) {
    diagnostics.push({
      ...locatedError(
        "RSC526",
        `${frozen.count} layer${frozen.count === 1 ? " is" : "s are"} frozen (trainable: false) in the source; a spec has no frozen layers, so rsc counts their weights as trainable (the total is the same)`,
        at(frozen.first),
      ),
      severity: "warning",
    });
  }
  if (hasErrors(diagnostics) || inputs === undefined)
    return { diagnostics: sortDiagnostics(diagnostics) };

  const header = [
    `Imported by \`rsc import ${options.source}\`: a ${format} model '${model.name}'.`,
  ];
  const inputNames = inputs.map((i) => i.name);
  const ordered = readingOrder(model.layers, inputNames);
  let layers: SpecLayer[] = ordered.map((l) => {
    const c = converted.get(l.name)!;
    return { name: l.name, op: c.op, attrs: c.attrs, inputs: l.inputs };
  });
  const objectOf = new Map<string, JsonObject>([
    ...model.layers.map((l) => [l.name, l.object] as const),
    ...model.inputs.map((i) => [i.name, i.object] as const),
  ]);
  const specFile = `${file}.yaml`;
  const compileText = (text: string) =>
    compileSource(text, specFile, {
      root: "/",
      readFile: () => {
        throw new Error("an imported spec reads no other file");
      },
    });
  const compileSpec = (spec: SpecModel) => {
    const written = writeSpec(spec);
    return { written, result: compileText(written.text) };
  };

  const draft: SpecModel = { header, name: model.name, inputs, layers, outputs: model.outputs };
  let { written, result } = compileSpec(draft);
  if (result.graph === undefined || hasErrors(result.diagnostics)) {
    // The file's model is not one rsc can build (shapes that do not fit an op, a name rsc
    // refuses): each error at the layer it is about, in the source.
    const layerAt = new Map([...written.lineOf].map(([name, line]) => [line, name]));
    for (const d of result.diagnostics.filter((x) => x.severity === "error")) {
      const name = layerAt.get(d.line);
      const layer = model.layers.find((l) => l.name === name);
      const label = layer ? `layer '${layer.name}' (${layer.className}): ` : "";
      diagnostics.push(
        locatedError(
          "RSC527",
          `${label}rsc cannot build this: ${d.message} (${d.code})`,
          at(name ? objectOf.get(name) : root),
        ),
      );
    }
    return { diagnostics: sortDiagnostics(diagnostics) };
  }

  // Keras 2 saves a built normalization's axis -1 as [rank]: write the default when it is.
  const nodes = new Map(result.graph.nodes.map((n) => [n.name, n]));
  let simplified = false;
  layers = layers.map((l) => {
    const last = converted.get(l.name)?.lastAxis;
    const input = nodes.get(l.inputs[0] ?? "");
    if (last === undefined || input === undefined || input.outputShape.length !== last) return l;
    simplified = true;
    const { axis: _dropped, ...attrs } = l.attrs;
    return { ...l, attrs };
  });
  if (simplified) {
    ({ written, result } = compileSpec({ ...draft, layers }));
    if (result.graph === undefined || hasErrors(result.diagnostics)) {
      throw new Error("rsc import: the spec stopped compiling after writing axis defaults");
    }
  }
  const graph = result.graph;
  const params = graphParamCounts(graph);
  header.push(
    `${layers.length} layers${model.nestedModels > 0 ? ` (${model.nestedModels} nested model${model.nestedModels === 1 ? "" : "s"} flattened)` : ""}, ${params.total.toLocaleString("en-US")} parameters.`,
  );
  let spec = writeSpec({ ...draft, layers }).text;
  let blockCount = 0;
  if (options.blocks) {
    const found = findBlocks({ ...draft, layers }, graph, compileText);
    if (found !== undefined) {
      spec = found.text;
      blockCount = found.templates;
    }
  }
  return {
    spec,
    graph,
    stats: {
      layers: layers.length,
      nestedModels: model.nestedModels,
      params,
      blocks: blockCount,
      format,
    },
    diagnostics: sortDiagnostics(diagnostics),
  };
}

/** The spec's inputs: each InputLayer's shape without the batch, known in every dimension. */
function specInputs(
  model: FlatModel,
  options: ImportOptions,
  at: (obj: object | undefined) => SourceLocation,
  diagnostics: Diagnostic[],
): SpecInput[] | undefined {
  if (options.inputShape !== undefined && model.inputs.length !== 1) {
    diagnostics.push(
      locatedError(
        "RSC525",
        `--input-shape sets one input's shape, and this model has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(", ")})`,
        at(model.inputs[0]?.object),
      ),
    );
    return undefined;
  }
  const out: SpecInput[] = [];
  for (const input of model.inputs) {
    const batch = input.batchShape;
    const shape = options.inputShape ?? batch?.slice(1);
    if (shape === undefined || shape.length === 0 || shape.some((d) => d === null || d < 1)) {
      const written =
        batch === undefined
          ? "no shape"
          : `shape [${batch.map((d) => (d === null ? "None" : d)).join(", ")}]`;
      diagnostics.push(
        locatedError(
          "RSC525",
          `input '${input.name}' has ${written}: a spec's input has a fixed shape (batch excluded)`,
          at(input.object),
          {
            hint: "give it with --input-shape, e.g. --input-shape 224,224,3",
          },
        ),
      );
      continue;
    }
    if (input.dtype !== undefined && input.dtype !== "float32") {
      diagnostics.push({
        ...locatedError(
          "RSC526",
          `input '${input.name}' is ${input.dtype}; a spec's inputs are float32`,
          at(input.object),
        ),
        severity: "warning",
      });
    }
    out.push({ name: input.name, shape: shape as number[] });
  }
  return out.length === model.inputs.length ? out : undefined;
}
