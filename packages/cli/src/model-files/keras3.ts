/**
 * Keras 3 weights (`model.save_weights('m.weights.h5')`, and `model.weights.h5` inside a
 * `.keras`), as keras/src/saving/saving_lib.py writes them: one group per saveable, holding a
 * `vars` group of datasets `0`, `1`, ... (the layer's `save_own_variables`: its trainable then
 * non-trainable variables in creation order, e.g. Dense kernel, bias; BatchNormalization gamma,
 * beta, moving_mean, moving_variance). A Sequential or Functional model's layers are at
 * `layers/<snake_case(class name)>`, repeats of a class in one model numbered `_1`, `_2`, ... in
 * the model's layer order (a Sequential leaves out its InputLayer); a nested model's at
 * `layers/<its class>/layers/...` (Keras 2.13 named the group `_layer_checkpoint_dependencies`).
 * Layer names are not stored: the positions are mapped to layers
 * - with the model config (a `.keras` has config.json): walking it as Keras walks the model;
 * - without one (a bare `.weights.h5`): by the expected model's layers, the k-th layer of a class
 *   at `layers/<class>_k`, as Keras itself loads such a file into a model. A nested model cannot
 *   be matched so, and is refused with the way out (give the .keras).
 * Variables of saveables that are not layers (`optimizer/vars`, the model's own `vars`) are not
 * model weights; `vars` of any other group no layer claims are reported as extra weights.
 */
import type { LoadedWeight } from "@rsc/compiler";
import type { KerasModelConfig } from "./config.js";
import { malformedFile } from "./errors.js";
import { Hdf5Error, type Hdf5Reader } from "./hdf5.js";
import { isModelEntry, type LayerEntry, layerEntry, modelLayers } from "./keras-config.js";
import type { ReadWeights } from "./keras2.js";
import { type ExpectedLayer, kerasSnakeCase, kerasVariableNames } from "./names.js";

/** The group holding a model's layers. */
function layersGroup(h5: Hdf5Reader, model: string): string | undefined {
  for (const name of ["layers", "_layer_checkpoint_dependencies"]) {
    const path = `${model}/${name}`;
    if (h5.isGroup(path)) return path;
  }
  return undefined;
}

/** Names the k-th saveable of a class in one container: `dense`, `dense_1`, ... */
class ContainerNames {
  readonly #used = new Map<string, number>();
  next(className: string): string {
    const snake = kerasSnakeCase(className);
    const n = this.#used.get(snake);
    this.#used.set(snake, n === undefined ? 0 : n + 1);
    return n === undefined ? snake : `${snake}_${n + 1}`;
  }
}

/** Reads a Keras 3 weights file opened as `h5`. */
export function readKeras3Weights(
  h5: Hdf5Reader,
  file: string,
  options: { readonly config?: KerasModelConfig; readonly expected?: readonly ExpectedLayer[] },
): ReadWeights {
  const weights = new Map<string, LoadedWeight>();
  const layerOf = new Map<string, string>();
  const claimed = new Set<string>();

  /** The tensors of `<path>/vars`, in index order. */
  const vars = (path: string, layer: string): LoadedWeight[] => {
    try {
      const group = `${path}/vars`;
      if (!h5.isGroup(group)) return [];
      const keys = h5.keys(group);
      const bad = keys.find((k) => !/^\d+$/.test(k));
      if (bad !== undefined)
        throw malformedFile(file, `'${group}' holds '${bad}', not a variable index`, { layer });
      return keys
        .map(Number)
        .sort((a, b) => a - b)
        .map((i) => h5.tensor(`${group}/${i}`));
    } catch (error) {
      if (error instanceof Hdf5Error)
        throw malformedFile(file, `its variables cannot be read: ${error.message}`, { layer });
      throw error;
    }
  };
  const put = (name: string, tensor: LoadedWeight, layer: string) => {
    const before = layerOf.get(name);
    if (before !== undefined)
      throw malformedFile(
        file,
        `two layers give the weight '${name}' ('${before}' and '${layer}'): layer names must be unique`,
        { layer },
      );
    weights.set(name, tensor);
    layerOf.set(name, layer);
  };
  const expectedByName = new Map((options.expected ?? []).map((l) => [l.name, l] as const));
  /** Stores one layer's variables under rsc names (`names`: Keras variable names, if known). */
  const assign = (
    layer: string,
    path: string,
    tensors: LoadedWeight[],
    names: readonly string[] | undefined,
  ) => {
    claimed.add(path);
    tensors.forEach((tensor, i) => {
      const name =
        names?.[i] !== undefined
          ? `${layer}/${names[i]}`
          : (expectedByName.get(layer)?.weights[i] ?? `${layer}/vars/${i}`);
      put(name, tensor, layer);
    });
  };

  if (options.config !== undefined) {
    const walk = (model: LayerEntry, at: string) => {
      const group = layersGroup(h5, at) ?? `${at}/layers`;
      const names = new ContainerNames();
      let layers = modelLayers(model);
      if (model.className === "Sequential")
        layers = layers.filter((l) => l.className !== "InputLayer");
      for (const layer of layers) {
        const path = `${group}/${names.next(layer.className)}`;
        claimed.add(path);
        if (isModelEntry(layer)) walk(layer, path);
        else
          assign(
            layer.name,
            path,
            vars(path, layer.name),
            kerasVariableNames(layer.className, layer.config),
          );
      }
    };
    const top = layerEntry(options.config);
    if (top === undefined || !isModelEntry(top))
      throw malformedFile(file, "its model config is not a Sequential or Functional model");
    walk(top, "");
  } else if (options.expected !== undefined) {
    const group = layersGroup(h5, "") ?? "/layers";
    for (const child of h5.keys(group)) {
      if (layersGroup(h5, `${group}/${child}`) !== undefined)
        throw malformedFile(
          file,
          `holds a nested model ('${group}/${child}'): a Keras 3 .weights.h5 names weights by layer class and position only, which cannot be matched to a flattened model`,
          {
            hint: "give the model's .keras file instead (its config.json says which layer is which)",
          },
        );
    }
    const names = new ContainerNames();
    for (const layer of options.expected) {
      const path = `${group}/${names.next(layer.kerasClass)}`;
      if (h5.isGroup(path)) assign(layer.name, path, vars(path, layer.name), undefined);
    }
  } else {
    throw malformedFile(
      file,
      "is a Keras 3 .weights.h5, whose weights are known by layer class and position only; it can be read only against a model",
    );
  }

  // Variables no layer claimed: reported as extra weights, by their path.
  const unclaimed = (path: string, depth = 0) => {
    if (depth > 64)
      throw malformedFile(file, `'${path}' nests models more than 64 deep (a cycle?)`);
    for (const child of h5.keys(path)) {
      const sub = `${path}/${child}`;
      if (child === "vars" || !h5.isGroup(sub)) continue;
      if (!claimed.has(sub)) {
        const at = sub.slice(1);
        for (const [i, t] of vars(sub, at).entries()) put(`${at}/vars/${i}`, t, at);
      }
      unclaimed(layersGroup(h5, sub) ?? `${sub}/layers`, depth + 1);
    }
  };
  const root = layersGroup(h5, "");
  if (root !== undefined) unclaimed(root);
  return { weights, layerOf };
}
