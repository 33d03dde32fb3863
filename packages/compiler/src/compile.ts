/**
 * The pipeline entry, three stages:
 * - load (load.ts): read the root file and its imports, decode, parse with positions, validate
 *   against the JSON Schema;
 * - expand (expand.ts): instantiate block templates, unroll stages and repeats, interpolate
 *   names and values, apply parameters and layer defaults -> a flat list of layers;
 * - build (build.ts): name the layers, resolve references, check attributes, order
 *   topologically and infer every shape -> the IR graph.
 * Each stage is a function from one typed value to the next plus diagnostics; every diagnostic of
 * a run is returned at once.
 */
import { buildGraph } from "./build.js";
import { graphHash } from "./canonical.js";
import { type Diagnostic, hasErrors, sortDiagnostics } from "./diagnostics.js";
import { expandSpec } from "./expand.js";
import type { Graph } from "./ir.js";
import { checkLibrary, isLibraryDocument } from "./library-check.js";
import { type LoadOptions, loadSpec } from "./load.js";
import { DEFAULT_MAX_FILE_BYTES, readSpecFile } from "./read-file.js";
import { unusedLayerWarnings } from "./warnings.js";

/** Options of {@link compileFile} and {@link compileSource}. */
export interface CompileOptions {
  /** `--set name=value` overrides of top-level params; values are parsed as YAML scalars/flow values. */
  readonly set?: Readonly<Record<string, string>>;
  /**
   * Reads an imported or root file; defaults to reading the disk, regular files only (see
   * read-file.ts). Paths are resolved against the importing file.
   */
  readonly readFile?: (path: string) => Uint8Array;
  /**
   * The project folder every import must stay inside (symbolic links followed), absolute or
   * relative to the working directory; default: the git work tree that holds the root spec
   * (found by looking for a `.git` entry, no git process), else the root spec's folder. The
   * CLI's `--root`.
   */
  readonly root?: string;
  /** Largest spec file read (root or import), in bytes; default 16 MiB. The CLI's `--max-file-size`. */
  readonly maxFileBytes?: number;
  /**
   * A root file that is a block library (`blocks:`, no model keys) is checked on its own
   * (library-check.ts) and comes back as {@link CompileResult.library}; otherwise it is RSC106 (a
   * library cannot be built). `rsc check` sets this.
   */
  readonly acceptLibrary?: boolean;
}

/** What a compiled spec knows besides its graph. */
export interface SpecInfo {
  /** Model name (`name:` in the spec). */
  readonly name: string;
  /** Global weight seed from the spec (`seed:`, default 0). */
  readonly seed: number;
  /** Every file read, root first (imports after), as given/resolved. */
  readonly files: readonly string[];
  /** sha256 (hex) of the graph's canonical JSON: same architecture, same hash. */
  readonly hash: string;
}

/** The result of compiling a spec: a graph when there were no errors, and every diagnostic. */
export interface CompileResult {
  readonly graph?: Graph;
  readonly info?: SpecInfo;
  /** With `acceptLibrary`, for a block library: its own blocks and the files read. */
  readonly library?: { readonly blocks: readonly string[]; readonly files: readonly string[] };
  readonly diagnostics: readonly Diagnostic[];
}

/** Compiles a spec file. Never throws for bad input: errors come back as diagnostics. */
export function compileFile(path: string, options: CompileOptions = {}): CompileResult {
  return compile(path, undefined, options);
}

/** Compiles spec text as if read from `file` (imports resolve against `file`'s folder). */
export function compileSource(
  text: string,
  file: string,
  options: CompileOptions = {},
): CompileResult {
  return compile(file, text, options);
}

/** The loader's options from the compiler's: the reader (the disk by default), limits, root. */
function loadOptions(options: CompileOptions): LoadOptions {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  return {
    readFile: options.readFile ?? ((path: string) => readSpecFile(path, maxFileBytes)),
    maxFileBytes,
    ...(options.root === undefined ? {} : { root: options.root }),
  };
}

/** What a spec file reads, from {@link specDependencies}. */
export interface SpecDependencies {
  /** `model`, or `library` for a file with `blocks:` and no model keys; undefined when unreadable. */
  readonly kind?: "model" | "library";
  /** Every file read, the spec first, then its imports, transitively (each once). */
  readonly files: readonly string[];
  /** Problems loading them (a missing import, a cycle, malformed YAML, ...). */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * The files a spec reads (its imports, transitively), by loading it alone: no expansion, so a
 * spec with errors in its layers still has its dependencies (`rsc deps`).
 */
export function specDependencies(file: string, options: CompileOptions = {}): SpecDependencies {
  const loaded = loadSpec(file, loadOptions(options));
  return {
    ...(loaded.root === undefined
      ? {}
      : { kind: isLibraryDocument(loaded.root) ? "library" : "model" }),
    files: loaded.files,
    diagnostics: finish(loaded.diagnostics),
  };
}

/** The pipeline: load -> expand -> build, each stage's diagnostics kept, all returned at once. */
function compile(file: string, source: string | undefined, options: CompileOptions): CompileResult {
  const loaded = loadSpec(file, {
    ...loadOptions(options),
    ...(source === undefined ? {} : { source }),
  });
  if (
    options.acceptLibrary === true &&
    loaded.root !== undefined &&
    isLibraryDocument(loaded.root)
  ) {
    const checked = checkLibrary(loaded);
    return {
      library: { blocks: checked.blocks, files: loaded.files },
      diagnostics: finish(checked.diagnostics),
    };
  }
  const expanded = expandSpec(loaded, options.set ? { set: options.set } : {});
  const diagnostics = [...loaded.diagnostics, ...expanded.diagnostics];
  if (expanded.model === undefined) return { diagnostics: finish(diagnostics) };
  const built = buildGraph(expanded.model, expanded.partial);
  diagnostics.push(...built.diagnostics);
  if (built.graph === undefined || hasErrors(diagnostics))
    return { diagnostics: finish(diagnostics) };
  const graph = built.graph;
  diagnostics.push(...unusedLayerWarnings(graph));
  let hash: string | undefined;
  const info: SpecInfo = {
    name: expanded.model.name,
    seed: expanded.model.seed,
    files: loaded.files,
    // Computed on first use: hashing the canonical JSON costs about as much as the build.
    get hash() {
      hash ??= graphHash(graph);
      return hash;
    },
  };
  return { graph, info, diagnostics: finish(diagnostics) };
}

/**
 * The diagnostics of a run as reported: repeats dropped (a template error is found once per
 * instantiation), then sorted by place.
 */
function finish(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return sortDiagnostics(
    diagnostics.filter((d) => {
      const key = `${d.code}\0${d.file}\0${d.line}\0${d.column}\0${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
  );
}
