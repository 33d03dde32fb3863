/**
 * The training display, as Keras's `fit` shows it: an `Epoch 3/10` line, then one line per epoch
 * that a terminal sees grow (steps done, a bar as wide as the terminal allows, the time left,
 * ms/step, the running metrics) and that ends as the epoch's summary:
 *
 *     Epoch 3/10
 *     34/34 ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 3s 61ms/step - accuracy: 0.8120 - loss: 0.5123 - val_accuracy: 0.7500 - val_loss: 0.6620
 *
 * A live line never runs past the terminal's width (it is cut, never wrapped); when stderr is not
 * a terminal only the two lines per epoch are written, plain. The bar is drawn by cli-progress.
 */

/** Metrics of one step or epoch, Keras's names. */
export interface StepMetrics {
  readonly loss?: number;
  readonly accuracy?: number;
  readonly val_loss?: number;
  readonly val_accuracy?: number;
}

/** What one line shows. */
export interface StepLine {
  readonly step: number;
  readonly steps: number;
  /** Milliseconds since the epoch started. */
  readonly elapsedMs: number;
  readonly metrics: StepMetrics;
  /** The epoch's last line: total time instead of the time left. */
  readonly final: boolean;
  /** Terminal width; undefined: not a terminal (no bar). */
  readonly columns?: number;
}

/** Widest and narrowest bar, in characters. */
const BAR_MAX = 30;
const BAR_MIN = 8;

/** `3s`, `1m 05s`, `2h 03m`: Keras's short durations. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** ` - accuracy: 0.8120 - loss: 0.5123`, in Keras's order, only the metrics that are known. */
function metricsText(m: StepMetrics): string {
  const parts: string[] = [];
  for (const key of ["accuracy", "loss", "val_accuracy", "val_loss"] as const) {
    const v = m[key];
    if (v !== undefined && Number.isFinite(v)) parts.push(`${key}: ${v.toFixed(4)}`);
  }
  return parts.map((p) => ` - ${p}`).join("");
}

/** One display line (see the module comment); at most `columns - 1` characters on a terminal. */
export function stepLine(l: StepLine): string {
  const msPerStep = l.step > 0 ? l.elapsedMs / l.step : 0;
  const time = l.final
    ? shortDuration(l.elapsedMs)
    : `ETA ${shortDuration(msPerStep * (l.steps - l.step))}`;
  const counter = `${String(l.step).padStart(String(l.steps).length)}/${l.steps}`;
  const rest = ` ${time} ${Math.round(msPerStep)}ms/step${metricsText(l.metrics)}`;
  if (l.columns === undefined)
    return `${counter} -${rest.replace(/^ /, " ").replace(/ (\d+ms)/, " - $1")}`;
  const room = l.columns - 1 - counter.length - 1 - rest.length;
  const width = Math.max(BAR_MIN, Math.min(BAR_MAX, room));
  const done = l.steps > 0 ? Math.round((width * l.step) / l.steps) : width;
  const bar = "━".repeat(done) + "─".repeat(width - done);
  const line = `${counter} ${bar}${rest}`;
  // Live lines are cut to the width (a wrapped line cannot be redrawn); the summary is kept whole.
  return l.final ? line : [...line].slice(0, l.columns - 1).join("");
}

/** The display of one run of `rsc train` (stderr). */
export interface TrainDisplay {
  startEpoch(epoch: number, epochs: number, steps: number): void;
  step(step: number, metrics: StepMetrics): void;
  endEpoch(metrics: StepMetrics): void;
  /** Stops a live bar (on SIGINT, or at the end). */
  stop(): void;
}

/** A display on `stream`: live on a terminal (via cli-progress), plain lines otherwise. */
export async function trainDisplay(stream: NodeJS.WriteStream): Promise<TrainDisplay> {
  const columns = stream.isTTY === true ? () => stream.columns ?? 80 : () => undefined;
  let steps = 0;
  let started = 0;
  let current = 0;
  let metrics: StepMetrics = {};
  const line = (final: boolean, step: number, m: StepMetrics) =>
    stepLine({
      step,
      steps,
      elapsedMs: performance.now() - started,
      metrics: m,
      final,
      columns: columns(),
    });
  const start = (epoch: number, epochs: number, n: number) => {
    steps = n;
    current = 0;
    metrics = {};
    started = performance.now();
    stream.write(`Epoch ${epoch}/${epochs}\n`);
  };
  const summary = (m: StepMetrics) => stream.write(`${line(true, steps, { ...metrics, ...m })}\n`);
  if (stream.isTTY !== true) {
    return {
      startEpoch: start,
      step(_step, m) {
        metrics = m;
      },
      endEpoch: summary,
      stop() {},
    };
  }
  const { default: progress } = await import("cli-progress");
  const bar = new progress.SingleBar({
    stream,
    hideCursor: true,
    clearOnComplete: true,
    linewrap: null,
    fps: 10,
    format: () => line(false, current, metrics),
  });
  let live = false;
  const stop = () => {
    if (live) bar.stop();
    live = false;
  };
  return {
    startEpoch(epoch, epochs, n) {
      start(epoch, epochs, n);
      bar.start(n, 0);
      live = true;
    },
    step(step, m) {
      current = step;
      metrics = m;
      bar.update(step);
    },
    endEpoch(m) {
      stop();
      summary(m);
    },
    stop,
  };
}
