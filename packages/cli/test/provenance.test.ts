import { describe, expect, it } from "vitest";
import { describeSet, provenanceDiagnostics, readWeightsRecord } from "../src/provenance.js";

const HASH = "a".repeat(64);
const OTHER = "b".repeat(64);
const at = { file: "w/model.json", line: 1, column: 7 };

describe("weights records", () => {
  it("reads rsc train's record", () => {
    const record = readWeightsRecord({
      rsc: {
        spec: "tiny-cnn",
        specHash: HASH,
        set: { classes: "3" },
        inputScaling: { scale: 1 / 255, offset: 0, baked: false },
      },
    });
    expect(record).toEqual({
      spec: "tiny-cnn",
      specHash: HASH,
      set: { classes: "3" },
      inputScaling: { scale: 1 / 255, offset: 0, baked: false },
    });
  });

  it("ignores what a hostile or foreign file puts there", () => {
    expect(readWeightsRecord(undefined)).toBeUndefined();
    expect(readWeightsRecord({ rsc: "x" })).toBeUndefined();
    expect(readWeightsRecord({ rsc: { specHash: "not-a-hash" } })).toBeUndefined();
    const record = readWeightsRecord({
      rsc: { specHash: HASH, set: { a: 1, b: "2" }, inputScaling: { scale: "1", offset: 0 } },
    });
    expect(record).toEqual({ spec: "?", specHash: HASH, set: { b: "2" }, inputScaling: undefined });
  });

  it("refuses another spec hash, showing both --set lists; allowed, it warns", () => {
    const record = readWeightsRecord({
      rsc: { spec: "m", specHash: OTHER, set: { classes: "6" } },
    });
    const build = { spec: "m", specHash: HASH, set: {} };
    const [d] = provenanceDiagnostics(record, build, at, false);
    expect(d).toMatchObject({ severity: "error", code: "RSC530", ...at });
    expect(d!.message).toBe(
      "the weights were made for another spec or other --set values: 'm' (sha256:bbbbbbbbbbbb) with --set classes=6; this build is 'm' (sha256:aaaaaaaaaaaa) with no --set",
    );
    expect(provenanceDiagnostics(record, build, at, true)[0]!.severity).toBe("warning");
    expect(provenanceDiagnostics(record, { ...build, specHash: OTHER }, at, false)).toEqual([]);
    expect(provenanceDiagnostics(undefined, build, at, false)).toEqual([]);
  });

  it("describes --set values in a stable order, one line", () => {
    expect(describeSet({ b: "2", a: "1" })).toBe("--set a=1 --set b=2");
    expect(describeSet(undefined)).toBe("--set values not recorded");
    expect(describeSet({ a: "x".repeat(500) }).length).toBe(200);
  });
});
