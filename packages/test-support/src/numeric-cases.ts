/**
 * Numeric fixtures: inputs, weights and expected outputs that a computation other than rsc's
 * (numpy, PyTorch) wrote as `<case>/case.json`, committed beside the script that made them, so
 * tests never run Python. Every package's tests read them, and compare against them, the same way.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { goldenCases } from "./golden.js";

/** A tensor as the fixture scripts write it: its shape (batch first) and its values, row-major. */
export interface FixtureTensor {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/**
 * The parsed `case.json` of every case folder under `dir`, with the folder's name (sorted,
 * `_`-prefixed folders left out, as {@link goldenCases}).
 */
export function readCaseFiles<T>(dir: string): [folder: string, file: T][] {
  return goldenCases(dir).map((folder) => [
    folder,
    JSON.parse(readFileSync(join(dir, folder, "case.json"), "utf8")) as T,
  ]);
}

/** The name of the layer a {@link OneLayerCase} checks, and of its output. */
export const CASE_LAYER = "layer";

/**
 * One case of `backend-onnx/test/fixtures/_numeric_` (its make.py): one layer of op `Op` on NHWC
 * inputs, its weights, and the output PyTorch computed.
 */
export interface OneLayerCase<Op extends string = string> {
  readonly name: string;
  readonly layer: { readonly op: Op; readonly attrs?: Record<string, unknown> };
  /** NHWC, batch first. */
  readonly inputs: readonly FixtureTensor[];
  /** By Keras suffix (`gamma`, `mean`, `kernel`). */
  readonly weights: Readonly<Record<string, readonly number[]>>;
  readonly expected: FixtureTensor;
}

/** The one-layer cases under `dir`, each op's (`<op>/case.json`) in folder order. */
export function readOneLayerCases<Op extends string = string>(
  dir: string,
): [op: string, cases: OneLayerCase<Op>[]][] {
  return readCaseFiles<{ op: string; cases: OneLayerCase<Op>[] }>(dir).map(([, file]) => [
    file.op,
    file.cases,
  ]);
}

/** A layer of {@link oneLayerCaseLayers}, as `graphFromLayers` takes it. */
export interface CaseLayer<Op extends string> {
  readonly name: string;
  readonly op: "input" | Op;
  readonly attrs: Record<string, unknown>;
  readonly inputs?: readonly string[];
}

/**
 * The layers of a one-layer case: inputs `x0`, `x1`, ... (shapes without the batch) feeding the
 * layer {@link CASE_LAYER}.
 */
export function oneLayerCaseLayers<Op extends string>(c: OneLayerCase<Op>): CaseLayer<Op>[] {
  const inputs = c.inputs.map((t, i) => ({
    name: `x${i}`,
    op: "input" as const,
    attrs: { shape: t.shape.slice(1) },
  }));
  return [
    ...inputs,
    {
      name: CASE_LAYER,
      op: c.layer.op,
      attrs: c.layer.attrs ?? {},
      inputs: inputs.map((i) => i.name),
    },
  ];
}

/** The weights of a one-layer case under the names rsc gives them (`layer/<suffix>`). */
export function oneLayerCaseWeights(c: OneLayerCase): Map<string, Float32Array> {
  return new Map(
    Object.entries(c.weights).map(([suffix, v]) => [
      `${CASE_LAYER}/${suffix}`,
      Float32Array.from(v),
    ]),
  );
}

/**
 * The largest difference between `got` and `want`, element by element: relative where the
 * expected value is above 1 in size, absolute below.
 */
export function maxRelativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const w = want[i]!;
    worst = Math.max(worst, Math.abs(got[i]! - w) / Math.max(1, Math.abs(w)));
  }
  return worst;
}
