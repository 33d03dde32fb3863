/**
 * Diagnostics are values, not exceptions: every pass returns the ones it found and keeps going
 * where it can, so one run reports every error in a spec.
 *
 * Codes are registered once, here. Ranges: RSC1xx parse and schema, RSC2xx expansion and names,
 * RSC3xx shapes, RSC4xx backends, RSC5xx data and weights files.
 */
import { safeText } from "./safe-text.js";

/** How bad a diagnostic is; only `error` makes a command fail. */
export type Severity = "error" | "warning" | "note";

/** A place in a source file. */
export interface SourceLocation {
  /** Path as the user gave it (relative to the working directory when possible). */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, counted in UTF-16 code units. */
  readonly column: number;
}

/** A secondary location attached to a diagnostic, e.g. the call site of a block template. */
export interface RelatedLocation extends SourceLocation {
  /** Why this place matters, e.g. "in block 'bottleneck' called here". */
  readonly message: string;
}

/** A block template's call site; a chain of them is ordered innermost first. */
export interface CallSite extends SourceLocation {
  /** The block template called. */
  readonly block: string;
}

/** One finding of the compiler or a backend, printed as `file:line:col: error RSC123: message`. */
export interface Diagnostic extends SourceLocation {
  readonly severity: Severity;
  /** Registered code, e.g. `RSC301`. Tests assert codes and positions, never message text. */
  readonly code: DiagnosticCode;
  readonly message: string;
  /** A suggestion, e.g. "did you mean `filters`?". */
  readonly hint?: string;
  /** Template call sites and other places that explain the error, innermost first. */
  readonly related?: readonly RelatedLocation[];
}

/**
 * The registered diagnostic codes, each with what it means. Every code is emitted somewhere and
 * has a fixture or a test asserting it (test/diagnostic-codes.test.ts checks).
 */
export const DIAGNOSTIC_CODES = {
  RSC100: "a spec file cannot be read, or is binary or not UTF-8 text",
  RSC101: "malformed YAML",
  RSC102: "the file is empty",
  RSC103:
    "YAML document too large: more than 2,000,000 values, or aliases expanding past 100,000 values (alias bomb)",
  RSC104:
    "a value has the wrong type (also a mapping where a value belongs, an interpolated seed out of range)",
  RSC105: "unknown key",
  RSC106: "a required field is missing (also a model without `layers:` or an input)",
  RSC107:
    "a value is out of range or not allowed (also a number that is not finite, model keys in a block library, `from`/`as` as a block parameter)",
  RSC108: "unknown op or block",
  RSC109: "unsupported format version",
  RSC110: "forbidden key (prototype pollution)",
  RSC111: "duplicate key in a mapping",
  RSC112: "YAML nested too deeply (more than 100 levels, or more than the parser can take)",
  RSC200: "an imported file cannot be read",
  RSC201: "import cycle",
  RSC202: "undefined name in an interpolation",
  RSC203: "bad interpolation expression",
  RSC204: "template called with a missing parameter",
  RSC205: "template called with an unknown parameter",
  RSC206: "template argument (or parameter default) has the wrong type",
  RSC207: "duplicate layer name",
  RSC208: "reference to a layer that does not exist",
  RSC209: "cycle in the layer graph",
  RSC210:
    "expansion too large (repeat count, range length, layer limit, the expansion work budget, or an interpolated value's size)",
  RSC211: "bad --set override",
  RSC212: "block defined twice, or named like an op or keyword",
  RSC213: "block template nested too deeply (recursive template)",
  RSC214: "bad stage range (`over:`)",
  RSC215: "an import resolves outside the project folder",
  RSC216: "an import path is absolute",
  RSC217: "imports nested too deeply, or too many files",
  RSC218: "a name is too long (more than 256 characters)",
  RSC220:
    "a shape function reads a layer defined later (or an unnamed layer's default name, or one depending on a later layer)",
  RSC221: "warning: a layer's output feeds nothing (not an output, no layer takes it)",
  RSC222: "warning: a block parameter is never used",
  RSC300: "shapes do not match",
  RSC301: "kernel or pool window larger than its input",
  RSC302: "size must be positive",
  RSC303: "wrong number of inputs (a layer's, or a block call's `from:`)",
  RSC304: "wrong input rank for this op",
  RSC305: "axis out of range or not supported by the op",
  RSC306: "weight tensor too large (more than 2^32 values)",
  RSC307: "attributes that cannot be combined (e.g. strides > 1 with dilation_rate > 1)",
  RSC308: "reshape target_shape does not hold the input's elements (counts differ, or two -1)",
  RSC309: "permute dims are not a permutation of 1..rank",
  RSC310: "conv groups do not divide the input channels or filters",
  RSC311: "a tensor dimension is too large (more than 2^31 - 1)",
  RSC312: "the model has more parameters in total than can be built (more than 2^32)",
  RSC400: "op (or op configuration) has no lowering in this backend",
  RSC401: "weights do not match the model (missing, extra or wrong-shaped)",
  RSC530:
    "the weights were made for another spec or other --set values (a warning with --allow-spec-change)",
  RSC500: "a data, weights or model file cannot be read or is malformed",
  RSC501: "data does not fit the model",
  RSC520: "rsc import: not a Keras model config (malformed JSON, no model, a tfjs graph model)",
  RSC521: "rsc import: a Keras layer class rsc has no op for",
  RSC522:
    "rsc import: code or a custom object (a Lambda layer, a custom class or function), refused",
  RSC523:
    "rsc import: a layer option rsc cannot express (channels_first, a shared layer, an activation rsc lacks, ...)",
  RSC524:
    "rsc import: a malformed model graph (a reference to no layer, duplicate names, a layer never called)",
  RSC525: "rsc import: an input without a fixed shape (give it with --input-shape)",
  RSC526:
    "rsc import: warning: a setting not kept (regularizers, constraints, frozen layers, a non-float input)",
  RSC527: "rsc import: the model converts but does not build as a spec (shapes an op refuses)",
} as const;

/** A registered diagnostic code. */
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Orders diagnostics by file, line, column, then code, for stable output. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      a.code.localeCompare(b.code),
  );
}

/** Formats one diagnostic as `file:line:col: severity CODE: message` plus hint and related lines. */
export function formatDiagnostic(d: Diagnostic): string {
  const lines = [`${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`];
  if (d.hint !== undefined) lines.push(`  hint: ${d.hint}`);
  for (const r of d.related ?? [])
    lines.push(`  ${r.file}:${r.line}:${r.column}: note: ${r.message}`);
  return lines.join("\n");
}

/** The optional parts of a located error. */
export interface ErrorDetails {
  /** A suggestion, e.g. "did you mean `filters`?". */
  readonly hint?: string;
  /** Places that explain the error (a definition, a first use); listed before the call sites. */
  readonly related?: readonly RelatedLocation[];
  /** Template call sites that made the place, innermost first; see {@link callSiteNotes}. */
  readonly callSites?: readonly CallSite[];
}

/**
 * An error at `loc`. `hint` is set only when given, and `related` (the given places, then one
 * note per call site) only when there is one. Every text field (message, hint, file names,
 * related messages) goes through {@link safeText}: messages quote spec text, and no spec may
 * write control sequences to a reviewer's terminal or forge a diagnostic line. This is the one
 * place diagnostics are made; build every diagnostic with it.
 */
export function locatedError(
  code: DiagnosticCode,
  message: string,
  loc: SourceLocation,
  details: ErrorDetails = {},
): Diagnostic {
  const related = [...(details.related ?? []), ...callSiteNotes(details.callSites ?? [])].map(
    (r) => ({
      file: safeText(r.file, Number.POSITIVE_INFINITY),
      line: r.line,
      column: r.column,
      message: safeText(r.message),
    }),
  );
  return {
    severity: "error",
    code,
    message: safeText(message),
    file: safeText(loc.file, Number.POSITIVE_INFINITY),
    line: loc.line,
    column: loc.column,
    ...(details.hint === undefined ? {} : { hint: safeText(details.hint) }),
    ...(related.length > 0 ? { related } : {}),
  };
}

/** Related notes for call sites, innermost first; deep chains keep the 4 innermost and the outermost. */
export function callSiteNotes(callSites: readonly CallSite[]): RelatedLocation[] {
  const notes = callSites.map((c) => ({
    file: c.file,
    line: c.line,
    column: c.column,
    message: `in block '${c.block}' called here`,
  }));
  if (notes.length <= 6) return notes;
  return [
    ...notes.slice(0, 4),
    { ...notes.at(-1)!, message: `${notes.at(-1)!.message} (${notes.length - 5} calls omitted)` },
  ];
}

/** Edit distance, for "did you mean" hints. */
function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Longest word (and candidate) a "did you mean" hint compares: the distance costs their product. */
const MAX_HINT_WORD = 64;

/** Most candidates one hint compares (a model can have 100,000 layer names). */
const MAX_HINT_CANDIDATES = 10_000;

/** The closest candidate to `word` within a small edit distance, for "did you mean" hints. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > MAX_HINT_WORD) return undefined;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  let compared = 0;
  for (const c of candidates) {
    // Lengths that differ by the distance to beat cannot beat it.
    if (Math.abs(c.length - word.length) >= bestDistance) continue;
    if (++compared > MAX_HINT_CANDIDATES) break;
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
