/**
 * Test data for `rsc train` / `rsc evaluate`: small SIGNS-style HDF5 files written with h5wasm,
 * whose class is a learnable pattern (the class's colour channel is brighter), so a tiny model's
 * loss falls within a few epochs; and the tiny spec they fit.
 */
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import { root } from "./rsc-process.js";

/** specs/tiny-cnn.yaml: with `classes=3` it takes {@link writeSignsFile}'s default data. */
export const TINY_CNN = join(root, "specs", "tiny-cnn.yaml");

/** The `rsc train` arguments of the tiny spec on `data`, then the run's `own`. */
export function trainTinyArgs(data: string, ...own: string[]): string[] {
  return ["train", TINY_CNN, "--set", "classes=3", "--data", data, ...own];
}

/** Options of {@link writeSignsFile}. */
export interface SignsFileOptions {
  readonly train?: number;
  readonly test?: number;
  readonly size?: number;
  readonly channels?: number;
  readonly classes?: number;
  /** Label shape as SIGNS stores it, `[1, n]`, or flat `[n]`. */
  readonly labelLayout?: "row" | "flat";
  /** Datasets to leave out, e.g. `["test_set_y"]`. */
  readonly omit?: readonly string[];
  /** Added to every label (to make labels outside the class count). */
  readonly labelOffset?: number;
  readonly seed?: number;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function split(n: number, size: number, channels: number, classes: number, next: () => number) {
  const pixels = new Uint8Array(n * size * size * channels);
  const labels = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % classes;
    labels[i] = BigInt(label);
    for (let p = 0; p < size * size; p++) {
      for (let c = 0; c < channels; c++) {
        const bright = c === label % channels ? 110 : 0;
        pixels[(i * size * size + p) * channels + c] = Math.floor(next() * 140) + bright;
      }
    }
  }
  return { pixels, labels };
}

/** Writes a SIGNS-style file: train_set_x/y, test_set_x/y, list_classes. */
export async function writeSignsFile(path: string, options: SignsFileOptions = {}): Promise<void> {
  const {
    train = 64,
    test = 24,
    size = 16,
    channels = 3,
    classes = 3,
    labelLayout = "row",
  } = options;
  await h5wasm.ready;
  const next = lcg(options.seed ?? 42);
  const file = new h5wasm.File(path, "w");
  const omit = new Set(options.omit ?? []);
  for (const [name, n] of [
    ["train", train],
    ["test", test],
  ] as const) {
    const { pixels, labels } = split(n, size, channels, classes, next);
    const offset = BigInt(options.labelOffset ?? 0);
    const shifted = labels.map((l) => l + offset);
    if (!omit.has(`${name}_set_x`))
      file.create_dataset({
        name: `${name}_set_x`,
        data: pixels,
        shape: [n, size, size, channels],
      });
    if (!omit.has(`${name}_set_y`))
      file.create_dataset({
        name: `${name}_set_y`,
        data: shifted,
        shape: labelLayout === "row" ? [1, n] : [n],
      });
  }
  file.create_dataset({
    name: "list_classes",
    data: BigInt64Array.from({ length: classes }, (_, i) => BigInt(i)),
  });
  file.close();
}
