/**
 * The kernels rsc replaces, against the definition of what they compute:
 * - tfjs-cpu's ResizeNearestNeighborGrad (wrong for a batch in tfjs 4.22): the gradient of a
 *   nearest-neighbour up-sampling by an integer factor is each output block's sum of dy;
 * - tfjs-webgpu's PadV2 at rank 5 and 6 (invalid WGSL in tfjs 4.22): the padded tensor built
 *   here from the input's values.
 */
import { webgpuForTests } from "@rsc/test-support";
import { describe, expect, it } from "vitest";
import { selectRuntime, tf } from "../src/index.js";
import { mergedPad } from "../src/webgpu-kernels.js";

/** d(sum(up(x) * dy))/dx for a `factor`-times nearest up-sampling: dy summed over each block. */
function blockSums(dy: Float32Array, [n, h, w, c]: number[], factor: number): Float32Array {
  const out = new Float32Array(n! * h! * w! * c!);
  const [H, W] = [h! * factor, w! * factor];
  for (let b = 0; b < n!; b++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let k = 0; k < c!; k++) {
          const src = ((b * h! + Math.floor(y / factor)) * w! + Math.floor(x / factor)) * c! + k;
          out[src]! += dy[((b * H + y) * W + x) * c! + k]!;
        }
  return out;
}

async function upSamplingGrad(shape: number[], factor: number, dyValues: Float32Array) {
  const [n, h, w, c] = shape as [number, number, number, number];
  const x = tf.zeros(shape) as tf.Tensor4D;
  const dy = tf.tensor4d(dyValues, [n, h * factor, w * factor, c]);
  const g = tf.grad((xx: tf.Tensor) =>
    tf.sum(tf.mul(tf.image.resizeNearestNeighbor(xx as tf.Tensor4D, [h * factor, w * factor]), dy)),
  )(x);
  const values = Float32Array.from(await g.data());
  tf.dispose([x, dy, g]);
  return values;
}

const GRAD_CASES: [shape: number[], factor: number][] = [
  [[3, 2, 3, 2], 2],
  [[2, 4, 4, 1], 3],
  [[1, 3, 3, 2], 2],
];

describe("tfjs-cpu's ResizeNearestNeighborGrad, replaced", () => {
  it.each(GRAD_CASES)("sums each block of dy: %j by %i", async (shape, factor) => {
    await selectRuntime("cpu");
    const size = shape[0]! * shape[1]! * factor * shape[2]! * factor * shape[3]!;
    const dy = Float32Array.from({ length: size }, (_, i) => i);
    expect(Array.from(await upSamplingGrad(shape, factor, dy))).toEqual(
      Array.from(blockSums(dy, shape, factor)),
    );
  });
});

describe("mergedPad", () => {
  it("merges each padded axis with the unpadded axes inside it", () => {
    expect(
      mergedPad(
        [2, 3, 1, 4, 5],
        [
          [0, 0],
          [0, 0],
          [0, 2],
          [0, 0],
          [0, 0],
        ],
      ),
    ).toEqual({
      shape: [6, 20],
      paddings: [
        [0, 0],
        [0, 40],
      ],
    });
    expect(
      mergedPad(
        [2, 3, 4, 5, 6],
        [
          [1, 0],
          [0, 0],
          [2, 1],
          [0, 0],
          [0, 3],
        ],
      ),
    ).toEqual({
      shape: [6, 20, 6],
      paddings: [
        [3, 0],
        [10, 5],
        [0, 3],
      ],
    });
  });
});

/** `x` (values 1..size) padded with `value`, built element by element. */
function padReference(shape: number[], paddings: [number, number][], value: number): number[] {
  const out = shape.map((n, i) => n + paddings[i]![0] + paddings[i]![1]);
  const total = out.reduce((a, b) => a * b, 1);
  const result: number[] = [];
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let src = 0;
    let inside = true;
    for (let axis = 0; axis < out.length; axis++) {
      const stride = out.slice(axis + 1).reduce((a, b) => a * b, 1);
      const i = Math.floor(rest / stride) - paddings[axis]![0];
      rest %= stride;
      if (i < 0 || i >= shape[axis]!) inside = false;
      src = src * shape[axis]! + Math.max(0, Math.min(i, shape[axis]! - 1));
    }
    result.push(inside ? src + 1 : value);
  }
  return result;
}

const PAD_CASES: [title: string, shape: number[], paddings: [number, number][]][] = [
  [
    "rank 5, one axis (a dilated kernel)",
    [2, 1, 3, 2, 2],
    [
      [0, 0],
      [0, 2],
      [0, 0],
      [0, 0],
      [0, 0],
    ],
  ],
  [
    "rank 5, three axes",
    [2, 3, 2, 2, 3],
    [
      [1, 0],
      [0, 0],
      [2, 1],
      [0, 0],
      [0, 2],
    ],
  ],
  [
    "rank 5, every axis (by concatenation)",
    [2, 2, 1, 2, 2],
    [
      [1, 0],
      [0, 1],
      [1, 1],
      [2, 0],
      [0, 1],
    ],
  ],
  [
    "rank 6",
    [1, 2, 1, 2, 1, 3],
    [
      [0, 0],
      [0, 1],
      [1, 0],
      [0, 0],
      [0, 2],
      [0, 0],
    ],
  ],
  [
    "rank 4 (the stock kernel)",
    [2, 3, 3, 2],
    [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  ],
];

const gpu = await webgpuForTests();

describe.runIf(gpu.adapter)(`tfjs-webgpu's PadV2 at rank 5 and 6: ${gpu.title}`, () => {
  it.each(PAD_CASES)("pads %s", async (_title, shape, paddings) => {
    await selectRuntime("webgpu");
    const size = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(
      Float32Array.from({ length: size }, (_, i) => i + 1),
      shape,
    );
    const y = tf.pad(x, paddings, -0.5);
    expect(y.shape).toEqual(shape.map((n, i) => n + paddings[i]![0] + paddings[i]![1]));
    expect(Array.from(await y.data())).toEqual(padReference(shape, paddings, -0.5));
    tf.dispose([x, y]);
  });
});
