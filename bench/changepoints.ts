import { DEFAULT_DETECTOR_OPTIONS, detectAcross, type DetectorOptions } from "../lib/analysis/changepoints";
import { studentTTwoSidedP } from "../lib/analysis/student-t";
import * as previous from "./baselines/edivisive";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../lib/local-clickhouse/launcher";
import { groupedBarSvg } from "./chart";
import { seededRandom } from "../lib/seed/random";
import { say, type Row, type SectionResult } from "./lib";

/**
 * Change points: lib/analysis/changepoints.ts (e-divisive + Welch t-test, Otava's
 * method) against today's "window vs window" (lib/analysis/queries.ts
 * modelChanges: the previous window's mean against the current one's, Welch
 * p < 0.05 and |Δ| ≥ 5 %), on one seeded corpus of series with planted changes,
 * scored side by side. No database: both are pure functions of the series.
 *
 * The corpus follows the patterns of Otava's own test generators: single steps up
 * and down (5–50 %), a regression and its fix a few runs later, noise CV 1–10 %,
 * 20–60 runs, occasional outliers (single spikes), a variance-only change, a slow
 * linear trend, and clean series. Planted changes sit at least EDGE runs from
 * either end. Today's method splits the series in two halves by time (previous
 * window, current window) and, when it fires, points at the boundary.
 */

const SIZES = [5, 10, 20, 30, 50] as const;
const CVS = [1, 3, 5, 10] as const;
/** Planted changes are at least this many runs from either end of a series. */
const EDGE = 3;
const OUTLIER_SHARE = 0.2;

type Kind = "step" | "two-step" | "clean" | "variance" | "trend";
interface Series {
  kind: Kind;
  cv: number;
  /** Planted step size in percent (absent for clean/variance/trend). */
  size?: number;
  planted: number[];
  values: number[];
}

const rng = seededRandom;

export function corpus(reps: number, clean: number, seed = 20261122): Series[] {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const series: Series[] = [];
  const make = (
    kind: Kind,
    cv: number,
    n: number,
    level: (i: number, base: number) => number,
    planted: number[],
    size?: number,
    sd?: (i: number) => number,
  ) => {
    const base = 50 + r() * 450;
    // Noise in proportion to the level (a constant CV), as benchmark timings have: a 50 % regression is noisier too.
    const values = Array.from({ length: n }, (_, i) => level(i, base) * (1 + gauss() * (sd ? sd(i) : cv / 100)));
    if (r() < OUTLIER_SHARE) {
      // One spike (mostly up, as latency spikes are) away from any planted change.
      let at = int(0, n - 1);
      while (planted.some((p) => Math.abs(p - at) <= 1)) at = int(0, n - 1);
      values[at] += (r() < 0.8 ? 1 : -1) * base * Math.max((6 * cv) / 100, 0.15) * (1 + r());
    }
    series.push({ kind, cv, size, planted, values });
  };
  for (const cv of CVS) {
    for (const size of SIZES) {
      for (let k = 0; k < reps; k++) {
        for (const sign of [1, -1]) {
          const n = int(20, 60);
          const at = int(EDGE, n - EDGE);
          make("step", cv, n, (i, b) => (i < at ? b : b * (1 + (sign * size) / 100)), [at], size);
        }
        // Regression then fix: up by size, back down 2–12 runs later... at least EDGE runs apart.
        const n = int(20, 60);
        const gap = int(EDGE, 12);
        const at = int(EDGE, n - EDGE - gap);
        make("two-step", cv, n, (i, b) => (i >= at && i < at + gap ? b * (1 + size / 100) : b), [at, at + gap], size);
      }
    }
    for (let k = 0; k < Math.ceil(clean / CVS.length); k++) make("clean", cv, int(20, 60), (_, b) => b, []);
    for (let k = 0; k < Math.ceil(reps / 2); k++) {
      const n = int(20, 60);
      const at = int(EDGE, n - EDGE);
      make(
        "variance",
        cv,
        n,
        (_, b) => b,
        [],
        undefined,
        (i) => ((i < at ? 1 : 3) * cv) / 100,
      );
      // A slow drift: 0.1–0.4 % a run, no single commit to blame.
      const slope = (0.1 + r() * 0.3) / 100;
      make("trend", cv, int(20, 60), (i, b) => b * (1 + slope * i), []);
    }
  }
  return series;
}

/** Today's method: previous half against current half, Welch p < 0.05 and |Δ| ≥ 5 %; reports the boundary. */
function windowVsWindow(values: number[]): { index: number; p: number }[] {
  const half = Math.floor(values.length / 2);
  const stats = (xs: number[]) => {
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    return { n: xs.length, mean, v: xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1) / xs.length };
  };
  const [a, b] = [stats(values.slice(0, half)), stats(values.slice(half))];
  const se2 = a.v + b.v;
  const p =
    se2 === 0
      ? a.mean === b.mean
        ? 1
        : 0
      : studentTTwoSidedP((b.mean - a.mean) / Math.sqrt(se2), (se2 * se2) / ((a.v * a.v) / (a.n - 1) + (b.v * b.v) / (b.n - 1)));
  return p < 0.05 && Math.abs((b.mean - a.mean) / a.mean) * 100 >= 5 ? [{ index: half, p }] : [];
}

interface Tally {
  planted: number;
  found: number;
  exact: number;
}
interface Score {
  byKind: Record<Kind, { series: number; flagged: number; detections: number }>;
  bySize: Record<string, Tally>;
  byCv: Record<string, Tally>;
  goal: Tally;
  all: Tally;
  detections: number;
  matched: number;
}
const pct = (a: number, b: number) => (b === 0 ? NaN : (100 * a) / b);
const show = (x: number) => (Number.isNaN(x) ? "n/a" : `${x.toFixed(x >= 99.95 || x < 10 ? 1 : 0)}%`);

/** Recall: a planted change with a detection within ±1 run (each detection matched once); exact: at the planted index. */
function score(series: Series[], detections: number[][]): Score {
  const tally = (): Tally => ({ planted: 0, found: 0, exact: 0 });
  const s: Score = {
    byKind: Object.fromEntries(
      (["step", "two-step", "clean", "variance", "trend"] as Kind[]).map((k) => [k, { series: 0, flagged: 0, detections: 0 }]),
    ) as Score["byKind"],
    bySize: Object.fromEntries(SIZES.map((x) => [String(x), tally()])),
    byCv: Object.fromEntries(CVS.map((x) => [String(x), tally()])),
    goal: tally(),
    all: tally(),
    detections: 0,
    matched: 0,
  };
  series.forEach((x, i) => {
    const found = detections[i];
    const kind = s.byKind[x.kind];
    kind.series++;
    kind.detections += found.length;
    if (found.length) kind.flagged++;
    if (x.kind === "variance" || x.kind === "trend") return; // no single planted mean change: reported apart
    s.detections += found.length;
    const used = new Set<number>();
    for (const p of x.planted) {
      // Exact match first, then the nearest within ±1.
      const j = [0, -1, 1].map((d) => found.indexOf(p + d)).find((j) => j >= 0 && !used.has(j));
      const hit = j !== undefined;
      if (hit) used.add(j);
      const exact = hit && found[j] === p;
      for (const t of [s.all, s.bySize[String(x.size)], s.byCv[String(x.cv)], ...(x.size! >= 10 && x.cv <= 3 ? [s.goal] : [])]) {
        t.planted++;
        if (hit) t.found++;
        if (exact) t.exact++;
      }
    }
    s.matched += used.size;
  });
  return s;
}

/** Today's detector over the corpus as one family (BH over series, Benjamini–Bogomolov inside): each series' step indices. */
export function runDetector(series: { values: number[] }[], options: DetectorOptions): number[][] {
  return detectAcross(series, options).series.map((d) => d.steps.map((c) => c.index));
}

/** The detector before this one (bench/baselines/edivisive.ts), BH over every candidate change as it did. */
export function runPreviousDetector(series: { values: number[] }[]): number[][] {
  const perSeries = series.map((x) => previous.detectChangePoints(x.values));
  const q = previous.benjaminiHochberg(perSeries.flat().map((c) => c.p_value));
  let k = 0;
  return perSeries.map((changes) => changes.filter(() => q[k++] <= previous.DEFAULT_DETECTOR_OPTIONS.alpha).map((c) => c.index));
}

interface Summary {
  recall: number;
  exact: number;
  goal_recall: number;
  goal_exact: number;
  precision: number;
  false_alarms_per_100_clean: number;
}
function summary(s: Score): Summary {
  return {
    recall: pct(s.all.found, s.all.planted),
    exact: pct(s.all.exact, s.all.planted),
    goal_recall: pct(s.goal.found, s.goal.planted),
    goal_exact: pct(s.goal.exact, s.goal.planted),
    precision: pct(s.matched, s.detections),
    false_alarms_per_100_clean: pct(s.byKind.clean.detections, s.byKind.clean.series),
  };
}

export async function changepointsSection(options: { reps: number; clean: number }): Promise<SectionResult> {
  const series = corpus(options.reps, options.clean);
  const count = (k: Kind) => series.filter((x) => x.kind === k).length;
  say(
    `changepoints: ${series.length} series (${count("step")} steps, ${count("two-step")} regression + fix, ${count("clean")} clean, ${count("variance")} variance-only, ${count("trend")} trends)`,
  );

  const t0 = performance.now();
  const detected = runDetector(series, DEFAULT_DETECTOR_OPTIONS);
  const detectorMs = performance.now() - t0;
  const windowed = series.map((x) => windowVsWindow(x.values).map((c) => c.index));
  const [detector, window] = [score(series, detected), score(series, windowed)];
  const [d, w] = [summary(detector), summary(window)];

  // The defaults against their neighbours, on the same corpus (why these values: see DEFAULT_DETECTOR_OPTIONS).
  const sweep: (Partial<DetectorOptions> & Summary)[] = [];
  for (const alpha of [0.01, 0.005, 0.002]) {
    for (const minRunsEachSide of [3, 4]) {
      for (const minChangePct of [0, 2, 5]) {
        const o = { ...DEFAULT_DETECTOR_OPTIONS, alpha, minRunsEachSide, minChangePct };
        sweep.push({ alpha, minRunsEachSide, minChangePct, ...summary(score(series, runDetector(series, o))) });
      }
    }
  }
  say(`changepoints: defaults and ${sweep.length} variants scored`);
  const before = summary(score(series, runPreviousDetector(series)));

  // Cost at the largest series Muse keeps per metric (500 runs, two changes).
  const r = rng(7);
  const long = Array.from({ length: 500 }, (_, i) => 100 * (i >= 200 && i < 320 ? 1.1 : 1) + (r() - 0.5) * 6);
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    detectAcross([{ values: long }]);
    times.push(performance.now() - t);
  }
  const n500Ms = times.sort((a, b) => a - b)[2];

  const goal = { recall: d.goal_recall >= 95, exact: d.goal_exact >= 90, false_alarms: d.false_alarms_per_100_clean <= 1 };
  const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
  const pair = (a: number, b: number) => `detector ${show(a)} / window ${show(b)}`;
  const rows: Row[] = [
    {
      section: "changepoints",
      measure: "recall ±1 run, steps ≥ 10 % at CV ≤ 3 %",
      value: pair(d.goal_recall, w.goal_recall),
      note: `goal ≥ 95 %: ${verdict(goal.recall)}`,
    },
    {
      section: "changepoints",
      measure: "exact commit, steps ≥ 10 % at CV ≤ 3 %",
      value: pair(d.goal_exact, w.goal_exact),
      note: `goal ≥ 90 %: ${verdict(goal.exact)}`,
    },
    {
      section: "changepoints",
      measure: "false alarms per 100 clean series",
      value: `detector ${d.false_alarms_per_100_clean.toFixed(2)} / window ${w.false_alarms_per_100_clean.toFixed(2)}`,
      note: `goal ≤ 1: ${verdict(goal.false_alarms)}; ${count("clean")} clean series, ${Math.round(OUTLIER_SHARE * 100)} % with an outlier`,
    },
    {
      section: "changepoints",
      measure: "the detector this one replaced (e-divisive + t-test): goal recall / exact / false alarms per 100 clean",
      value: `${show(before.goal_recall)} / ${show(before.goal_exact)} / ${before.false_alarms_per_100_clean.toFixed(2)}`,
    },
    { section: "changepoints", measure: "precision (detections within ±1 of a planted change)", value: pair(d.precision, w.precision) },
    {
      section: "changepoints",
      measure: "recall / exact, all planted changes",
      value: `detector ${show(d.recall)} / ${show(d.exact)}`,
      ratio: `window ${show(w.recall)} / ${show(w.exact)}`,
      note: `${detector.all.planted} planted changes`,
    },
    ...SIZES.map((size) => {
      const [a, b] = [detector.bySize[String(size)], window.bySize[String(size)]];
      return {
        section: "changepoints",
        measure: `recall / exact, ${size} % steps (all CVs)`,
        value: `detector ${show(pct(a.found, a.planted))} / ${show(pct(a.exact, a.planted))}`,
        ratio: `window ${show(pct(b.found, b.planted))} / ${show(pct(b.exact, b.planted))}`,
      };
    }),
    ...CVS.map((cv) => {
      const [a, b] = [detector.byCv[String(cv)], window.byCv[String(cv)]];
      return {
        section: "changepoints",
        measure: `recall / exact, CV ${cv} % (all sizes)`,
        value: `detector ${show(pct(a.found, a.planted))} / ${show(pct(a.exact, a.planted))}`,
        ratio: `window ${show(pct(b.found, b.planted))} / ${show(pct(b.exact, b.planted))}`,
      };
    }),
    {
      section: "changepoints",
      measure: "series flagged: variance-only change / slow trend",
      value: `detector ${show(pct(detector.byKind.variance.flagged, detector.byKind.variance.series))} / ${show(pct(detector.byKind.trend.flagged, detector.byKind.trend.series))}`,
      ratio: `window ${show(pct(window.byKind.variance.flagged, window.byKind.variance.series))} / ${show(pct(window.byKind.trend.flagged, window.byKind.trend.series))}`,
      note: "not mean steps: not scored",
    },
    {
      section: "changepoints",
      measure: "detector time",
      value: `${(detectorMs / series.length).toFixed(2)} ms a series (20–60 runs)`,
      ratio: `${n500Ms.toFixed(1)} ms at 500 runs`,
    },
  ];

  // The chart docs/change-points.md shows: recall by step size and by noise, both methods side by side.
  writeRecallCharts(detector, window);

  // The readable breakdown: recall (exact) for every size × CV cell, both methods.
  const grid = gridTable(series, detected, windowed);
  process.stdout.write(`\nchangepoints: recall ±1 (exact) by step size × noise CV — detector | window\n\n${grid.text}\n\n`);

  return {
    rows,
    details: {
      options: DEFAULT_DETECTOR_OPTIONS,
      corpus: {
        seed: 20261122,
        series: series.length,
        kinds: Object.fromEntries((["step", "two-step", "clean", "variance", "trend"] as Kind[]).map((k) => [k, count(k)])),
        planted_changes: detector.all.planted,
        edge_runs: EDGE,
        outlier_share: OUTLIER_SHARE,
        lengths: "20–60",
      },
      goals: { recall_ge_95_steps_ge_10_cv_le_3: goal.recall, exact_ge_90_steps_ge_10_cv_le_3: goal.exact, false_alarms_le_1_per_100_clean: goal.false_alarms },
      detector: { ...d, by_size: detector.bySize, by_cv: detector.byCv, by_kind: detector.byKind },
      window_vs_window: { ...w, by_size: window.bySize, by_cv: window.byCv, by_kind: window.byKind },
      grid: grid.cells,
      sweep,
      previous_detector: before,
      timing_ms: { per_series: detectorMs / series.length, n500: n500Ms },
    },
  };
}

function gridTable(series: Series[], det: number[][], win: number[][]): { text: string; cells: Record<string, unknown>[] } {
  const cells: Record<string, unknown>[] = [];
  const header = ["CV \\ step", ...SIZES.map((s) => `${s} %`)];
  const lines = CVS.map((cv) => [
    `${cv} %`,
    ...SIZES.map((size) => {
      const idx = series.map((_, i) => i).filter((i) => series[i].size === size && series[i].cv === cv);
      const [a, b] = [
        score(
          idx.map((i) => series[i]),
          idx.map((i) => det[i]),
        ).all,
        score(
          idx.map((i) => series[i]),
          idx.map((i) => win[i]),
        ).all,
      ];
      cells.push({
        cv,
        size,
        planted: a.planted,
        detector: { recall: pct(a.found, a.planted), exact: pct(a.exact, a.planted) },
        window: { recall: pct(b.found, b.planted), exact: pct(b.exact, b.planted) },
      });
      return `${show(pct(a.found, a.planted))} (${show(pct(a.exact, a.planted))}) | ${show(pct(b.found, b.planted))} (${show(pct(b.exact, b.planted))})`;
    }),
  ]);
  const all = [header, ...lines];
  const width = header.map((_, c) => Math.max(...all.map((l) => l[c].length)));
  const line = (l: string[]) => `| ${l.map((x, c) => x.padEnd(width[c])).join(" | ")} |`;
  return { text: [line(header), `|${width.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(line)].join("\n"), cells };
}

const CHART_SERIES = [
  { label: "change points (recall ±1 run)", color: "#2f6fb0" },
  { label: "change points (exact commit)", color: "#8fb8e0" },
  { label: "window vs window (recall)", color: "#c0504d" },
];

function writeRecallCharts(detector: Score, window: Score): void {
  const dir = path.join(projectRoot, "docs", "img");
  mkdirSync(dir, { recursive: true });
  const group = (label: string, a: Tally, b: Tally) => ({ label, values: [pct(a.found, a.planted), pct(a.exact, a.planted), pct(b.found, b.planted)] });
  writeFileSync(
    path.join(dir, "changepoints-by-size.svg"),
    groupedBarSvg({
      title: "Planted steps found, by step size (all noise levels)",
      series: CHART_SERIES,
      groups: SIZES.map((size) => group(`${size} %`, detector.bySize[String(size)], window.bySize[String(size)])),
      xLabel: "step size",
      yLabel: "% of planted changes",
      yMax: 100,
    }),
  );
  writeFileSync(
    path.join(dir, "changepoints-by-noise.svg"),
    groupedBarSvg({
      title: "Planted steps found, by noise (coefficient of variation, all sizes)",
      series: CHART_SERIES,
      groups: CVS.map((cv) => group(`CV ${cv} %`, detector.byCv[String(cv)], window.byCv[String(cv)])),
      xLabel: "noise",
      yLabel: "% of planted changes",
      yMax: 100,
    }),
  );
}
