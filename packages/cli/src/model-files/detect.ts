/**
 * What a model file is, told by its content, never only by its name: an HDF5 file starts with
 * the HDF5 signature (at 0, or at 512, 1024, ... after a user block), a zip archive (`.keras`)
 * with a local-file header `PK\x03\x04` (or the end record `PK\x05\x06` of an empty one), and a
 * JSON file (Keras `to_json()`, tfjs model.json) with `{` after optional whitespace and BOM.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from "node:fs";
import { join } from "node:path";
import { describeReadError } from "@rsc/compiler";
import { malformedFile, unreadableFile } from "./errors.js";

/** The containers a model file can be. */
export type FileKind = "hdf5" | "zip" | "json";

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** True when `bytes` (at least 8) start with the HDF5 signature. */
export function isHdf5Signature(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && HDF5_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** The kind of a file from its first bytes (HDF5 at offset 0 only; see {@link fileKind}). */
export function kindOfBytes(head: Uint8Array): FileKind | undefined {
  if (isHdf5Signature(head)) return "hdf5";
  if (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
  )
    return "zip";
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length && [0x20, 0x09, 0x0a, 0x0d].includes(head[i]!)) i++;
  return head[i] === 0x7b ? "json" : undefined;
}

/** A model file found on disk: its path (a folder's model.json), kind and size. */
export interface FoundFile {
  readonly file: string;
  readonly kind: FileKind;
  readonly size: number;
}

/**
 * Finds and classifies a model file: `path` is a file, or a folder holding a tfjs model.json.
 * Throws CliError: exit 2 when it cannot be read or is no regular file, RSC500 (exit 1) when its
 * content is none of the kinds.
 */
export function findModelFile(path: string, what: string): FoundFile {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, "model.json");
  } catch (error) {
    throw unreadableFile(what, path, describeReadError(error));
  }
  const { fd, stats } = openRegularFile(file, what);
  try {
    const head = Buffer.alloc(Math.min(stats.size, 64));
    readSync(fd, head, 0, head.length, 0);
    let kind = kindOfBytes(head);
    // An HDF5 user block moves the signature to 512, 1024, 2048, ...
    for (let at = 512; kind === undefined && at + 8 <= stats.size; at *= 2) {
      const sig = Buffer.alloc(8);
      readSync(fd, sig, 0, 8, at);
      if (isHdf5Signature(sig)) kind = "hdf5";
    }
    if (kind === undefined) {
      throw malformedFile(
        file,
        "is not a model file: neither HDF5 (Keras .h5), a zip archive (.keras) nor JSON (model.json, to_json())",
      );
    }
    return { file, kind, size: stats.size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens `file` for reading, once (what is checked is what is read): exit 2 when it cannot be
 * opened or is not a regular file. O_NONBLOCK: opening a FIFO must not wait for a writer. The
 * caller closes the descriptor.
 */
function openRegularFile(file: string, what: string): { fd: number; stats: Stats } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw unreadableFile(what, file, describeReadError(error));
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw unreadableFile(what, file, "is not a regular file (a directory, device or FIFO)");
  }
  return { fd, stats };
}

/**
 * Reads a whole regular file of at most `limit` bytes through one descriptor (what was checked is
 * what is read). Throws CliError: exit 2 when unreadable, RSC500 when larger than `limit`.
 */
export function readWholeFile(file: string, limit: number, what: string): Buffer {
  const { fd, stats } = openRegularFile(file, what);
  try {
    if (stats.size > limit)
      throw malformedFile(
        file,
        `is ${stats.size.toLocaleString("en-US")} bytes, more than the ${limit.toLocaleString("en-US")} rsc reads as a model file`,
      );
    const bytes = Buffer.alloc(stats.size);
    for (let done = 0; done < bytes.byteLength; ) {
      const n = readSync(fd, bytes, done, bytes.byteLength - done, done);
      if (n === 0) throw unreadableFile(what, file, "changed while being read");
      done += n;
    }
    return bytes;
  } catch (error) {
    if (error instanceof Error && error.name === "CliError") throw error;
    throw unreadableFile(what, file, describeReadError(error));
  } finally {
    closeSync(fd);
  }
}

/**
 * The file size an HDF5 superblock declares (its end-of-file address), or undefined when the
 * superblock is not one rsc knows. `head` starts at the signature. Superblock versions 0 and 1
 * (h5py's default) hold it after the base and free-space addresses at byte 24 (28 for v1);
 * versions 2 and 3 after the base and extension addresses at byte 12.
 */
export function declaredHdf5Size(head: Uint8Array): number | undefined {
  if (!isHdf5Signature(head) || head.length < 12) return undefined;
  const version = head[8]!;
  const offsets = version <= 1 ? head[13]! : head[9]!;
  if (offsets !== 8 && offsets !== 4) return undefined;
  const base = version === 0 ? 24 : version === 1 ? 28 : version <= 3 ? 12 : -1;
  if (base < 0) return undefined;
  const at = base + 2 * offsets;
  if (head.length < at + offsets) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const size = offsets === 8 ? Number(view.getBigUint64(at, true)) : view.getUint32(at, true);
  // An undefined address (all ones) says nothing.
  return size >= 2 ** 53 || size === 0xffffffff ? undefined : size;
}

/**
 * Why an HDF5 file cannot be opened, as precisely as its header tells: `is truncated` when the
 * superblock declares more bytes than the file has.
 */
export function hdf5OpenFailure(file: string): string {
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.alloc(Math.min(size, 96));
      readSync(fd, head, 0, head.length, 0);
      const declared = declaredHdf5Size(head);
      if (declared !== undefined && declared > size)
        return `is truncated: it has ${size.toLocaleString("en-US")} bytes of the ${declared.toLocaleString("en-US")} its HDF5 header declares`;
    } finally {
      closeSync(fd);
    }
  } catch {
    // Fall through to the general reason.
  }
  return "cannot be read as HDF5 (corrupt or truncated?)";
}
