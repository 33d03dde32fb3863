/** `rsc import`: Keras model configs (Keras 2, Keras 3, tfjs Layers) -> specs. */

export {
  type ImportOptions,
  type ImportResult,
  type ImportStats,
  importKerasModel,
} from "./import-model.js";
export { IMPORTED_CLASSES } from "./keras-layers.js";
export {
  type JsonObject,
  type JsonValue,
  type LocatedJson,
  parseLocatedJson,
} from "./located-json.js";
