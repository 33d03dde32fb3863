/**
 * Builds IR graphs by hand from the op registry (normalize, infer, params), so the backend is
 * tested independently of the spec front-end.
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
    line = this.nodes.length + 1,
  ): string {
    // biome-ignore lint/suspicious/noExplicitAny: the registry is a union over ops
    const def = OPS[op] as any;
    const attrs = def.normalize(raw);
    const inShapes = inputs.map((i) => {
      const s = this.shapes.get(i);
      if (s === undefined) throw new Error(`unknown input ${i}`);
      return s;
    });
    const result = def.infer(inShapes, attrs);
    if (!result.ok) throw new Error(`${name}: ${result.message}`);
    const params = nameParams(name, def.params(inShapes, attrs));
    this.nodes.push({
      name,
      op,
      inputs,
      attrs,
      params,
      outputShape: result.shape,
      origin: { file: "test.yaml", line, column: 3, callSites: [] },
    } as Node);
    this.shapes.set(name, result.shape);
    this.last = name;
    return name;
  }

  /** The name of the last layer added. */
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

/** A small model using every op of the registry (16x16x3 input, `classes` softmax outputs). */
export function everyOpGraph(classes = 3, name = "every_op"): Graph {
  const g = new GraphBuilder(name);
  g.add("input_1", "input", { shape: [16, 16, 3] });
  g.add("pad", "zero_padding2d", {
    padding: [
      [1, 2],
      [0, 1],
    ],
  });
  g.add("conv1", "conv2d", { filters: 8, kernel_size: 3, strides: 2, activation: "relu" });
  g.add("bn1", "batch_normalization", { epsilon: 1e-3, momentum: 0.9 });
  const a = g.add("relu1", "activation", { activation: "relu" });
  g.add("conv_s2", "conv2d", {
    filters: 8,
    kernel_size: 3,
    strides: 2,
    padding: "same",
    use_bias: false,
  });
  const pm = g.add("pool_max", "max_pooling2d", { pool_size: 3, strides: 1, padding: "same" });
  g.add("conv_d", "conv2d", { filters: 8, kernel_size: 3, padding: "same", dilation_rate: 2 }, [a]);
  const pa = g.add("pool_avg", "average_pooling2d", { pool_size: 2, strides: 2, padding: "same" });
  const sum = g.add("add", "add", {}, [pm, pa]);
  const t = g.add("tanh", "activation", { activation: "tanh" }, [sum]);
  const s = g.add("sigmoid", "activation", { activation: "sigmoid" }, [sum]);
  g.add("concat", "concatenate", { axis: -1 }, [t, s]);
  const bn2 = g.add("bn2", "batch_normalization");
  g.add("pool_max2", "max_pooling2d", { pool_size: 2, strides: 1 });
  g.add("pool_avg2", "average_pooling2d", { pool_size: 2 });
  g.add("flatten", "flatten");
  g.add("fc_a", "dense", { units: 5, activation: "tanh" });
  g.add("drop", "dropout", { rate: 0.5 });
  const fb = g.add("fc_b", "dense", { units: 5, use_bias: false });
  const gap = g.add("gap", "global_average_pooling2d", {}, [bn2]);
  const fg = g.add("fc_gap", "dense", { units: 5, activation: "linear" }, [gap]);
  g.add("sum2", "add", {}, [fb, fg]);
  g.add(`fc${classes}`, "dense", { units: classes, activation: "softmax" });
  return g.build();
}

/** A tiny conv net for training tests: 16x16x3 -> conv -> bn -> relu -> pool -> dense softmax. */
export function tinyConvGraph(classes = 3, name = "tiny"): Graph {
  const g = new GraphBuilder(name);
  g.add("input_1", "input", { shape: [16, 16, 3] });
  g.add("conv1", "conv2d", { filters: 4, kernel_size: 3, strides: 2, padding: "same" });
  g.add("bn_conv1", "batch_normalization");
  g.add("relu", "activation", { activation: "relu" });
  g.add("pool", "max_pooling2d", { pool_size: 2 });
  g.add("flatten", "flatten");
  g.add(`fc${classes}`, "dense", { units: classes, activation: "softmax" });
  return g.build();
}
