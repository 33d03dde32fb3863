/**
 * A deterministic text form of an ONNX model, for golden files and review: header, metadata,
 * inputs, outputs, initializers (name, type, dims), and every node with its op type, inputs,
 * outputs, attributes and the output's shape. Tensor data is not printed.
 */
import { type OnnxTypes, onnx } from "./onnx-proto.js";

const typeNames: Record<number, string> = {
  [onnx.TensorProto.DataType.FLOAT]: "float",
  [onnx.TensorProto.DataType.FLOAT16]: "float16",
  [onnx.TensorProto.DataType.INT64]: "int64",
};

function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === "number" ? v : v.toNumber();
}

function typeText(info: OnnxTypes.IValueInfoProto | undefined): string {
  const t = info?.type?.tensorType;
  if (!t) return "?";
  const dims = (t.shape?.dim ?? []).map((d) => d.dimParam || String(num(d.dimValue)));
  return `${typeNames[t.elemType ?? 0] ?? `type${t.elemType}`}[${dims.join(",")}]`;
}

function attrText(a: OnnxTypes.IAttributeProto): string {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT:
      return `${a.name}=${num(a.i)}`;
    case T.INTS:
      return `${a.name}=[${(a.ints ?? []).map(num).join(",")}]`;
    case T.FLOAT:
      return `${a.name}=${Number(Math.fround(a.f ?? 0).toPrecision(7))}`;
    case T.STRING:
      return `${a.name}="${new TextDecoder().decode(a.s ?? new Uint8Array())}"`;
    default:
      return `${a.name}=<type ${a.type}>`;
  }
}

/** Options of {@link dumpModel}. */
export interface DumpOptions {
  /** Include the model and node doc strings (default true). */
  readonly docs?: boolean;
}

/** The text form of an encoded (or decoded) ModelProto. */
export function dumpModel(
  model: Uint8Array | OnnxTypes.IModelProto,
  options: DumpOptions = {},
): string {
  const m = model instanceof Uint8Array ? onnx.ModelProto.decode(model) : model;
  const g = m.graph ?? {};
  const docs = options.docs !== false;
  const lines: string[] = [];
  const opsets = (m.opsetImport ?? []).map((o) => `${o.domain || "ai.onnx"} ${num(o.version)}`);
  lines.push(
    `model ir_version=${num(m.irVersion)} opset=${opsets.join(",")} producer=${m.producerName} ${m.producerVersion}`,
  );
  if (docs && m.docString) lines.push(`doc ${m.docString}`);
  for (const p of m.metadataProps ?? []) lines.push(`metadata ${p.key}=${p.value}`);
  lines.push(`graph ${g.name}`);
  for (const i of g.input ?? []) lines.push(`input ${i.name}: ${typeText(i)}`);
  for (const o of g.output ?? []) lines.push(`output ${o.name}: ${typeText(o)}`);
  for (const t of g.initializer ?? []) {
    const where =
      t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL
        ? ` external(${(t.externalData ?? []).map((e) => `${e.key}=${e.value}`).join(",")})`
        : "";
    const dims = (t.dims ?? []).map(num).join(",");
    lines.push(`initializer ${t.name}: ${typeNames[t.dataType ?? 0] ?? "?"}[${dims}]${where}`);
  }
  const shapes = new Map<string, OnnxTypes.IValueInfoProto>();
  for (const v of [...(g.valueInfo ?? []), ...(g.output ?? [])]) shapes.set(v.name ?? "", v);
  for (const n of g.node ?? []) {
    const attrs = (n.attribute ?? []).map(attrText).join(", ");
    const outs = (n.output ?? [])
      .map((o) => (shapes.has(o) ? `${o}: ${typeText(shapes.get(o))}` : o))
      .join(", ");
    lines.push(
      `node ${n.name} = ${n.opType}(${(n.input ?? []).join(", ")})${attrs ? ` {${attrs}}` : ""} -> ${outs}`,
    );
    if (docs && n.docString) lines.push(`  doc ${n.docString}`);
  }
  return `${lines.join("\n")}\n`;
}
