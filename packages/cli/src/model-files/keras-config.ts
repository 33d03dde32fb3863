/**
 * Walking a Keras model config for the weight readers: the layers of a model (Sequential,
 * Functional, nested), their names, classes and configs, in the order Keras lists them. Keras 2
 * and 3 configs differ in details this hides: Keras 2.0-2.2 Sequential configs are a bare list of
 * layers; a layer's name is in its `config.name` (and, in Functional models, also in `name`).
 */
import { MODEL_CLASSES } from "./names.js";

/** One layer entry of a model config. */
export interface LayerEntry {
  readonly className: string;
  readonly name: string;
  readonly config: Record<string, unknown>;
  /** The entry as stored (a nested model's whole config). */
  readonly raw: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A config entry as a {@link LayerEntry}, or undefined when it is not a layer entry. */
export function layerEntry(raw: unknown): LayerEntry | undefined {
  if (!isObject(raw) || typeof raw["class_name"] !== "string") return undefined;
  const config = isObject(raw["config"]) ? raw["config"] : {};
  const name =
    typeof config["name"] === "string"
      ? config["name"]
      : typeof raw["name"] === "string"
        ? raw["name"]
        : "";
  return { className: raw["class_name"], name, config, raw };
}

/** True when the entry is a model (its weights are its inner layers'). */
export function isModelEntry(entry: LayerEntry): boolean {
  return (
    MODEL_CLASSES.has(entry.className) ||
    Array.isArray(entry.raw["config"]) ||
    Array.isArray(entry.config["layers"])
  );
}

/** The layer entries of a model entry, in config order (InputLayer entries included). */
export function modelLayers(model: LayerEntry | Record<string, unknown>): LayerEntry[] {
  const raw =
    "raw" in model && isObject(model.raw) ? model.raw : (model as Record<string, unknown>);
  const config = raw["config"];
  const list = Array.isArray(config) ? config : isObject(config) ? config["layers"] : undefined;
  if (!Array.isArray(list)) return [];
  return list.map(layerEntry).filter((e): e is LayerEntry => e !== undefined);
}

/** Names of the plain (non-model) layers inside a model entry, nested models flattened. */
export function innerLayerNames(model: LayerEntry): Set<string> {
  const out = new Set<string>();
  const walk = (m: LayerEntry) => {
    for (const layer of modelLayers(m)) {
      if (isModelEntry(layer)) walk(layer);
      else out.add(layer.name);
    }
  };
  walk(model);
  return out;
}
