/**
 * A spec named on the command line: a file, or a file at a git revision (`main:specs/x.yaml`),
 * read with `git cat-file blob` so that a CI job can compare a pull request with its base. The
 * imports of a spec at a revision are read at that revision too.
 *
 * What the user typed is never an option to git: a revision starting with `-` is refused (so
 * `--output=x:README.md` cannot make git write a file), and every object is passed after
 * `--end-of-options`. A path outside the repository is a usage error (exit 2) for the spec, and an
 * unreadable import (RSC200, located) for an import.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { CliError } from "./errors.js";

/** Where to read a spec from. */
export interface SpecSource {
  /** The argument as the user wrote it, for headings (`main:specs/resnet50.yaml`). */
  readonly label: string;
  /** The path to compile, relative to the working directory (imports resolve against it). */
  readonly path: string;
  /** Reads files at the revision; absent for a plain file (the compiler reads the disk). */
  readonly readFile?: (path: string) => Uint8Array;
  /** The repository's work tree, for a spec at a revision (its imports' project root). */
  readonly root?: string;
}

/** Runs git without a shell; returns stdout, or throws CliError with git's own message. */
function git(args: readonly string[], cwd: string): Buffer {
  try {
    return execFileSync("git", args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") throw new CliError("git is not installed (needed for REV:path)");
    const message = e.stderr?.toString("utf8").trim().split("\n")[0] ?? e.message;
    throw new CliError(message.replace(/^fatal: /, "git: "));
  }
}

/**
 * Resolves a command-line spec argument. An existing file wins; otherwise `REV:path` is a file at
 * a git revision, `path` relative to the repository root as `git show` reads it (or to the
 * working directory when it starts with `./` or `../`).
 */
export function resolveSpecSource(arg: string, cwd: string = process.cwd()): SpecSource {
  const colon = arg.indexOf(":");
  if (existsSync(resolve(cwd, arg)) || colon <= 0) return { label: arg, path: arg };
  const rev = arg.slice(0, colon);
  const given = arg.slice(colon + 1);
  if (given === "") throw new CliError(`${arg}: expected REV:path, e.g. main:specs/resnet50.yaml`);
  // A revision is a name, never an option (`--output=out` would make git write a file).
  if (rev.startsWith("-") || /[\s\u0000-\u001f\u007f]/.test(rev))
    throw new CliError(`${arg}: '${rev}' is not a git revision (expected REV:path)`);
  const root = git(["rev-parse", "--show-toplevel"], cwd).toString("utf8").trim();
  const relativeToCwd = given.startsWith("./") || given.startsWith("../");
  const absolute = resolve(relativeToCwd ? cwd : root, given);

  const cache = new Map<string, Uint8Array>();
  /** The object `rev:path` of a file inside the repository, or undefined when it is outside. */
  const objectOf = (abs: string): string | undefined => {
    const inRepo = relative(root, abs);
    if (inRepo === "" || inRepo === ".." || inRepo.startsWith(`..${sep}`) || isAbsolute(inRepo))
      return undefined;
    return `${rev}:${inRepo.split(sep).join("/")}`;
  };
  const show = (object: string): Uint8Array => {
    let bytes = cache.get(object);
    if (bytes === undefined) {
      // A blob only (a tree's listing is not a spec), the object after --end-of-options.
      bytes = git(["cat-file", "blob", "--end-of-options", object], root);
      cache.set(object, bytes);
    }
    return bytes;
  };
  // The root spec must exist at the revision: a bad revision or path is a usage error (exit 2).
  const rootObject = objectOf(absolute);
  if (rootObject === undefined)
    throw new CliError(`${arg}: ${given} is outside the repository (${root})`);
  try {
    show(rootObject);
  } catch (error) {
    // From a subfolder, `main:model.yaml` names the repository root's model.yaml: say so.
    const here = relative(root, resolve(cwd));
    if (!(error instanceof CliError) || relativeToCwd || here === "") throw error;
    throw new CliError(
      `${error.message} (a path after REV: is relative to the repository root; from ${here}${sep} write ${rev}:./${given})`,
    );
  }
  return {
    label: arg,
    root,
    path: relative(cwd, absolute) || absolute,
    readFile: (path) => {
      try {
        const object = objectOf(resolve(cwd, path));
        if (object === undefined) throw new Error(`${path} is outside the repository`);
        return show(object);
      } catch (error) {
        // The compiler reports an unreadable import as RSC200 at the import line.
        throw Object.assign(new Error((error as Error).message), { code: "ENOENT" });
      }
    },
  };
}
