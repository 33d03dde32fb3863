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
import { dirname, join, resolve } from "node:path";
import { type Diagnostic, locatedError, type SourceLocation } from "./diagnostics.js";
import { get, type LMap, type LNode } from "./located.js";
import { decodeText, parseSpec } from "./parse.js";
import { describeReadError } from "./read-error.js";
import { validateDocument } from "./validate.js";

/** Inputs of {@link loadSpec}. */
export interface LoadOptions {
  /** Reads the root file (unless `source` is given) and every import. */
  readonly readFile: (path: string) => Uint8Array;
  /** The root file's bytes or text, when the caller already has them. */
  readonly source?: string | Uint8Array;
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
const MODEL_ONLY_KEYS = ["layers", "params", "input", "inputs", "outputs", "defaults", "seed"];

/** Loads a root spec and, recursively, its imports. Never throws for bad input. */
export function loadSpec(file: string, options: LoadOptions): LoadResult {
  return new Loader(options.readFile).run(file, options.source);
}

class Loader {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly files: string[] = [];
  private readonly documents: LoadedDocument[] = [];
  /** Absolute path -> its document, or null while loading it or when it failed. */
  private readonly loaded = new Map<string, LMap | null>();
  private readonly brokenItems = new Set<LNode>();
  private recovered = 0;

  constructor(private readonly readFile: (path: string) => Uint8Array) {}

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
    const bytesOrText = source ?? this.read(given, stack.length === 0, importLoc);
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

  /** The file's bytes, or undefined after reporting why it cannot be read. */
  private read(given: string, isRoot: boolean, importLoc?: SourceLocation): Uint8Array | undefined {
    try {
      return this.readFile(given);
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

  /** Loads each `import:` entry, resolved against the importing file's folder. */
  private followImports(root: LMap, given: string, abs: string, stack: readonly string[]): void {
    const imports = get(root, "import");
    if (imports?.kind !== "seq") return;
    for (const item of imports.items) {
      if (item.kind !== "scalar" || typeof item.value !== "string") continue;
      const path = join(dirname(given), item.value);
      const target = resolve(path);
      if (target === abs || stack.includes(target)) {
        this.diagnostics.push(
          locatedError(
            "RSC201",
            `import cycle: '${item.value}' imports back into a file that imports it`,
            item.loc,
            { hint: [...stack, abs, target].map((p) => p.split("/").pop()).join(" -> ") },
          ),
        );
        continue;
      }
      this.load(path, target, undefined, [...stack, abs], item.loc);
    }
  }
}
