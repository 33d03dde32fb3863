/**
 * What an output may replace, checked before anything is written (and again just before the
 * commit, since minutes of training may pass in between). Every failure is a usage error (exit 2)
 * naming the path.
 * - A file output (`-o model.onnx`, its `.data` sibling, `-o graph.svg`) is created, or replaces a
 *   regular file or a symlink to one (the link is replaced, not followed). Never a folder, a
 *   device node, a FIFO or a socket (renaming over `/dev/null` as root would replace the device),
 *   and never one of the command's inputs (the spec, its imports, a weights or data file).
 * - A folder output (`--target tfjs -o DIR`, `rsc train -o DIR`) replaces a folder only when the
 *   folder is empty or is a previous rsc output: its model.json says `convertedBy: rsc ...` and it
 *   holds nothing but model.json, the shards its manifest names and train-log.json. Anything else
 *   in it is the user's, and rsc refuses rather than delete it.
 */
import {
  accessSync,
  constants,
  lstatSync,
  readdirSync,
  readFileSync,
  type Stats,
  statSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CliError } from "./errors.js";

/** Files rsc writes into a model folder besides model.json and its shards. */
const RSC_FOLDER_EXTRAS = new Set(["train-log.json"]);

function statOrUndefined(path: string, follow: boolean): Stats | undefined {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ENOTDIR") throw new CliError(`cannot write ${path}: a parent is not a folder`);
    throw new CliError(`cannot write ${path}: ${code ?? (error as Error).message}`);
  }
}

const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

/** What a non-regular file is, for messages. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a folder";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * Fails unless the nearest existing ancestor of `path` is a writable folder (the output's folder
 * is created, and the output renamed into it).
 */
function checkParent(path: string): void {
  let probe = dirname(resolve(path));
  for (;;) {
    const stats = statOrUndefined(probe, true);
    if (stats === undefined && dirname(probe) !== probe) {
      probe = dirname(probe);
      continue;
    }
    if (stats === undefined || !stats.isDirectory())
      throw new CliError(`cannot write ${path}: ${probe} is not a folder`);
    try {
      accessSync(probe, constants.W_OK);
    } catch {
      throw new CliError(`cannot write ${path}: ${probe} is not writable`);
    }
    return;
  }
}

/** Fails when `target` is one of `inputs` (by identity: a hard link or symlink counts). */
function checkNotAnInput(path: string, target: Stats, inputs: readonly string[]): void {
  for (const input of inputs) {
    const stats = statOrUndefined(input, true);
    if (stats !== undefined && sameFile(stats, target))
      throw new CliError(`cannot write ${path}: it is an input of this command (${input})`);
  }
}

/**
 * Fails (exit 2) unless a file may be written at `path`: see the module comment. `inputs` are the
 * command's input files.
 */
export function checkOutputFile(path: string, inputs: readonly string[] = []): void {
  const entry = statOrUndefined(path, false);
  if (entry !== undefined) {
    const target = entry.isSymbolicLink() ? statOrUndefined(path, true) : entry;
    // A dangling symlink is replaced like a missing file.
    if (target !== undefined) {
      if (!target.isFile()) {
        const what = entry.isSymbolicLink() ? `a symlink to ${kindOf(target)}` : kindOf(target);
        throw new CliError(`cannot write ${path}: it is ${what}, not a regular file`);
      }
      checkNotAnInput(path, target, inputs);
      if (entry !== target) checkNotAnInput(path, entry, inputs);
    }
  }
  checkParent(path);
}

/** The files a previous rsc output folder may hold, or undefined when `dir` is not one. */
function rscFolderFiles(dir: string): Set<string> | undefined {
  let json: { convertedBy?: unknown; weightsManifest?: { paths?: unknown }[] };
  try {
    json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  } catch {
    return undefined;
  }
  if (typeof json?.convertedBy !== "string" || !json.convertedBy.startsWith("rsc "))
    return undefined;
  const files = new Set(["model.json", ...RSC_FOLDER_EXTRAS]);
  for (const group of Array.isArray(json.weightsManifest) ? json.weightsManifest : [])
    for (const path of Array.isArray(group?.paths) ? group.paths : [])
      if (typeof path === "string") files.add(path);
  return files;
}

/**
 * Fails (exit 2) unless a model folder may be written at `dir`: see the module comment. Also run
 * just before the folder is replaced.
 */
export function checkOutputDir(dir: string, inputs: readonly string[] = []): void {
  const stats = statOrUndefined(dir, true);
  if (stats !== undefined) {
    if (!stats.isDirectory())
      throw new CliError(`cannot write ${dir}: it exists and is not a folder`);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (error) {
      throw new CliError(`cannot write ${dir}: ${(error as NodeJS.ErrnoException).code}`);
    }
    if (names.length > 0) {
      const ours = rscFolderFiles(dir);
      const foreign = names.filter((name) => ours === undefined || !ours.has(name)).sort();
      if (foreign.length > 0) {
        const shown = foreign.slice(0, 3).join(", ") + (foreign.length > 3 ? ", ..." : "");
        throw new CliError(
          `cannot write ${dir}: it is not empty and not an rsc output (it holds ${shown}); ` +
            "choose a new or empty folder",
        );
      }
      for (const name of names) {
        const file = statOrUndefined(join(dir, name), true);
        if (file !== undefined) checkNotAnInput(dir, file, inputs);
      }
    }
  }
  checkParent(dir);
}
