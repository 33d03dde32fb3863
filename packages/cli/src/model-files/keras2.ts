/**
 * Keras 2 HDF5 weights (tf.keras saving/hdf5_format.py, keras/saving/legacy/hdf5_format.py;
 * Keras 3 writes the same layout for `model.save('m.h5')`):
 * - a full-model file (`model.save`) holds them in the group `model_weights`, a `save_weights`
 *   file at the root;
 * - that group's `layer_names` attribute lists every layer (weightless ones too); each layer's
 *   group lists its variables in `weight_names`, each a dataset at `<layer>/<variable name>`
 *   (`model_weights/conv1/conv1/kernel:0`); a list attribute too big for an HDF5 object header
 *   is split into `layer_names0`, `layer_names1`, ... (`load_attributes_from_hdf5_group`).
 * Weights are renamed to rsc's `<layer>/<weight>` (names.ts); a layer that is a model (per the
 * file's model_config, or the expected model's layer names when there is none) gives its inner
 * layers' weights under their own names, as rsc flattens nested models. Optimizer weights
 * (`optimizer_weights`) are not model weights and are not read.
 */
import type { LoadedWeight } from "@rsc/compiler";
import type { KerasModelConfig } from "./config.js";
import { malformedFile } from "./errors.js";
import { Hdf5Error, type Hdf5Reader } from "./hdf5.js";
import { innerLayerNames, isModelEntry, modelLayers } from "./keras-config.js";
import { type ExpectedLayer, rscWeightName } from "./names.js";

/** Weights read, by rsc name, and the Keras layer (group) each came from. */
export interface ReadWeights {
  readonly weights: Map<string, LoadedWeight>;
  readonly layerOf: Map<string, string>;
}

/** An attribute listing strings, chunks joined; undefined when absent. */
export function stringListAttr(
  h5: Hdf5Reader,
  path: string,
  name: string,
  file: string,
  layer?: string,
): string[] | undefined {
  const names = h5.attrNames(path);
  const parts: unknown[] = [];
  if (names.includes(name)) parts.push(h5.attr(path, name));
  else for (let i = 0; names.includes(`${name}${i}`); i++) parts.push(h5.attr(path, `${name}${i}`));
  if (parts.length === 0) return undefined;
  const out: string[] = [];
  for (const value of parts) {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value) && value.every((v) => typeof v === "string")) out.push(...value);
    // h5py stores an empty list as an empty float array.
    else if (ArrayBuffer.isView(value) && (value as Float64Array).length === 0) continue;
    else
      throw malformedFile(file, `the '${name}' attribute is not a list of names`, {
        ...(layer === undefined ? {} : { layer }),
      });
  }
  return out;
}

const join = (group: string, name: string) => (group === "/" ? `/${name}` : `${group}/${name}`);

/** Reads a Keras 2 weights file (full model or save_weights) opened as `h5`. */
export function readKeras2Weights(
  h5: Hdf5Reader,
  file: string,
  options: { readonly config?: KerasModelConfig; readonly expected?: readonly ExpectedLayer[] },
): ReadWeights {
  const group = h5.keys("/").includes("model_weights") ? "/model_weights" : "/";
  const layerNames = stringListAttr(h5, group, "layer_names", file);
  if (layerNames === undefined)
    throw malformedFile(
      file,
      "is HDF5 but not a Keras weights file: it has neither a 'model_weights' group nor a 'layer_names' attribute",
    );
  // What the model config says of each top-level layer (is it a model, and of which layers).
  const top = new Map(
    (options.config === undefined
      ? []
      : modelLayers(options.config as Record<string, unknown>)
    ).map((e) => [e.name, e] as const),
  );
  const expectedNames = new Set((options.expected ?? []).map((l) => l.name));
  const weights = new Map<string, LoadedWeight>();
  const layerOf = new Map<string, string>();
  for (const layer of layerNames) {
    const path = join(group, layer);
    let variables: string[] | undefined;
    try {
      if (!h5.isGroup(path))
        throw malformedFile(file, "is listed in layer_names but has no group", { layer });
      variables = stringListAttr(h5, path, "weight_names", file, layer) ?? [];
    } catch (error) {
      if (error instanceof Hdf5Error) throw malformedFile(file, error.message, { layer });
      throw error;
    }
    // A layer the config does not list (or no config): told by its variables' names.
    const entry = top.get(layer);
    const isModel = entry === undefined ? undefined : isModelEntry(entry);
    const inner =
      entry !== undefined && isModel
        ? new Set([...innerLayerNames(entry), ...expectedNames])
        : expectedNames;
    for (const variable of variables) {
      const name = rscWeightName(layer, variable, isModel, inner);
      let tensor: LoadedWeight;
      try {
        tensor = h5.tensor(join(path, variable));
      } catch (error) {
        if (error instanceof Hdf5Error)
          throw malformedFile(file, `weight '${variable}' cannot be read: ${error.message}`, {
            layer,
          });
        throw error;
      }
      const before = layerOf.get(name);
      if (before !== undefined)
        throw malformedFile(
          file,
          `weight '${variable}' maps to '${name}', as a weight of layer '${before}' does: two layers of the file share a name`,
          { layer },
        );
      weights.set(name, tensor);
      layerOf.set(name, layer);
    }
  }
  return { weights, layerOf };
}
