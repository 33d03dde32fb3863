/** @rsc/backend-tfjs: IR + weights -> tf.LayersModel / tfjs artifacts; tfjs runtime selection. */

/** The tfjs-core namespace this backend uses (one instance: compile, fit and tensors come from here). */
export * as tf from "@tensorflow/tfjs-core";
/** The tfjs-layers namespace this backend uses. */
export * as tfl from "@tensorflow/tfjs-layers";
export * from "./artifacts.js";
export * from "./artifacts-format.js";
export * from "./backend.js";
export { ADAM_UPDATE_KERNEL, adam, FusedAdamOptimizer } from "./fused-adam.js";
export { TFJS_BACKEND_INFO } from "./info.js";
export * from "./lowerings.js";
export * from "./runtime.js";
export * from "./to-layers-model.js";
export {
  conv2dBackpropFilterComposite,
  depthwiseBackpropFilterComposite,
  depthwiseBackpropInputComposite,
  registerWasmTrainingKernels,
} from "./wasm-training-kernels.js";
