/** Add, Concatenate and the broadcasting merges (Multiply, Subtract, Average, Maximum). */
import { attrsAsWritten } from "./common.js";
import type { InferResult, OpDef } from "./op-def.js";
import { noMacs } from "./op-def.js";

const fmt = (s: readonly number[]) => `[${s.join(", ")}]`;

/** Attributes of `add`: none. */
export type AddAttrs = Record<string, never>;

/** `add: { from: [a, b, ...] }`: element-wise sum of same-shaped inputs. */
export const addOp: OpDef<"add", AddAttrs> = {
  op: "add",
  kerasClass: "Add",
  doc: "Element-wise sum of two or more inputs of the same shape.",
  attrs: { properties: {} },
  defaults: {},
  arity: { min: 2, max: Number.POSITIVE_INFINITY },
  normalize: () => ({}),
  infer(inputs) {
    const first = inputs[0]!;
    for (const other of inputs.slice(1)) {
      if (other.length !== first.length || other.some((d, i) => d !== first[i])) {
        return {
          ok: false,
          code: "RSC300",
          message: `add of mismatched shapes ${inputs.map(fmt).join(" and ")}`,
          attr: "from",
        };
      }
    }
    return { ok: true, shape: first };
  },
  params: () => [],
  macs: noMacs,
};

/** Attributes of `concatenate`: `axis` counts the batch as Keras does (-1: channels). */
export interface ConcatenateAttrs {
  readonly axis: number;
}

const concatenateDefaults = { axis: -1 } as const;

/** `concatenate: { from: [a, b, ...], axis: -1 }`: joins inputs along one axis. */
export const concatenateOp = attrsAsWritten<"concatenate", ConcatenateAttrs>({
  op: "concatenate",
  kerasClass: "Concatenate",
  doc: "Joins two or more inputs along `axis` (default -1, channels); other dimensions must match.",
  attrs: { properties: { axis: { type: "integer" } } },
  defaults: concatenateDefaults,
  arity: { min: 2, max: Number.POSITIVE_INFINITY },
  infer(inputs, a) {
    const rank = inputs[0]!.length;
    if (inputs.some((s) => s.length !== rank)) {
      return {
        ok: false,
        code: "RSC300",
        message: `concatenate of inputs with different ranks ${inputs.map(fmt).join(", ")}`,
        attr: "from",
      };
    }
    // Axis counts the batch dimension as Keras does: 1..rank, or negative from the end.
    const axis = a.axis < 0 ? rank + a.axis : a.axis - 1;
    if (axis < 0 || axis >= rank) {
      return {
        ok: false,
        code: "RSC305",
        message: `concatenate axis ${a.axis} is out of range for rank ${rank + 1} inputs`,
        attr: "axis",
      };
    }
    const out = [...inputs[0]!];
    for (const s of inputs.slice(1)) {
      for (let i = 0; i < rank; i++) {
        if (i !== axis && s[i] !== out[i]) {
          return {
            ok: false,
            code: "RSC300",
            message: `concatenate of ${inputs.map(fmt).join(" and ")}: dimensions other than axis ${a.axis} must match`,
            attr: "from",
          };
        }
      }
      out[axis] = out[axis]! + s[axis]!;
    }
    return { ok: true, shape: out };
  },
  params: () => [],
  macs: noMacs,
});

// Issue 12: element-wise merges that broadcast as Keras's Merge layers do.

/**
 * The output shape of an element-wise merge, as Keras's Merge layers broadcast: inputs of the
 * same rank whose dimensions are equal or 1 (`[h, w, c]` and `[1, 1, c]` give `[h, w, c]`).
 * Keras also right-aligns inputs of lower rank; rsc asks for a `reshape` instead, so every
 * backend broadcasts the same way (ONNX holds images channels-first).
 */
function broadcastInfer(op: string, inputs: readonly (readonly number[])[]): InferResult {
  const rank = inputs[0]!.length;
  if (inputs.some((s) => s.length !== rank)) {
    return {
      ok: false,
      code: "RSC300",
      message: `${op} of inputs of different ranks ${inputs.map(fmt).join(" and ")}; reshape one so both have rank ${rank} (e.g. reshape: { target_shape: [1, 1, c] })`,
      attr: "from",
    };
  }
  const out = [...inputs[0]!];
  for (const s of inputs.slice(1)) {
    for (let i = 0; i < rank; i++) {
      const [a, b] = [out[i]!, s[i]!];
      if (a !== b && a !== 1 && b !== 1) {
        return {
          ok: false,
          code: "RSC300",
          message: `${op} of incompatible shapes ${inputs.map(fmt).join(" and ")}: dimension ${i + 1} is ${a} and ${b} (each must be equal or 1)`,
          attr: "from",
        };
      }
      out[i] = a === 1 ? b : a;
    }
  }
  return { ok: true, shape: out };
}

/** Attributes of the broadcasting merges (`multiply`, `subtract`, `average`, `maximum`): none. */
export type BroadcastMergeAttrs = Record<string, never>;

function broadcastMergeOp<K extends "multiply" | "subtract" | "average" | "maximum">(
  op: K,
  kerasClass: string,
  doc: string,
  maxInputs: number,
): OpDef<K, BroadcastMergeAttrs> {
  return {
    op,
    kerasClass,
    doc,
    attrs: { properties: {} },
    defaults: {},
    arity: { min: 2, max: maxInputs },
    normalize: () => ({}),
    infer: (inputs) => broadcastInfer(op, inputs),
    params: () => [],
    macs: noMacs,
  };
}

const BROADCAST =
  "inputs of one rank, each dimension equal or 1 (broadcast, e.g. [h, w, c] and [1, 1, c])";

/** `multiply: { from: [a, b, ...] }`: element-wise product (squeeze-excitation's [h, w, c] * [1, 1, c]). */
export const multiplyOp = broadcastMergeOp(
  "multiply",
  "Multiply",
  `Element-wise product of two or more ${BROADCAST}.`,
  Number.POSITIVE_INFINITY,
);

/** `subtract: { from: [a, b] }`: a - b. */
export const subtractOp = broadcastMergeOp(
  "subtract",
  "Subtract",
  `Element-wise difference a - b of exactly two ${BROADCAST}.`,
  2,
);

/** `average: { from: [a, b, ...] }`: element-wise mean. */
export const averageOp = broadcastMergeOp(
  "average",
  "Average",
  `Element-wise mean of two or more ${BROADCAST}.`,
  Number.POSITIVE_INFINITY,
);

/** `maximum: { from: [a, b, ...] }`: element-wise maximum. */
export const maximumOp = broadcastMergeOp(
  "maximum",
  "Maximum",
  `Element-wise maximum of two or more ${BROADCAST}.`,
  Number.POSITIVE_INFINITY,
);
