/**
 * Encodes a ModelProto whose tensor bytes are produced one at a time, as a stream of chunks.
 *
 * protobufjs would need every tensor's bytes in memory at once and would then copy them all into
 * its result: for ResNet-50 two extra 94 MB buffers, and touching fresh memory is what costs most
 * (page faults). Here protobufjs encodes everything but the tensor bytes, and this module lays out
 * the rest by hand: the graph field, then each initializer as a TensorProto whose `raw_data` field
 * follows its other fields (protobuf parsers accept fields in any order). A caller streams the
 * chunks to a file, or gathers them into one buffer.
 */
import { type OnnxTypes, onnx } from "./onnx-proto.js";

/** Bytes of one tensor, produced on demand. */
export interface TensorPayload {
  /** Number of bytes {@link TensorPayload.bytes} returns. */
  readonly byteLength: number;
  /** The bytes; may be a reused buffer, valid until the next payload is asked for. */
  bytes(): Uint8Array;
}

/** A payload of bytes already in memory. */
export function bytesPayload(bytes: Uint8Array): TensorPayload {
  return { byteLength: bytes.byteLength, bytes: () => bytes };
}

/** An encoded file, streamed or gathered on demand. */
export interface EncodedFile {
  /** Size in bytes. */
  readonly byteLength: number;
  /**
   * Streams the file to `write`, in order. A chunk may be a reused buffer: `write` must consume
   * it before returning.
   */
  writeTo(write: (chunk: Uint8Array) => void): void;
  /** The whole file in one new buffer. */
  bytes(): Uint8Array;
}

/** Chunks smaller than this are gathered before they reach the sink (fewer write calls). */
const STAGING_BYTES = 1 << 16;

/** A file made of a list of parts, each a fixed chunk or a tensor payload. */
function encodedFile(parts: readonly (Uint8Array | TensorPayload)[]): EncodedFile {
  const byteLength = parts.reduce((n, p) => n + p.byteLength, 0);
  const writeTo = (write: (chunk: Uint8Array) => void) => {
    const staging = new Uint8Array(Math.min(STAGING_BYTES, byteLength));
    let staged = 0;
    const flush = () => {
      if (staged > 0) write(staging.subarray(0, staged));
      staged = 0;
    };
    for (const part of parts) {
      const chunk = part instanceof Uint8Array ? part : part.bytes();
      if (chunk.byteLength !== part.byteLength)
        throw new Error(`a tensor payload gave ${chunk.byteLength} of ${part.byteLength} bytes`);
      if (chunk.byteLength >= STAGING_BYTES) {
        flush();
        write(chunk);
        continue;
      }
      if (staged + chunk.byteLength > staging.byteLength) flush();
      staging.set(chunk, staged);
      staged += chunk.byteLength;
    }
    flush();
  };
  return {
    byteLength,
    writeTo,
    bytes() {
      // Every byte is written, so the buffer need not be zeroed first.
      const out = Buffer.allocUnsafe(byteLength);
      let at = 0;
      writeTo((chunk) => {
        out.set(chunk, at);
        at += chunk.byteLength;
      });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    },
  };
}

/** Protobuf wire tags (field number << 3 | wire type 2, length-delimited). */
const GRAPH_TAG = (7 << 3) | 2; // ModelProto.graph
const INITIALIZER_TAG = (5 << 3) | 2; // GraphProto.initializer
const RAW_DATA_TAG = (9 << 3) | 2; // TensorProto.raw_data

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/**
 * Encodes `model`, whose `graph.initializer` tensors carry no `raw_data`: `payloads[i]`, when
 * present, becomes tensor i's `raw_data`.
 */
export function encodeModel(
  model: OnnxTypes.IModelProto,
  payloads: readonly (TensorPayload | undefined)[],
): EncodedFile {
  const graph = model.graph ?? {};
  const tensors = graph.initializer ?? [];
  const modelHead = onnx.ModelProto.encode({ ...model, graph: null }).finish();
  const graphHead = onnx.GraphProto.encode({ ...graph, initializer: [] }).finish();
  const tensorParts: (Uint8Array | TensorPayload)[] = [];
  for (const [i, tensor] of tensors.entries()) {
    const head = onnx.TensorProto.encode(tensor).finish();
    const payload = payloads[i];
    const rawField = payload === undefined ? [] : [RAW_DATA_TAG, ...varint(payload.byteLength)];
    const length = head.length + rawField.length + (payload?.byteLength ?? 0);
    const prefix = Uint8Array.from([INITIALIZER_TAG, ...varint(length)]);
    const header = new Uint8Array(prefix.length + head.length + rawField.length);
    header.set(prefix, 0);
    header.set(head, prefix.length);
    header.set(rawField, prefix.length + head.length);
    tensorParts.push(header);
    if (payload !== undefined) tensorParts.push(payload);
  }
  const graphLength = graphHead.length + tensorParts.reduce((n, p) => n + p.byteLength, 0);
  return encodedFile([
    modelHead,
    Uint8Array.from([GRAPH_TAG, ...varint(graphLength)]),
    graphHead,
    ...tensorParts,
  ]);
}

/**
 * The external data file: each payload at its offset, the gaps between them zero. `layout` gives
 * the payloads in increasing offset order.
 */
export function encodeData(
  layout: readonly { readonly offset: number; readonly payload: TensorPayload }[],
): EncodedFile {
  const parts: (Uint8Array | TensorPayload)[] = [];
  let at = 0;
  for (const { offset, payload } of layout) {
    if (offset > at) parts.push(new Uint8Array(offset - at));
    parts.push(payload);
    at = offset + payload.byteLength;
  }
  return encodedFile(parts);
}
