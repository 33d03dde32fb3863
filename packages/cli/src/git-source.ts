/**
 * A spec named on the command line: a file, or a file at a git revision (`main:specs/x.yaml`),
 * read with `git show` so that a CI job can compare a pull request with its base. The imports of a
 * spec at a revision are read at that revision too.
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
  const root = git(["rev-parse", "--show-toplevel"], cwd).toString("utf8").trim();
  const relativeToCwd = given.startsWith("./") || given.startsWith("../");
  const absolute = resolve(relativeToCwd ? cwd : root, given);

  const cache = new Map<string, Uint8Array>();
  const show = (abs: string): Uint8Array => {
    const inRepo = relative(root, abs);
    if (inRepo.startsWith("..") || isAbsolute(inRepo)) {
      throw Object.assign(new Error(`${abs} is outside the repository`), { code: "ENOENT" });
    }
    const object = `${rev}:${inRepo.split(sep).join("/")}`;
    let bytes = cache.get(object);
    if (bytes === undefined) {
      bytes = git(["show", object], root);
      cache.set(object, bytes);
    }
    return bytes;
  };
  // The root spec must exist at the revision: a bad revision or path is a usage error (exit 2).
  show(absolute);
  return {
    label: arg,
    path: relative(cwd, absolute) || absolute,
    readFile: (path) => {
      try {
        return show(resolve(cwd, path));
      } catch (error) {
        // The compiler reports an unreadable import as RSC200 at the import line.
        throw Object.assign(new Error((error as Error).message), { code: "ENOENT" });
      }
    },
  };
}
