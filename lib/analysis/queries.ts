import { z } from "zod";
import type { Db } from "../clickhouse/client";

/**
 * The council's analysis, as typed query functions over ClickHouse. Each reads
 * the cheapest table that answers it: Banterpacks figures come from the hourly
 * `session_stats` rollup (cost grows with days and sessions, not events), and
 * every read that must not see an unmerged duplicate uses FINAL.
 *
 * Banterhearts daily aggregates use model-level benchmarks only (quantization,
 * compilation, inference_performance, prompt_suite): kernel and attention
 * micro-benchmarks time single operators, not what a user waits for. And
 * only main's runs (`pull_request = 0`, MAIN_PULL_REQUEST in series.ts): a
 * pull request's runs are compared with main at their merge base
 * (lib/pull-requests/), never counted in main's days.
 */

export const MODEL_LEVEL_TYPES = ["quantization", "compilation", "inference_performance", "prompt_suite"] as const;

export interface Window {
  from: Date;
  to: Date;
}

const num = z.coerce.number();
const nullableNum = z.union([z.number(), z.null(), z.nan()]).transform((v) => (v === null || Number.isNaN(v) ? null : v));

export const heartsDay = z.object({
  day: z.string(),
  latency_p95_ms: nullableNum,
  tokens_per_sec: nullableNum,
  cost_per_1k: nullableNum,
  bench_rows: num,
});
export type HeartsDay = z.infer<typeof heartsDay>;

export async function dailyHearts(db: Db, window: Window): Promise<HeartsDay[]> {
  return db.query(
    `SELECT toString(toDate(ts)) AS day,
            avgOrNull(latency_p95_ms)      AS latency_p95_ms,
            avgOrNull(tokens_per_sec)      AS tokens_per_sec,
            avgOrNull(toFloat64(cost_per_1k)) AS cost_per_1k,
            count()                        AS bench_rows
       FROM bench_runs FINAL
      WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}
        AND benchmark_type IN {types:Array(String)} AND pull_request = 0
      GROUP BY day
      ORDER BY day`,
    { from: window.from, to: window.to, types: [...MODEL_LEVEL_TYPES] },
    heartsDay,
  );
}

export const packsDay = z.object({
  day: z.string(),
  user_latency_ms: nullableNum,
  error_rate: nullableNum,
  abandonment_rate: nullableNum,
  sessions: num,
  events: num,
});
export type PacksDay = z.infer<typeof packsDay>;

/**
 * Day totals from the hourly rollup: rates are ratios of sums, never averages
 * of averages. User latency is the mean time to an answer (query_result).
 */
export async function dailyPacks(db: Db, window: Window): Promise<PacksDay[]> {
  return db.query(
    `SELECT toString(toDate(hour)) AS day,
            if(sum(answers_count) = 0, NULL, sum(answer_latency_sum_ms) / sum(answers_count)) AS user_latency_ms,
            if(sum(events_count) = 0, NULL, sum(errors_count) / sum(events_count))   AS error_rate,
            if(sum(queries_count) = 0, NULL, sum(abandoned_count) / sum(queries_count)) AS abandonment_rate,
            uniqExact(session_id) AS sessions,
            sum(events_count)     AS events
       FROM session_stats FINAL
      WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')}
      GROUP BY day
      ORDER BY day`,
    { from: window.from, to: window.to },
    packsDay,
  );
}

export const joinedDay = heartsDay.merge(packsDay.omit({ day: true })).extend({ day: z.string() });
export type JoinedDay = z.infer<typeof joinedDay>;

export const correlationRow = z.object({
  days: num,
  latency_vs_user_latency: nullableNum,
  latency_vs_error_rate: nullableNum,
  throughput_vs_user_latency: nullableNum,
  latency_vs_abandonment: nullableNum,
});
export type Correlations = z.infer<typeof correlationRow>;

/** The packs side per day (column `d`) from the session_stats rollup. */
const PACKS_DAYS_SQL = `
    SELECT toDate(hour) AS d,
           if(sum(answers_count) = 0, NULL, sum(answer_latency_sum_ms) / sum(answers_count)) AS user_latency_ms,
           if(sum(events_count) = 0, NULL, sum(errors_count) / sum(events_count))   AS error_rate,
           if(sum(queries_count) = 0, NULL, sum(abandoned_count) / sum(queries_count)) AS abandonment_rate,
           uniqExact(session_id) AS sessions, sum(events_count) AS events
      FROM session_stats FINAL
     WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')}
     GROUP BY d`;

/**
 * Both sources per day, joined on the day. Parameters: `from`, `to`
 * (DateTime64), `types` (Array(String)). `packs` is the packs side per day
 * (a query with the columns of PACKS_DAYS_SQL, day as `d`): the rollup's by
 * default; bench/analytics.ts passes the same questions on raw ui_events.
 */
export function joinedSql(packs: string = PACKS_DAYS_SQL): string {
  return `
  WITH hearts AS (
    SELECT toDate(ts) AS d, avgOrNull(latency_p95_ms) AS latency_p95_ms, avgOrNull(tokens_per_sec) AS tokens_per_sec,
           avgOrNull(toFloat64(cost_per_1k)) AS cost_per_1k, count() AS bench_rows
      FROM bench_runs FINAL
     WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND benchmark_type IN {types:Array(String)} AND pull_request = 0
     GROUP BY d
  ),
  packs AS (${packs}
  )
  SELECT toString(hearts.d) AS day, latency_p95_ms, tokens_per_sec, cost_per_1k, bench_rows,
         user_latency_ms, error_rate, abandonment_rate, sessions, events
    FROM hearts INNER JOIN packs ON hearts.d = packs.d`;
}
export const JOINED_SQL = joinedSql();

/** Pearson correlations over the days of `joined` (JOINED_SQL or another joinedSql()), by ClickHouse's corr(). */
export function correlationsSql(joined: string = JOINED_SQL): string {
  return `SELECT count() AS days,
            corr(latency_p95_ms, user_latency_ms)   AS latency_vs_user_latency,
            corr(latency_p95_ms, error_rate)        AS latency_vs_error_rate,
            corr(tokens_per_sec, user_latency_ms)   AS throughput_vs_user_latency,
            corr(latency_p95_ms, abandonment_rate)  AS latency_vs_abandonment
       FROM (${joined})
      WHERE latency_p95_ms IS NOT NULL AND user_latency_ms IS NOT NULL`;
}

/** Both sources per day, joined on the day (days missing from either side drop out). */
export async function joinedDays(db: Db, window: Window): Promise<JoinedDay[]> {
  return db.query(`${JOINED_SQL} ORDER BY day`, { from: window.from, to: window.to, types: [...MODEL_LEVEL_TYPES] }, joinedDay);
}

/** Pearson correlations over the joined days, computed by ClickHouse's corr(). */
export async function correlations(db: Db, window: Window): Promise<Correlations> {
  const [row] = await db.query(correlationsSql(), { from: window.from, to: window.to, types: [...MODEL_LEVEL_TYPES] }, correlationRow);
  return row;
}

export const correlationDay = z.object({ day: z.string(), latency_p95_ms: num, user_latency_ms: num, series: num });
export type CorrelationDay = z.infer<typeof correlationDay>;

/**
 * The days the hearts↔packs correlation is taken over: full UTC days of the window only; on the hearts side the mean
 * daily p95 latency of a fixed set of model-level series (those with runs on every one of these days, so the daily
 * figure does not move because the mix of benchmarks rotates); on the packs side the mean wait per answer.
 */
export const CORRELATION_DAYS_SQL = `
  WITH per AS (
    SELECT toDate(ts) AS d, benchmark_type, model, quant, variant, dataset, device, avg(latency_p95_ms) AS v
      FROM bench_runs FINAL
     WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND benchmark_type IN {types:Array(String)} AND pull_request = 0
     GROUP BY d, benchmark_type, model, quant, variant, dataset, device
  ),
  fixed AS (
    SELECT benchmark_type, model, quant, variant, dataset, device
      FROM per GROUP BY benchmark_type, model, quant, variant, dataset, device
    HAVING uniqExact(d) = {days:UInt32}
  ),
  hearts AS (
    SELECT d, avg(v) AS latency_p95_ms, count() AS series
      FROM per WHERE (benchmark_type, model, quant, variant, dataset, device) IN fixed
     GROUP BY d
  ),
  packs AS (
    SELECT toDate(hour) AS d, sum(answer_latency_sum_ms) / sum(answers_count) AS user_latency_ms
      FROM session_stats FINAL
     WHERE hour >= {from:DateTime64(3, 'UTC')} AND hour < {to:DateTime64(3, 'UTC')}
     GROUP BY d HAVING sum(answers_count) > 0
  )
  SELECT toString(hearts.d) AS day, latency_p95_ms, user_latency_ms, series
    FROM hearts INNER JOIN packs ON hearts.d = packs.d
   ORDER BY day`;

/** The full UTC days inside a window: [first midnight at or after from, last midnight at or before to). */
export function fullDays(window: Window): Window & { days: number } {
  const DAY = 86_400_000;
  const from = Math.ceil(window.from.getTime() / DAY) * DAY;
  const to = Math.max(from, Math.floor(window.to.getTime() / DAY) * DAY);
  return { from: new Date(from), to: new Date(to), days: Math.round((to - from) / DAY) };
}

/** Both sides of the correlation per full day (CORRELATION_DAYS_SQL). */
export async function correlationDays(db: Db, window: Window): Promise<CorrelationDay[]> {
  const full = fullDays(window);
  if (full.days < 2) return [];
  return db.query(CORRELATION_DAYS_SQL, { from: full.from, to: full.to, days: full.days, types: [...MODEL_LEVEL_TYPES] }, correlationDay);
}

export const windowCommit = z.object({
  repo: z.string(),
  sha: z.string(),
  ts: z.string(),
  message: z.string(),
  files_changed: num,
  additions: num,
  deletions: num,
});
export type WindowCommit = z.infer<typeof windowCommit>;

/** What changed upstream: the commits of both repositories in the window. */
export async function commitsInWindow(db: Db, window: Window): Promise<WindowCommit[]> {
  return db.query(
    `SELECT repo, sha, ts, message, files_changed, additions, deletions
       FROM upstream_commits FINAL
      WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}
      ORDER BY ts`,
    { from: window.from, to: window.to },
    windowCommit,
  );
}

export const volumeRow = z.object({
  bench_rows: num,
  events: num,
  sessions: num,
  newest_bench_ts: z.string().nullable(),
  newest_session_hour: z.string().nullable(),
  hearts_commits: z.array(z.string()),
  models: z.array(z.string()),
});
export type Volume = z.infer<typeof volumeRow>;

export async function dataVolume(db: Db, window: Window): Promise<Volume> {
  const [row] = await db.query(
    `SELECT
       (SELECT count() FROM bench_runs FINAL WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND benchmark_type IN {types:Array(String)} AND pull_request = 0) AS bench_rows,
       (SELECT sum(events_count) FROM session_stats FINAL WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')}) AS events,
       (SELECT uniqExact(session_id) FROM session_stats FINAL WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')}) AS sessions,
       (SELECT if(count() = 0, NULL, max(ts)) FROM bench_runs FINAL WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND pull_request = 0) AS newest_bench_ts,
       (SELECT if(count() = 0, NULL, max(hour)) FROM session_stats FINAL WHERE hour >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND hour < {to:DateTime64(3, 'UTC')}) AS newest_session_hour,
       (SELECT groupUniqArray(commit_sha) FROM bench_runs FINAL WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND pull_request = 0) AS hearts_commits,
       (SELECT arraySort(groupUniqArray(model)) FROM bench_runs FINAL WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')} AND benchmark_type IN {types:Array(String)} AND pull_request = 0) AS models`,
    { from: window.from, to: window.to, types: [...MODEL_LEVEL_TYPES] },
    volumeRow,
  );
  return row;
}
