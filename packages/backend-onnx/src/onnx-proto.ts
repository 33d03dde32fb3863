/**
 * The ONNX protobuf messages (onnx-proto's protobufjs static module). onnx-proto is CommonJS and
 * Node's ESM loader cannot see its named export, so it is taken from the default export here,
 * once, and re-exported with its types.
 */
import onnxProto from "onnx-proto";

/** The `onnx` protobuf namespace: `onnx.ModelProto.encode(...)`, `onnx.TensorProto.DataType`, ... */
export const onnx: typeof onnxProto.onnx = onnxProto.onnx;
/** Types of the protobuf messages (`onnx.IModelProto`, ...). */
export type { onnx as OnnxTypes } from "onnx-proto";
