/** Reshape and Permute (Keras semantics: row-major over NHWC, batch excluded, dims 1-based). */
import { shapeSize } from "../tensor.js";
import type { OpDef } from "./op-def.js";
import { noMacs } from "./op-def.js";

const fmt = (s: readonly number[]) => `[${s.join(", ")}]`;

/** Attributes of `reshape` (Keras Reshape). */
export interface ReshapeAttrs {
  /** Target shape, batch excluded, as written (may hold one -1, resolved by shape inference). */
  readonly target_shape: readonly number[];
}

/** `reshape: { target_shape: [h, w, c] }` (Keras Reshape; one -1 is inferred). */
export const reshapeOp: OpDef<"reshape", ReshapeAttrs> = {
  op: "reshape",
  kerasClass: "Reshape",
  doc: "Reshapes each example to target_shape (batch excluded; one -1 is inferred) in Keras's row-major (H, W, C) order.",
  attrs: {
    properties: {
      target_shape: {
        type: "array",
        items: { type: "integer", anyOf: [{ minimum: 1 }, { const: -1 }] },
        minItems: 1,
      },
    },
    required: ["target_shape"],
  },
  defaults: {},
  shorthand: "target_shape",
  arity: { min: 1, max: 1 },
  normalize: (raw) => ({ target_shape: [...(raw["target_shape"] as number[])] }),
  infer(inputs, a) {
    const x = inputs[0]!;
    const count = shapeSize(x);
    const unknown = a.target_shape.filter((d) => d === -1).length;
    const known = shapeSize(a.target_shape.filter((d) => d !== -1));
    const error = (why: string) =>
      ({ ok: false, code: "RSC308", message: why, attr: "target_shape" }) as const;
    if (unknown > 1)
      return error(`reshape target_shape ${fmt(a.target_shape)} has more than one -1`);
    if (unknown === 1) {
      if (count % known !== 0) {
        return error(
          `reshape of ${fmt(x)} (${count} elements) to ${fmt(a.target_shape)}: ${count} is not a multiple of ${known}`,
        );
      }
      return { ok: true, shape: a.target_shape.map((d) => (d === -1 ? count / known : d)) };
    }
    if (known !== count) {
      return error(
        `reshape of ${fmt(x)} (${count} elements) to ${fmt(a.target_shape)} (${known} elements)`,
      );
    }
    return { ok: true, shape: [...a.target_shape] };
  },
  params: () => [],
  macs: noMacs,
};

/** Attributes of `permute`: `dims` 1-based over the example's axes (batch excluded), as Keras. */
export interface PermuteAttrs {
  readonly dims: readonly number[];
}

/** `permute: { dims: [2, 1, 3] }` (Keras Permute): output axis i is input axis dims[i] (1-based). */
export const permuteOp: OpDef<"permute", PermuteAttrs> = {
  op: "permute",
  kerasClass: "Permute",
  doc: "Permutes the axes of each example: output axis i is input axis dims[i] (1-based, batch excluded).",
  attrs: {
    properties: { dims: { type: "array", items: { type: "integer", minimum: 1 }, minItems: 1 } },
    required: ["dims"],
  },
  defaults: {},
  shorthand: "dims",
  arity: { min: 1, max: 1 },
  normalize: (raw) => ({ dims: [...(raw["dims"] as number[])] }),
  infer(inputs, a) {
    const x = inputs[0]!;
    const sorted = [...a.dims].sort((p, q) => p - q);
    if (a.dims.length !== x.length || sorted.some((d, i) => d !== i + 1)) {
      return {
        ok: false,
        code: "RSC309",
        message: `permute dims ${fmt(a.dims)} are not a permutation of ${fmt(x.map((_, i) => i + 1))} for input ${fmt(x)}`,
        attr: "dims",
      };
    }
    return { ok: true, shape: a.dims.map((d) => x[d - 1]!) };
  },
  params: () => [],
  macs: noMacs,
};
