/**
 * Keras's NHWC layout vs the ONNX graph's NCHW. Per-example shapes in the IR exclude the batch;
 * an image (`[h, w, c]`) is held channels-first in the ONNX graph, every other rank as is.
 */
import type { Shape } from "@rsc/compiler";

/** NHWC -> NCHW. */
export const TO_NCHW: readonly number[] = [0, 3, 1, 2];
/** NCHW -> NHWC. */
export const TO_NHWC: readonly number[] = [0, 2, 3, 1];

/** True when a value of this IR shape (batch excluded) is NCHW in the ONNX graph. */
export function isChannelsFirst(shape: Shape): boolean {
  return shape.length === 3;
}

/** ONNX dims of a value of this IR shape: batch first (symbolic, so `undefined`), NCHW for images. */
export function onnxDims(shape: Shape): (number | undefined)[] {
  if (isChannelsFirst(shape)) return [undefined, shape[2]!, shape[0]!, shape[1]!];
  return [undefined, ...shape];
}

/**
 * Maps a Keras axis (batch counted: 0..rank, or negative from the end, as Keras writes it) of a
 * value of this IR shape to the ONNX axis of the same dimension.
 */
export function onnxAxis(kerasAxis: number, shape: Shape): number {
  const rank = shape.length + 1;
  const axis = kerasAxis < 0 ? rank + kerasAxis : kerasAxis;
  if (!isChannelsFirst(shape)) return axis;
  return [0, 2, 3, 1][axis]!;
}
