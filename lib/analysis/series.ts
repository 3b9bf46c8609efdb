import { z } from "zod";
import type { Db } from "../clickhouse/client";

/**
 * Benchmark series: one per (benchmark type, model, quant, variant, dataset,
 * device) and metric, its runs ordered by the upstream commit each belongs to
 * (the commit's time; runs of one commit by their own time). Report variants
 * (datasets, devices, backends) are never pooled: each is its own series, as
 * Otava and Bencher keep one series per benchmark and metric.
 */

export const SERIES_METRICS = ["latency_p95_ms", "latency_mean_ms", "tokens_per_sec", "memory_peak_mb", "latency_p99_ms", "accuracy", "loss"] as const;
export type SeriesMetric = (typeof SERIES_METRICS)[number];

/** Higher is worse for latency, memory and loss; better for throughput and accuracy. */
export const HIGHER_IS_WORSE: Record<SeriesMetric, boolean> = {
  latency_p95_ms: true,
  latency_mean_ms: true,
  tokens_per_sec: false,
  memory_peak_mb: true,
  latency_p99_ms: true,
  accuracy: false,
  loss: true,
};

/**
 * The unit each metric's values are in (a fact unit, lib/episode/fact.ts). Accuracy is stored as the report's
 * fraction (0–1) and read into its series in points (× 100: 0.712 is 71.2 points), so a change of accuracy is said in
 * points; loss is a plain number (the report's own scale).
 */
export const METRIC_UNITS = {
  latency_p95_ms: "ms",
  latency_mean_ms: "ms",
  tokens_per_sec: "tokens/s",
  memory_peak_mb: "mb",
  latency_p99_ms: "ms",
  accuracy: "points",
  loss: "score",
} as const;

/** Quality metrics: their changes are judged by an absolute floor (METRIC_FLOORS), not the relative minChangePct. */
export const QUALITY_METRICS: readonly SeriesMetric[] = ["accuracy", "loss"];

/**
 * The noise floor of a metric in its own unit: a change smaller than this is not reported, however significant. The
 * detector's `minChangePct` is relative, which suits latency but not accuracy: 2 % of 72 points is 1.4 points, so a
 * 1.5-point loss of accuracy would sit at the edge and a 1-point one would be hidden. Quality metrics take an
 * absolute floor instead (docs/change-points.md): 0.3 accuracy points, 0.01 of loss. Metrics not listed use
 * `minChangePct` alone.
 */
export const METRIC_FLOORS: Partial<Record<SeriesMetric, number>> = { accuracy: 0.3, loss: 0.01 };

/** A column's value as its series holds it: accuracy fraction → points. */
export const SERIES_SCALE: Partial<Record<SeriesMetric, number>> = { accuracy: 100 };

export interface SeriesKey {
  benchmark_type: string;
  model: string;
  quant: string;
  variant: string;
  dataset: string;
  device: string;
  metric: SeriesMetric;
}

export interface SeriesPoint {
  run_id: string;
  run_ts: string;
  commit_sha: string;
  /** The commit's time (the run's own when the commit is not known). */
  commit_ts: string;
  value: number;
  /** The bisection request this run answered ('' for a scheduled run). */
  request_id: string;
}

export interface Series {
  key: SeriesKey;
  points: SeriesPoint[];
}

const nullableNum = z.union([z.number(), z.null(), z.nan()]).transform((v) => (v === null || Number.isNaN(v) ? null : v));
/**
 * One row per benchmark configuration, its runs as (commit time, run time, run id, commit, p95, mean, tokens/s,
 * memory, request id, p99, accuracy, loss) tuples in commit order.
 */
const configurationRow = z.object({
  benchmark_type: z.string(),
  model: z.string(),
  quant: z.string(),
  variant: z.string(),
  dataset: z.string(),
  device: z.string(),
  runs: z.array(
    z.tuple([
      z.string(),
      z.string(),
      z.string(),
      z.string(),
      nullableNum,
      nullableNum,
      nullableNum,
      nullableNum,
      z.string(),
      nullableNum,
      nullableNum,
      nullableNum,
    ]),
  ),
});

/**
 * The runs of every benchmark configuration in [from, to), grouped and ordered by ClickHouse (commit time, then
 * run time, then run id): one row per configuration with its runs as an array, instead of one JSON object per run
 * — a year of nightlies over thousands of configurations is millions of runs, and their keys repeated per run
 * were most of the bytes and of the parsing. Only main's runs: a pull request's runs (`pull_request` > 0, sql/019)
 * are compared with main at their merge base (lib/pull-requests/) and never enter a series.
 */
export const SERIES_SQL = `
  SELECT benchmark_type, model, quant, variant, dataset, device,
         arraySort(r -> (r.1, r.2, r.3),
                   groupArray((commit_ts, run_ts, run_id, commit_sha, latency_p95_ms, latency_mean_ms, tokens_per_sec, memory_peak_mb, request_id,
                              latency_p99_ms, accuracy, loss))) AS runs
    FROM (SELECT b.benchmark_type AS benchmark_type, b.model AS model, b.quant AS quant, b.variant AS variant,
                 b.dataset AS dataset, b.device AS device, toString(b.run_id) AS run_id, b.ts AS run_ts,
                 toString(b.commit_sha) AS commit_sha, if(c.sha = '', b.ts, c.ts) AS commit_ts,
                 b.latency_p95_ms AS latency_p95_ms, b.latency_mean_ms AS latency_mean_ms,
                 b.tokens_per_sec AS tokens_per_sec, b.memory_peak_mb AS memory_peak_mb, b.request_id AS request_id,
                 b.latency_p99_ms AS latency_p99_ms, b.accuracy AS accuracy, b.loss AS loss
            FROM (SELECT * FROM bench_runs FINAL
                   WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND pull_request = {main:UInt32}) AS b
            LEFT JOIN (SELECT toString(sha) AS sha, ts FROM upstream_commits FINAL WHERE repo = 'banterhearts') AS c
              ON toString(b.commit_sha) = c.sha)
   GROUP BY benchmark_type, model, quant, variant, dataset, device
   ORDER BY benchmark_type, model, quant, variant, dataset, device`;

/** Where each metric sits in a run tuple of SERIES_SQL. */
const TUPLE_INDEX = {
  latency_p95_ms: 4,
  latency_mean_ms: 5,
  tokens_per_sec: 6,
  memory_peak_mb: 7,
  latency_p99_ms: 9,
  accuracy: 10,
  loss: 11,
} as const satisfies Record<SeriesMetric, number>;

/** `bench_runs.pull_request` of main's runs (sql/019): every run of a series has it. */
export const MAIN_PULL_REQUEST = 0;

export const seriesId = (k: SeriesKey) => [k.benchmark_type, k.model, k.quant, k.variant, k.dataset, k.device, k.metric].join("|");

export async function loadSeries(db: Db, window: { from: Date; to: Date }): Promise<Series[]> {
  const rows = await db.query(SERIES_SQL, { from: window.from, to: window.to, main: MAIN_PULL_REQUEST }, configurationRow);
  const series: Series[] = [];
  for (const { runs, ...configuration } of rows) {
    SERIES_METRICS.forEach((metric) => {
      const points: SeriesPoint[] = [];
      const scale = SERIES_SCALE[metric] ?? 1;
      for (const run of runs) {
        const raw = run[TUPLE_INDEX[metric]];
        if (raw === null || !Number.isFinite(raw)) continue;
        const value = raw * scale;
        points.push({ commit_ts: run[0], run_ts: run[1], run_id: run[2], commit_sha: run[3], value, request_id: run[8] });
      }
      if (points.length) series.push({ key: { ...configuration, metric }, points });
    });
  }
  return series;
}

/** A short human name of a series: "quantization llama-3.1-8b int8 (wikitext, cuda)". */
export function seriesLabel(k: Omit<SeriesKey, "metric">): string {
  const parts = [k.benchmark_type, k.model, k.quant, k.variant && k.variant !== k.quant ? k.variant : ""].filter((p) => p && p !== "unknown");
  const where = [k.dataset, k.device].filter((p) => p && p !== "unknown");
  return `${parts.join(" ")}${where.length ? ` (${where.join(", ")})` : ""}`;
}
