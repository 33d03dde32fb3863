/** Add and Concatenate: layers with several inputs. */
import { withDefaults } from "./common.js";
import type { OpDef } from "./op-def.js";

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
};

/** Attributes of `concatenate`: `axis` counts the batch as Keras does (-1: channels). */
export interface ConcatenateAttrs {
  readonly axis: number;
}

const concatenateDefaults = { axis: -1 } as const;

/** `concatenate: { from: [a, b, ...], axis: -1 }`: joins inputs along one axis. */
export const concatenateOp: OpDef<"concatenate", ConcatenateAttrs> = {
  op: "concatenate",
  kerasClass: "Concatenate",
  doc: "Joins two or more inputs along `axis` (default -1, channels); other dimensions must match.",
  attrs: { properties: { axis: { type: "integer" } } },
  defaults: concatenateDefaults,
  arity: { min: 2, max: Number.POSITIVE_INFINITY },
  normalize: (raw) => ({ axis: withDefaults(raw, concatenateDefaults)["axis"] as number }),
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
};
