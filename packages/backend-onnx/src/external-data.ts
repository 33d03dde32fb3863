/**
 * ONNX external data: tensors move out of the protobuf (which cannot exceed 2 GiB) into one
 * `<model>.onnx.data` file next to the model, each found by `location`, `offset` and `length`.
 */
import type { TensorPayload } from "./model-writer.js";
import { type OnnxTypes, onnx } from "./onnx-proto.js";

/** Tensors smaller than this stay inline (onnx's own `convert_model_to_external_data` default). */
export const EXTERNAL_MIN_BYTES = 1024;
/** Offsets are aligned so a runtime may map tensors straight from the file. */
const ALIGNMENT = 64;

/**
 * Moves every initializer whose payload has at least {@link EXTERNAL_MIN_BYTES} to external
 * data in `location` (a file name relative to the model), marking the tensors in place. Returns
 * where each moved payload goes in the data file (see encodeData).
 */
export function externalize(
  tensors: OnnxTypes.ITensorProto[],
  payloads: readonly TensorPayload[],
  location: string,
): { offset: number; payload: TensorPayload }[] {
  let size = 0;
  const layout: { offset: number; payload: TensorPayload }[] = [];
  for (const [index, payload] of payloads.entries()) {
    if (payload.byteLength < EXTERNAL_MIN_BYTES) continue;
    const offset = Math.ceil(size / ALIGNMENT) * ALIGNMENT;
    layout.push({ offset, payload });
    size = offset + payload.byteLength;
    const tensor = tensors[index]!;
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [
      { key: "location", value: location },
      { key: "offset", value: String(offset) },
      { key: "length", value: String(payload.byteLength) },
    ];
  }
  return layout;
}
