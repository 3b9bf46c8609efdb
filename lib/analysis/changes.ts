import { v5 as uuidv5 } from "uuid";
import type { Db } from "../clickhouse/client";
import { benchChangeRow, type BenchChangeRow, type ChangeShape } from "../clickhouse/tables";
import {
  detectAcross,
  familyOptions,
  type DetectedDrift,
  type DetectedSpread,
  type DetectorOptions,
  type FamilyDetection,
  type FamilySeries,
  type SegmentStats,
} from "./changepoints";
import { detectSeriesInWorkers, type DetectionPoolOptions } from "./detection-workers";
import { speedSideAt, splitIndex, type SpeedSideCheck } from "./speed-side";
import { measuredCommit } from "../attribution/code-commits";
import { CommitGraph, commitsBetween, type GraphCommit } from "../attribution/graph";
import { HIGHER_IS_WORSE, METRIC_FLOORS, QUALITY_METRICS, seriesId, seriesLabel, type Series, type SeriesKey, type SeriesPoint } from "./series";
import { estimateWeeklyCycle, withoutWeeklyCycle, type CycleSeries, type WeeklyCycle } from "./weekly-cycle";

/**
 * What changed in the benchmarks, and because of which commit.
 *
 * 1. Every series (lib/analysis/series.ts) with at least 2 × minRunsEachSide
 *    runs goes through the change-point detector (changepoints.ts: a
 *    multiscale scan on normal scores with an AR(1) noise model, its p-value
 *    calibrated for the whole search), one calibrated p-value per series.
 * 2. The tested series form one family: Benjamini–Hochberg over all their
 *    p-values (significant or not) selects series at q ≤ alpha, and changes
 *    inside the selected ones are kept at alpha × selected / tested
 *    (Benjamini–Bogomolov). A change's q_value is its series' q-value.
 * 3. Attribution: a change sits between the last run before it and the first
 *    run after it; the commits of Banterhearts in (commit of the run before,
 *    commit of the run after] are the candidates — one commit when every
 *    commit has runs, as in Banterhearts' CI.
 * 4. Lifecycle: a regression is open until a later change of the same series,
 *    metric and shape goes the other way (fixed, by that commit); improvements
 *    are kept. Rows in `bench_changes`, keyed by series, metric, commit and shape.
 * 5. Shapes: besides steps, the detector's drifts (a slope: "p95 creeping up
 *    0.4 % a run") and spread changes (the noise deviation's ratio: "twice as
 *    noisy") are changes of their own shape. A drift's suspects are the
 *    commits over the runs its start could be at (its kink's location set);
 *    a drift whose stretch starts at the lookback's first
 *    run began before anything the detector saw and is attributed to no commit
 *    (previous_sha ''). A spread change is placed like a step. Up in a
 *    higher-is-worse metric is a regression; more noise is always one.
 */

export interface ChangeConfig extends DetectorOptions {
  /** Days of series history the detector looks at. */
  lookbackDays: number;
  /** Accuracy gates (docs/quality.md); default DEFAULT_ACCURACY_GATES. */
  gates?: AccuracyGates;
}

/**
 * Accuracy gates: per model, a quantization method's accuracy relative to the same run's `baseline` method must stay
 * at or above a fraction (MUSE_ACCURACY_GATE, per method MUSE_ACCURACY_GATES), as MLPerf Inference gates accuracy at
 * 99 % of the reference model.
 */
export interface AccuracyGates {
  /** The fraction every method is held to unless it has its own. */
  fraction: number;
  /** Per method (the report's method name: int4, int8, …). */
  methods: Record<string, number>;
}
export const DEFAULT_ACCURACY_GATES: AccuracyGates = { fraction: 0.99, methods: {} };
/** The variant name of a quantization report's unquantized reference (lib/ingest/reports/normalize.ts). */
export const BASELINE_VARIANT = "baseline";

export const gateFraction = (gates: AccuracyGates, method: string) => gates.methods[method] ?? gates.fraction;

/**
 * A method's accuracy against its baseline around one change of its accuracy series: the mean over each segment (the
 * detector's segments, between the change points kept) of accuracy / the same run's baseline accuracy.
 */
export interface GateCheck {
  /** The method (variant) and the baseline's quantization (the model's dtype, e.g. fp16). */
  method: string;
  baseline_quant: string;
  fraction: number;
  ratio_before: number;
  ratio_after: number;
  /** The change took the method from at or above its gate to below it. */
  breached: boolean;
}

export interface AttributedChange {
  change_id: string;
  key: SeriesKey;
  label: string;
  kind: "regression" | "improvement";
  change_pct: number;
  ci_pct: [number, number];
  p_value: number;
  q_value: number;
  before: SegmentStats;
  after: SegmentStats;
  deterministic: boolean;
  /** The code the first run after the change measured. */
  commit_sha: string;
  commit_ts: string;
  /** The code the last run before the change measured. */
  previous_sha: string;
  /** Code commits after previous_sha up to commit_sha: the suspects (none: no code changed between the runs). */
  candidates: string[];
  /** How the suspects were found: the git graph, or commit time when the graph is not known. */
  range_method: "graph" | "time";
  /** Accuracy changes of a quantization method that has a baseline: where it stands against its gate. */
  gate?: GateCheck;
  status: "open" | "fixed" | "kept";
  fixed_by_sha: string;
  fixed_ts: string | null;
  /**
   * Step (absent: a step, as every change was before shapes), drift or spread. For a drift, change_pct and ci_pct are
   * the change over its stretch (slope × (runs − 1)) and before/after the mean of its first and last minRunsEachSide
   * runs; for a spread change, change_pct is (ratio − 1) × 100 of the noise deviation and before/after the segments
   * around it.
   */
  shape?: ChangeShape;
  /** Drift: slope in % of the stretch's starting level per run, its interval, and the runs in the stretch. */
  drift?: { slope_pct_per_run: number; ci_pct_per_run: [number, number]; runs: number };
  /** Spread: the noise deviation after / before, with its interval. */
  spread?: { ratio: number; ci_ratio: [number, number] };
  /**
   * An accuracy regression's method's p95 series tested at this one split, between the family's changes
   * (speed-side.ts): a trade-off the search missed is still told at its own level, and one it found is told by the
   * level around the commit rather than by segments that may span a release the speed series missed.
   */
  speed_side?: SpeedSideCheck & {
    label: string;
    /** Bonferroni over the `tested` series of this method asked at this commit (one per model). */
    p_adjusted: number;
    tested: number;
  };
}

/** A change's shape; changes built without one are steps. */
export const shapeOf = (c: Pick<AttributedChange, "shape">): ChangeShape => c.shape ?? "step";

/** A drift that starts at the first run the detector looked at: where it began is unknown, so no commit is its suspect. */
export const sinceLookbackStart = (c: Pick<AttributedChange, "shape" | "previous_sha">) => shapeOf(c) === "drift" && c.previous_sha === "";

export interface DetectionResult {
  changes: AttributedChange[];
  /** Series with enough runs to be tested. */
  series_tested: number;
  /** Series seen at all. */
  series_total: number;
  /** Steps found in all series before the correction across series. */
  candidates: number;
  /** Series Benjamini–Hochberg selected (q ≤ alpha). */
  series_selected: number;
  /**
   * The weekly load cycle (weekly-cycle.ts): device × metric groups estimated, those whose cycle was taken out before
   * detection, and the largest swing taken out (%, 0 when none). Absent where the council's path did not run.
   */
  weekly_cycles?: { groups: number; removed: number; largest_swing_pct: number };
  /** Series with a cycle of their own, taken out before their scans (season.ts), and the periods found (runs). */
  seasons?: { series: number; periods: number[] };
}

/** What the commits between two runs are, and which of them can change performance. */
export interface Attribution {
  graph: CommitGraph;
  isCode: (commit: Pick<GraphCommit, "files">) => boolean;
}

/** Attribution by commit time only, every commit counted as code (callers that know no graph: benches, old tests). */
export function timeOnlyAttribution(commits: { sha: string; ts: string }[]): Attribution {
  return { graph: new CommitGraph(commits.map((c) => ({ sha: c.sha, ts: c.ts, parents: [], files: [], message: "", author: "" }))), isCode: () => true };
}

const CHANGE_NAMESPACE = "b7c4e2a1-93d5-4f6e-8a1b-2c3d4e5f6a7b";

/** A step keeps the id it had before shapes; a drift and a spread change at the same commit are changes of their own. */
export function changeId(key: SeriesKey, commitSha: string, shape: ChangeShape = "step"): string {
  return uuidv5(`${seriesId(key)}@${commitSha}${shape === "step" ? "" : `#${shape}`}`, CHANGE_NAMESPACE);
}

/** Mean and sample deviation of values[from, to). */
function stats(values: readonly number[], from: number, to: number): SegmentStats {
  const part = values.slice(Math.max(0, from), Math.max(0, to));
  const n = part.length;
  if (n === 0) return { n: 0, mean: 0, stdev: 0 };
  const mean = part.reduce((a, b) => a + b, 0) / n;
  const ss = part.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { n, mean, stdev: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

/**
 * Each run as the code it measured: a run recorded under a bot's or a docs commit measured the newest code commit
 * before it. Runs are put in the order of the history (first-parent position of that code, then run time), not of
 * commit clocks, and bisection runs (answers to bench_requests) are left to lib/bisection: they were measured on
 * another day's machine, against their own re-runs of the range's ends.
 */
export function measuredSeries(series: Series[], attribution: Attribution): Series[] {
  const { graph, isCode } = attribution;
  const measured = new Map<string, string>();
  const measure = (sha: string) => {
    let m = measured.get(sha);
    if (m === undefined) measured.set(sha, (m = measuredCommit(graph, sha, isCode)));
    return m;
  };
  const order = graph.hasParents ? graph.order(graph.tip() ?? "") : new Map<string, number>();
  const position = (p: SeriesPoint) => order.get(p.commit_sha);
  const compare = (a: SeriesPoint, b: SeriesPoint) => {
    const [pa, pb] = [position(a), position(b)];
    if (pa !== undefined && pb !== undefined && pa !== pb) return pa - pb;
    if (pa === undefined || pb === undefined) {
      const t = instantOrder(a.commit_ts, b.commit_ts);
      if (t !== 0) return t;
    }
    return instantOrder(a.run_ts, b.run_ts) || a.run_id.localeCompare(b.run_id);
  };
  return series.map((s) => {
    // The series itself whenever nothing changes: a series loadSeries read makes its points when asked (views of its
    // columns, copied field by field, never spread), and a council run over millions of runs must not hold them all.
    const own = s.points;
    const kept = own.some((p) => p.request_id) ? own.filter((p) => !p.request_id) : own;
    let points = kept;
    for (let i = 0; i < kept.length; i++) {
      const p = kept[i];
      const ownSha = p.commit_sha;
      const ownTs = p.commit_ts;
      const sha = measure(ownSha);
      const commitTs = graph.get(sha)?.ts ?? ownTs;
      if (sha === ownSha && commitTs === ownTs) continue;
      if (points === own) points = points.slice();
      points[i] = { run_id: p.run_id, run_ts: p.run_ts, commit_sha: sha, commit_ts: commitTs, value: p.value, request_id: p.request_id };
    }
    // Sorted only when out of order (what sort would find on its first pass), never the input's own array in place.
    for (let i = 1; i < points.length; i++) {
      if (compare(points[i - 1], points[i]) > 0) {
        points = (points === own ? points.slice() : points).sort(compare);
        break;
      }
    }
    return points === own ? s : { key: s.key, points };
  });
}

/**
 * The order of two instants (negative, 0, positive): as text when both are ISO-8601 in the one form ClickHouse and
 * toISOString give ("2025-01-01T00:00:00.000Z", whose text order is time order), else as parsed. Date.parse is
 * most of the cost of ordering millions of runs.
 */
function instantOrder(a: string, b: string): number {
  if (a.length === 24 && b.length === 24 && a[10] === "T" && b[10] === "T" && a[23] === "Z" && b[23] === "Z") return a < b ? -1 : a > b ? 1 : 0;
  return Date.parse(a) - Date.parse(b);
}

/** Runs the detector over every series, corrects across them, attributes to code commits and links fixes. */
export function detectChanges(input: Series[], attribution: Attribution, config: ChangeConfig): DetectionResult {
  const series = measuredSeries(input, attribution);
  const { family, cycles } = familyOf(series);
  return { ...attributed(series, detectAcross(family, config), attribution, config), weekly_cycles: cycles };
}

/**
 * detectChanges with each series' first detection spread over worker threads (detection-workers.ts): the same
 * result, in about half the time on two cores for a family of millions of runs. What the council runs.
 */
export async function detectChangesInWorkers(
  input: Series[],
  attribution: Attribution,
  config: ChangeConfig,
  pool?: DetectionPoolOptions,
): Promise<DetectionResult> {
  const series = measuredSeries(input, attribution);
  const { family, cycles } = familyOf(series);
  const options = familyOptions(family, config);
  const alone = await detectSeriesInWorkers(
    family.map((s, i) => ({ values: s.values, groups: s.groups, options: options[i] })),
    pool,
  );
  return { ...attributed(series, detectAcross(family, config, alone), attribution, config), weekly_cycles: cycles };
}

/**
 * The detector's view of each series. Repeats (runs of one commit measured on one day) sit together: a change falls
 * only between measurement occasions. Quality metrics are judged by an absolute floor (METRIC_FLOORS) after
 * detection, not by the relative minChangePct.
 */
function familyOf(series: Series[]): { family: FamilySeries[]; cycles: DetectionResult["weekly_cycles"] } {
  const read = series.map((s) => {
    const points = s.points;
    return { values: points.map((p) => p.value), days: Int32Array.from(points, (p) => utcDay(p.run_ts)), groups: occasionGroups(points) };
  });
  const { cycles, groups } = weeklyCycles(series, read);
  const family = series.map((s, k) => {
    const cycle = cycles.get(cycleGroup(s.key));
    return {
      values: cycle ? withoutWeeklyCycle(read[k].values, read[k].days, cycle) : read[k].values,
      groups: read[k].groups,
      ...(QUALITY_METRICS.includes(s.key.metric) ? { minChangePct: 0 } : {}),
    };
  });
  return { family, cycles: { groups, removed: cycles.size, largest_swing_pct: Math.max(0, ...[...cycles.values()].map((c) => c.swingPct)) } };
}

/**
 * The weekly load cycle is the machines': one per device and metric (latencies rise on a busy day, tokens/s falls),
 * estimated across that group's series (weekly-cycle.ts). Quality metrics do not feel load and keep their values.
 */
const cycleGroup = (key: SeriesKey) => `${key.device}\u0000${key.metric}`;

function weeklyCycles(series: Series[], read: CycleSeries[]): { cycles: Map<string, WeeklyCycle>; groups: number } {
  const groups = new Map<string, CycleSeries[]>();
  series.forEach((s, k) => {
    if (QUALITY_METRICS.includes(s.key.metric)) return;
    const g = cycleGroup(s.key);
    const members = groups.get(g);
    if (members) members.push(read[k]);
    else groups.set(g, [read[k]]);
  });
  const cycles = new Map<string, WeeklyCycle>();
  for (const [g, members] of groups) {
    const cycle = estimateWeeklyCycle(members);
    if (cycle) cycles.set(g, cycle);
  }
  return { cycles, groups: groups.size };
}

const dayNumbers = new Map<string, number>();
/** Days since 1970-01-01 of an ISO instant's UTC date (cached per date: a council run reads millions of runs over a few hundred days). */
function utcDay(iso: string): number {
  const date = iso.slice(0, 10);
  let day = dayNumbers.get(date);
  if (day === undefined) {
    day = Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
    if (dayNumbers.size < 100_000) dayNumbers.set(date, day);
  }
  return day;
}

/** A family's detections as attributed changes: floors, accuracy gates, suspects between commits, fixes linked. */
function attributed(series: Series[], family: FamilyDetection, attribution: Attribution, config: ChangeConfig): DetectionResult {
  const { graph, isCode } = attribution;
  const byTime = graph.commits().sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  const floorOf = (metric: SeriesKey["metric"]) => METRIC_FLOORS[metric];
  const keptSteps = family.series.map((d, k) => {
    const floor = floorOf(series[k].key.metric);
    // A step is told in percent of its level before; a level not distinguishable from 0 has no percentage to tell
    // (Fieller's interval is unbounded), though the detector reports the step by its difference.
    const tellable = d.steps.filter((c) => !(c.ci_pct[0] === -Infinity && c.ci_pct[1] === Infinity));
    return floor === undefined ? tellable : tellable.filter((c) => Math.abs(c.after.mean - c.before.mean) >= floor);
  });
  const gates = config.gates ?? DEFAULT_ACCURACY_GATES;
  const baselines = new Map<string, Series>();
  for (const s of series) if (s.key.metric === "accuracy" && s.key.variant === BASELINE_VARIANT) baselines.set(baselineKey(s.key), s);
  const ranges = new Map<string, { candidates: string[]; method: "graph" | "time" }>();
  const rangeOf = (from: string, to: string, fromTs: string, toTs: string) => {
    const key = `${from}..${to}`;
    let range = ranges.get(key);
    if (!range) {
      if (from === to) range = { candidates: [], method: "graph" };
      else {
        const [t0, t1] = [Date.parse(fromTs), Date.parse(toTs)];
        const timed = byTime.filter((c) => Date.parse(c.ts) > t0 && Date.parse(c.ts) <= t1);
        const between = commitsBetween(graph, from, to, timed);
        // A merge stands for the commits it brought: bisection goes into them when the merge itself is blamed.
        range = { candidates: between.commits.filter(isCode).map((c) => c.sha), method: between.method };
        if (range.candidates.length === 0 && between.method === "time" && !graph.get(to)) range.candidates = [to];
      }
      ranges.set(key, range);
    }
    return range;
  };
  const kept: AttributedChange[] = [];
  family.series.forEach((d, k) => {
    const s = series[k];
    const steps = keptSteps[k];
    const baseline = s.key.metric === "accuracy" && s.key.variant !== BASELINE_VARIANT ? baselines.get(baselineKey(s.key)) : undefined;
    for (const [j, c] of steps.entries()) {
      const before = s.points[c.index - 1];
      const after = s.points[c.index];
      const range = rangeOf(before.commit_sha, after.commit_sha, before.commit_ts, after.commit_ts);
      const worse = HIGHER_IS_WORSE[s.key.metric] ? c.change_pct > 0 : c.change_pct < 0;
      kept.push({
        change_id: changeId(s.key, after.commit_sha),
        key: s.key,
        label: seriesLabel(s.key),
        kind: worse ? "regression" : "improvement",
        change_pct: c.change_pct,
        ci_pct: c.ci_pct,
        p_value: c.p_value,
        q_value: d.q_value,
        before: c.before,
        after: c.after,
        deterministic: c.deterministic,
        commit_sha: after.commit_sha,
        commit_ts: after.commit_ts,
        previous_sha: before.commit_sha,
        candidates: range.candidates,
        range_method: range.method,
        ...(baseline ? { gate: gateCheck(s, baseline, steps, j, gates) } : {}),
        status: worse ? "open" : "kept",
        fixed_by_sha: "",
        fixed_ts: null,
      });
    }
    kept.push(...driftsAndSpreads(s, d, config, rangeOf));
  });
  addSpeedSides(kept, series, family);
  linkFixes(kept);
  const periods = family.series.flatMap((d) => (d.season ? [d.season.period] : []));
  return {
    changes: kept,
    series_tested: family.tested,
    series_total: series.length,
    candidates: family.candidates,
    series_selected: family.selected,
    seasons: { series: periods.length, periods: [...new Set(periods)].sort((a, b) => a - b) },
  };
}

/**
 * Each accuracy step that made a quantization method worse, with no speed change of that method detected at its
 * commit, asks the method's p95 series one question at that commit (speed-side.ts): the answer goes on the change,
 * and lifecycle/events.ts tells a significant speed-up beside it as one trade-off.
 */
/** Latency-side metrics: a change in one of these is the speed side of a trade-off. */
export const SPEED_METRICS: readonly SeriesKey["metric"][] = ["latency_p95_ms", "latency_mean_ms", "latency_p99_ms", "tokens_per_sec"];

function addSpeedSides(kept: AttributedChange[], series: Series[], family: FamilyDetection): void {
  const index = new Map(series.map((s, k) => [seriesId(s.key), k]));
  // Where anything in the family moved: the level around a commit is measured between its neighbouring changes, so a
  // release the speed series' own search missed does not leak into either side.
  const moved = new Map(kept.filter((c) => shapeOf(c) === "step").map((c) => [c.commit_sha, c.commit_ts]));
  const asked: AttributedChange[] = [];
  for (const c of kept) {
    // Asked whether or not the search found a speed change there: a speed series' own segments can span a release it
    // missed (a −20 % step outside the window doubles as +48 % tokens/s), the level between the family's changes not.
    if (c.key.metric !== "accuracy" || c.kind !== "regression" || shapeOf(c) !== "step") continue;
    const k = index.get(seriesId({ ...c.key, metric: "latency_p95_ms" }));
    if (k === undefined) continue;
    const boundaries = [
      ...family.series[k].steps.map((x) => x.index),
      ...[...moved].filter(([sha]) => sha !== c.commit_sha).map(([sha, ts]) => splitIndex(series[k], { commitSha: sha, commitTs: ts })),
    ].filter((i) => i > 0);
    const check = speedSideAt(series[k], boundaries, { commitSha: c.commit_sha, commitTs: c.commit_ts }, { phi: family.series[k].noise.phi });
    if (check) {
      c.speed_side = { ...check, label: seriesLabel(series[k].key), p_adjusted: check.p_value, tested: 1 };
      asked.push(c);
    }
  }
  // One method at one commit asked in several models: Bonferroni over them, since the story picks the clearest.
  const groups = new Map<string, AttributedChange[]>();
  for (const c of asked) {
    const g = `${c.commit_sha}|${c.key.benchmark_type}|${c.key.variant}|${c.key.quant}`;
    groups.set(g, [...(groups.get(g) ?? []), c]);
  }
  for (const members of groups.values())
    for (const c of members) c.speed_side = { ...c.speed_side!, p_adjusted: Math.min(1, c.speed_side!.p_value * members.length), tested: members.length };
}

type RangeOf = (from: string, to: string, fromTs: string, toTs: string) => { candidates: string[]; method: "graph" | "time" };

/**
 * A series' drifts and spread changes as changes of their own shape. A drift's range covers every run its start could
 * be at (its kink's 95 % location set, changepoints.ts): from the run before the set's first (previous_sha) to its
 * last (commit_sha), its suspects the code commits between — one when the creep starts sharply, a range when it eases
 * in. A stretch that starts at the series' first run began before the lookback and has none (previous_sha ''). A
 * spread change is placed like a step.
 * Quality metrics keep their absolute floor: a drift whose change over its stretch is below it is not reported.
 */
function driftsAndSpreads(
  s: Series,
  d: { q_value: number; drifts: DetectedDrift[]; spreads: DetectedSpread[] },
  config: ChangeConfig,
  rangeOf: RangeOf,
): AttributedChange[] {
  const values = s.points.map((p) => p.value);
  const n = values.length;
  const higherIsWorse = HIGHER_IS_WORSE[s.key.metric];
  const floor = METRIC_FLOORS[s.key.metric];
  const out: AttributedChange[] = [];
  // A change's commit range: from the run before `from` (exclusive) to run `to` (inclusive; the change's commit), its
  // suspects the code commits between — one run's worth for a spread change, for a drift every run its start could be
  // at (its kink's location set), so a start the data cannot pin to one run is not pinned on one commit.
  const place = (from: number, to = from) => {
    const last = s.points[to];
    const prev = from > 0 ? s.points[from - 1] : undefined;
    const range = prev ? rangeOf(prev.commit_sha, last.commit_sha, prev.commit_ts, last.commit_ts) : { candidates: [], method: "graph" as const };
    return { last, previous_sha: prev?.commit_sha ?? "", range };
  };
  const common = (worse: boolean) => ({ status: worse ? ("open" as const) : ("kept" as const), fixed_by_sha: "", fixed_ts: null, deterministic: false });
  for (const dr of d.drifts) {
    if (!(dr.index >= 0 && dr.index < n && dr.n >= 2) || !Number.isFinite(dr.slope_pct_per_run)) continue;
    const { last, previous_sha, range } = place(...dr.start_runs);
    const span = dr.n - 1;
    const m = Math.min(config.minRunsEachSide, Math.floor(dr.n / 2));
    const before = stats(values, dr.index, dr.index + m);
    const after = stats(values, dr.index + dr.n - m, dr.index + dr.n);
    const change = dr.slope_pct_per_run * span;
    if (floor !== undefined && (Math.abs(change) / 100) * Math.abs(before.mean) < floor) continue;
    const worse = higherIsWorse ? dr.slope_pct_per_run > 0 : dr.slope_pct_per_run < 0;
    out.push({
      change_id: changeId(s.key, last.commit_sha, "drift"),
      key: s.key,
      label: seriesLabel(s.key),
      kind: worse ? "regression" : "improvement",
      change_pct: change,
      ci_pct: [dr.ci_pct_per_run[0] * span, dr.ci_pct_per_run[1] * span],
      p_value: dr.p_value,
      q_value: d.q_value,
      before,
      after,
      commit_sha: last.commit_sha,
      commit_ts: last.commit_ts,
      previous_sha,
      candidates: range.candidates,
      range_method: range.method,
      ...common(worse),
      shape: "drift",
      drift: { slope_pct_per_run: dr.slope_pct_per_run, ci_pct_per_run: dr.ci_pct_per_run, runs: dr.n },
    });
  }
  // A spread from exactly no noise has no finite ratio to state: not told (deterministic benchmarks).
  const spreads = [...d.spreads].filter((sp) => sp.index >= 1 && sp.index < n && Number.isFinite(sp.ratio) && sp.ratio > 0).sort((a, b) => a.index - b.index);
  spreads.forEach((sp, j) => {
    const { last, previous_sha, range } = place(sp.index);
    const worse = sp.ratio > 1;
    out.push({
      change_id: changeId(s.key, last.commit_sha, "spread"),
      key: s.key,
      label: seriesLabel(s.key),
      kind: worse ? "regression" : "improvement",
      change_pct: (sp.ratio - 1) * 100,
      ci_pct: [(sp.ci_ratio[0] - 1) * 100, (sp.ci_ratio[1] - 1) * 100],
      p_value: sp.p_value,
      q_value: d.q_value,
      before: stats(values, j > 0 ? spreads[j - 1].index : 0, sp.index),
      after: stats(values, sp.index, j + 1 < spreads.length ? spreads[j + 1].index : n),
      commit_sha: last.commit_sha,
      commit_ts: last.commit_ts,
      previous_sha,
      candidates: range.candidates,
      range_method: range.method,
      ...common(worse),
      shape: "spread",
      spread: { ratio: sp.ratio, ci_ratio: sp.ci_ratio },
    });
  });
  return out;
}

/** The configuration a quantization method's baseline shares with it (all but the method). */
const baselineKey = (k: SeriesKey) => [k.benchmark_type, k.model, k.dataset, k.device].join("|");

/**
 * Where a method stands against its gate around its accuracy series' change `j`: the mean ratio to the same run's
 * baseline over the segment before (from the previous kept change) and the segment after (to the next one).
 */
export function gateCheck(s: Series, baseline: Series, steps: readonly { index: number }[], j: number, gates: AccuracyGates): GateCheck | undefined {
  const base = new Map(baseline.points.map((p) => [p.run_id, p.value]));
  const ratios = s.points.map((p) => {
    const b = base.get(p.run_id);
    return b !== undefined && b > 0 ? p.value / b : null;
  });
  const segmentMean = (from: number, to: number) => {
    const present = ratios.slice(from, to).filter((r): r is number => r !== null);
    return present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
  };
  const from = j > 0 ? steps[j - 1].index : 0;
  const to = j + 1 < steps.length ? steps[j + 1].index : s.points.length;
  const before = segmentMean(from, steps[j].index);
  const after = segmentMean(steps[j].index, to);
  if (before === null || after === null) return undefined;
  const fraction = gateFraction(gates, s.key.variant);
  return {
    method: s.key.variant,
    baseline_quant: baseline.key.quant,
    fraction,
    ratio_before: before,
    ratio_after: after,
    breached: before >= fraction && after < fraction,
  };
}

/**
 * The measurement occasion of each run, in run order: consecutive runs of one commit on one UTC day share one.
 * The same commit measured on another night is another occasion (the machine, not the code, may have changed).
 */
function occasionGroups(points: Series["points"]): number[] {
  // Each run's occasion once (a council run tells millions apart), into an array of the series' own length.
  let previous = "";
  let group = -1;
  return points.map((p, i) => {
    const occasion = `${p.commit_sha}@${p.run_ts.slice(0, 10)}`;
    if (i === 0 || occasion !== previous) group++;
    previous = occasion;
    return group;
  });
}

/** A regression is fixed by the next change of the same series, metric and shape that goes the other way. */
export function linkFixes(changes: AttributedChange[]): void {
  const bySeries = new Map<string, AttributedChange[]>();
  for (const c of changes) {
    const id = `${seriesId(c.key)}#${shapeOf(c)}`;
    bySeries.set(id, [...(bySeries.get(id) ?? []), c]);
  }
  for (const list of bySeries.values()) {
    list.sort((a, b) => Date.parse(a.commit_ts) - Date.parse(b.commit_ts));
    list.forEach((c, i) => {
      if (c.kind !== "regression") return;
      const fix = list.slice(i + 1).find((later) => later.kind === "improvement");
      if (fix) {
        c.status = "fixed";
        c.fixed_by_sha = fix.commit_sha;
        c.fixed_ts = fix.commit_ts;
      }
    });
  }
}

// ---------------------------------------------------------------- storage

/**
 * Writes the run's changes: a change seen before keeps its first detection
 * time; a stored change of the lookback that this run no longer finds is
 * withdrawn (newer data moved or dissolved it). Idempotent: the same run
 * writes the same versions.
 */
export async function storeChanges(db: Db, result: DetectionResult, options: { now: Date; runId: string; lookbackFrom: Date }): Promise<BenchChangeRow[]> {
  // One read of the lookback's stored changes: their first detection times, and the rows to withdraw.
  const existing = await db.query(
    `SELECT * FROM bench_changes FINAL WHERE commit_ts >= {from:DateTime64(3, 'UTC')}`,
    { from: options.lookbackFrom },
    benchChangeRow,
  );
  const firstSeen = new Map(existing.map((e) => [e.change_id, e.detected_at]));
  const now = options.now.toISOString();
  const rows: BenchChangeRow[] = result.changes.map((c) =>
    benchChangeRow.parse({
      change_id: c.change_id,
      detected_at: firstSeen.get(c.change_id) ?? now,
      updated_at: now,
      run_id: options.runId,
      ...c.key,
      commit_sha: c.commit_sha,
      commit_ts: c.commit_ts,
      commit_candidates: c.candidates,
      previous_sha: c.previous_sha,
      kind: c.kind,
      change_pct: c.change_pct,
      ci_low_pct: finite(c.ci_pct[0]),
      ci_high_pct: finite(c.ci_pct[1]),
      p_value: c.p_value,
      q_value: c.q_value,
      mean_before: c.before.mean,
      mean_after: c.after.mean,
      n_before: c.before.n,
      n_after: c.after.n,
      status: c.status,
      fixed_by_sha: c.fixed_by_sha,
      fixed_ts: c.fixed_ts,
      ...shapeFields(c),
    }),
  );
  const found = new Set(rows.map((r) => r.change_id));
  const withdrawn = existing.filter((e) => !found.has(e.change_id) && e.status !== "withdrawn");
  rows.push(...withdrawn.map((r) => ({ ...r, status: "withdrawn" as const, updated_at: now, run_id: options.runId })));
  if (rows.length > 0) await db.insert("bench_changes", rows);
  return rows;
}

/** The shape columns of a change, or of the event it leads (bench_changes and bench_events, sql/020). */
export type ShapeFields = Pick<
  BenchChangeRow,
  "shape" | "slope_pct_per_run" | "slope_ci_low" | "slope_ci_high" | "drift_runs" | "spread_ratio" | "spread_ci_low" | "spread_ci_high"
>;

export function shapeFields(c: AttributedChange): ShapeFields {
  return {
    shape: shapeOf(c),
    slope_pct_per_run: c.drift ? finite(c.drift.slope_pct_per_run) : null,
    slope_ci_low: c.drift ? finite(c.drift.ci_pct_per_run[0]) : null,
    slope_ci_high: c.drift ? finite(c.drift.ci_pct_per_run[1]) : null,
    drift_runs: c.drift?.runs ?? 0,
    spread_ratio: c.spread ? finite(c.spread.ratio) : null,
    spread_ci_low: c.spread ? finite(c.spread.ci_ratio[0]) : null,
    spread_ci_high: c.spread ? finite(c.spread.ci_ratio[1]) : null,
  };
}

/** ClickHouse Float64 has no infinity in JSON: an unbounded interval end is stored as ±1e308. */
function finite(v: number): number {
  return Number.isFinite(v) ? v : Math.sign(v) * 1e308;
}

/** Open regressions (latest version of each change), newest first: for the status page, the API, Datadog. */
export async function openRegressions(db: Db, limit = 50): Promise<BenchChangeRow[]> {
  return db.query(
    `SELECT * FROM bench_changes FINAL WHERE status = 'open' ORDER BY commit_ts DESC, abs(change_pct) DESC LIMIT {limit:UInt32}`,
    { limit },
    benchChangeRow,
  );
}
