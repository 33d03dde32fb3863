/** The float type of a model's weights and activations, and its ONNX data type. */
import { onnx } from "./onnx-proto.js";

/** The float type of a model's weights and activations (`float16` under `--precision fp16`). */
export type FloatType = "float32" | "float16";

/** The ONNX TensorProto data type of a {@link FloatType}. */
export function onnxFloatType(type: FloatType): number {
  return type === "float16" ? onnx.TensorProto.DataType.FLOAT16 : onnx.TensorProto.DataType.FLOAT;
}
