/**
 * How Keras names weights, and how those names map to rsc's: rsc names a weight
 * `<layer>/<weight>` (`conv1/kernel`, `bn1/moving_mean`), the Keras layer name and the Keras
 * variable name, so a flattened nested model keeps its inner layers' names.
 *
 * - Keras 2 `.h5`: a variable is `<scope>/<weight>:0`; the scope is the layer's name for a plain
 *   layer (or an uniquified `<layer>_1` in TF1 graphs), and for a layer that is itself a model,
 *   the inner layer's name, sometimes behind the outer model's (`head/fc/kernel:0`). Keras loads
 *   these files by position and never reads the names; rsc reads them by name as below.
 * - tfjs model.json: `<layer>/<weight>`, nested models' inner layers possibly prefixed likewise.
 * - Keras 3: variables are unnamed positions (`vars/0`, `vars/1`); a layer's class says which
 *   weight each position holds ({@link kerasVariableNames}).
 */
import { OPS, type OpName, snakeCase } from "@rsc/compiler";

/** A layer whose weights a model needs, in Keras order (rsc: `ExpectedLayer`s of its graph). */
export interface ExpectedLayer {
  /** Keras layer name. */
  readonly name: string;
  /** Keras class name (`Conv2D`). */
  readonly kerasClass: string;
  /** rsc weight names, in Keras's order (`conv1/kernel`, `conv1/bias`). */
  readonly weights: readonly string[];
}

/** The layers of an rsc graph, in graph order (weightless ones included). */
export function graphLayers(graph: {
  readonly nodes: readonly {
    readonly name: string;
    readonly op: string;
    readonly params: readonly { readonly name: string }[];
  }[];
}): ExpectedLayer[] {
  return graph.nodes.map((node) => ({
    name: node.name,
    kerasClass: OPS[node.op as OpName]?.kerasClass ?? node.op,
    weights: node.params.map((p) => p.name),
  }));
}

/** keras.src.utils.naming.to_snake_case: a class name as Keras 3's saved paths spell it. */
export function kerasSnakeCase(className: string): string {
  return snakeCase(className.replace(/\W+/g, ""));
}

/** Keras classes that are models (their weights are their inner layers'). */
export const MODEL_CLASSES: ReadonlySet<string> = new Set(["Sequential", "Functional", "Model"]);

const flag = (config: Record<string, unknown>, key: string) => config[key] !== false;

/**
 * The variable names of a Keras layer, in the order Keras creates (and Keras 3 saves) them, from
 * its class and config; undefined for a class rsc does not know (then the model's own order is
 * used, see keras3.ts).
 */
export function kerasVariableNames(
  className: string,
  config: Record<string, unknown>,
): string[] | undefined {
  const bias = flag(config, "use_bias") ? ["bias"] : [];
  switch (className) {
    case "Dense":
    case "Conv1D":
    case "Conv2D":
    case "Conv3D":
    case "Conv1DTranspose":
    case "Conv2DTranspose":
    case "Conv3DTranspose":
      return ["kernel", ...bias];
    case "DepthwiseConv1D":
    case "DepthwiseConv2D":
      return ["depthwise_kernel", ...bias];
    case "SeparableConv1D":
    case "SeparableConv2D":
      return ["depthwise_kernel", "pointwise_kernel", ...bias];
    case "BatchNormalization":
      return [
        ...(flag(config, "scale") ? ["gamma"] : []),
        ...(flag(config, "center") ? ["beta"] : []),
        "moving_mean",
        "moving_variance",
      ];
    case "LayerNormalization":
      return [
        ...(flag(config, "scale") ? ["gamma"] : []),
        ...(flag(config, "center") ? ["beta"] : []),
      ];
    case "Normalization":
      // Adapted (no `mean` given): mean, variance and a count; given: constants, no variables.
      return config["mean"] === null || config["mean"] === undefined
        ? ["mean", "variance", "count"]
        : [];
    case "InputLayer":
    case "Activation":
    case "ReLU":
    case "LeakyReLU":
    case "ELU":
    case "Softmax":
    case "Dropout":
    case "Flatten":
    case "Reshape":
    case "Permute":
    case "Add":
    case "Subtract":
    case "Multiply":
    case "Average":
    case "Maximum":
    case "Concatenate":
    case "ZeroPadding2D":
    case "Cropping2D":
    case "UpSampling2D":
    case "MaxPooling2D":
    case "AveragePooling2D":
    case "GlobalAveragePooling2D":
    case "GlobalMaxPooling2D":
    case "Rescaling":
      return [];
    default:
      return undefined;
  }
}

/** A variable name without its `:0` output index. */
export function stripOutputIndex(name: string): string {
  return name.replace(/:\d+$/, "");
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The rsc name of a Keras 2 (or tfjs) weight `variable` stored under the top-level layer
 * `layer`. `isModel`: whether that layer is a model (from the model config; undefined when no
 * config says). `innerLayers`: layer names the weight may belong to (a nested model's layers, or
 * the expected model's), the longest match winning, since Keras names may hold `/`
 * (DenseNet's `conv1/conv`).
 */
export function rscWeightName(
  layer: string,
  variable: string,
  isModel: boolean | undefined,
  innerLayers: ReadonlySet<string>,
): string {
  const name = stripOutputIndex(variable);
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (isModel === false) return `${layer}/${base}`;
  if (isModel === undefined) {
    // No config: a plain layer's variables carry its name (or TF1's `<layer>_N`), or none.
    if (name === `${layer}/${base}` || name === base) return `${layer}/${base}`;
  }
  let best: string | undefined;
  for (const inner of innerLayers) {
    if (
      (name === `${inner}/${base}` || name.endsWith(`/${inner}/${base}`)) &&
      (best === undefined || inner.length > best.length)
    )
      best = inner;
  }
  if (best !== undefined) return `${best}/${base}`;
  if (
    isModel === undefined &&
    new RegExp(`^${escapeRegExp(layer)}_\\d+/${escapeRegExp(base)}$`).test(name)
  )
    return `${layer}/${base}`;
  // A nested model's variable of an unknown layer: its last scope.
  const scopes = name.split("/");
  return scopes.length >= 2 ? scopes.slice(-2).join("/") : `${layer}/${base}`;
}
