/**
 * A progress bar for writing large files (a model of several GB takes seconds to generate and
 * write). Shown only on a terminal, never with --json, and only for files big enough to take
 * noticeable time; it is cleared when done, so the command's own lines stay as they are.
 */
import { onTerminalRestore } from "./early-exit.js";
import { type OutputOptions, printable } from "./output.js";

/** Files at least this large get a bar (ResNet-50's 94 MB is written in well under a second). */
export const PROGRESS_MIN_BYTES = 256 * 2 ** 20;

/** Counts bytes as they are written. */
export interface WriteProgress {
  /** Wraps a chunk sink so that every chunk passed through advances the bar. */
  track(sink: (chunk: Uint8Array) => void): (chunk: Uint8Array) => void;
  /** Removes the bar. */
  stop(): void;
}

const megabytes = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/**
 * A bar for writing `label` (`totalBytes` long) to `stream`, or undefined when none is wanted:
 * JSON output, a stream that is not a terminal, or a small file.
 */
export async function writeProgress(
  label: string,
  totalBytes: number,
  out: OutputOptions,
  stream: NodeJS.WriteStream = process.stderr,
): Promise<WriteProgress | undefined> {
  if (out.json || stream.isTTY !== true || totalBytes < PROGRESS_MIN_BYTES) return undefined;
  const { default: progress } = await import("cli-progress");
  const bar = new progress.SingleBar(
    {
      stream,
      format: `writing ${printable(label)} [{bar}] {percentage}% {written}/{size} MB | {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    progress.Presets.shades_classic,
  );
  const size = megabytes(totalBytes);
  let written = 0;
  bar.start(totalBytes, 0, { written: "0", size });
  // The bar hides the cursor: a signal handler must show it again.
  const forget = onTerminalRestore(() => bar.stop());
  return {
    track: (sink) => (chunk) => {
      sink(chunk);
      written += chunk.byteLength;
      bar.update(written, { written: megabytes(written) });
    },
    stop: () => {
      forget();
      bar.stop();
    },
  };
}
