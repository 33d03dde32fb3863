/**
 * What `rsc train`, `rsc evaluate` and `rsc build --target tfjs` share: the `--runtime` flag,
 * turning a runtime failure into a usage error, and tensors from a data set.
 */
import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { ImageDataset } from "../data-h5.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { say } from "../output.js";

/** `--runtime` values, for the flag's help and validation. */
export const RUNTIME_CHOICES = ["auto", "node-gpu", "node", "wasm", "cpu"] as const;

/** One of {@link RUNTIME_CHOICES}. */
export type RuntimeFlag = (typeof RUNTIME_CHOICES)[number];

/** Parses `--runtime`; anything else is a usage error. */
export function parseRuntime(value: string | undefined): RuntimeFlag {
  const v = value ?? "auto";
  if (!(RUNTIME_CHOICES as readonly string[]).includes(v)) {
    throw new CliError(`--runtime must be one of ${RUNTIME_CHOICES.join(", ")}, got '${v}'`);
  }
  return v as RuntimeFlag;
}

/**
 * Activates a tfjs runtime and prints the choice (one line, stderr, unless quiet). A forced runtime
 * that is not installed is a usage error (exit 2).
 */
export async function activateRuntime(
  preference: RuntimeFlag,
  { quiet = false }: { readonly quiet?: boolean } = {},
): Promise<string> {
  const { selectRuntime, RuntimeUnavailableError } = await import("@rsc/backend-tfjs");
  try {
    const choice = await selectRuntime(preference);
    if (!quiet) say(choice.message);
    return choice.runtime;
  } catch (error) {
    if (error instanceof RuntimeUnavailableError) {
      throw new CliError(
        `${error.message} (use --runtime auto to pick the fastest one installed)`,
        ExitCode.UsageError,
      );
    }
    throw error;
  }
}

/** Images scaled to [0, 1] (NHWC float32) and one-hot labels `[n, classes]`, as tensors. */
export async function toTensors(data: ImageDataset, classes: number) {
  const { tf } = await import("@rsc/backend-tfjs");
  const [h, w, c] = data.imageShape;
  const pixels = new Float32Array(data.pixels.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = data.pixels[i]! / 255;
  const x = tf.tensor4d(pixels, [data.count, h, w, c]);
  const y = tf.tidy(() =>
    tf.cast(tf.oneHot(tf.tensor1d(data.labels, "int32"), classes), "float32"),
  );
  return { x, y };
}

/**
 * Fails early (exit 2, before minutes of training) when `dir` cannot be created or replaced: the
 * nearest existing ancestor must be a writable folder, and `dir` itself a folder if it exists.
 */
export function checkOutputDir(dir: string): void {
  const target = resolve(dir);
  let probe = target;
  for (;;) {
    let isDir: boolean;
    try {
      isDir = statSync(probe).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && dirname(probe) !== probe) {
        probe = dirname(probe);
        continue;
      }
      throw new CliError(
        `cannot write ${dir}: ${code === "ENOTDIR" ? "a parent is not a folder" : code}`,
      );
    }
    if (!isDir) {
      throw new CliError(
        `cannot write ${dir}: ${probe === target ? "it" : probe} exists and is not a folder`,
      );
    }
    // The folder is replaced by a rename, which needs write access to its parent.
    const parent = probe === target ? dirname(target) : probe;
    try {
      accessSync(parent, constants.W_OK);
    } catch {
      throw new CliError(`cannot write ${dir}: ${parent} is not writable`);
    }
    return;
  }
}
