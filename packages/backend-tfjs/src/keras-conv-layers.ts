/**
 * Keras semantics that tfjs-layers 4.22 lacks, as subclasses of its own layers that keep the
 * Keras class name (so `getClassName()` and model.json say `Conv2D`, `UpSampling2D`, ...):
 * - Conv2D `groups` (tfjs has none): the input channels and filters split into groups;
 * - Conv2DTranspose `output_padding` and `dilation_rate` (tfjs ignores both);
 * - UpSampling2D `bilinear` with half-pixel centres (tfjs resizes without them, unlike Keras);
 * - GlobalAveragePooling2D / GlobalMaxPooling2D `keepdims`;
 * - DepthwiseConv2D / SeparableConv2D with `dilation_rate` > 1 that can train (tfjs has no
 *   gradient of a dilated depthwise conv: the kernel is dilated with zeros instead, the same
 *   numbers).
 * Each subclass computes exactly what the stock layer computes when the option is at its default,
 * and its config adds the option only when it is not (so such models' model.json is unchanged).
 * They are registered for deserialization under the Keras names, replacing the stock classes in
 * tfjs's registry, so `tf.loadLayersModel` in a process that imported this backend reads the
 * options back; a stock tfjs ignores them (and fails on a grouped kernel's shape).
 */
import {
  add,
  concat,
  conv2d,
  conv2dTranspose,
  depthwiseConv2d,
  image,
  max,
  mean,
  pad,
  reshape,
  serialization,
  slice,
  split,
  type Tensor,
  type Tensor4D,
  tidy,
} from "@tensorflow/tfjs-core";
import { layers, type SymbolicTensor } from "@tensorflow/tfjs-layers";

type Shape = (number | null)[];
type Kwargs = Record<string, unknown>;

/** What the subclasses use of a tfjs layer (its runtime fields, which the typings keep protected). */
interface LayerInternals {
  kernelSize: number[];
  strides: number[];
  padding: "valid" | "same";
  dilationRate: number[] | number;
  filters: number;
  useBias: boolean;
  kernel: { read(): Tensor } | null;
  bias: { read(): Tensor } | null;
  activation: { apply(x: Tensor): Tensor };
  kernelInitializer: unknown;
  biasInitializer: unknown;
  kernelRegularizer: unknown;
  biasRegularizer: unknown;
  kernelConstraint: unknown;
  biasConstraint: unknown;
  inputSpec: unknown;
  built: boolean;
  size: number[];
  interpolation: string;
  dataFormat: "channelsLast" | "channelsFirst";
  addWeight(...args: unknown[]): { read(): Tensor };
  invokeCallHook(inputs: unknown, kwargs: Kwargs): void;
}

/** A tfjs layer class, as subclassed here. */
type LayerClass = new (
  args: Record<string, unknown>,
) => {
  call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[];
  build(inputShape: Shape | Shape[]): void;
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[];
  getConfig(): serialization.ConfigDict;
  apply(inputs: SymbolicTensor | SymbolicTensor[]): unknown;
};

/** tfjs-layers exports factories, not classes: the class is the constructor of an instance. */
export function stockClass(make: () => unknown): LayerClass {
  return (make() as { constructor: LayerClass }).constructor;
}

function one(inputs: Tensor | Tensor[]): Tensor4D {
  return (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor4D;
}

function pair(value: number[] | number): [number, number] {
  return typeof value === "number" ? [value, value] : [value[0]!, value[1]!];
}

const StockConv2D = stockClass(() => layers.conv2d({ filters: 1, kernelSize: 1 }));

/**
 * Keras Conv2D with `groups` (kernel `[kh, kw, in / groups, filters]`) and a dilation that trains:
 * tfjs 4.22 has no gradient of a dilated conv2d on any backend, so a dilated kernel is computed as
 * an undilated conv2d of the kernel dilated with zeros. With `dataInput` (the input depends on
 * no trainable weight: a first layer) it is computed unfused, conv2d then the bias: tfjs's fused
 * conv2d always computes the input gradient (a custom gradient), the plain one only when
 * something needs it, and nothing needs a first layer's (on wasm, ResNet-50's 7x7 conv1 input
 * gradient is ~0.2 s of a step). The stock layer at groups 1, dilation 1, without `dataInput`.
 */
export class GroupedConv2D extends StockConv2D {
  static className = "Conv2D";
  readonly groups: number;
  readonly dataInput: boolean;

  constructor(args: Record<string, unknown>) {
    super(args);
    this.groups = (args["groups"] as number | undefined) ?? 1;
    this.dataInput = args["dataInput"] === true;
  }

  override build(inputShape: Shape | Shape[]): void {
    if (this.groups === 1) {
      super.build(inputShape);
      return;
    }
    const self = this as unknown as LayerInternals;
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const channels = shape[3] as number;
    self.kernel = self.addWeight(
      "kernel",
      [...self.kernelSize, channels / this.groups, self.filters],
      null,
      self.kernelInitializer,
      self.kernelRegularizer,
      true,
      self.kernelConstraint,
    );
    if (self.useBias) {
      self.bias = self.addWeight(
        "bias",
        [self.filters],
        null,
        self.biasInitializer,
        self.biasRegularizer,
        true,
        self.biasConstraint,
      );
    }
    self.built = true;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    const self = this as unknown as LayerInternals;
    const [dh, dw] = pair(self.dilationRate);
    if (this.groups === 1 && dh === 1 && dw === 1 && !this.dataInput)
      return super.call(inputs, kwargs);
    return tidy(() => {
      const x = one(inputs);
      const xs = this.groups === 1 ? [x] : (split(x, this.groups, 3) as Tensor4D[]);
      const kernel = self.kernel!.read() as Tensor4D;
      const ks = this.groups === 1 ? [kernel] : (split(kernel, this.groups, 3) as Tensor4D[]);
      // The kernel is dilated with zeros, since tfjs has no gradient of a dilated conv2d.
      const ys = xs.map((xg, g) =>
        conv2d(
          xg,
          dilateKernel(dilateKernel(ks[g]!, dh, 0), dw, 1),
          pair(self.strides),
          self.padding,
        ),
      );
      let y: Tensor = concat(ys, 3);
      if (self.bias !== null) y = add(y, self.bias.read());
      return self.activation.apply(y);
    });
  }

  override getConfig(): serialization.ConfigDict {
    const config = super.getConfig();
    return this.groups === 1 ? config : { ...config, groups: this.groups };
  }
}

const StockConv2DTranspose = stockClass(() =>
  layers.conv2dTranspose({ filters: 1, kernelSize: 1 }),
);

/** Inserts `rate - 1` zeros between the taps of an HW.. kernel along `axis` (0 or 1). */
function dilateKernel(kernel: Tensor4D, rate: number, axis: 0 | 1): Tensor4D {
  if (rate === 1) return kernel;
  const [kh, kw, o, i] = kernel.shape;
  const n = axis === 0 ? kh : kw;
  // [.., n, 1, ..] padded to [.., n, rate, ..], flattened to n * rate taps, the last rate - 1 cut.
  const expanded =
    axis === 0 ? reshape(kernel, [kh, 1, kw, o, i]) : reshape(kernel, [kh, kw, 1, o, i]);
  const paddings: [number, number][] = [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ];
  paddings[axis + 1] = [0, rate - 1];
  const spread = pad(expanded, paddings);
  const flat =
    axis === 0 ? reshape(spread, [kh * rate, kw, o, i]) : reshape(spread, [kh, kw * rate, o, i]);
  const size = (n - 1) * rate + 1;
  return slice(flat, [0, 0, 0, 0], axis === 0 ? [size, kw, o, i] : [kh, size, o, i]) as Tensor4D;
}

/**
 * Keras Conv2DTranspose with `output_padding` and `dilation_rate`: tfjs's conv2dTranspose with
 * the output shape given explicitly (TensorFlow's placement for that shape) and the kernel
 * dilated with zeros.
 */
export class KerasConv2DTranspose extends StockConv2DTranspose {
  static className = "Conv2DTranspose";
  readonly outputPadding: [number, number] | null;
  readonly dilation: [number, number];

  constructor(args: Record<string, unknown>) {
    super(args);
    this.outputPadding = (args["outputPadding"] as [number, number] | undefined) ?? null;
    this.dilation = pair((args["dilationRate"] as number[] | number | undefined) ?? 1);
  }

  #stock(): boolean {
    return this.outputPadding === null && this.dilation[0] === 1 && this.dilation[1] === 1;
  }

  /** Keras's deconv_output_length along one axis. */
  #length(input: number, axis: 0 | 1): number {
    const self = this as unknown as LayerInternals;
    const window = (self.kernelSize[axis]! - 1) * this.dilation[axis] + 1;
    const stride = self.strides[axis]!;
    if (this.outputPadding === null) {
      return self.padding === "valid"
        ? input * stride + Math.max(window - stride, 0)
        : input * stride;
    }
    const p = self.padding === "same" ? Math.floor(window / 2) : 0;
    return (input - 1) * stride + window - 2 * p + this.outputPadding[axis];
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    if (this.#stock()) return super.computeOutputShape(inputShape);
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const self = this as unknown as LayerInternals;
    return [
      shape[0]!,
      shape[1] === null ? null : this.#length(shape[1]!, 0),
      shape[2] === null ? null : this.#length(shape[2]!, 1),
      self.filters,
    ];
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    if (this.#stock()) return super.call(inputs, kwargs);
    const self = this as unknown as LayerInternals;
    return tidy(() => {
      const x = one(inputs);
      const kernel = dilateKernel(
        dilateKernel(self.kernel!.read() as Tensor4D, this.dilation[0], 0),
        this.dilation[1],
        1,
      );
      const [n, h, w] = x.shape;
      const out: [number, number, number, number] = [
        n,
        this.#length(h, 0),
        this.#length(w, 1),
        self.filters,
      ];
      let y: Tensor = conv2dTranspose(x, kernel, out, pair(self.strides), self.padding);
      if (self.bias !== null) y = add(y, self.bias.read());
      return self.activation.apply(y);
    });
  }

  override getConfig(): serialization.ConfigDict {
    const config = super.getConfig();
    const extra: serialization.ConfigDict = {};
    if (this.outputPadding !== null) extra["outputPadding"] = [...this.outputPadding];
    // The stock config drops dilationRate (tfjs cannot dilate a transposed conv).
    if (!this.#stock()) extra["dilationRate"] = [...this.dilation];
    return { ...config, ...extra };
  }
}

const StockUpSampling2D = stockClass(() => layers.upSampling2d({}));

/** Keras UpSampling2D: bilinear with half-pixel centres (tf.image.resize), as Keras 2 and 3. */
export class KerasUpSampling2D extends StockUpSampling2D {
  static className = "UpSampling2D";

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    const self = this as unknown as LayerInternals;
    if (self.interpolation !== "bilinear" || self.dataFormat !== "channelsLast")
      return super.call(inputs, kwargs);
    return tidy(() => {
      const x = one(inputs);
      const size: [number, number] = [x.shape[1] * self.size[0]!, x.shape[2] * self.size[1]!];
      return image.resizeBilinear(x, size, false, true);
    });
  }
}

/** Keras global pooling with `keepdims` (`[N, 1, 1, C]`). */
function keepDimsPooling(
  stock: LayerClass,
  className: string,
  reduce: typeof mean | typeof max,
): LayerClass & { className: string } {
  return class extends stock {
    static className = className;
    readonly keepdims: boolean;

    constructor(args: Record<string, unknown>) {
      super(args);
      this.keepdims = (args["keepdims"] as boolean | undefined) ?? false;
    }

    override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
      if (!this.keepdims) return super.computeOutputShape(inputShape);
      const shape = inputShape as Shape;
      return [shape[0]!, 1, 1, shape[3]!];
    }

    override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
      if (!this.keepdims) return super.call(inputs, kwargs);
      return tidy(() => reduce(one(inputs), [1, 2], true));
    }

    override getConfig(): serialization.ConfigDict {
      const config = super.getConfig();
      return this.keepdims ? { ...config, keepdims: true } : config;
    }
  };
}

/** GlobalAveragePooling2D with `keepdims`. */
export const KerasGlobalAveragePooling2D = keepDimsPooling(
  stockClass(() => layers.globalAveragePooling2d({})),
  "GlobalAveragePooling2D",
  mean,
);

/** GlobalMaxPooling2D with `keepdims`. */
export const KerasGlobalMaxPooling2D = keepDimsPooling(
  stockClass(() => layers.globalMaxPooling2d({})),
  "GlobalMaxPooling2D",
  max,
);

const StockDepthwiseConv2D = stockClass(() => layers.depthwiseConv2d({ kernelSize: 1 }));

/** Fields of tfjs's depthwise and separable layers. */
interface DepthwiseInternals extends LayerInternals {
  depthwiseKernel: { read(): Tensor };
  pointwiseKernel: { read(): Tensor };
}

/**
 * True when a layer registered here under a stock name must compute as the stock layer: a
 * channels-first layer (rsc builds channels-last ones only) or an undilated one, as loaded from
 * any model.json.
 */
function stockDepthwise(self: LayerInternals): boolean {
  const [dh, dw] = pair(self.dilationRate);
  return self.dataFormat !== "channelsLast" || (dh === 1 && dw === 1);
}

/** The depthwise kernel dilated with zeros by the layer's dilation rate. */
function dilatedDepthwise(self: DepthwiseInternals): Tensor4D {
  const [dh, dw] = pair(self.dilationRate);
  return dilateKernel(dilateKernel(self.depthwiseKernel.read() as Tensor4D, dh, 0), dw, 1);
}

/** DepthwiseConv2D whose dilation trains: the dilated kernel, stride as given, no dilation. */
export class TrainableDilatedDepthwiseConv2D extends StockDepthwiseConv2D {
  static className = "DepthwiseConv2D";

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    const self = this as unknown as DepthwiseInternals;
    if (stockDepthwise(self)) return super.call(inputs, kwargs);
    return tidy(() => {
      let y: Tensor = depthwiseConv2d(
        one(inputs),
        dilatedDepthwise(self),
        pair(self.strides),
        self.padding,
      );
      if (self.bias !== null) y = add(y, self.bias.read());
      return self.activation.apply(y);
    });
  }
}

const StockSeparableConv2D = stockClass(() =>
  layers.separableConv2d({ filters: 1, kernelSize: 1 }),
);

/** SeparableConv2D whose dilation trains (see {@link TrainableDilatedDepthwiseConv2D}). */
export class TrainableDilatedSeparableConv2D extends StockSeparableConv2D {
  static className = "SeparableConv2D";

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor | Tensor[] {
    const self = this as unknown as DepthwiseInternals;
    if (stockDepthwise(self)) return super.call(inputs, kwargs);
    return tidy(() => {
      const depthwise = depthwiseConv2d(
        one(inputs),
        dilatedDepthwise(self),
        pair(self.strides),
        self.padding,
      );
      let y: Tensor = conv2d(depthwise, self.pointwiseKernel.read() as Tensor4D, 1, "valid");
      if (self.bias !== null) y = add(y, self.bias.read());
      return self.activation.apply(y);
    });
  }
}

for (const cls of [
  GroupedConv2D,
  KerasConv2DTranspose,
  KerasUpSampling2D,
  KerasGlobalAveragePooling2D,
  KerasGlobalMaxPooling2D,
  TrainableDilatedDepthwiseConv2D,
  TrainableDilatedSeparableConv2D,
]) {
  serialization.registerClass(cls as unknown as serialization.SerializableConstructor<never>);
}
