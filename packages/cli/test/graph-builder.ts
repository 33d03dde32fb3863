/**
 * Builds IR graphs by hand from the op registry (normalize, infer, params), so the summary's
 * formatting and counting are tested independently of the spec front-end.
 */
import { type Graph, type Node, nameParams, OPS, type OpName, type Shape } from "@rsc/compiler";

/** Accumulates nodes in order; each call infers the node's shape from its inputs. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly shapes = new Map<string, Shape>();
  private last = "";

  constructor(private readonly name: string) {}

  /** Adds a layer; `inputs` defaults to the previous layer. Returns the layer name. */
  add(
    name: string,
    op: OpName,
    raw: Record<string, unknown> = {},
    inputs: readonly string[] = this.last === "" ? [] : [this.last],
  ): string {
    const def = OPS[op];
    // biome-ignore lint/suspicious/noExplicitAny: the registry is a union over ops
    const attrs = (def.normalize as (r: Record<string, unknown>) => any)(raw);
    const inShapes = inputs.map((i) => {
      const s = this.shapes.get(i);
      if (s === undefined) throw new Error(`unknown input ${i}`);
      return s;
    });
    // biome-ignore lint/suspicious/noExplicitAny: as above
    const anyDef = def as any;
    const result =
      op === "input" ? { ok: true, shape: raw["shape"] as Shape } : anyDef.infer(inShapes, attrs);
    if (!result.ok) throw new Error(`${name}: ${result.message}`);
    const params = nameParams(name, op === "input" ? [] : anyDef.params(inShapes, attrs));
    this.nodes.push({
      name,
      op,
      inputs,
      attrs,
      params,
      outputShape: result.shape,
      origin: { file: "test.yaml", line: 1, column: 1, callSites: [] },
    } as Node);
    this.shapes.set(name, result.shape);
    this.last = name;
    return name;
  }

  /** The name of the last layer added (the default input of the next). */
  get current(): string {
    return this.last;
  }

  /** The finished graph: one input (the first node), one output (the last). */
  build(): Graph {
    return {
      name: this.name,
      inputs: [this.nodes[0]!.name],
      outputs: [this.last],
      nodes: this.nodes,
    };
  }
}

/**
 * The Coursera ResNet-50 (DESIGN.md "The reference model"), built layer by layer as the Keras
 * notebook builds it, with Keras's names.
 */
export function courseraResnet50(classes = 6, inputShape: Shape = [64, 64, 3]): Graph {
  const g = new GraphBuilder("ResNet50");
  g.add("input_1", "input", { shape: inputShape });
  g.add("zero_padding2d", "zero_padding2d", { padding: 3 });
  g.add("conv1", "conv2d", { filters: 64, kernel_size: 7, strides: 2 });
  g.add("bn_conv1", "batch_normalization");
  g.add("activation", "activation", { activation: "relu" });
  g.add("max_pooling2d", "max_pooling2d", { pool_size: 3, strides: 2 });
  let relu = 1;
  let add = 0;
  const block = (stage: number, b: string, filters: number[], s: number, project: boolean) => {
    const x = g.current;
    const conv = `res${stage}${b}_branch`;
    const bn = `bn${stage}${b}_branch`;
    g.add(`${conv}2a`, "conv2d", { filters: filters[0], kernel_size: 1, strides: s }, [x]);
    g.add(`${bn}2a`, "batch_normalization");
    g.add(`activation_${relu++}`, "activation", { activation: "relu" });
    g.add(`${conv}2b`, "conv2d", { filters: filters[1], kernel_size: 3, padding: "same" });
    g.add(`${bn}2b`, "batch_normalization");
    g.add(`activation_${relu++}`, "activation", { activation: "relu" });
    g.add(`${conv}2c`, "conv2d", { filters: filters[2], kernel_size: 1 });
    const main = g.add(`${bn}2c`, "batch_normalization");
    let shortcut = x;
    if (project) {
      g.add(`${conv}1`, "conv2d", { filters: filters[2], kernel_size: 1, strides: s }, [x]);
      shortcut = g.add(`${bn}1`, "batch_normalization");
    }
    g.add(add === 0 ? "add" : `add_${add}`, "add", {}, [main, shortcut]);
    add++;
    g.add(`activation_${relu++}`, "activation", { activation: "relu" });
  };
  const stages: [number, string, number[], number][] = [
    [2, "abc", [64, 64, 256], 1],
    [3, "abcd", [128, 128, 512], 2],
    [4, "abcdef", [256, 256, 1024], 2],
    [5, "abc", [512, 512, 2048], 2],
  ];
  for (const [stage, letters, filters, s] of stages) {
    for (const [i, b] of [...letters].entries()) block(stage, b, filters, i === 0 ? s : 1, i === 0);
  }
  g.add("avg_pool", "average_pooling2d", { pool_size: 2 });
  g.add("flatten", "flatten");
  g.add(`fc${classes}`, "dense", { units: classes, activation: "softmax" });
  return g.build();
}
