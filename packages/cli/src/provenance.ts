/**
 * What a weights file says about how it was made, and the check that it fits the build. `rsc
 * train` records in model.json's `userDefinedMetadata.rsc` (and in train-log.json) the spec's
 * hash (the sha256 of its canonical IR, so it changes with the spec and with `--set`), the `--set`
 * values and the input scaling it fed (pixels / 255). `rsc build --weights` refuses weights made
 * for another spec or other `--set` values, showing both, unless `--allow-spec-change` (then a
 * warning); the weights' shapes are checked either way (check-weights.ts). Weights without a
 * record (Keras files, older rsc) are not checked here.
 *
 * The metadata is read from an untrusted file: anything malformed is ignored, never echoed raw.
 */
import type { Diagnostic, InputScaling } from "@rsc/compiler";

/** The scaling `rsc train` and `rsc evaluate` apply to a data file's pixels: x / 255. */
export const TRAIN_INPUT_SCALING: InputScaling = { scale: 1 / 255, offset: 0 };

/** An input scaling as recorded: `baked` when the graph itself applies it. */
export interface RecordedScaling extends InputScaling {
  readonly baked: boolean;
}

/** The record of a weights file. */
export interface WeightsRecord {
  /** The spec's model name. */
  readonly spec: string;
  /** sha256 (hex) of the spec's canonical IR. */
  readonly specHash: string;
  /** The `--set` values it was made with; undefined when not recorded (rsc before issue 13). */
  readonly set: Readonly<Record<string, string>> | undefined;
  /** The scaling its inputs had in training; undefined when not recorded (an untrained build). */
  readonly inputScaling: RecordedScaling | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The record in a model.json's `userDefinedMetadata`, or undefined when there is none. */
export function readWeightsRecord(userDefinedMetadata: unknown): WeightsRecord | undefined {
  if (!isObject(userDefinedMetadata)) return undefined;
  const rsc = userDefinedMetadata["rsc"];
  if (!isObject(rsc)) return undefined;
  const { spec, specHash, set, inputScaling } = rsc;
  if (typeof specHash !== "string" || !/^[0-9a-f]{64}$/.test(specHash)) return undefined;
  return {
    spec: typeof spec === "string" ? spec : "?",
    specHash,
    set: readSet(set),
    inputScaling: readScaling(inputScaling),
  };
}

function readSet(v: unknown): Record<string, string> | undefined {
  if (!isObject(v)) return undefined;
  const out: Record<string, string> = Object.create(null);
  for (const [k, value] of Object.entries(v)) if (typeof value === "string") out[k] = value;
  return out;
}

function readScaling(v: unknown): RecordedScaling | undefined {
  if (!isObject(v)) return undefined;
  const { scale, offset, baked } = v;
  if (typeof scale !== "number" || !Number.isFinite(scale)) return undefined;
  if (typeof offset !== "number" || !Number.isFinite(offset)) return undefined;
  return { scale, offset, baked: baked === true };
}

/** `--set classes=6 --set input_shape=[64,64,3]`, or `no --set`; values clipped for one line. */
export function describeSet(set: Readonly<Record<string, string>> | undefined): string {
  if (set === undefined) return "--set values not recorded";
  const pairs = Object.keys(set)
    .sort()
    .map((k) => `--set ${k}=${set[k]}`);
  const text = pairs.length === 0 ? "no --set" : pairs.join(" ");
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** What the build is: the compiled spec's name and hash and the `--set` values given. */
export interface BuildIdentity {
  readonly spec: string;
  readonly specHash: string;
  readonly set: Readonly<Record<string, string>>;
}

/**
 * RSC530 when the record is of another spec or other `--set` values: an error, or a warning when
 * `allow` (`--allow-spec-change`). `at` locates the record in the weights file.
 */
export function provenanceDiagnostics(
  record: WeightsRecord | undefined,
  build: BuildIdentity,
  at: { readonly file: string; readonly line: number; readonly column: number },
  allow: boolean,
): Diagnostic[] {
  if (record === undefined || record.specHash === build.specHash) return [];
  const short = (hash: string) => `sha256:${hash.slice(0, 12)}`;
  const made = `'${record.spec}' (${short(record.specHash)}) with ${describeSet(record.set)}`;
  const now = `'${build.spec}' (${short(build.specHash)}) with ${describeSet(build.set)}`;
  return [
    {
      severity: allow ? "warning" : "error",
      code: "RSC530",
      message: `the weights were made for another spec or other --set values: ${made}; this build is ${now}`,
      file: at.file,
      line: at.line,
      column: at.column,
      hint: allow
        ? "building anyway (--allow-spec-change); the weights' names and shapes were still checked"
        : "build with the spec and --set values the weights were trained with, or pass --allow-spec-change to use them anyway",
    },
  ];
}
