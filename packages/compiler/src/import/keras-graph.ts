/**
 * A Keras model config (Keras 2 and Keras 3 JSON, tfjs `modelTopology`) -> one flat list of
 * layers with their inputs by name. Sequential and Functional models, nested models flattened
 * (a nested model's layers keep their own names; its inputs become the tensors that fed it).
 *
 * The formats read:
 * - Keras 2 / tfjs: `inbound_nodes: [[[name, node_index, tensor_index, kwargs], ...]]` (one list
 *   of tensor references per call), `input_layers` / `output_layers` as `[name, node, tensor]`
 *   triples, InputLayer `batch_input_shape`; Keras 2.0-2.2 Sequential configs are a bare list.
 * - Keras 3: `inbound_nodes: [{ args: [...], kwargs: {...} }]` where each tensor is
 *   `{ class_name: "__keras_tensor__", config: { keras_history: [name, node, tensor] } }`
 *   (merge layers take one list argument), InputLayer `batch_shape`, `input_layers` a triple,
 *   a list of them, or a dict of them.
 * Nothing here runs or echoes code: a Lambda's function text is never read.
 */
import type { JsonObject, JsonValue } from "./located-json.js";

/** One layer of the flattened model. */
export interface FlatLayer {
  /** The Keras layer name (unique in the flattened model). */
  readonly name: string;
  /** The Keras class (`Conv2D`). */
  readonly className: string;
  /** The layer's `config` object. */
  readonly config: JsonObject;
  /** The layer's own JSON object (for its location and `module` / `registered_name`). */
  readonly object: JsonObject;
  /** Names of the flat layers (or inputs) feeding it, in call order. */
  readonly inputs: readonly string[];
  /** The nested models it came from, outermost first (empty for the top model's layers). */
  readonly scope: readonly string[];
}

/** One input of the flattened model. */
export interface FlatInput {
  readonly name: string;
  /** `batch_input_shape` / `batch_shape` as written, batch included (null: unknown). */
  readonly batchShape: readonly (number | null)[] | undefined;
  readonly dtype: string | undefined;
  readonly object: JsonObject;
}

/** A problem found while reading the structure, located at a JSON object. */
export interface GraphProblem {
  readonly code: "RSC520" | "RSC522" | "RSC523" | "RSC524";
  readonly message: string;
  readonly at: JsonObject | JsonValue[] | undefined;
}

/** The flattened model. */
export interface FlatModel {
  /** The top model's name. */
  readonly name: string;
  /** `Sequential` or `Functional` (`Model` in Keras 2 and tfjs). */
  readonly className: string;
  /** `keras_version` of the file, when it says (`2.13.1`, `3.3.3`, `tfjs-layers 4.22.0`). */
  readonly kerasVersion: string | undefined;
  readonly inputs: readonly FlatInput[];
  readonly layers: readonly FlatLayer[];
  /** Names of the output layers (or inputs), in order. */
  readonly outputs: readonly string[];
  /** How many nested models were flattened. */
  readonly nestedModels: number;
}

/** Keras classes that are models (a nested one is flattened). */
export const MODEL_CLASSES = new Set(["Sequential", "Functional", "Model"]);

const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `obj[key]` when `obj` holds it as its own key (configs have no prototype; plain objects may). */
export function field(obj: JsonObject | undefined, key: string): JsonValue | undefined {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** A reference to one output tensor of one call of a layer. */
interface TensorRef {
  readonly layer: string;
  readonly node: number;
  readonly tensor: number;
}

/** Stops the reading of a model at its first structural error (what follows would not be sound). */
class StructureError extends Error {
  constructor(readonly problem: GraphProblem) {
    super(problem.message);
  }
}

/** Reads the model config `root` (the object with `class_name` and `config`). */
export function readKerasGraph(root: JsonValue): {
  readonly model?: FlatModel;
  readonly problems: readonly GraphProblem[];
} {
  if (!isObject(root)) {
    return {
      problems: [
        { code: "RSC520", message: "not a Keras model config (no JSON object)", at: undefined },
      ],
    };
  }
  const className = field(root, "class_name");
  if (typeof className !== "string" || !MODEL_CLASSES.has(className)) {
    const what = typeof className === "string" ? `a '${className}'` : "no 'class_name'";
    return {
      problems: [
        {
          code: "RSC520",
          message: `not a Keras model config: expected class_name Sequential, Functional or Model, found ${what}`,
          at: root,
        },
      ],
    };
  }
  const reader = new GraphReader();
  try {
    const outputs = reader.model(root, undefined, []);
    const version = field(root, "keras_version");
    const config = field(root, "config");
    const name = isObject(config) ? field(config, "name") : undefined;
    return {
      model: {
        name: typeof name === "string" ? name : "model",
        className,
        kerasVersion: typeof version === "string" ? version : undefined,
        inputs: reader.inputs,
        layers: reader.layers,
        outputs,
        nestedModels: reader.nested,
      },
      problems: reader.notes,
    };
  } catch (error) {
    if (!(error instanceof StructureError)) throw error;
    return { problems: [...reader.notes, error.problem] };
  }
}

class GraphReader {
  readonly inputs: FlatInput[] = [];
  readonly layers: FlatLayer[] = [];
  nested = 0;
  /** Every name taken in the flat model, with the object that took it. */
  private readonly taken = new Map<string, JsonObject>();

  /** Problems that leave the structure readable (the reading goes on). */
  readonly notes: GraphProblem[] = [];

  private fail(code: GraphProblem["code"], message: string, at: GraphProblem["at"]): never {
    throw new StructureError({ code, message, at });
  }

  private note(code: GraphProblem["code"], message: string, at: GraphProblem["at"]): void {
    this.notes.push({ code, message, at });
  }

  private claim(name: string, object: JsonObject, scope: readonly string[]): void {
    if (this.taken.has(name)) {
      const inside = scope.length > 0 ? ` (in nested model '${scope.at(-1)}')` : "";
      this.fail(
        "RSC524",
        `two layers are named '${name}'${inside}: a flattened model needs unique layer names`,
        object,
      );
    }
    this.taken.set(name, object);
  }

  /** The name of a layer object (`name` beside `config`, or inside it). */
  private layerName(layer: JsonObject): string {
    const outer = field(layer, "name");
    if (typeof outer === "string" && outer !== "") return outer;
    const inner = field(configOf(layer), "name");
    if (typeof inner === "string" && inner !== "") return inner;
    return this.fail("RSC524", "a layer without a name", layer);
  }

  private addInput(layer: JsonObject, name: string, scope: readonly string[]): string {
    this.claim(name, layer, scope);
    const config = configOf(layer);
    this.inputs.push({
      name,
      batchShape: batchShapeOf(config ?? layer),
      dtype:
        typeof field(config, "dtype") === "string" ? (field(config, "dtype") as string) : undefined,
      object: layer,
    });
    return name;
  }

  private addLayer(
    layer: JsonObject,
    name: string,
    inputs: readonly string[],
    scope: readonly string[],
  ): string {
    this.claim(name, layer, scope);
    const className = field(layer, "class_name");
    this.layers.push({
      name,
      className: typeof className === "string" ? className : "",
      config: configOf(layer) ?? (Object.create(null) as JsonObject),
      object: layer,
      inputs,
      scope,
    });
    return name;
  }

  /**
   * Flattens one model. `feed`: the flat tensors that feed a nested model's inputs (undefined
   * for the top model, whose inputs become the flat model's). Returns its output tensors.
   */
  model(
    model: JsonObject,
    feed: readonly string[] | undefined,
    scope: readonly string[],
  ): string[] {
    const className = field(model, "class_name") as string;
    const config = field(model, "config");
    if (className === "Sequential") return this.sequential(model, config, feed, scope);
    if (!isObject(config))
      this.fail("RSC520", `the ${className} model has no 'config' object`, model);
    return this.functional(model, config, feed, scope);
  }

  private sequential(
    model: JsonObject,
    config: JsonValue | undefined,
    feed: readonly string[] | undefined,
    scope: readonly string[],
  ): string[] {
    // Keras 2.0-2.2 wrote a Sequential's config as the bare list of layers.
    const layers = Array.isArray(config)
      ? config
      : isObject(config)
        ? field(config, "layers")
        : undefined;
    if (!Array.isArray(layers))
      this.fail("RSC520", "the Sequential model has no 'layers' list", model);
    if (feed !== undefined && feed.length !== 1) {
      this.fail(
        "RSC523",
        `the nested Sequential model is called with ${feed.length} inputs`,
        model,
      );
    }
    let current = feed?.[0];
    for (const item of layers as JsonValue[]) {
      if (!isObject(item))
        this.fail("RSC520", "a layer that is not a JSON object", layers as JsonValue[]);
      const className = field(item, "class_name");
      if (typeof className !== "string") this.fail("RSC520", "a layer without 'class_name'", item);
      if (className === "InputLayer") {
        // A nested Sequential's InputLayer stands for the tensor that feeds it.
        if (current === undefined) current = this.addInput(item, this.layerName(item), scope);
        continue;
      }
      if (current === undefined) {
        // No InputLayer: Keras 2 named the input after the first layer (`dense_input`); its
        // shape is the first layer's batch_input_shape, or the model's build_input_shape.
        if (MODEL_CLASSES.has(className)) {
          this.nested++;
          current = this.one(this.model(item, undefined, [...scope, this.layerName(item)]), item);
          continue;
        }
        const first = this.layerName(item);
        const shape = batchShapeOf(configOf(item)) ?? buildShapeOf(model, config);
        this.claim(`${first}_input`, item, scope);
        this.inputs.push({
          name: `${first}_input`,
          batchShape: shape,
          dtype: undefined,
          object: item,
        });
        current = `${first}_input`;
      }
      if (MODEL_CLASSES.has(className)) {
        this.nested++;
        current = this.one(this.model(item, [current], [...scope, this.layerName(item)]), item);
        continue;
      }
      current = this.addLayer(item, this.layerName(item), [current], scope);
    }
    if (current === undefined) this.fail("RSC520", "the Sequential model has no layers", model);
    return [current];
  }

  /** The single output of a nested model used where one tensor is needed. */
  private one(outputs: readonly string[], at: JsonObject): string {
    if (outputs.length !== 1) {
      this.fail(
        "RSC523",
        `a nested model with ${outputs.length} outputs inside a Sequential model`,
        at,
      );
    }
    return outputs[0]!;
  }

  private functional(
    model: JsonObject,
    config: JsonObject,
    feed: readonly string[] | undefined,
    scope: readonly string[],
  ): string[] {
    const layers = field(config, "layers");
    if (!Array.isArray(layers)) this.fail("RSC520", "the model config has no 'layers' list", model);
    const byName = new Map<string, JsonObject>();
    for (const item of layers as JsonValue[]) {
      if (!isObject(item))
        this.fail("RSC520", "a layer that is not a JSON object", layers as JsonValue[]);
      if (typeof field(item, "class_name") !== "string")
        this.fail("RSC520", "a layer without 'class_name'", item);
      const name = this.layerName(item);
      if (byName.has(name)) this.fail("RSC524", `two layers are named '${name}'`, item);
      byName.set(name, item);
    }
    const inputRefs = tensorRefs(field(config, "input_layers"));
    const outputRefs = tensorRefs(field(config, "output_layers"));
    if (inputRefs === undefined || inputRefs.length === 0)
      this.fail("RSC520", "the model config has no 'input_layers'", config);
    if (outputRefs === undefined || outputRefs.length === 0)
      this.fail("RSC520", "the model config has no 'output_layers'", config);
    if (feed !== undefined && feed.length !== inputRefs!.length) {
      this.fail(
        "RSC523",
        `the nested model has ${inputRefs!.length} inputs but is called with ${feed.length}`,
        model,
      );
    }

    // Flat tensor of each `layer/tensor` resolved so far. The node index is left out: every
    // layer is called once in its model (shared layers are refused), and files disagree on
    // whether indices count calls made outside the model.
    const resolved = new Map<string, string>();
    const key = (r: TensorRef) => `${r.tensor}/${r.layer}`;
    for (const [k, ref] of inputRefs!.entries()) {
      const layer = byName.get(ref.layer);
      if (layer === undefined)
        this.fail("RSC524", `input_layers names '${ref.layer}', which is not a layer`, config);
      if (field(layer, "class_name") !== "InputLayer") {
        this.fail("RSC524", `input_layers names '${ref.layer}', which is not an InputLayer`, layer);
      }
      resolved.set(
        key(ref),
        feed === undefined ? this.addInput(layer, ref.layer, scope) : feed[k]!,
      );
    }

    // Keras lists layers in an order where every input comes first, but a hand-edited file may
    // not: resolve whatever is ready until nothing changes.
    const pending = (layers as JsonObject[]).filter((l) => field(l, "class_name") !== "InputLayer");
    for (const l of layers as JsonObject[]) {
      if (
        field(l, "class_name") === "InputLayer" &&
        !inputRefs!.some((r) => r.layer === this.layerName(l))
      ) {
        this.fail(
          "RSC524",
          `InputLayer '${this.layerName(l)}' is not one of the model's input_layers`,
          l,
        );
      }
    }
    const calls = new Map(pending.map((l) => [l, this.calls(l)]));
    let progress = true;
    while (pending.length > 0 && progress) {
      progress = false;
      for (let p = 0; p < pending.length; p++) {
        const layer = pending[p]!;
        const refs = calls.get(layer)!;
        const inputs = refs.map((r) => resolved.get(key(r)));
        if (inputs.some((x) => x === undefined)) continue;
        const name = this.layerName(layer);
        const className = field(layer, "class_name") as string;
        if (MODEL_CLASSES.has(className)) {
          this.nested++;
          const outs = this.model(layer, inputs as string[], [...scope, name]);
          for (const [t, out] of outs.entries())
            resolved.set(key({ layer: name, node: 0, tensor: t }), out);
        } else {
          resolved.set(
            key({ layer: name, node: 0, tensor: 0 }),
            this.addLayer(layer, name, inputs as string[], scope),
          );
        }
        pending.splice(p, 1);
        p--;
        progress = true;
      }
    }
    if (pending.length > 0) {
      const layer = pending[0]!;
      const missing = calls.get(layer)!.find((r) => !resolved.has(key(r)))!;
      const known = byName.has(missing.layer);
      this.fail(
        "RSC524",
        known
          ? `layer '${this.layerName(layer)}' takes '${missing.layer}' (node ${missing.node}, tensor ${missing.tensor}), which is never computed (a cycle, or an output that layer does not have)`
          : `layer '${this.layerName(layer)}' takes '${missing.layer}', which is not a layer of this model`,
        layer,
      );
    }
    return outputRefs!.map((r) => {
      const out = resolved.get(key(r));
      if (out === undefined) {
        this.fail(
          "RSC524",
          `output_layers names '${r.layer}' (node ${r.node}, tensor ${r.tensor}), which is not a layer output of this model`,
          config,
        );
      }
      return out!;
    });
  }

  /** The tensors a Functional model's layer is called on (it must be called exactly once). */
  private calls(layer: JsonObject): TensorRef[] {
    const name = this.layerName(layer);
    const nodes = field(layer, "inbound_nodes");
    if (!Array.isArray(nodes)) this.fail("RSC524", `layer '${name}' has no 'inbound_nodes'`, layer);
    if (nodes!.length === 0) {
      this.fail("RSC524", `layer '${name}' is never called (empty 'inbound_nodes')`, layer);
    }
    if (nodes!.length > 1) {
      // Reported, and the first call read, so the other layers are still checked.
      this.note(
        "RSC523",
        `layer '${name}' (${String(field(layer, "class_name"))}) is called ${nodes!.length} times, sharing its weights: rsc has no shared layers`,
        layer,
      );
    }
    const node = nodes![0]!;
    const refs: TensorRef[] = [];
    if (isObject(node)) {
      // Keras 3: { args, kwargs }; every __keras_tensor__ in args, in order.
      collectKerasTensors(field(node, "args"), refs);
      const inKwargs: TensorRef[] = [];
      collectKerasTensors(field(node, "kwargs"), inKwargs);
      if (inKwargs.length > 0) {
        this.note(
          "RSC523",
          `layer '${name}' takes a tensor as a keyword argument ('${inKwargs[0]!.layer}'): rsc layers take their inputs only`,
          layer,
        );
      }
    } else if (Array.isArray(node)) {
      // Keras 2 / tfjs: a list of [name, node_index, tensor_index, kwargs] (or one such entry).
      const entries = typeof node[0] === "string" ? [node] : node;
      for (const entry of entries) {
        const ref = tensorRef(entry);
        if (ref === undefined)
          this.fail("RSC524", `layer '${name}' has a malformed inbound node`, layer);
        const kwargs = Array.isArray(entry) ? entry[3] : undefined;
        if (isObject(kwargs)) {
          const inKwargs: TensorRef[] = [];
          collectKerasTensors(kwargs, inKwargs);
          if (inKwargs.length > 0 || Array.isArray(field(kwargs, "mask"))) {
            this.note(
              "RSC523",
              `layer '${name}' takes a tensor as a keyword argument: rsc layers take their inputs only`,
              layer,
            );
          }
        }
        refs.push(ref!);
      }
    } else {
      this.fail("RSC524", `layer '${name}' has a malformed inbound node`, layer);
    }
    if (refs.length === 0)
      this.fail("RSC524", `layer '${name}' is called without an input tensor`, layer);
    return refs;
  }
}

/** The `config` of a layer object, when it is an object. */
export function configOf(layer: JsonObject): JsonObject | undefined {
  const config = field(layer, "config");
  return isObject(config) ? config : undefined;
}

/** A `[name, node, tensor, ...]` entry as a reference. */
function tensorRef(entry: JsonValue): TensorRef | undefined {
  if (!Array.isArray(entry) || typeof entry[0] !== "string") return undefined;
  const node = entry[1] ?? 0;
  const tensor = entry[2] ?? 0;
  if (!Number.isInteger(node) || !Number.isInteger(tensor)) return undefined;
  return { layer: entry[0], node: node as number, tensor: tensor as number };
}

/** `input_layers` / `output_layers`: a triple, a list of triples, or (Keras 3) a dict of them. */
function tensorRefs(value: JsonValue | undefined): TensorRef[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && typeof value[0] === "string") {
    const ref = tensorRef(value);
    return ref === undefined ? undefined : [ref];
  }
  const items = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : undefined;
  if (items === undefined) return undefined;
  const refs: TensorRef[] = [];
  for (const item of items) {
    const ref = tensorRef(item);
    if (ref === undefined) return undefined;
    refs.push(ref);
  }
  return refs;
}

/** Every Keras 3 `__keras_tensor__` under `value` (lists and dicts walked), in order. */
function collectKerasTensors(value: JsonValue | undefined, out: TensorRef[]): void {
  if (Array.isArray(value)) {
    for (const v of value) collectKerasTensors(v, out);
    return;
  }
  if (!isObject(value)) return;
  if (field(value, "class_name") === "__keras_tensor__") {
    const history = field(configOf(value), "keras_history");
    const ref = history === undefined ? undefined : tensorRef(history);
    if (ref !== undefined) out.push(ref);
    return;
  }
  for (const v of Object.values(value)) collectKerasTensors(v, out);
}

/** The batch shape an InputLayer (or a first layer) declares, batch dimension included. */
function batchShapeOf(config: JsonObject | undefined): (number | null)[] | undefined {
  for (const key of ["batch_input_shape", "batch_shape"]) {
    const shape = dims(field(config, key));
    if (shape !== undefined) return shape;
  }
  // Some Keras 3 versions write the shape without the batch.
  const shape = dims(field(config, "shape"));
  return shape === undefined ? undefined : [null, ...shape];
}

/** A Sequential's `build_input_shape` (Keras 2 and 3), or its `build_config.input_shape`. */
function buildShapeOf(
  model: JsonObject,
  config: JsonValue | undefined,
): (number | null)[] | undefined {
  const inConfig = isObject(config) ? dims(field(config, "build_input_shape")) : undefined;
  if (inConfig !== undefined) return inConfig;
  const build = field(model, "build_config");
  return isObject(build) ? dims(field(build, "input_shape")) : undefined;
}

/** A list of dimensions (numbers or null), also as a Keras 2 `{ class_name: TensorShape, items }`. */
function dims(value: JsonValue | undefined): (number | null)[] | undefined {
  if (isObject(value) && field(value, "class_name") === "TensorShape")
    return dims(field(value, "items"));
  if (!Array.isArray(value)) return undefined;
  if (!value.every((d) => d === null || (typeof d === "number" && Number.isInteger(d))))
    return undefined;
  return value as (number | null)[];
}
