/**
 * The Coursera ResNet-50 built in code (graphFromLayers), so the summary's formatting and counting
 * are tested independently of the spec front-end.
 */
import { type Graph, graphFromLayers, type LayerDescription, type Shape } from "@rsc/compiler";

/**
 * The Coursera ResNet-50 (DESIGN.md "The reference model"), built layer by layer as the Keras
 * notebook builds it, with Keras's names.
 */
export function courseraResnet50(classes = 6, inputShape: Shape = [64, 64, 3]): Graph {
  const layers: LayerDescription[] = [
    { name: "input_1", op: "input", attrs: { shape: inputShape } },
    { name: "zero_padding2d", op: "zero_padding2d", attrs: { padding: 3 } },
    { name: "conv1", op: "conv2d", attrs: { filters: 64, kernel_size: 7, strides: 2 } },
    { name: "bn_conv1", op: "batch_normalization" },
    { name: "activation", op: "activation", attrs: { activation: "relu" } },
    { name: "max_pooling2d", op: "max_pooling2d", attrs: { pool_size: 3, strides: 2 } },
  ];
  const last = () => layers[layers.length - 1]!.name!;
  let relu = 1;
  let add = 0;
  const reluLayer = (): LayerDescription => ({
    name: `activation_${relu++}`,
    op: "activation",
    attrs: { activation: "relu" },
  });
  /** A conv and its BatchNorm, named `res<unit>_branch<part>` and `bn<unit>_branch<part>`. */
  const convBn = (
    unit: string,
    part: string,
    attrs: Record<string, unknown>,
    inputs?: readonly string[],
  ): LayerDescription[] => [
    { name: `res${unit}_branch${part}`, op: "conv2d", attrs, ...(inputs ? { inputs } : {}) },
    { name: `bn${unit}_branch${part}`, op: "batch_normalization" },
  ];
  const block = (stage: number, b: string, filters: number[], s: number, project: boolean) => {
    const x = last();
    const unit = `${stage}${b}`;
    layers.push(
      ...convBn(unit, "2a", { filters: filters[0], kernel_size: 1, strides: s }, [x]),
      reluLayer(),
      ...convBn(unit, "2b", { filters: filters[1], kernel_size: 3, padding: "same" }),
      reluLayer(),
      ...convBn(unit, "2c", { filters: filters[2], kernel_size: 1 }),
    );
    const main = last();
    let shortcut = x;
    if (project) {
      layers.push(...convBn(unit, "1", { filters: filters[2], kernel_size: 1, strides: s }, [x]));
      shortcut = last();
    }
    layers.push({ name: add === 0 ? "add" : `add_${add}`, op: "add", inputs: [main, shortcut] });
    add++;
    layers.push(reluLayer());
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
  layers.push(
    { name: "avg_pool", op: "average_pooling2d", attrs: { pool_size: 2 } },
    { name: "flatten", op: "flatten" },
    { name: `fc${classes}`, op: "dense", attrs: { units: classes, activation: "softmax" } },
  );
  return graphFromLayers("ResNet50", layers);
}
