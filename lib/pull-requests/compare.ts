import { z } from "zod";
import { CommitGraph } from "../attribution/graph";
import type { Db } from "../clickhouse/client";
import { loadCommitGraph } from "../clickhouse/queries/upstream-commits";
import { benjaminiHochberg } from "../analysis/changepoints";
import { HIGHER_IS_WORSE, MAIN_PULL_REQUEST, SERIES_METRICS, SERIES_SCALE, seriesId, seriesLabel, type SeriesKey, type SeriesMetric } from "../analysis/series";
import { studentTQuantileTwoSided, studentTTwoSidedP } from "../analysis/student-t";

/**
 * A pull request's benchmark runs against main's at the merge base (docs/reach.md "Pull requests").
 *
 * The pull request's runs at its head commit (`bench_runs.pull_request` = its number, sql/019) are grouped into
 * the same series as main's (benchmark configuration × metric, lib/analysis/series.ts). For each, the baseline is
 * main's last N runs (MUSE_PR_BASELINE_RUNS) at or before the merge base: the runs at the merge base's ancestors
 * by the commit graph when it is recorded (lib/attribution/graph.ts), else the runs whose commit is no newer than
 * the merge base, else — the merge base unknown — main's runs made before the pull request's first run.
 *
 * The test is a two-sample step, as the detector's: Welch's t-test per series (no equal-variance assumption; the
 * head's few runs and main's are independent), Benjamini–Hochberg across the pull request's series, so the false
 * discovery rate over a pull request stays at MUSE_PR_ALPHA. A series regressed when q ≤ alpha and it is at
 * least MUSE_PR_FAIL_PCT % worse (higher latency, memory or loss; lower throughput or accuracy).
 *
 * Verdict: failure if any series regressed; else neutral when a series has fewer than MUSE_PR_MIN_RUNS runs at
 * the head (or no main runs to compare with); else success.
 */

export interface PrCheckOptions {
  /** Main's runs per series at or before the merge base (MUSE_PR_BASELINE_RUNS). */
  baselineRuns: number;
  /** Benjamini–Hochberg q at or below which a change is significant (MUSE_PR_ALPHA). */
  alpha: number;
  /** Smallest worsening, in percent of the base mean, that fails the check (MUSE_PR_FAIL_PCT). */
  failPct: number;
  /** Runs of a series the head needs before it is judged (MUSE_PR_MIN_RUNS). */
  minRuns: number;
}

export const DEFAULT_PR_CHECK_OPTIONS: PrCheckOptions = Object.freeze({ baselineRuns: 10, alpha: 0.01, failPct: 5, minRuns: 3 });

export type SeriesVerdict = "regressed" | "improved" | "unchanged" | "too_few_runs" | "no_baseline";
export type PrConclusion = "success" | "neutral" | "failure";
/** How the baseline was placed: by the commit graph, by the merge base's commit time, or (merge base unknown) by run time. */
export type BaselineMethod = "graph" | "time" | "run_time";

export interface SeriesComparison {
  key: SeriesKey;
  series_id: string;
  label: string;
  n_base: number;
  n_head: number;
  mean_base: number | null;
  mean_head: number | null;
  /** (head − base) / |base| in percent; null when there is no base (or its mean is 0). */
  change_pct: number | null;
  /** 95 % interval of change_pct (Welch). */
  ci_low_pct: number | null;
  ci_high_pct: number | null;
  p_value: number | null;
  q_value: number | null;
  /** change_pct signed so that positive is worse for this metric. */
  worse_pct: number | null;
  verdict: SeriesVerdict;
}

export interface PrComparison {
  pull_request: number;
  head_sha: string;
  /** '' when it could not be found. */
  merge_base_sha: string;
  baseline_method: BaselineMethod;
  conclusion: PrConclusion;
  series: SeriesComparison[];
  options: PrCheckOptions;
}

// ---------------------------------------------------------------- statistics

export interface WelchResult {
  diff: number;
  se: number;
  df: number;
  p: number;
  /** 95 % interval of the difference of means (head − base). */
  ci: [number, number];
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const variance = (xs: readonly number[]) => {
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
};

/** Welch's two-sample t-test of head against base (each at least 2 values); two-sided p and the 95 % interval of the difference. */
export function welchTest(base: readonly number[], head: readonly number[], confidence = 0.95): WelchResult {
  if (base.length < 2 || head.length < 2) throw new RangeError("welchTest needs at least 2 values on each side");
  const diff = mean(head) - mean(base);
  const vb = variance(base) / base.length;
  const vh = variance(head) / head.length;
  const se = Math.sqrt(vb + vh);
  if (!(se > 0)) return { diff, se: 0, df: base.length + head.length - 2, p: diff === 0 ? 1 : 0, ci: [diff, diff] };
  const df = (vb + vh) ** 2 / (vb ** 2 / (base.length - 1) + vh ** 2 / (head.length - 1));
  const p = studentTTwoSidedP(diff / se, df);
  const half = studentTQuantileTwoSided(1 - confidence, df) * se;
  return { diff, se, df, p, ci: [diff - half, diff + half] };
}

export interface SeriesSamples {
  key: SeriesKey;
  base: number[];
  head: number[];
}

/** The per-series tests, the correction across them and the verdict: pure, from the samples. */
export function judge(
  samples: readonly SeriesSamples[],
  options: PrCheckOptions = DEFAULT_PR_CHECK_OPTIONS,
): { series: SeriesComparison[]; conclusion: PrConclusion } {
  const rows: SeriesComparison[] = samples.map(({ key, base, head }) => {
    const meanBase = base.length ? mean(base) : null;
    const meanHead = head.length ? mean(head) : null;
    const pct = (d: number) => (meanBase !== null && meanBase !== 0 ? (d / Math.abs(meanBase)) * 100 : null);
    const row: SeriesComparison = {
      key,
      series_id: seriesId(key),
      label: seriesLabel(key),
      n_base: base.length,
      n_head: head.length,
      mean_base: meanBase,
      mean_head: meanHead,
      change_pct: meanBase !== null && meanHead !== null ? pct(meanHead - meanBase) : null,
      ci_low_pct: null,
      ci_high_pct: null,
      p_value: null,
      q_value: null,
      worse_pct: null,
      verdict: head.length < options.minRuns ? "too_few_runs" : base.length < 2 ? "no_baseline" : "unchanged",
    };
    if (row.verdict === "unchanged") {
      const w = welchTest(base, head);
      row.p_value = w.p;
      row.ci_low_pct = pct(w.ci[0]);
      row.ci_high_pct = pct(w.ci[1]);
    }
    if (row.change_pct !== null) row.worse_pct = HIGHER_IS_WORSE[key.metric] ? row.change_pct : -row.change_pct;
    return row;
  });
  const tested = rows.filter((r) => r.p_value !== null);
  const q = benjaminiHochberg(tested.map((r) => r.p_value!));
  tested.forEach((r, i) => {
    r.q_value = q[i];
    if (q[i] > options.alpha || r.worse_pct === null) return;
    if (r.worse_pct >= options.failPct) r.verdict = "regressed";
    else if (r.worse_pct <= -options.failPct) r.verdict = "improved";
  });
  const conclusion: PrConclusion = rows.some((r) => r.verdict === "regressed")
    ? "failure"
    : rows.length === 0 || rows.some((r) => r.verdict === "too_few_runs" || r.verdict === "no_baseline")
      ? "neutral"
      : "success";
  return { series: rows, conclusion };
}

// ---------------------------------------------------------------- the runs

const num = z.union([z.number(), z.null(), z.nan()]).transform((v) => (v === null || Number.isNaN(v) ? null : v));
const runRow = z.object({
  benchmark_type: z.string(),
  model: z.string(),
  quant: z.string(),
  variant: z.string(),
  dataset: z.string(),
  device: z.string(),
  run_id: z.string(),
  run_ts: z.string(),
  commit_sha: z.string(),
  commit_ts: z.string(),
  latency_p95_ms: num,
  latency_mean_ms: num,
  tokens_per_sec: num,
  memory_peak_mb: num,
  latency_p99_ms: num,
  accuracy: num,
  loss: num,
});
type RunRow = z.infer<typeof runRow>;

const RUN_COLUMNS = `b.benchmark_type AS benchmark_type, b.model AS model, b.quant AS quant, b.variant AS variant, b.dataset AS dataset,
         b.device AS device, toString(b.run_id) AS run_id, toString(b.ts) AS run_ts, toString(b.commit_sha) AS commit_sha,
         toString(if(c.sha = '', b.ts, c.ts)) AS commit_ts, b.latency_p95_ms AS latency_p95_ms, b.latency_mean_ms AS latency_mean_ms,
         b.tokens_per_sec AS tokens_per_sec, b.memory_peak_mb AS memory_peak_mb, b.latency_p99_ms AS latency_p99_ms,
         b.accuracy AS accuracy, b.loss AS loss`;
const COMMITS_JOIN = `LEFT JOIN (SELECT toString(sha) AS sha, ts FROM upstream_commits FINAL WHERE repo = 'banterhearts') AS c
              ON toString(b.commit_sha) = c.sha`;

/** The pull request's runs at its head commit. */
const HEAD_RUNS_SQL = `
  SELECT ${RUN_COLUMNS}
    FROM (SELECT * FROM bench_runs FINAL WHERE pull_request = {pr:UInt32} AND commit_sha = {head:String}) AS b
    ${COMMITS_JOIN}
   ORDER BY b.ts, b.run_id`;

/** Main's runs of the given benchmark types and models (the exact configurations are matched after), newest first. */
const MAIN_RUNS_SQL = `
  SELECT ${RUN_COLUMNS}
    FROM (SELECT * FROM bench_runs FINAL
           WHERE pull_request = {main:UInt32} AND benchmark_type IN {types:Array(String)} AND model IN {models:Array(String)}
             AND ts >= {from:DateTime64(3, 'UTC')}) AS b
    ${COMMITS_JOIN}
   ORDER BY b.ts DESC, b.run_id DESC
   LIMIT {limit:UInt32}`;

const configKey = (r: Omit<SeriesKey, "metric">) => [r.benchmark_type, r.model, r.quant, r.variant, r.dataset, r.device].join("|");
const iso = (s: string) => new Date(s.includes("T") ? s : `${s.replace(" ", "T")}Z`).toISOString();

function valuesOf(run: RunRow, metric: SeriesMetric): number | null {
  const raw = run[metric];
  return raw === null || !Number.isFinite(raw) ? null : raw * (SERIES_SCALE[metric] ?? 1);
}

export interface CompareInput {
  pullRequest: number;
  headSha: string;
  /** The merge base with main, if known. */
  mergeBase?: string;
  options?: Partial<PrCheckOptions>;
  /** How far back main's runs and commits are read (default 365 days before the head's first run). */
  lookbackDays?: number;
}

/** Every commit reachable from `sha` in the graph (itself included). */
function ancestorsOf(graph: CommitGraph, sha: string): Set<string> {
  const seen = new Set<string>();
  const stack = [sha];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    const c = graph.get(s);
    if (c === undefined) continue;
    seen.add(s);
    stack.push(...c.parents);
  }
  return seen;
}

/** Reads the runs, places the baseline at the merge base and judges: the comparison of one pull request's head. */
export async function comparePullRequest(db: Db, input: CompareInput): Promise<PrComparison> {
  const options: PrCheckOptions = { ...DEFAULT_PR_CHECK_OPTIONS, ...input.options };
  const headSha = input.headSha.toLowerCase();
  const headRuns = await db.query(HEAD_RUNS_SQL, { pr: input.pullRequest, head: headSha }, runRow);
  const base = { pull_request: input.pullRequest, head_sha: headSha, merge_base_sha: input.mergeBase ?? "", options };
  if (headRuns.length === 0) return { ...base, baseline_method: "run_time", conclusion: "neutral", series: [] };

  const firstHeadRun = Math.min(...headRuns.map((r) => Date.parse(iso(r.run_ts))));
  const from = new Date(firstHeadRun - (input.lookbackDays ?? 365) * 86_400_000);
  const mainRuns = await db.query(
    MAIN_RUNS_SQL,
    {
      main: MAIN_PULL_REQUEST,
      types: [...new Set(headRuns.map((r) => r.benchmark_type))],
      models: [...new Set(headRuns.map((r) => r.model))],
      from,
      limit: 200_000,
    },
    runRow,
  );

  // Which of main's runs are at or before the merge base, and their order.
  let method: BaselineMethod = "run_time";
  let eligible: (r: RunRow) => boolean = (r) => Date.parse(iso(r.run_ts)) < firstHeadRun;
  let rank: (r: RunRow) => number = (r) => Date.parse(iso(r.commit_ts));
  if (input.mergeBase) {
    const graph = new CommitGraph(await loadCommitGraph(db, "banterhearts", from));
    const mergeBase = graph.get(input.mergeBase);
    if (mergeBase && graph.hasParents) {
      const ancestors = ancestorsOf(graph, mergeBase.sha);
      const order = graph.order(mergeBase.sha);
      method = "graph";
      eligible = (r) => ancestors.has(r.commit_sha);
      rank = (r) => order.get(r.commit_sha) ?? -1;
    } else {
      const at = mergeBase?.ts ?? mainRuns.find((r) => r.commit_sha === input.mergeBase)?.commit_ts;
      if (at !== undefined) {
        const limit = Date.parse(iso(at));
        method = "time";
        eligible = (r) => Date.parse(iso(r.commit_ts)) <= limit;
      }
    }
  }

  const byConfig = new Map<string, RunRow[]>();
  for (const r of mainRuns) {
    if (!eligible(r)) continue;
    const k = configKey(r);
    byConfig.set(k, [...(byConfig.get(k) ?? []), r]);
  }
  const headByConfig = new Map<string, RunRow[]>();
  for (const r of headRuns) headByConfig.set(configKey(r), [...(headByConfig.get(configKey(r)) ?? []), r]);

  const samples: SeriesSamples[] = [];
  for (const [k, runs] of [...headByConfig.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const { benchmark_type, model, quant, variant, dataset, device } = runs[0];
    // Oldest first by place in main's history, then by run time: the last N are the baseline.
    const mainOrdered = [...(byConfig.get(k) ?? [])].sort(
      (a, b) => rank(a) - rank(b) || Date.parse(iso(a.commit_ts)) - Date.parse(iso(b.commit_ts)) || Date.parse(iso(a.run_ts)) - Date.parse(iso(b.run_ts)),
    );
    for (const metric of SERIES_METRICS) {
      const head = runs.map((r) => valuesOf(r, metric)).filter((v): v is number => v !== null);
      if (head.length === 0) continue;
      const baseValues = mainOrdered
        .map((r) => valuesOf(r, metric))
        .filter((v): v is number => v !== null)
        .slice(-options.baselineRuns);
      samples.push({ key: { benchmark_type, model, quant, variant, dataset, device, metric }, base: baseValues, head });
    }
  }
  const judged = judge(samples, options);
  return { ...base, baseline_method: method, ...judged };
}
