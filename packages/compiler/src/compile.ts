/**
 * The pipeline entry: source text -> parse -> validate -> expand -> build IR -> infer shapes.
 * Each stage is a pure function plus diagnostics; every diagnostic of a run is returned at once.
 */
import { readFileSync } from "node:fs";
import { buildGraph } from "./build.js";
import { graphHash } from "./canonical.js";
import { type Diagnostic, hasErrors, sortDiagnostics } from "./diagnostics.js";
import { expandSpec } from "./expand.js";
import type { Graph } from "./ir.js";

/** Options of {@link compileFile} and {@link compileSource}. */
export interface CompileOptions {
  /** `--set name=value` overrides of top-level params; values are parsed as YAML scalars/flow values. */
  readonly set?: Readonly<Record<string, string>>;
  /** Reads an imported or root file; defaults to node:fs. Paths are resolved against the importing file. */
  readonly readFile?: (path: string) => Uint8Array;
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
  readonly diagnostics: readonly Diagnostic[];
}

const defaultReadFile = (path: string): Uint8Array => readFileSync(path);

/** Compiles a spec file. Never throws for bad input: errors come back as diagnostics. */
export function compileFile(path: string, options: CompileOptions = {}): CompileResult {
  const readFile = options.readFile ?? defaultReadFile;
  let bytes: Uint8Array;
  try {
    bytes = readFile(path);
  } catch (e) {
    const reason =
      (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "cannot be read";
    return {
      diagnostics: [
        {
          severity: "error",
          code: "RSC100",
          message: `${path}: ${reason}`,
          file: path,
          line: 1,
          column: 1,
        },
      ],
    };
  }
  return compileBytes(bytes, path, { ...options, readFile });
}

/** Compiles spec text as if read from `file` (imports resolve against `file`'s folder). */
export function compileSource(
  text: string,
  file: string,
  options: CompileOptions = {},
): CompileResult {
  return compileBytes(text, file, { ...options, readFile: options.readFile ?? defaultReadFile });
}

/** Drops repeats of the same diagnostic (a template error is found once per instantiation). */
function unique(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}\0${d.file}\0${d.line}\0${d.column}\0${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function compileBytes(
  source: string | Uint8Array,
  file: string,
  options: CompileOptions & { readFile: (path: string) => Uint8Array },
): CompileResult {
  const expanded = expandSpec(source, file, {
    readFile: options.readFile,
    ...(options.set ? { set: options.set } : {}),
  });
  const diagnostics = [...expanded.diagnostics];
  if (expanded.model === undefined) return { diagnostics: sortDiagnostics(unique(diagnostics)) };
  const built = buildGraph(expanded.model, expanded.partial);
  diagnostics.push(...built.diagnostics);
  if (built.graph === undefined || hasErrors(diagnostics))
    return { diagnostics: sortDiagnostics(unique(diagnostics)) };
  const graph = built.graph;
  let hash: string | undefined;
  const info: SpecInfo = {
    name: expanded.model.name,
    seed: expanded.model.seed,
    files: expanded.model.files,
    // Computed on first use: hashing the canonical JSON costs about as much as the build.
    get hash() {
      hash ??= graphHash(graph);
      return hash;
    },
  };
  return { graph: built.graph, info, diagnostics: sortDiagnostics(unique(diagnostics)) };
}
