/**
 * Writes a backend's artifact, the same way for every backend: streamed chunk by chunk, with a
 * progress bar on a terminal for large artifacts, and atomically as one artifact. A `file`
 * artifact's files (ONNX's model and its `.data`) are committed together under one lock (see
 * writeFilesAtomic), so a model is never paired with the weights of another build; a `folder`
 * artifact replaces its folder whole, and only a folder rsc wrote.
 */
import { basename } from "node:path";
import type { ArtifactFile, BackendInfo } from "@rsc/compiler";
import { writeDirAtomic, writeFilesAtomic } from "./fs-atomic.js";
import type { OutputOptions } from "./output.js";
import { writeProgress } from "./write-progress.js";

/** A file (or folder) written, as `rsc build` reports it. */
export interface WrittenFile {
  readonly path: string;
  /** Size in bytes (a folder's: the sum of its files). */
  readonly bytes: number;
}

/** A sibling of `output` named `name`, spelled as `output` is (no path normalisation). */
function siblingPath(output: string, name: string): string {
  return output.slice(0, output.length - basename(output).length) + name;
}

/**
 * Writes `files` at `output` as the backend's artifact kind says; `inputs` are the command's input
 * files, which the output must not replace. Returns what was written: each file of a `file`
 * artifact (main file first), or one entry for a folder (ResNet-50's tfjs folder has 24 files;
 * listing each says nothing more).
 */
export async function writeArtifact(
  artifact: BackendInfo["artifact"],
  output: string,
  files: readonly ArtifactFile[],
  out: OutputOptions,
  inputs: readonly string[] = [],
): Promise<WrittenFile[]> {
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const progress = await writeProgress(basename(output), bytes, out);
  const track = progress?.track ?? ((sink) => sink);
  try {
    if (artifact === "folder") {
      await writeDirAtomic(output, files, { inputs, track });
      return [{ path: output, bytes }];
    }
    const [main, ...siblings] = files;
    if (main === undefined) return [];
    const paths = [output, ...siblings.map((file) => siblingPath(output, file.name))];
    // Siblings first, the main file last: see writeFilesAtomic.
    await writeFilesAtomic(
      [...siblings, main].map((file, i) => ({
        path: paths[(i + 1) % paths.length]!,
        produce: (sink) => file.writeTo(track(sink)),
      })),
      { inputs },
    );
    return files.map((file, i) => ({ path: paths[i]!, bytes: file.size }));
  } finally {
    progress?.stop();
  }
}
