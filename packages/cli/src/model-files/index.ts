/**
 * The model-file readers of rsc: Keras 2 `.h5`, Keras 3 `.weights.h5` and `.keras`, Keras
 * `to_json()` files and tfjs `model.json` (+ shards). Only the CLI touches the file system; the
 * formats are told by content (detect.ts). Every error names the file (and the layer where one
 * is known): RSC500, exit 1; exit 2 when a file cannot be read at all.
 *
 * - {@link readModelConfig}: the Keras model config (for `rsc import`);
 * - {@link readModelWeights}: the weights, by rsc weight name (for `--weights`).
 */

export {
  type KerasModelConfig,
  type ModelConfigFile,
  type ModelFormat,
  readModelConfig,
} from "./config.js";
export { type FileKind, findModelFile, isHdf5Signature, kindOfBytes } from "./detect.js";
export {
  type ExpectedLayer,
  graphLayers,
  kerasSnakeCase,
  kerasVariableNames,
} from "./names.js";
export {
  type ModelWeights,
  type ReadWeightsOptions,
  readModelWeights,
  readTfjsArtifacts,
} from "./weights.js";
