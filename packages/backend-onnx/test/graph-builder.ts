/**
 * Builds IR graphs by hand from the op registry (normalize, infer, params), so the backend is
 * tested on graphs the front-end never made, and shapes come from the compiler's own inference.
 */
import { type Graph, type Node, nameParams, OPS, type OpName, type Shape } from "@rsc/compiler";

/** Accumulates nodes in order; each call infers the node's shape from its inputs. */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly shapes = new Map<string, Shape>();
  private last = "";
  private line = 1;

  constructor(private readonly name: string) {}

  /** Adds a layer; `inputs` defaults to the previous layer. Returns the layer name. */
  add(
    name: string,
    op: OpName,
    raw: Record<string, unknown> = {},
    inputs: readonly string[] = this.last === "" ? [] : [this.last],
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
    this.nodes.push({
      name,
      op,
      inputs,
      attrs,
      params: nameParams(name, def.params(inShapes, attrs)),
      outputShape: result.shape,
      // One line per layer, so diagnostics can be checked for position.
      origin: { file: "test.yaml", line: this.line++, column: 3, callSites: [] },
    } as Node);
    this.shapes.set(name, result.shape);
    this.last = name;
    return name;
  }

  /** The name of the last layer added. */
  get current(): string {
    return this.last;
  }

  /** The finished graph: inputs are the `input` nodes; outputs the given layers (default: the last). */
  build(outputs: readonly string[] = [this.last]): Graph {
    return {
      name: this.name,
      inputs: this.nodes.filter((n) => n.op === "input").map((n) => n.name),
      outputs,
      nodes: this.nodes,
    };
  }
}
