/**
 * ONNX node attributes, typed explicitly: a JS number cannot tell an INT attribute from a FLOAT
 * one, and onnxruntime rejects an attribute of the wrong type.
 */
import { type OnnxTypes, onnx } from "./onnx-proto.js";

/** One attribute value with its ONNX type. */
export type AttrValue =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "ints"; readonly value: readonly number[] }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "string"; readonly value: string };

/** Attributes of one node by ONNX attribute name. */
export type Attrs = Readonly<Record<string, AttrValue>>;

/** An INT attribute. */
export const int = (value: number): AttrValue => ({ kind: "int", value });
/** An INTS attribute. */
export const ints = (value: readonly number[]): AttrValue => ({ kind: "ints", value });
/** A FLOAT attribute (stored as float32). */
export const float = (value: number): AttrValue => ({ kind: "float", value });
/** A STRING attribute (UTF-8). */
export const string = (value: string): AttrValue => ({ kind: "string", value });

const { AttributeType } = onnx.AttributeProto;

/** The AttributeProto list of a node, sorted by name so the bytes never depend on insertion order. */
export function attributeProtos(attrs: Attrs): OnnxTypes.IAttributeProto[] {
  return Object.keys(attrs)
    .sort()
    .map((name) => {
      const a = attrs[name]!;
      switch (a.kind) {
        case "int":
          return { name, type: AttributeType.INT, i: a.value };
        case "ints":
          return { name, type: AttributeType.INTS, ints: [...a.value] };
        case "float":
          return { name, type: AttributeType.FLOAT, f: a.value };
        default:
          return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.value) };
      }
    });
}
