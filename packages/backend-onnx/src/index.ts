/** @rsc/backend-onnx: IR + weights -> ONNX ModelProto; onnxruntime-node session helpers. */
export * from "./attributes.js";
export * from "./backend.js";
export * from "./dump.js";
export * from "./emit.js";
export { EXTERNAL_MIN_BYTES } from "./external-data.js";
export type { FloatType } from "./float-type.js";
export * from "./float16.js";
export { ONNX_BACKEND_INFO } from "./info.js";
export * from "./layout.js";
export * from "./lowering.js";
export { ONNX_LOWERINGS } from "./lowerings.js";
export type { EncodedFile } from "./model-writer.js";
export { type OnnxTypes, onnx } from "./onnx-proto.js";
export { HWIO_TO_OIHW, permute, permuteInto } from "./tensor-data.js";
