/**
 * Keras 3's `.keras` archive (keras/src/saving/saving_lib.py): a zip of `metadata.json`,
 * `config.json` (the model's serialized config) and `model.weights.h5` (its variables, see
 * keras3.ts), plus `assets/` for layers that have any. Read with fflate, in memory.
 *
 * The archive is untrusted: only the three entries rsc needs are inflated, each only when its
 * declared size is within its limit (so a zip bomb is refused before a byte is inflated, and the
 * inflated output can never exceed the declared size: fflate inflates into a buffer of exactly
 * that size); an inflated entry whose length differs from its declared size is refused; an entry
 * name appearing twice is refused (which copy would Keras read?); nothing is written to disk, so
 * entry names (`../x`, absolute paths) lead nowhere.
 */
import { unzipSync } from "fflate";
import { malformedFile } from "./errors.js";

/** Entries rsc reads, and the most bytes each may inflate to. */
export const ARCHIVE_LIMITS = {
  "config.json": 64 * 2 ** 20,
  "metadata.json": 2 ** 20,
  "model.weights.h5": 4 * 2 ** 30 - 1,
} as const;

/** The largest `.keras` file rsc reads (it is read whole into memory). */
export const MAX_ARCHIVE_BYTES = 4 * 2 ** 30 - 1;

type Entry = keyof typeof ARCHIVE_LIMITS;

/** What a `.keras` archive holds, for rsc. */
export interface KerasArchive {
  /** config.json's text, when present. */
  readonly config?: string;
  /** metadata.json's text, when present. */
  readonly metadata?: string;
  /** model.weights.h5's bytes, when present. */
  readonly weights?: Uint8Array;
  /** Every entry name (for messages: what the archive holds instead). */
  readonly names: readonly string[];
}

/** Reads a `.keras` archive's entries (`file` names it in errors). Throws CliError (RSC500). */
export function readKerasArchive(bytes: Uint8Array, file: string): KerasArchive {
  const names: string[] = [];
  const declared = new Map<string, number>();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (entry) => {
        if (names.includes(entry.name))
          throw malformedFile(file, `holds the entry '${entry.name}' twice`);
        names.push(entry.name);
        if (!(entry.name in ARCHIVE_LIMITS)) return false;
        const limit = ARCHIVE_LIMITS[entry.name as Entry];
        if (entry.originalSize > limit)
          throw malformedFile(
            file,
            `entry '${entry.name}' inflates to ${entry.originalSize.toLocaleString("en-US")} bytes, more than the ${limit.toLocaleString("en-US")} rsc reads`,
          );
        if (entry.compression !== 0 && entry.compression !== 8)
          throw malformedFile(
            file,
            `entry '${entry.name}' uses zip compression method ${entry.compression}; Keras writes stored or deflated entries`,
          );
        if (entry.compression === 0 && entry.size !== entry.originalSize)
          throw malformedFile(file, `entry '${entry.name}' is stored but its sizes differ`);
        declared.set(entry.name, entry.originalSize);
        return true;
      },
    });
  } catch (error) {
    if (error instanceof Error && error.name === "CliError") throw error;
    throw malformedFile(
      file,
      `is not a readable zip archive (${(error as Error).message}); a .keras file is the zip Keras 3's model.save writes`,
    );
  }
  const out: { config?: string; metadata?: string; weights?: Uint8Array } = {};
  for (const [name, data] of Object.entries(files)) {
    if (data.byteLength !== declared.get(name))
      throw malformedFile(
        file,
        `entry '${name}' holds ${data.byteLength} bytes, not the ${declared.get(name)} its header declares (corrupt or truncated?)`,
      );
    const text = () => new TextDecoder("utf-8", { fatal: false }).decode(data);
    if (name === "config.json") out.config = text();
    else if (name === "metadata.json") out.metadata = text();
    else if (name === "model.weights.h5") out.weights = data;
  }
  return { ...out, names };
}
