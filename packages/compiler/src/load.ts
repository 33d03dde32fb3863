/**
 * Load: a root spec path -> every document it needs, read, decoded, parsed with source positions
 * and validated against the JSON Schema, imports followed depth-first. Nothing here knows about
 * templates, parameters or layers beyond what the schema says: that is expansion's work.
 *
 * The loader's contract: it never throws for bad input; each file is read at most once (a file
 * imported twice, or along a cycle, is loaded once); a document that cannot be used (unreadable,
 * binary, malformed YAML, or schema errors that are not recoverable) is left out of `documents`
 * and its diagnostics say why; import cycles are reported at the import that closes them.
 */
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, win32 } from "node:path";
import { type Diagnostic, locatedError, type SourceLocation } from "./diagnostics.js";
import { get, type LMap, type LNode } from "./located.js";
import { decodeText, parseSpec } from "./parse.js";
import { describeReadError } from "./read-error.js";
import { checkFileSize, DEFAULT_MAX_FILE_BYTES } from "./read-file.js";
import { validateDocument } from "./validate.js";

/** Longest chain of files (the root spec, a library it imports, one that imports ...). */
export const MAX_IMPORT_DEPTH = 32;

/** Most files one spec may load, the root spec and every import. */
export const MAX_IMPORTED_FILES = 1_000;

/** Inputs of {@link loadSpec}. */
export interface LoadOptions {
  /** Reads the root file (unless `source` is given) and every import. */
  readonly readFile: (path: string) => Uint8Array;
  /** The root file's bytes or text, when the caller already has them. */
  readonly source?: string | Uint8Array;
  /**
   * The project folder (absolute or relative to the working directory) that every import must
   * resolve inside, symbolic links followed; default {@link defaultProjectRoot} of the root file.
   */
  readonly root?: string;
  /** Largest file read (root or import), in bytes; default 16 MiB ({@link DEFAULT_MAX_FILE_BYTES}). */
  readonly maxFileBytes?: number;
}

/**
 * The project folder of a root spec: the nearest folder at or above the spec's own that holds a
 * `.git` entry (a git work tree, or a linked worktree whose `.git` is a file), else the spec's
 * folder. Found by looking at the disk, without running git.
 */
export function defaultProjectRoot(file: string): string {
  const start = dirname(resolve(file));
  for (let dir = start; ; ) {
    if (existsSync(join(dir, ".git"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return start;
    dir = parent;
  }
}

/** One document that loaded: parsed, validated (perhaps with recoverable schema errors). */
export interface LoadedDocument {
  /** Path as given (the root) or joined to the importing file's folder (an import). */
  readonly file: string;
  readonly root: LMap;
}

/** Every document a root spec needs, and every diagnostic found while loading them. */
export interface LoadResult {
  /** The root document, when it loaded. */
  readonly root?: LoadedDocument;
  /**
   * Every document that loaded, each once, imports before the file that imports them (the order
   * their blocks are defined in); the root, when it loaded, is last.
   */
  readonly documents: readonly LoadedDocument[];
  /** Every file read (or given as `source`), root first, in the order read. */
  readonly files: readonly string[];
  /** Layer items with schema errors, across all documents (see DocumentValidation.brokenItems). */
  readonly brokenItems: ReadonlySet<LNode>;
  /** How many schema errors the documents have that expansion may go on past. */
  readonly recovered: number;
  readonly diagnostics: readonly Diagnostic[];
}

/** Top-level keys only a model may have: a library has only `rsc`, `doc`, `import`, `blocks`. */
export const MODEL_ONLY_KEYS = [
  "layers",
  "params",
  "input",
  "inputs",
  "outputs",
  "defaults",
  "seed",
];

/** Loads a root spec and, recursively, its imports. Never throws for bad input. */
export function loadSpec(file: string, options: LoadOptions): LoadResult {
  return new Loader(options, file).run(file, options.source);
}

/**
 * `path` (absolute) with symbolic links resolved. For a path that does not exist, its nearest
 * existing folder is resolved and the rest appended: a link to an outside folder is found even
 * when the file named below it is missing (so "no such file" says nothing about the outside).
 */
function realPath(path: string): string {
  let rest = "";
  for (let at = path; ; ) {
    try {
      return join(realpathSync.native(at), rest);
    } catch {
      const parent = dirname(at);
      if (parent === at) return path;
      rest = join(basename(at), rest);
      at = parent;
    }
  }
}

/** True when `path` is `folder` or below it (both absolute). */
function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

class Loader {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly files: string[] = [];
  private readonly documents: LoadedDocument[] = [];
  /** Absolute path -> its document, or null while loading it or when it failed. */
  private readonly loaded = new Map<string, LMap | null>();
  private readonly brokenItems = new Set<LNode>();
  private recovered = 0;
  private readonly readFile: (path: string) => Uint8Array;
  private readonly maxFileBytes: number;
  /** The project folder, absolute, and the same with symbolic links resolved. */
  private readonly root: string;
  private readonly realRoot: string;

  constructor(options: LoadOptions, file: string) {
    this.readFile = options.readFile;
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.root = resolve(options.root ?? defaultProjectRoot(file));
    this.realRoot = realPath(this.root);
  }

  run(file: string, source: string | Uint8Array | undefined): LoadResult {
    const root = this.load(file, resolve(file), source, []);
    return {
      ...(root ? { root: { file, root } } : {}),
      documents: this.documents,
      files: this.files,
      brokenItems: this.brokenItems,
      recovered: this.recovered,
      diagnostics: this.diagnostics,
    };
  }

  /**
   * Loads one file (`given` as the user or importer spelt it, `abs` its absolute path); `stack`
   * holds the absolute paths of the files importing it, outermost first (empty for the root).
   */
  private load(
    given: string,
    abs: string,
    source: string | Uint8Array | undefined,
    stack: readonly string[],
    importLoc?: SourceLocation,
  ): LMap | undefined {
    if (this.loaded.has(abs)) return this.loaded.get(abs) ?? undefined;
    this.loaded.set(abs, null);
    const bytesOrText =
      source === undefined
        ? this.read(given, stack.length === 0, importLoc)
        : this.checkSource(source, given);
    if (bytesOrText === undefined) return undefined;
    this.files.push(given);
    const root = this.parseAndValidate(bytesOrText, given);
    if (root === undefined) return undefined;
    this.loaded.set(abs, root);
    if (stack.length > 0) this.checkLibraryKeys(root);
    this.followImports(root, given, abs, stack);
    this.documents.push({ file: given, root });
    return root;
  }

  /**
   * The file's bytes, or undefined after reporting why it cannot be read. The size limit is
   * checked here too, for readers other than the default one (which checks before reading).
   */
  private read(given: string, isRoot: boolean, importLoc?: SourceLocation): Uint8Array | undefined {
    try {
      const bytes = this.readFile(given);
      checkFileSize(bytes.length, this.maxFileBytes);
      return bytes;
    } catch (e) {
      const reason = describeReadError(e);
      const at = importLoc ?? { file: given, line: 1, column: 1 };
      this.diagnostics.push(
        isRoot
          ? locatedError("RSC100", `${given}: ${reason}`, at)
          : locatedError("RSC200", `import '${given}': ${reason}`, at),
      );
      return undefined;
    }
  }

  /** The root file's text or bytes given by the caller, when within the size limit. */
  private checkSource(source: string | Uint8Array, given: string): string | Uint8Array | undefined {
    const size = typeof source === "string" ? Buffer.byteLength(source) : source.length;
    try {
      checkFileSize(size, this.maxFileBytes);
      return source;
    } catch (e) {
      const at = { file: given, line: 1, column: 1 };
      this.diagnostics.push(locatedError("RSC100", `${given}: ${describeReadError(e)}`, at));
      return undefined;
    }
  }

  /** Decodes, parses and validates one file; its root mapping when expansion can use it. */
  private parseAndValidate(bytesOrText: string | Uint8Array, file: string): LMap | undefined {
    const text = typeof bytesOrText === "string" ? bytesOrText : decodeText(bytesOrText, file);
    if (typeof text !== "string") {
      this.diagnostics.push(text);
      return undefined;
    }
    const parsed = parseSpec(text, file);
    this.diagnostics.push(...parsed.diagnostics);
    if (parsed.root === undefined || parsed.diagnostics.length > 0) return undefined;
    const validation = validateDocument(parsed.root);
    this.diagnostics.push(...validation.diagnostics);
    if (!validation.recoverable || parsed.root.kind !== "map") return undefined;
    for (const item of validation.brokenItems) this.brokenItems.add(item);
    this.recovered += validation.diagnostics.length;
    return parsed.root;
  }

  /** An imported file is a block library: model keys are errors there. */
  private checkLibraryKeys(root: LMap): void {
    for (const key of MODEL_ONLY_KEYS) {
      const entry = root.entries.get(key);
      if (entry)
        this.diagnostics.push(
          locatedError(
            "RSC107",
            `a block library may not have '${key}:' (only rsc, doc, import, blocks)`,
            entry.keyLoc,
          ),
        );
    }
  }

  /**
   * Loads each `import:` entry, resolved against the importing file's folder. An import must be
   * a relative path that stays inside the project folder (also once symbolic links are
   * followed); the chain of imports and the number of files are bounded. Refusals name only the
   * path as written, never the resolved outside path, and read nothing from it.
   */
  private followImports(root: LMap, given: string, abs: string, stack: readonly string[]): void {
    const imports = get(root, "import");
    if (imports?.kind !== "seq") return;
    for (const item of imports.items) {
      if (item.kind !== "scalar" || typeof item.value !== "string") continue;
      const written = item.value;
      if (isAbsolute(written) || win32.isAbsolute(written)) {
        this.diagnostics.push(
          locatedError(
            "RSC216",
            `import '${written}' is an absolute path; imports are relative to the importing file`,
            item.loc,
          ),
        );
        continue;
      }
      const path = join(dirname(given), written);
      const target = resolve(path);
      if (!this.insideProject(target)) {
        this.diagnostics.push(
          locatedError("RSC215", `import '${written}' is outside the project folder`, item.loc, {
            hint: "imports must stay inside the project: the git work tree that holds the root spec, else the root spec's folder (or the folder given as the project root)",
          }),
        );
        continue;
      }
      if (target === abs || stack.includes(target)) {
        this.diagnostics.push(
          locatedError(
            "RSC201",
            `import cycle: '${written}' imports back into a file that imports it`,
            item.loc,
            { hint: [...stack, abs, target].map((p) => p.split("/").pop()).join(" -> ") },
          ),
        );
        continue;
      }
      if (this.loaded.has(target)) continue;
      // `stack` and the importing file come before the imported one in the chain.
      if (stack.length + 2 > MAX_IMPORT_DEPTH) {
        this.diagnostics.push(
          locatedError(
            "RSC217",
            `import '${written}' makes a chain of more than ${MAX_IMPORT_DEPTH} files (the spec, then each import)`,
            item.loc,
          ),
        );
        continue;
      }
      if (this.loaded.size >= MAX_IMPORTED_FILES) {
        this.diagnostics.push(
          locatedError(
            "RSC217",
            `import '${written}': the spec loads more than ${MAX_IMPORTED_FILES} files`,
            item.loc,
          ),
        );
        return;
      }
      this.load(path, target, undefined, [...stack, abs], item.loc);
    }
  }

  /** True when `target` (absolute) is inside the project folder, symbolic links followed. */
  private insideProject(target: string): boolean {
    return isInside(target, this.root) && isInside(realPath(target), this.realRoot);
  }
}
