import { z } from "zod";
import type { Db } from "../clickhouse/client";

/**
 * Did users feel it? For a commit at time T, the Banterpacks side before
 * ([T − period, T)) against after ([T + lag, T + lag + period)), from the
 * hourly `session_stats` rollup, all computed by ClickHouse:
 * - user latency (mean time to an answer, per hour): Welch's t-test on the
 *   hourly means, `welchTTest(0.95)` (t, p and the interval of the
 *   difference), reported as a relative change of the mean with the interval
 *   divided by the mean before;
 * - error rate (errors / events) and abandonment (abandoned / queries):
 *   two-proportion z-tests, `proportionsZTest` (unpooled), with their
 *   intervals in percentage points.
 * "Users felt it" only when the latency test is significant (p < alpha) in the
 * direction of the benchmark change.
 */

export interface ImpactConfig {
  periodHours: number;
  lagMinutes: number;
  /** Hours with answers each side below which nothing is said. */
  minHours: number;
  alpha: number;
  confidence: number;
}

export const DEFAULT_IMPACT: ImpactConfig = { periodHours: 24, lagMinutes: 30, minHours: 6, alpha: 0.05, confidence: 0.95 };

const num = z.coerce.number();
const maybe = z.union([z.number(), z.null(), z.nan()]).transform((v) => (v === null || Number.isNaN(v) ? null : v));
/** A test's result tuple: an array, or an object of its elements (JSON output of unnamed tuples varies by setting). */
const tuple4 = z
  .union([z.array(z.number().nullable()), z.record(z.string(), z.number().nullable()), z.null()])
  .transform((v) => (v === null ? null : Array.isArray(v) ? v : Object.values(v)))
  .transform((v): number[] | null => (v && v.length >= 2 && v.every((x) => x !== null && Number.isFinite(x)) ? (v as number[]) : null));

const impactRow = z.object({
  hours_before: num,
  hours_after: num,
  latency_before: maybe,
  latency_after: maybe,
  latency_test: tuple4,
  errors_before: num,
  events_before: num,
  errors_after: num,
  events_after: num,
  abandoned_before: num,
  queries_before: num,
  abandoned_after: num,
  queries_after: num,
  error_test: tuple4,
  abandonment_test: tuple4,
});

export const IMPACT_SQL = `
  WITH hourly AS (
    SELECT hour,
           toUInt8(hour >= {after_from:DateTime('UTC')}) AS period,
           sum(answer_latency_sum_ms) / sum(answers_count) AS user_latency,
           sum(errors_count) AS errors, sum(events_count) AS events,
           sum(abandoned_count) AS abandoned, sum(queries_count) AS queries
      FROM session_stats FINAL
     WHERE (hour >= {before_from:DateTime('UTC')} AND hour < {before_to:DateTime('UTC')})
        OR (hour >= {after_from:DateTime('UTC')} AND hour < {after_to:DateTime('UTC')})
     GROUP BY hour
    HAVING sum(answers_count) > 0
  ),
  totals AS (
    SELECT countIf(period = 0) AS hours_before, countIf(period = 1) AS hours_after,
           avgIf(user_latency, period = 0) AS latency_before, avgIf(user_latency, period = 1) AS latency_after,
           if(hours_before >= 2 AND hours_after >= 2, welchTTest({confidence:Float64})(user_latency, period), NULL) AS latency_test,
           sumIf(errors, period = 0) AS errors_before, sumIf(events, period = 0) AS events_before,
           sumIf(errors, period = 1) AS errors_after, sumIf(events, period = 1) AS events_after,
           sumIf(abandoned, period = 0) AS abandoned_before, sumIf(queries, period = 0) AS queries_before,
           sumIf(abandoned, period = 1) AS abandoned_after, sumIf(queries, period = 1) AS queries_after
      FROM hourly
  )
  SELECT *,
         if(events_before > 0 AND events_after > 0,
            proportionsZTest(errors_after, errors_before, events_after, events_before, {confidence:Float64}, 'unpooled'), NULL) AS error_test,
         if(queries_before > 0 AND queries_after > 0,
            proportionsZTest(abandoned_after, abandoned_before, queries_after, queries_before, {confidence:Float64}, 'unpooled'), NULL) AS abandonment_test
    FROM totals`;

export interface UserImpact {
  hours_before: number;
  hours_after: number;
  latency_before_ms: number | null;
  latency_after_ms: number | null;
  /** Signed relative change of user latency, with its interval and p-value (null: not enough hours). */
  latency_change_pct: number | null;
  latency_ci_pct: [number, number] | null;
  latency_p_value: number | null;
  error_rate_before_pct: number | null;
  error_rate_after_pct: number | null;
  /** After − before, percentage points. */
  error_rate_ci_pp: [number, number] | null;
  error_rate_p_value: number | null;
  abandonment_before_pct: number | null;
  abandonment_after_pct: number | null;
  abandonment_ci_pp: [number, number] | null;
  abandonment_p_value: number | null;
  /** Users felt it: the latency test is significant in the direction of the benchmark change. */
  felt: boolean;
  /** Enough hours on both sides to say anything. */
  measurable: boolean;
}

const HOUR = 3_600_000;

export async function userImpact(db: Db, at: Date, direction: "worse" | "better", config: ImpactConfig = DEFAULT_IMPACT): Promise<UserImpact> {
  const beforeTo = new Date(Math.floor(at.getTime() / HOUR) * HOUR);
  const afterFrom = new Date(Math.ceil((at.getTime() + config.lagMinutes * 60_000) / HOUR) * HOUR);
  const row = await db.queryOne(
    IMPACT_SQL,
    {
      before_from: new Date(beforeTo.getTime() - config.periodHours * HOUR),
      before_to: beforeTo,
      after_from: afterFrom,
      after_to: new Date(afterFrom.getTime() + config.periodHours * HOUR),
      confidence: config.confidence,
    },
    impactRow,
  );
  const r = row!;
  const pct = (a: number, b: number) => (b > 0 ? (a / b) * 100 : null);
  const measurable = r.hours_before >= config.minHours && r.hours_after >= config.minHours;
  let latencyChange: number | null = null;
  let latencyCi: [number, number] | null = null;
  let latencyP: number | null = null;
  if (measurable && r.latency_test && r.latency_before && r.latency_after !== null) {
    // welchTTest's interval is for mean(before) − mean(after): turn it round, relative to before.
    const [, p, lo, hi] = r.latency_test;
    latencyChange = ((r.latency_after - r.latency_before) / r.latency_before) * 100;
    latencyCi = lo !== undefined && hi !== undefined ? [(-hi / r.latency_before) * 100, (-lo / r.latency_before) * 100] : null;
    latencyP = p;
  }
  const pp = (t: number[] | null): [number, number] | null => (measurable && t && t.length >= 4 ? [t[2] * 100, t[3] * 100] : null);
  const felt = latencyP !== null && latencyChange !== null && latencyP < config.alpha && (direction === "worse" ? latencyChange > 0 : latencyChange < 0);
  return {
    hours_before: r.hours_before,
    hours_after: r.hours_after,
    latency_before_ms: r.latency_before,
    latency_after_ms: r.latency_after,
    latency_change_pct: latencyChange,
    latency_ci_pct: latencyCi,
    latency_p_value: latencyP,
    error_rate_before_pct: pct(r.errors_before, r.events_before),
    error_rate_after_pct: pct(r.errors_after, r.events_after),
    error_rate_ci_pp: pp(r.error_test),
    error_rate_p_value: measurable && r.error_test ? r.error_test[1] : null,
    abandonment_before_pct: pct(r.abandoned_before, r.queries_before),
    abandonment_after_pct: pct(r.abandoned_after, r.queries_after),
    abandonment_ci_pp: pp(r.abandonment_test),
    abandonment_p_value: measurable && r.abandonment_test ? r.abandonment_test[1] : null,
    felt,
    measurable,
  };
}
