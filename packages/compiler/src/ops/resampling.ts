/** UpSampling2D and Cropping2D: change height and width, no parameters (Keras semantics, NHWC). */
import type { Shape } from "../tensor.js";
import {
  imageInput,
  isError,
  positivePair,
  sidesSchema,
  toPair,
  toSides,
  withDefaults,
} from "./common.js";
import type { OpDef, Pair } from "./op-def.js";
import { noMacs } from "./op-def.js";

/** Attributes of `up_sampling2d` (Keras UpSampling2D's names). */
export interface UpSampling2dAttrs {
  /** Repeat factors `[height, width]`. */
  readonly size: Pair;
  /**
   * `nearest` repeats pixels; `bilinear` interpolates with half-pixel centres, as Keras
   * (tf.image.resize, no align_corners).
   */
  readonly interpolation: "nearest" | "bilinear";
}

const upSamplingDefaults = { size: 2, interpolation: "nearest" } as const;

/** `up_sampling2d: { size: 2, interpolation: nearest }`. */
export const upSampling2dOp: OpDef<"up_sampling2d", UpSampling2dAttrs> = {
  op: "up_sampling2d",
  kerasClass: "UpSampling2D",
  doc: "Scales height and width up by integer factors: nearest (repeat) or bilinear (half-pixel centres, as Keras).",
  attrs: {
    properties: { size: positivePair, interpolation: { enum: ["nearest", "bilinear"] } },
  },
  defaults: upSamplingDefaults,
  shorthand: "size",
  arity: { min: 1, max: 1 },
  normalize(raw) {
    const a = withDefaults(raw, upSamplingDefaults);
    return {
      size: toPair(a["size"], [2, 2]),
      interpolation: a["interpolation"] as UpSampling2dAttrs["interpolation"],
    };
  },
  infer(inputs, a) {
    const x = imageInput(inputs, "up_sampling2d");
    if (isError(x)) return x;
    const [h, w, c] = x as Shape;
    return { ok: true, shape: [h! * a.size[0], w! * a.size[1], c!] };
  },
  params: () => [],
  macs: noMacs,
};

/** Attributes of `cropping2d`: `[[top, bottom], [left, right]]` pixels removed. */
export interface Cropping2dAttrs {
  readonly cropping: readonly [Pair, Pair];
}

const croppingDefaults = { cropping: 0 } as const;

/** `cropping2d: { cropping: 1 | [h, w] | [[top, bottom], [left, right]] }`. */
export const cropping2dOp: OpDef<"cropping2d", Cropping2dAttrs> = {
  op: "cropping2d",
  kerasClass: "Cropping2D",
  doc: "Removes rows and columns at the edges: `cropping: 2`, `[h, w]` or `[[top, bottom], [left, right]]`.",
  attrs: { properties: { cropping: sidesSchema } },
  defaults: croppingDefaults,
  shorthand: "cropping",
  arity: { min: 1, max: 1 },
  normalize: (raw) => ({ cropping: toSides(withDefaults(raw, croppingDefaults)["cropping"]) }),
  infer(inputs, a) {
    const x = imageInput(inputs, "cropping2d");
    if (isError(x)) return x;
    const [h, w, c] = x as Shape;
    const [[top, bottom], [left, right]] = a.cropping;
    const oh = h! - top - bottom;
    const ow = w! - left - right;
    if (oh < 1 || ow < 1) {
      return {
        ok: false,
        code: "RSC302",
        message: `cropping2d removes ${top + bottom} rows and ${left + right} columns of a ${h}x${w} input, leaving ${oh}x${ow}`,
        attr: "cropping",
      };
    }
    return { ok: true, shape: [oh, ow, c!] };
  },
  params: () => [],
  macs: noMacs,
};
