/**
 * The training display as a terminal shows it (issue 14 item 6): `rsc train` under a pseudo-
 * terminal (util-linux `script`) at 70 and 160 columns. Live lines never pass the width, the bar
 * widens with the terminal, each epoch ends in one Keras-style summary line; and the line format
 * itself on hand-made cases.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shortDuration, stepLine } from "../src/train/progress.js";
import { bin } from "./rsc-process.js";
import { TINY_CNN, writeSignsFile } from "./train-support.js";

const tmp = mkdtempSync(join(tmpdir(), "rsc-train-display-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const data = join(tmp, "signs.h5");
beforeAll(() => writeSignsFile(data));

const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
const visible = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]|\u001b[78]/g, "");

describe("stepLine", () => {
  const base = { step: 5, steps: 20, elapsedMs: 1000, metrics: { loss: 0.5, accuracy: 0.75 } };
  it("shows steps, bar, ETA, ms/step and metrics within the width", () => {
    const line = stepLine({ ...base, final: false, columns: 70 });
    expect(line).toMatch(/^ 5\/20 ━+─+ ETA 3s 200ms\/step - accuracy: 0\.7500 - loss: 0\.5000$/);
    expect([...line].length).toBeLessThanOrEqual(69);
    const wide = stepLine({ ...base, final: false, columns: 160 });
    expect(/━+─*/.exec(wide)![0].length).toBe(30);
  });
  it("ends an epoch with the total time; plain when not a terminal", () => {
    expect(stepLine({ ...base, step: 20, elapsedMs: 4000, final: true })).toBe(
      "20/20 - 4s - 200ms/step - accuracy: 0.7500 - loss: 0.5000",
    );
    expect(shortDuration(65_000)).toBe("1m 05s");
  });
  it("cuts a live line on a narrow terminal instead of wrapping it", () => {
    const line = stepLine({ ...base, final: false, columns: 40 });
    expect([...line].length).toBe(39);
  });
});

describe.skipIf(!hasScript)("rsc train on a terminal (script, a pseudo-terminal)", () => {
  it.each([70, 160])("at %i columns", (columns) => {
    const out = join(tmp, `trained-${columns}`);
    const command = `stty cols ${columns} rows 24; ${process.execPath} ${bin} train ${TINY_CNN} --set classes=3 --data ${data} --epochs 2 --batch-size 2 -o ${out}`;
    const r = spawnSync("script", ["-qfec", command, "/dev/null"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    // A redraw returns to column 1 (ESC [1G) or the line start: each piece is one drawn line.
    const segments = r.stdout
      .split(/\r\n|\r|\n|\u001b\[1G/)
      .map(visible)
      .filter((s) => s.trim() !== "");
    expect(segments.filter((s) => /^Epoch \d\/2$/.test(s))).toHaveLength(2);
    const finals = segments.filter((s) =>
      /^\d+\/\d+ ━+ \d+s \d+ms\/step - accuracy: [\d.]+ - loss: [\d.]+$/.test(s),
    );
    expect(finals).toHaveLength(2);
    const live = segments.filter((s) => s.includes(" ETA "));
    expect(live.length).toBeGreaterThan(0);
    for (const s of live) expect([...s].length).toBeLessThanOrEqual(columns - 1);
    const barWidth = finals[0]!.split(" ")[1]!.length;
    expect(barWidth).toBe(columns >= 100 ? 30 : Math.min(30, barWidth));
    if (columns === 70) expect(barWidth).toBeLessThan(30);
  });
});

describe.runIf(!hasScript)("rsc train on a terminal", () => {
  it("SKIPPED: util-linux `script` is not installed (apt-get install bsdutils), no pseudo-terminal", () => {
    expect(hasScript).toBe(false);
  });
});
