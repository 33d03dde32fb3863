/**
 * Writes a backend's artifact, the same way for every backend: each file atomically, streamed
 * chunk by chunk, with a progress bar on a terminal for large files. A `file` artifact's siblings
 * (ONNX's `.data`) are written before the main file, so a model never points at a missing file; a
 * `folder` artifact replaces its folder whole.
 */
import { basename, join } from "node:path";
import type { ArtifactFile, BackendInfo } from "@rsc/compiler";
import { writeDirAtomic, writeFileAtomicChunks } from "./fs-atomic.js";
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

async function writeFile(path: string, file: ArtifactFile, out: OutputOptions): Promise<void> {
  const progress = await writeProgress(basename(path), file.size, out);
  try {
    writeFileAtomicChunks(path, (sink) => file.writeTo(progress?.track(sink) ?? sink));
  } finally {
    progress?.stop();
  }
}

/**
 * Writes `files` at `output` as the backend's artifact kind says. Returns what was written: each
 * file of a `file` artifact (main file first), or one entry for a folder (ResNet-50's tfjs folder
 * has 24 files; listing each says nothing more).
 */
export async function writeArtifact(
  artifact: BackendInfo["artifact"],
  output: string,
  files: readonly ArtifactFile[],
  out: OutputOptions,
): Promise<WrittenFile[]> {
  if (artifact === "folder") {
    const bytes = files.reduce((n, f) => n + f.size, 0);
    const progress = await writeProgress(basename(join(output)), bytes, out);
    try {
      writeDirAtomic(output, files, progress?.track);
    } finally {
      progress?.stop();
    }
    return [{ path: output, bytes }];
  }
  const [main, ...siblings] = files;
  if (main === undefined) return [];
  const written = [{ path: output, bytes: main.size }];
  for (const file of siblings) {
    const path = siblingPath(output, file.name);
    await writeFile(path, file, out);
    written.push({ path, bytes: file.size });
  }
  await writeFile(output, main, out);
  return written;
}
