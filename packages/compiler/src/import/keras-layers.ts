/**
 * One Keras layer config -> one rsc layer (op and the attributes that differ from the op's
 * defaults, in spec form: `kernel_size: 3`, not `[3, 3]`), or the reasons it cannot be one.
 *
 * What is refused, and why it is never guessed at:
 * - code: a Lambda layer, and every custom object (a class Keras does not define, a Keras 3
 *   `module` outside keras, a custom `registered_name`); the file's code is never run or echoed;
 * - Keras classes rsc has no op for (LSTM, Conv1D, ...), and options rsc cannot express
 *   (channels_first, a Keras 2 hard_sigmoid, an activation rsc lacks, renorm, ...);
 * - training-only settings (regularizers, constraints, a Dropout's noise_shape) are not part of
 *   the architecture: they are left out with a warning, never silently.
 */
import { stableJson } from "../canonical.js";
import { ACTIVATIONS, type ActivationName } from "../ops/activation.js";
import { OPS, type OpName } from "../ops/registry.js";
import { type FlatLayer, field } from "./keras-graph.js";
import type { JsonObject, JsonValue } from "./located-json.js";

/** The rsc layer a Keras layer becomes. */
export interface ConvertedLayer {
  readonly op: OpName;
  /** Attributes that differ from the op's defaults, in spec form. */
  readonly attrs: Readonly<Record<string, unknown>>;
  /**
   * A Keras 2 `axis: [k]` (how a built BatchNormalization or LayerNormalization saves `-1`):
   * the `axis` attribute is dropped when `k` is the input's last axis (known after shapes).
   */
  readonly lastAxis?: number;
}

/** A reason a layer is refused (error) or changed (warning). */
export interface LayerIssue {
  readonly severity: "error" | "warning";
  readonly code: "RSC521" | "RSC522" | "RSC523" | "RSC526";
  readonly message: string;
}

/** What the converter knows about the file. */
export interface ConvertContext {
  /** 3 for a Keras 3 config; 2 for Keras 2 and tfjs (Keras 2's activations). */
  readonly kerasMajor: 2 | 3;
  /** True for a tfjs model.json (its activation names are tfjs's). */
  readonly tfjs: boolean;
}

/** Keras layer classes, Keras 2 and 3 (public names): a class outside this list is custom. */
const KERAS_LAYER_CLASSES = new Set(
  `InputLayer Activation Dense EinsumDense Embedding Identity Lambda Masking Wrapper ELU LeakyReLU PReLU ReLU
  Softmax ThresholdedReLU AdditiveAttention Attention GroupQueryAttention GroupedQueryAttention
  MultiHeadAttention Conv1D Conv1DTranspose Conv2D Conv2DTranspose Conv3D Conv3DTranspose
  DepthwiseConv1D DepthwiseConv2D SeparableConv1D SeparableConv2D Convolution1D Convolution2D
  Convolution3D Convolution1DTranspose Convolution2DTranspose Convolution3DTranspose
  SeparableConvolution1D SeparableConvolution2D ConvLSTM1D ConvLSTM2D ConvLSTM3D
  LocallyConnected1D LocallyConnected2D Add Average Concatenate Dot Maximum Minimum Multiply
  Subtract BatchNormalization GroupNormalization LayerNormalization SpectralNormalization
  UnitNormalization RMSNormalization AveragePooling1D AveragePooling2D AveragePooling3D
  MaxPooling1D MaxPooling2D MaxPooling3D GlobalAveragePooling1D GlobalAveragePooling2D
  GlobalAveragePooling3D GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D AvgPool1D
  AvgPool2D AvgPool3D MaxPool1D MaxPool2D MaxPool3D GlobalAvgPool1D GlobalAvgPool2D
  GlobalAvgPool3D GlobalMaxPool1D GlobalMaxPool2D GlobalMaxPool3D CategoryEncoding CenterCrop
  Discretization HashedCrossing Hashing IntegerLookup Normalization RandomBrightness
  RandomContrast RandomCrop RandomFlip RandomHeight RandomRotation RandomTranslation RandomWidth
  RandomZoom Rescaling Resizing StringLookup TextVectorization AutoContrast RandomGrayscale
  RandomHue RandomSaturation RandomSharpness RandomShear RandomColorJitter RandomPosterization
  Solarization RandomInvert Equalization RandomColorDegeneration RandomErasing
  RandomGaussianBlur RandomPerspective RandomElasticTransform MixUp CutMix AugMix RandAugment
  Pipeline MelSpectrogram STFTSpectrogram ActivityRegularization AlphaDropout Dropout
  GaussianDropout GaussianNoise SpatialDropout1D SpatialDropout2D SpatialDropout3D Cropping1D
  Cropping2D Cropping3D Flatten Permute RepeatVector Reshape UpSampling1D UpSampling2D
  UpSampling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D Bidirectional GRU GRUCell LSTM LSTMCell
  RNN SimpleRNN SimpleRNNCell StackedRNNCells TimeDistributed CuDNNGRU CuDNNLSTM TFOpLambda
  SlicingOpLambda TensorFlowOpLayer TorchModuleWrapper JaxLayer FlaxLayer TFSMLayer`.split(/\s+/),
);

/** Keras serialisable helpers (Keras 2 has no `module` field): outside these, a class is custom. */
const KERAS_HELPER_CLASSES = new Set(
  `GlorotUniform GlorotNormal HeNormal HeUniform LecunNormal LecunUniform Zeros Ones Constant
  RandomNormal RandomUniform TruncatedNormal VarianceScaling Orthogonal Identity STFTInitializer
  L1 L2 L1L2 OrthogonalRegularizer MaxNorm MinMaxNorm NonNeg UnitNorm RadialConstraint
  DTypePolicy FloatDTypePolicy Policy function`.split(/\s+/),
);

/** Keras activations rsc has no equivalent of (they are Keras's, not custom: RSC523). */
const KERAS_ACTIVATIONS_MISSING = new Set(
  `softsign mish log_softmax celu glu hard_tanh hard_shrink soft_shrink tanh_shrink sparse_plus
  sparsemax squareplus threshold log_sigmoid sparse_sigmoid`.split(/\s+/),
);

/** Settings that only affect training: left out with a warning when set. */
const TRAINING_ONLY = [
  "kernel_regularizer",
  "bias_regularizer",
  "activity_regularizer",
  "depthwise_regularizer",
  "pointwise_regularizer",
  "beta_regularizer",
  "gamma_regularizer",
  "kernel_constraint",
  "bias_constraint",
  "depthwise_constraint",
  "pointwise_constraint",
  "beta_constraint",
  "gamma_constraint",
];

/** Keys that are never architecture (names, dtypes, initial values rsc draws itself). */
const IGNORED = new Set([
  "name",
  "trainable",
  "dtype",
  "data_format",
  "batch_input_shape",
  "batch_shape",
  "input_shape",
  "input_dim",
  "seed",
  "synchronized",
  "fused",
  "autocast",
  "sparse",
  "ragged",
  "build_config",
]);

const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** True when a serialised object (`{ class_name, module?, registered_name? }`) is not Keras's own. */
function isCustomObject(obj: JsonObject): boolean {
  const module = field(obj, "module");
  if (typeof module === "string" && !/^(keras|tensorflow|tf_keras|builtins)(\.|$)/.test(module))
    return true;
  const registered = field(obj, "registered_name");
  if (typeof registered === "string" && registered.includes(">") && !registered.startsWith("keras"))
    return true;
  return false;
}

/** Reads one layer's config, keeping track of what was understood. */
class ConfigReader {
  readonly issues: LayerIssue[] = [];
  private readonly used = new Set<string>();

  constructor(
    readonly layer: FlatLayer,
    readonly ctx: ConvertContext,
  ) {}

  get config(): JsonObject {
    return this.layer.config;
  }

  error(code: LayerIssue["code"], message: string): void {
    this.issues.push({ severity: "error", code, message });
  }

  warn(message: string): void {
    this.issues.push({ severity: "warning", code: "RSC526", message });
  }

  raw(key: string): JsonValue | undefined {
    this.used.add(key);
    return field(this.config, key);
  }

  number(key: string, fallback?: number): number | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === "number") return v;
    this.error("RSC523", `${key} ${stableJson(v)} is not a number`);
    return fallback;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === "boolean") return v;
    this.error("RSC523", `${key} ${stableJson(v)} is not true or false`);
    return fallback;
  }

  string(key: string, fallback: string): string {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === "string") return v;
    this.error("RSC523", `${key} ${stableJson(v)} is not a string`);
    return fallback;
  }

  /** An int or an `[h, w]` pair, written as one number when both are equal. */
  pair(key: string): number | [number, number] | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number") return v;
    if (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === "number")) {
      const [h, w] = v as [number, number];
      return h === w ? h : [h, w];
    }
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === "number") return v[0];
    this.error("RSC523", `${key} ${stableJson(v)} is not a 2-D size (rsc has 2-D layers only)`);
    return undefined;
  }

  /** `3`, `[h, w]` or `[[top, bottom], [left, right]]`, written in its shortest form. */
  sides(key: string): unknown {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === "number") return v;
    if (Array.isArray(v) && v.length === 2) {
      if (v.every((d) => typeof d === "number")) {
        const [h, w] = v as [number, number];
        return h === w ? h : [h, w];
      }
      if (
        v.every((d) => Array.isArray(d) && d.length === 2 && d.every((x) => typeof x === "number"))
      ) {
        const [[t, b], [l, r]] = v as [[number, number], [number, number]];
        if (t === b && l === r) return t === l ? t : [t, l];
        return [
          [t, b],
          [l, r],
        ];
      }
    }
    this.error("RSC523", `${key} ${stableJson(v)} is not 2-D padding (rsc has 2-D layers only)`);
    return undefined;
  }

  /** An axis written as an int, or as Keras 2's built list `[k]`. */
  axis(key: string): { value?: number; lastAxis?: number } {
    const v = this.raw(key);
    if (v === undefined || v === null) return {};
    if (typeof v === "number") return { value: v };
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === "number") {
      return v[0] === -1 ? {} : { value: v[0], lastAxis: v[0] };
    }
    this.error("RSC523", `${key} ${stableJson(v)}: rsc normalizes over one axis, the last`);
    return {};
  }

  /** The layer's activation as an rsc name. */
  activation(key = "activation"): ActivationName {
    const v = this.raw(key);
    if (v === undefined || v === null) return "linear";
    let name: string | undefined;
    if (typeof v === "string") name = v;
    else if (isObject(v) && !isCustomObject(v)) {
      // Keras 3 may serialise a built-in activation as an object; its config is the name.
      const config = field(v, "config");
      const className = field(v, "class_name");
      if (typeof config === "string") name = config;
      else if (typeof className === "string" && isObject(config) && field(config, "name"))
        name = String(field(config, "name"));
    }
    if (name === undefined) {
      this.error("RSC522", `the ${key} is a custom object: rsc refuses code from a model file`);
      return "linear";
    }
    const mapped = this.activationName(name);
    return mapped ?? "linear";
  }

  private activationName(name: string): ActivationName | undefined {
    // tfjs writes its own identifiers in snake_case; rsc's tfjs artifacts write Keras 3's
    // hard_sigmoid under its own name, since tfjs's hard_sigmoid is Keras 2's.
    if (this.ctx.tfjs && name === "keras_hard_sigmoid") return "hard_sigmoid";
    if (name === "hard_sigmoid" && (this.ctx.kerasMajor === 2 || this.ctx.tfjs)) {
      this.error(
        "RSC523",
        "activation hard_sigmoid is Keras 2's (clip(0.2 x + 0.5, 0, 1)); rsc's hard_sigmoid is Keras 3's (relu6(x + 3) / 6)",
      );
      return undefined;
    }
    if ((ACTIVATIONS as readonly string[]).includes(name)) return name as ActivationName;
    if (KERAS_ACTIVATIONS_MISSING.has(name)) {
      this.error("RSC523", `activation ${name} has no rsc equivalent`);
      return undefined;
    }
    this.error(
      "RSC522",
      `activation '${name}' is not a Keras activation (a custom function?): rsc refuses code from a model file`,
    );
    return undefined;
  }

  /** Checks shared by every layer: custom objects, channels_first, training-only settings, unknown keys. */
  finish(): void {
    const c = this.config;
    const format = field(c, "data_format");
    if (format === "channels_first") {
      this.error("RSC523", "data_format channels_first: rsc layers are channels_last (NHWC)");
    }
    for (const [key, value] of Object.entries(c)) {
      if (isObject(value) && this.customIn(key, value)) {
        this.error("RSC522", `${key} is a custom object: rsc refuses code from a model file`);
      }
    }
    const dropped = TRAINING_ONLY.filter((k) => field(c, k) !== undefined && field(c, k) !== null);
    if (dropped.length > 0) {
      this.warn(
        `${dropped.join(", ")} not kept: a spec describes the architecture, not its training`,
      );
    }
    for (const k of TRAINING_ONLY) this.used.add(k);
    const unknown = Object.keys(c).filter(
      (k) =>
        !this.used.has(k) &&
        !IGNORED.has(k) &&
        !k.endsWith("_initializer") &&
        c[k] !== null &&
        c[k] !== false,
    );
    if (unknown.length > 0) {
      this.warn(`${unknown.join(", ")} not understood and not kept`);
    }
  }

  /** True when `value` (the config's `key`) or an object inside it is custom. */
  private customIn(key: string, value: JsonObject): boolean {
    if (isCustomObject(value)) return true;
    const className = field(value, "class_name");
    // Keras 2 writes no module: an initializer, regularizer or constraint of an unknown class is custom.
    if (
      typeof className === "string" &&
      /(_initializer|_regularizer|_constraint)$/.test(key) &&
      !KERAS_HELPER_CLASSES.has(className)
    )
      return true;
    return false;
  }
}

type Attrs = Record<string, unknown>;

/** Drops the attributes equal to `op`'s defaults (and undefined ones). */
function nonDefault(op: OpName, attrs: Attrs): Attrs {
  const defaults = OPS[op].defaults as Readonly<Record<string, unknown>>;
  const out: Attrs = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (Object.hasOwn(defaults, k) && stableJson(defaults[k]) === stableJson(v)) continue;
    out[k] = v;
  }
  return out;
}

/** The attributes every 2-D convolution shares. */
function convWindow(r: ConfigReader): Attrs {
  const padding = r.string("padding", "valid");
  if (padding !== "valid" && padding !== "same")
    r.error("RSC523", `padding '${padding}' (rsc has valid and same)`);
  return {
    kernel_size: r.pair("kernel_size"),
    strides: r.pair("strides"),
    padding,
    dilation_rate: r.pair("dilation_rate"),
    use_bias: r.bool("use_bias", true),
    activation: r.activation(),
  };
}

function pooling(r: ConfigReader, op: "max_pooling2d" | "average_pooling2d"): ConvertedLayer {
  const pool = r.pair("pool_size") ?? 2;
  const strides = r.pair("strides");
  const padding = r.string("padding", "valid");
  return {
    op,
    attrs: nonDefault(op, {
      pool_size: pool,
      // Keras writes strides = pool_size when they were not given: the spec's default.
      strides:
        strides === undefined || stableJson(strides) === stableJson(pool) ? undefined : strides,
      padding,
    }),
  };
}

function globalPooling(
  r: ConfigReader,
  op: "global_average_pooling2d" | "global_max_pooling2d",
): ConvertedLayer {
  return { op, attrs: nonDefault(op, { keepdims: r.bool("keepdims", false) }) };
}

function merge(
  op: "add" | "multiply" | "subtract" | "average" | "maximum",
): (r: ConfigReader) => ConvertedLayer {
  return () => ({ op, attrs: {} });
}

function normalizationAxis(r: ConfigReader): { axis?: number; lastAxis?: number } {
  const { value, lastAxis } = r.axis("axis");
  return {
    ...(value === undefined ? {} : { axis: value }),
    ...(lastAxis === undefined ? {} : { lastAxis }),
  };
}

/** How each Keras class becomes an rsc layer. */
const CONVERTERS: Readonly<Record<string, (r: ConfigReader) => ConvertedLayer | undefined>> = {
  ZeroPadding2D: (r) => ({
    op: "zero_padding2d",
    attrs: nonDefault("zero_padding2d", { padding: r.sides("padding") }),
  }),
  Cropping2D: (r) => ({
    op: "cropping2d",
    attrs: nonDefault("cropping2d", { cropping: r.sides("cropping") }),
  }),
  Conv2D: (r) => {
    const window = convWindow(r);
    return {
      op: "conv2d",
      attrs: nonDefault("conv2d", {
        filters: r.number("filters"),
        ...window,
        groups: r.number("groups", 1),
      }),
    };
  },
  DepthwiseConv2D: (r) => {
    const window = convWindow(r);
    return {
      op: "depthwise_conv2d",
      attrs: nonDefault("depthwise_conv2d", {
        ...window,
        depth_multiplier: r.number("depth_multiplier", 1),
      }),
    };
  },
  SeparableConv2D: (r) => {
    const window = convWindow(r);
    return {
      op: "separable_conv2d",
      attrs: nonDefault("separable_conv2d", {
        filters: r.number("filters"),
        ...window,
        depth_multiplier: r.number("depth_multiplier", 1),
      }),
    };
  },
  Conv2DTranspose: (r) => {
    const window = convWindow(r);
    return {
      op: "conv2d_transpose",
      attrs: nonDefault("conv2d_transpose", {
        filters: r.number("filters"),
        ...window,
        output_padding: r.pair("output_padding"),
      }),
    };
  },
  Dense: (r) => {
    for (const key of ["lora_rank", "quantization_config"]) {
      const v = r.raw(key);
      if (v !== undefined && v !== null)
        r.error("RSC523", `${key} is set: rsc has no LoRA or quantized Dense`);
    }
    return {
      op: "dense",
      attrs: nonDefault("dense", {
        units: r.number("units"),
        activation: r.activation(),
        use_bias: r.bool("use_bias", true),
      }),
    };
  },
  BatchNormalization: (r) => {
    if (r.bool("renorm", false))
      r.error("RSC523", "renorm: rsc's batch_normalization has no batch renormalization");
    for (const key of ["virtual_batch_size", "adjustment"]) {
      const v = r.raw(key);
      if (v !== undefined && v !== null)
        r.error("RSC523", `${key} is set: rsc's batch_normalization has none`);
    }
    r.raw("renorm_clipping");
    r.raw("renorm_momentum");
    const { lastAxis, ...axis } = normalizationAxis(r);
    return {
      op: "batch_normalization",
      attrs: nonDefault("batch_normalization", {
        ...axis,
        epsilon: r.number("epsilon"),
        momentum: r.number("momentum"),
        center: r.bool("center", true),
        scale: r.bool("scale", true),
      }),
      ...(lastAxis === undefined ? {} : { lastAxis }),
    };
  },
  LayerNormalization: (r) => {
    if (r.bool("rms_scaling", false))
      r.error("RSC523", "rms_scaling: rsc's layer_normalization has none");
    const { lastAxis, ...axis } = normalizationAxis(r);
    return {
      op: "layer_normalization",
      attrs: nonDefault("layer_normalization", {
        ...axis,
        epsilon: r.number("epsilon"),
        center: r.bool("center", true),
        scale: r.bool("scale", true),
      }),
      ...(lastAxis === undefined ? {} : { lastAxis }),
    };
  },
  Activation: (r) => ({ op: "activation", attrs: { activation: r.activation() } }),
  Softmax: (r) => {
    const { value } = r.axis("axis");
    if (value !== undefined && value !== -1)
      r.error("RSC523", `softmax over axis ${value}: rsc's softmax is over the last axis`);
    return { op: "activation", attrs: { activation: "softmax" } };
  },
  Identity: () => ({ op: "activation", attrs: { activation: "linear" } }),
  ReLU: (r) => ({
    op: "re_lu",
    attrs: nonDefault("re_lu", {
      max_value: r.number("max_value") ?? null,
      negative_slope: r.number("negative_slope", 0),
      threshold: r.number("threshold", 0),
    }),
  }),
  LeakyReLU: (r) => {
    // Keras 3 calls it negative_slope; Keras 2 and tfjs, alpha.
    const slope = r.number("negative_slope") ?? r.number("alpha") ?? 0.3;
    return { op: "leaky_relu", attrs: nonDefault("leaky_relu", { negative_slope: slope }) };
  },
  ELU: (r) => ({ op: "elu", attrs: nonDefault("elu", { alpha: r.number("alpha", 1) }) }),
  MaxPooling2D: (r) => pooling(r, "max_pooling2d"),
  AveragePooling2D: (r) => pooling(r, "average_pooling2d"),
  GlobalAveragePooling2D: (r) => globalPooling(r, "global_average_pooling2d"),
  GlobalMaxPooling2D: (r) => globalPooling(r, "global_max_pooling2d"),
  Add: merge("add"),
  Multiply: merge("multiply"),
  Subtract: merge("subtract"),
  Average: merge("average"),
  Maximum: merge("maximum"),
  Concatenate: (r) => ({
    op: "concatenate",
    attrs: nonDefault("concatenate", { axis: r.number("axis", -1) }),
  }),
  Flatten: () => ({ op: "flatten", attrs: {} }),
  Dropout: (r) => {
    const noise = r.raw("noise_shape");
    const set = noise !== undefined && noise !== null;
    // Kept when the dropout op has the attribute; otherwise it changes training only.
    if (set && Object.hasOwn(OPS.dropout.attrs.properties, "noise_shape")) {
      return { op: "dropout", attrs: { rate: r.number("rate", 0), noise_shape: noise } };
    }
    if (set) r.warn("noise_shape not kept: it changes training only");
    return { op: "dropout", attrs: { rate: r.number("rate", 0) } };
  },
  Reshape: (r) => {
    const shape = r.raw("target_shape");
    if (!Array.isArray(shape)) r.error("RSC523", "target_shape is not a list");
    return { op: "reshape", attrs: { target_shape: shape } };
  },
  Permute: (r) => ({ op: "permute", attrs: { dims: r.raw("dims") } }),
  Rescaling: (r) => ({
    op: "rescaling",
    attrs: nonDefault("rescaling", { scale: r.raw("scale"), offset: r.raw("offset") ?? 0 }),
  }),
  Normalization: (r) => {
    if (r.bool("invert", false)) r.error("RSC523", "invert: rsc's normalization does not invert");
    const { lastAxis, ...axis } = normalizationAxis(r);
    const mean = r.raw("mean");
    const variance = r.raw("variance");
    const list = (v: JsonValue | undefined) => (typeof v === "number" ? [v] : (v ?? undefined));
    return {
      op: "normalization",
      attrs: nonDefault("normalization", {
        ...axis,
        ...(mean === null || mean === undefined ? {} : { mean: list(mean) }),
        ...(variance === null || variance === undefined ? {} : { variance: list(variance) }),
      }),
      ...(lastAxis === undefined ? {} : { lastAxis }),
    };
  },
  UpSampling2D: (r) => {
    const interpolation = r.string("interpolation", "nearest");
    if (interpolation !== "nearest" && interpolation !== "bilinear") {
      r.error("RSC523", `interpolation '${interpolation}' (rsc has nearest and bilinear)`);
    }
    return {
      op: "up_sampling2d",
      attrs: nonDefault("up_sampling2d", { size: r.pair("size"), interpolation }),
    };
  },
};

/** Keras's other names for the same classes. */
const ALIASES: Readonly<Record<string, string>> = {
  Convolution2D: "Conv2D",
  SeparableConvolution2D: "SeparableConv2D",
  Convolution2DTranspose: "Conv2DTranspose",
  Deconvolution2D: "Conv2DTranspose",
  MaxPool2D: "MaxPooling2D",
  AvgPool2D: "AveragePooling2D",
  GlobalAvgPool2D: "GlobalAveragePooling2D",
  GlobalMaxPool2D: "GlobalMaxPooling2D",
};

/** The Keras classes `rsc import` converts (for the docs). */
export const IMPORTED_CLASSES: readonly string[] = [
  ...Object.keys(CONVERTERS),
  ...Object.keys(ALIASES),
].sort();

/** Converts one layer; `converted` is set when there is no error. */
export function convertLayer(
  layer: FlatLayer,
  ctx: ConvertContext,
): { readonly converted?: ConvertedLayer; readonly issues: readonly LayerIssue[] } {
  const cls = layer.className;
  if (cls === "Lambda") {
    return {
      issues: [
        {
          severity: "error",
          code: "RSC522",
          message:
            "a Lambda layer holds Python code: rsc never runs or reads code from a model file",
        },
      ],
    };
  }
  const registered = field(layer.object, "registered_name");
  if (
    isCustomObject(layer.object) ||
    (!KERAS_LAYER_CLASSES.has(cls) && !Object.hasOwn(ALIASES, cls))
  ) {
    const why =
      typeof registered === "string" && registered !== cls
        ? `registered as '${registered}'`
        : typeof field(layer.object, "module") === "string"
          ? `from module '${String(field(layer.object, "module"))}'`
          : "not a Keras class";
    return {
      issues: [
        {
          severity: "error",
          code: "RSC522",
          message: `a custom layer (${why}): rsc refuses code from a model file; write the layer with rsc's ops instead`,
        },
      ],
    };
  }
  const convert = CONVERTERS[ALIASES[cls] ?? cls];
  if (convert === undefined) {
    const hint =
      cls === "TFOpLambda" || cls === "SlicingOpLambda"
        ? " (a TensorFlow function call recorded in the model)"
        : "";
    return {
      issues: [
        {
          severity: "error",
          code: "RSC521",
          message: `rsc has no op for Keras ${cls}${hint}`,
        },
      ],
    };
  }
  const reader = new ConfigReader(layer, ctx);
  const converted = convert(reader);
  reader.finish();
  const failed = reader.issues.some((i) => i.severity === "error");
  return failed || converted === undefined
    ? { issues: reader.issues }
    : { converted, issues: reader.issues };
}
