import fCdf from "@stdlib/stats-base-dists-f-cdf";
import { median, smallMedian } from "./noise";

/**
 * The weekly load cycle a family of benchmark series shares. Nightly benchmarks run on machines that are busier on
 * some days of the week (other jobs, other teams' CI), so every latency of one night moves together, and on a few
 * weeks of nightlies a ±6 % cycle is larger than most changes worth telling. Read as noise it looks like day-to-day
 * persistence (a sine of period 7 has a lag-1 autocorrelation of 0.62) and inflates both σ and φ: a 15 % step with six
 * nightlies a side was found in 1 series in 10. Taken out first, the same step is found in all of them.
 *
 * The cycle is a property of the machines and the day, not of one series, so it is estimated across the family:
 * each series' log values less their running median over 7 runs (which follows a step within a few runs and holds
 * each day of the week once), the residuals of one UTC day pooled across series by their median (a bad night or
 * one series' step weighs little), and each weekday's level the mean of its days, centred. Days, not runs, are the
 * replicates: runs of one night share that night's machine. The cycle is taken out only when the weekdays differ
 * beyond chance: the one-way analysis of variance of the days by weekday (F with 6 and days − 7 degrees of freedom;
 * the variance within weekdays is estimated from a few weeks, so χ² would be too quick) at CYCLE_ALPHA.
 *
 * Pure functions; the council applies the cycle to each series before detection (changes.ts).
 */

/**
 * The level a weekly cycle must reach to be taken out. The F test is a little quick here (residuals from a running
 * median are not quite independent): on families without a cycle — 3 to 40 series, 35 to 365 nights, machine drift
 * φ 0 or 0.6 — it passes 0.3–0.5 % of them at 0.001 and 0–0.3 % at 0.0001, so the bar is 0.0001. A false cycle costs
 * little anyway: a profile of a few tenths of a percent taken out of every series alike.
 */
export const CYCLE_ALPHA = 0.0001;
/** Runs a series needs to say anything about its weekdays: two full weeks. */
const MIN_RUNS = 14;
/** Days each weekday needs before its level is believed (and a standard error can be read from them). */
const MIN_DAYS_PER_WEEKDAY = 3;

export interface WeeklyCycle {
  /** Multiplicative factor per UTC weekday, Sunday (0) … Saturday (6); their logs sum to 0. */
  factors: number[];
  /** The largest factor over the smallest, less 1, in %: the cycle's swing. */
  swingPct: number;
  /** F test of no weekly cycle (6 and days − 7 degrees of freedom). */
  p: number;
  /** Distinct days the estimate rests on. */
  days: number;
}

export interface CycleSeries {
  values: ArrayLike<number>;
  /** Each run's UTC day, as days since 1970-01-01 (the weekday is (day + 4) mod 7); a series with a day that is not a whole number is skipped. */
  days: ArrayLike<number>;
}

/** The weekday of a day number: 1970-01-01 was a Thursday. */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/**
 * Residuals kept per day, at most: the median of a day's runs is as good from a few hundred series as from ten
 * thousand, and a council run over millions of runs keeps a few hundred days × this many numbers, not every run.
 */
const MAX_RESIDUALS_PER_DAY = 256;

/** The family's weekly cycle, or undefined when there is not enough to estimate one or no cycle beyond chance. */
export function estimateWeeklyCycle(series: readonly CycleSeries[], alpha = CYCLE_ALPHA): WeeklyCycle | undefined {
  const byDay = new Map<number, number[]>();
  const window = new Float64Array(7);
  let logs = new Float64Array(0);
  for (const s of series) {
    const n = s.values.length;
    if (n < MIN_RUNS || s.days.length !== n) continue;
    let positive = true;
    for (let i = 0; i < n && positive; i++) positive = s.values[i] > 0 && Number.isFinite(s.values[i]) && Number.isInteger(s.days[i]);
    if (!positive) continue;
    if (logs.length < n) logs = new Float64Array(n);
    for (let i = 0; i < n; i++) logs[i] = Math.log(s.values[i]);
    for (let i = 0; i < n; i++) {
      const from = Math.max(0, Math.min(i - 3, n - 7));
      for (let k = 0; k < 7; k++) window[k] = logs[from + k];
      const residual = logs[i] - smallMedian(window);
      const day = s.days[i];
      const list = byDay.get(day);
      if (!list) byDay.set(day, [residual]);
      else if (list.length < MAX_RESIDUALS_PER_DAY) list.push(residual);
    }
  }
  const perWeekday: number[][] = Array.from({ length: 7 }, () => []);
  for (const [day, residuals] of byDay) perWeekday[weekdayOf(day)].push(median(residuals));
  if (perWeekday.some((d) => d.length < MIN_DAYS_PER_WEEKDAY)) return undefined;
  const means = perWeekday.map((d) => d.reduce((a, b) => a + b, 0) / d.length);
  // One pooled variance of a day around its weekday's mean (each weekday has only a few days on a short history).
  let ss = 0;
  let dof = 0;
  perWeekday.forEach((d, w) => {
    for (const x of d) ss += (x - means[w]) ** 2;
    dof += d.length - 1;
  });
  const variance = ss / dof;
  const grand = means.reduce((a, b) => a + b, 0) / 7;
  const centred = means.map((m) => m - grand);
  // Between weekdays Σ days_w·(mean_w − grand)² over 6 degrees of freedom, against the variance within them. (The
  // grand mean is the mean of the weekday means: with unequal days per weekday, a close and conservative stand-in.)
  const between = centred.reduce((sum, c, w) => sum + c * c * perWeekday[w].length, 0) / 6;
  const p = variance > 0 ? 1 - fCdf(between / variance, 6, dof) : between > 0 ? 0 : 1;
  if (!(p <= alpha)) return undefined;
  const factors = centred.map(Math.exp);
  return { factors, swingPct: (Math.max(...factors) / Math.min(...factors) - 1) * 100, p, days: byDay.size };
}

/** A series with the cycle taken out: each run divided by its weekday's factor. */
export function withoutWeeklyCycle(values: ArrayLike<number>, days: ArrayLike<number>, cycle: WeeklyCycle): number[] {
  return Array.from(values, (v, i) => {
    // A run without a readable day keeps its value (the estimate skipped it too).
    const factor = cycle.factors[weekdayOf(days[i])];
    return factor === undefined ? v : v / factor;
  });
}
