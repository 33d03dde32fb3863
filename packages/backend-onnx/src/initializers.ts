/**
 * The initializers of a model being emitted: their TensorProto headers, in order, and their
 * bytes as payloads produced later, straight into the output (model-writer.ts). Keras weights
 * keep their names and may be permuted into the ONNX layout (a {@link WeightTransform}).
 */
import { isLazyWeightMap, type LazyWeightMap, type WeightMap } from "@rsc/compiler";
import { type FloatType, onnxFloatType } from "./float-type.js";
import { toFloat16, toFloat16Into } from "./float16.js";
import type { WeightTransform } from "./lowering.js";
import { bytesPayload, type TensorPayload } from "./model-writer.js";
import { type OnnxTypes, onnx } from "./onnx-proto.js";
import { float16Bytes, float32Bytes, int64Bytes, permuteInto } from "./tensor-data.js";

const { INT64 } = onnx.TensorProto.DataType;

/** Initializer headers and payloads, collected while lowering. */
export class Initializers {
  /** TensorProto headers (no data), in the order the lowerings added them. */
  readonly tensors: OnnxTypes.ITensorProto[] = [];
  /** The bytes of each tensor, same order. */
  readonly payloads: TensorPayload[] = [];
  /** Total bytes of tensor data. */
  tensorBytes = 0;

  readonly #weights: WeightMap;
  readonly #lazy: LazyWeightMap | undefined;
  // Two buffers reused for every tensor, allocated once at the largest tensor's size (ResNet-50's
  // is 9.4 MB) when the first payload is written (all lowering is done by then): weights
  // generated on demand go to `generated`, held weights permuted for ONNX to `permuted`.
  #largest = 0;
  readonly #buffers = { generated: new Float32Array(0), permuted: new Float32Array(0) };
  // The float16 bit patterns of the tensor being written, under float16 (reused the same way).
  #halves = new Uint16Array(0);
  readonly #type: FloatType;

  /**
   * `type` is the float type weights and float constants are stored in: float16 rounds each
   * value to nearest (ties to even) as its payload is written; the weights themselves stay float32.
   */
  constructor(weights: WeightMap, type: FloatType = "float32") {
    this.#weights = weights;
    this.#lazy = isLazyWeightMap(weights) ? weights : undefined;
    this.#type = type;
  }

  /** Number of values of weight `name`, or undefined when the weights do not hold it. */
  lengthOf(name: string): number | undefined {
    return this.#lazy === undefined ? this.#weights.get(name)?.length : this.#lazy.lengthOf(name);
  }

  /**
   * The largest magnitude among weight `name`'s values (NaNs ignored), or undefined when the
   * weights do not hold it. Weights generated on demand are generated once more for it, into a
   * scratch buffer.
   */
  largestMagnitude(name: string): number | undefined {
    const length = this.lengthOf(name);
    if (length === undefined) return undefined;
    let data: Float32Array;
    if (this.#lazy === undefined) data = this.#weights.get(name)!;
    else {
      data = new Float32Array(length);
      this.#lazy.fill(name, data);
    }
    let largest = 0;
    for (const v of data) if (Math.abs(v) > largest) largest = Math.abs(v);
    return largest;
  }

  /**
   * Adds Keras weight `name` of Keras shape `shape` (its length already checked), permuted by
   * `transform` when given.
   */
  addWeight(name: string, shape: readonly number[], transform?: WeightTransform): void {
    const perm = transform?.perm;
    this.#add(
      {
        dims:
          transform?.dims !== undefined
            ? [...transform.dims]
            : perm === undefined
              ? [...shape]
              : perm.map((axis) => shape[axis]!),
        dataType: onnxFloatType(this.#type),
        name,
        ...(perm === undefined
          ? {}
          : { docString: `Keras shape [${shape.join(", ")}], reordered for ONNX` }),
      },
      this.#weightPayload(name, shape, perm),
    );
  }

  /**
   * Adds a float constant (not a Keras weight), in the model's float type unless `type` says
   * otherwise (Resize's scales are float32 whatever the model's type).
   */
  addFloat(
    name: string,
    dims: readonly number[],
    data: Float32Array,
    type: FloatType = this.#type,
  ): void {
    const bytes = type === "float16" ? float16Bytes(toFloat16(data)) : float32Bytes(data);
    this.#add({ dims: [...dims], dataType: onnxFloatType(type), name }, bytesPayload(bytes));
  }

  /** Adds an int64 vector constant (pads, shapes). */
  addInt64(name: string, values: readonly number[]): void {
    this.#add({ dims: [values.length], dataType: INT64, name }, bytesPayload(int64Bytes(values)));
  }

  #add(tensor: OnnxTypes.ITensorProto, payload: TensorPayload): void {
    this.tensors.push(tensor);
    this.payloads.push(payload);
    this.tensorBytes += payload.byteLength;
  }

  #buffer(key: "generated" | "permuted", length: number): Float32Array {
    if (this.#buffers[key].length < length) {
      this.#buffers[key] = new Float32Array(Math.max(length, this.#largest));
    }
    return this.#buffers[key].subarray(0, length);
  }

  /** The bytes of float32 `data` in the model's float type (a reused buffer under float16). */
  #encoded(data: Float32Array): Uint8Array {
    if (this.#type === "float32") return float32Bytes(data);
    if (this.#halves.length < data.length)
      this.#halves = new Uint16Array(Math.max(data.length, this.#largest));
    const halves = this.#halves.subarray(0, data.length);
    toFloat16Into(data, halves);
    return float16Bytes(halves);
  }

  #weightPayload(
    name: string,
    shape: readonly number[],
    perm: readonly number[] | undefined,
  ): TensorPayload {
    let length = 1;
    for (const d of shape) length *= d;
    this.#largest = Math.max(this.#largest, length);
    const byteLength = length * (this.#type === "float16" ? 2 : 4);
    const lazy = this.#lazy;
    if (lazy === undefined) {
      const held = this.#weights.get(name)!;
      if (perm === undefined) {
        if (this.#type === "float32") return bytesPayload(float32Bytes(held));
        return { byteLength, bytes: () => this.#encoded(held) };
      }
      return {
        byteLength,
        bytes: () => {
          const out = this.#buffer("permuted", held.length);
          permuteInto(held, shape, perm, out);
          return this.#encoded(out);
        },
      };
    }
    return {
      byteLength,
      bytes: () => {
        const data = this.#buffer("generated", length);
        // The permutation is applied as the values are generated: no Keras-layout copy.
        lazy.fill(name, data, perm);
        return this.#encoded(data);
      },
    };
  }
}
