import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { benjaminiHochberg, placeboTest, type PlaceboTest } from "./statistics";

/**
 * Did users feel it? Like against like, from the hourly `session_stats` rollup
 * (docs/statistics.md):
 *
 * - When: Muse does not know when a Banterhearts commit reached the users (no
 *   deploy record of Banterhearts exists; `deployments` holds this site's own),
 *   so the change is taken to reach them at the commit time plus
 *   MUSE_IMPACT_LAG_MINUTES, and the story says so.
 * - What: the `periodHours` hours after that (A₀) against the same hours of the
 *   week before (A₀ − 7 d): hour of day and day of week are matched, so daily
 *   and weekly cycles cancel. Per window, ClickHouse sums; user latency is the
 *   mean wait per answer (Σ latency / Σ answers), error and abandonment rates
 *   are ratios of sums (sessions inside a window are the window's replicates).
 * - Against what: the same week-over-week change on up to `placeboDays`
 *   windows before the commit (A₁ … A_K, a day apart), where nothing was
 *   released by this commit. The after window's change minus their mean is
 *   the estimate (drift in the week-over-week change cancels); their spread is
 *   its noise: a placebo t-test with K − 1 degrees of freedom. Hourly
 *   autocorrelation and errors clustered in sessions or outages stay inside a
 *   window, so they show in the spread between windows instead of being
 *   assumed away.
 * - Multiplicity: Benjamini–Hochberg across the three user metrics of one
 *   call, and across all events × metrics in an episode (`adjustImpacts`).
 * - "Users felt it" only when user latency moved significantly (q < alpha) in
 *   the direction the benchmark change predicts; significant the other way is
 *   `other_way`, and the story says so as such.
 */

export interface ImpactConfig {
  periodHours: number;
  lagMinutes: number;
  /** Hours with answers each window needs to count. */
  minHours: number;
  alpha: number;
  confidence: number;
  /** Placebo windows before the commit (each a day apart, each with its own week-before match). */
  placeboDays?: number;
  /** Fewer valid placebo windows than this: nothing is said (not measurable). */
  minPlaceboDays?: number;
}

export const DEFAULT_IMPACT: ImpactConfig = { periodHours: 24, lagMinutes: 30, minHours: 6, alpha: 0.05, confidence: 0.95, placeboDays: 6, minPlaceboDays: 3 };

const num = z.coerce.number();

/** Totals of one window, as ClickHouse sums them. */
export const windowTotals = z.object({
  w: num,
  hours: num,
  latency_sum: num,
  answers: num,
  errors: num,
  events: num,
  abandoned: num,
  queries: num,
});
export type WindowTotals = Omit<z.infer<typeof windowTotals>, "w">;

/** Window `w` (1-based) is [starts[w], starts[w] + period); an hour may fall in several windows. */
export const IMPACT_SQL = `
  SELECT w,
         uniqExactIf(hour, answers_count > 0) AS hours,
         sum(answer_latency_sum_ms) AS latency_sum, sum(answers_count) AS answers,
         sum(errors_count) AS errors, sum(events_count) AS events,
         sum(abandoned_count) AS abandoned, sum(queries_count) AS queries
    FROM session_stats FINAL
   ARRAY JOIN arrayFilter(i -> toUnixTimestamp(hour) >= {starts:Array(UInt32)}[i]
                           AND toUnixTimestamp(hour) < {starts:Array(UInt32)}[i] + {period_s:UInt32},
                          arrayEnumerate({starts:Array(UInt32)})) AS w
   WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')}
   GROUP BY w
   ORDER BY w`;

export interface UserImpact {
  /** Hours with answers in the week-before match of the after window, and in the after window. */
  hours_before: number;
  hours_after: number;
  /** Mean wait per answer in the same hours a week before, and in the hours after. */
  latency_before_ms: number | null;
  latency_after_ms: number | null;
  /** Signed relative change of user latency beyond the usual week-over-week change, with its interval and p-value (null: not measurable). */
  latency_change_pct: number | null;
  latency_ci_pct: [number, number] | null;
  latency_p_value: number | null;
  error_rate_before_pct: number | null;
  error_rate_after_pct: number | null;
  /** After − week before, beyond the usual week-over-week change, percentage points. */
  error_rate_ci_pp: [number, number] | null;
  error_rate_p_value: number | null;
  abandonment_before_pct: number | null;
  abandonment_after_pct: number | null;
  abandonment_ci_pp: [number, number] | null;
  abandonment_p_value: number | null;
  /** Users felt it: user latency moved significantly (q < alpha) in the direction of the benchmark change. */
  felt: boolean;
  /** Enough hours and placebo windows to say anything. */
  measurable: boolean;
  /** User latency moved significantly against the benchmark change's direction. */
  other_way?: boolean;
  /** Benjamini–Hochberg q-values (within the call, or across the episode after adjustImpacts). */
  latency_q_value?: number | null;
  error_rate_q_value?: number | null;
  abandonment_q_value?: number | null;
  /** Placebo windows the noise was measured on, and their mean week-over-week latency change (percent). */
  placebo_days?: number;
  usual_week_change_pct?: number | null;
  /** When the change is taken to reach users, and how that was decided. */
  deploy_at?: string;
  deploy_source?: "commit_plus_lag";
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** The windows of one question: after, its week-before match, then each placebo and its match. */
export function impactWindows(commitAt: Date, config: ImpactConfig): { deployAt: Date; starts: Date[]; periodMs: number } {
  const deployAt = new Date(commitAt.getTime() + config.lagMinutes * 60_000);
  const after = Math.ceil(deployAt.getTime() / HOUR) * HOUR;
  const lastBefore = Math.floor(commitAt.getTime() / HOUR) * HOUR;
  const periodMs = config.periodHours * HOUR;
  const step = Math.ceil(config.periodHours / 24) * DAY;
  const starts = [after, after - WEEK];
  for (let k = 1; k <= (config.placeboDays ?? 6); k++) {
    const s = lastBefore - periodMs - (k - 1) * step;
    starts.push(s, s - WEEK);
  }
  return { deployAt, starts: starts.map((s) => new Date(s)), periodMs };
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

/** The statistics of one question from its window totals (index as impactWindows; missing windows: null). Pure, for the bench too. */
export function impactFromWindows(windows: (WindowTotals | null)[], direction: "worse" | "better", config: ImpactConfig): UserImpact {
  const ok = (w: WindowTotals | null | undefined): w is WindowTotals => !!w && w.hours >= config.minHours;
  const [after, base] = [windows[0] ?? null, windows[1] ?? null];
  const pairs: [WindowTotals, WindowTotals][] = [];
  for (let i = 2; i + 1 < windows.length; i += 2) {
    const [p, m] = [windows[i], windows[i + 1]];
    if (ok(p) && ok(m)) pairs.push([p, m]);
  }
  const measurable = ok(after) && ok(base) && pairs.length >= (config.minPlaceboDays ?? 3);
  // The statistic of a window against its week-before match: log ratio of latency, differences of rates in points.
  const logLatency = (a: WindowTotals, b: WindowTotals) => {
    const [la, lb] = [ratio(a.latency_sum, a.answers), ratio(b.latency_sum, b.answers)];
    return la !== null && lb !== null && la > 0 && lb > 0 ? Math.log(la / lb) : null;
  };
  const ratePp = (num: "errors" | "abandoned", den: "events" | "queries") => (a: WindowTotals, b: WindowTotals) => {
    const [ra, rb] = [ratio(a[num], a[den]), ratio(b[num], b[den])];
    return ra !== null && rb !== null ? (ra - rb) * 100 : null;
  };
  const test = (stat: (a: WindowTotals, b: WindowTotals) => number | null): PlaceboTest | null => {
    if (!measurable) return null;
    const x0 = stat(after!, base!);
    const placebos = pairs.map(([p, m]) => stat(p, m)).filter((v): v is number => v !== null);
    if (x0 === null || placebos.length < (config.minPlaceboDays ?? 3)) return null;
    return placeboTest(x0, placebos, config.confidence);
  };
  const latency = test(logLatency);
  const errors = test(ratePp("errors", "events"));
  const abandonment = test(ratePp("abandoned", "queries"));
  const pctOf = (v: number) => (Math.exp(v) - 1) * 100;
  const impact: UserImpact = {
    hours_before: base?.hours ?? 0,
    hours_after: after?.hours ?? 0,
    latency_before_ms: base ? ratio(base.latency_sum, base.answers) : null,
    latency_after_ms: after ? ratio(after.latency_sum, after.answers) : null,
    latency_change_pct: latency ? pctOf(latency.estimate) : null,
    latency_ci_pct: latency ? [pctOf(latency.ci[0]), pctOf(latency.ci[1])] : null,
    latency_p_value: latency?.p ?? null,
    error_rate_before_pct: base ? mapNull(ratio(base.errors, base.events), (v) => v * 100) : null,
    error_rate_after_pct: after ? mapNull(ratio(after.errors, after.events), (v) => v * 100) : null,
    error_rate_ci_pp: errors?.ci ?? null,
    error_rate_p_value: errors?.p ?? null,
    abandonment_before_pct: base ? mapNull(ratio(base.abandoned, base.queries), (v) => v * 100) : null,
    abandonment_after_pct: after ? mapNull(ratio(after.abandoned, after.queries), (v) => v * 100) : null,
    abandonment_ci_pp: abandonment?.ci ?? null,
    abandonment_p_value: abandonment?.p ?? null,
    felt: false,
    measurable,
    other_way: false,
    placebo_days: pairs.length,
    usual_week_change_pct: latency ? pctOf(latency.placeboMean) : null,
    deploy_source: "commit_plus_lag",
  };
  return adjustImpacts([{ impact, direction }], config.alpha)[0];
}

function mapNull<T>(v: number | null, f: (v: number) => T): T | null {
  return v === null ? null : f(v);
}

/**
 * Benjamini–Hochberg across every event × user metric of an episode; "felt" and "other way" follow the adjusted
 * latency q-value. Returns new objects (the inputs are not changed).
 */
export function adjustImpacts(items: { impact: UserImpact; direction: "worse" | "better" }[], alpha: number): UserImpact[] {
  const ps = items.flatMap(({ impact: u }) => [u.latency_p_value, u.error_rate_p_value, u.abandonment_p_value]);
  const qs = benjaminiHochberg(ps);
  return items.map(({ impact: u, direction }, i) => {
    const [ql, qe, qa] = qs.slice(3 * i, 3 * i + 3);
    const significant = ql !== null && ql < alpha && u.latency_change_pct !== null && u.latency_change_pct !== 0;
    const predicted = direction === "worse" ? (u.latency_change_pct ?? 0) > 0 : (u.latency_change_pct ?? 0) < 0;
    return {
      ...u,
      latency_q_value: ql,
      error_rate_q_value: qe,
      abandonment_q_value: qa,
      felt: significant && predicted,
      other_way: significant && !predicted,
    };
  });
}

export async function userImpact(db: Db, at: Date, direction: "worse" | "better", config: ImpactConfig = DEFAULT_IMPACT): Promise<UserImpact> {
  const { deployAt, starts, periodMs } = impactWindows(at, config);
  const seconds = starts.map((s) => Math.round(s.getTime() / 1000));
  const rows = await db.query(
    IMPACT_SQL,
    {
      starts: seconds,
      period_s: Math.round(periodMs / 1000),
      from: new Date(Math.min(...starts.map((s) => s.getTime()))),
      to: new Date(Math.max(...starts.map((s) => s.getTime())) + periodMs),
    },
    windowTotals,
  );
  const byIndex = new Map(rows.map(({ w, ...totals }) => [w, totals]));
  const windows = starts.map((_, i) => byIndex.get(i + 1) ?? null);
  return { ...impactFromWindows(windows, direction, config), deploy_at: deployAt.toISOString() };
}
