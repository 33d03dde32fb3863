/**
 * What `rsc train` and `rsc evaluate` share: the `--runtime` flag's values, activating the chosen
 * tfjs runtime (a runtime failure is a usage error), and tensors from a data set.
 */
import type { InputScaling } from "@rsc/compiler";
import type { ImageDataset } from "../data-h5.js";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import { say } from "../output.js";

/** `--runtime` values, for the flag's help and validation. */
export const RUNTIME_CHOICES = ["auto", "node-gpu", "node", "webgpu", "wasm", "cpu"] as const;

/** One of {@link RUNTIME_CHOICES}. */
export type RuntimeFlag = (typeof RUNTIME_CHOICES)[number];

/**
 * Activates a tfjs runtime and prints the choice (one line, stderr, unless quiet). A forced runtime
 * that is not installed is a usage error (exit 2).
 */
export async function activateRuntime(
  preference: RuntimeFlag,
  {
    quiet = false,
    threads,
  }: {
    readonly quiet?: boolean;
    /** wasm's threads (`--threads`). */
    readonly threads?: number;
  } = {},
): Promise<string> {
  const { selectRuntime, RuntimeUnavailableError } = await import("@rsc/backend-tfjs");
  try {
    const choice = await selectRuntime(preference, threads === undefined ? {} : { threads });
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

/**
 * Images as the model takes them (NHWC float32, each pixel * scale + offset: rsc train's x / 255,
 * or the identity for a model that scales its own input) and one-hot labels `[n, classes]`.
 */
export async function toTensors(data: ImageDataset, classes: number, scaling: InputScaling) {
  const { tf } = await import("@rsc/backend-tfjs");
  const [h, w, c] = data.imageShape;
  const pixels = new Float32Array(data.pixels.length);
  const { scale, offset } = scaling;
  // x / 255 stays a division, bit for bit what training always computed.
  if (offset === 0 && scale === 1 / 255)
    for (let i = 0; i < pixels.length; i++) pixels[i] = data.pixels[i]! / 255;
  else for (let i = 0; i < pixels.length; i++) pixels[i] = data.pixels[i]! * scale + offset;
  const x = tf.tensor4d(pixels, [data.count, h, w, c]);
  const y = tf.tidy(() =>
    tf.cast(tf.oneHot(tf.tensor1d(data.labels, "int32"), classes), "float32"),
  );
  return { x, y };
}
