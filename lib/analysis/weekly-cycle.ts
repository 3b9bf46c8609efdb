import fCdf from "@stdlib/stats-base-dists-f-cdf";
import { detectSeries } from "./changepoints";
import { median } from "./noise";

/**
 * The weekly load cycle a family of benchmark series shares. Nightly benchmarks run on machines that are busier on
 * some days of the week (other jobs, other teams' CI), so every latency of one night moves together, and on a few
 * weeks of nightlies a ±6 % cycle is larger than most changes worth telling. Read as noise it looks like day-to-day
 * persistence (a sine of period 7 has a lag-1 autocorrelation of 0.62) and inflates both σ and φ: a 15 % step with six
 * nightlies a side was found in 1 series in 10. Taken out first, the same step is found in all of them.
 *
 * The cycle is a property of the machines and the day, not of one series, so it is estimated on the family's pooled
 * day series: each series' log runs less their median, averaged per UTC day, and the median of those across series
 * (a bad night or one series' own step weighs little). Days, not runs, are the replicates: runs of one night share
 * that night's machine. On that day series the cycle and the releases are fitted together, because each hides the
 * other: a running median or a weekly moving average lags a +40 % release for days and buries the cycle in its
 * residuals, while a cycle read as noise hides the releases from a scan.
 *
 * 1. A first cycle from day-to-day changes: each weekday's median change from the day before (a release touches one
 *    of them), the seven medians centred so a week returns to where it began, summed into levels.
 * 2. Three rounds of: the pooled series less the cycle scanned for steps (the detector, at STEP_ALPHA: a step here
 *    only stands for a level, never for a change told), then each weekday's mean residual around those levels as
 *    the cycle.
 * 3. The cycle is taken out only when the weekdays differ beyond chance: the one-way analysis of variance of the
 *    residual days by weekday, F with 6 and days − 7 − steps degrees of freedom, at CYCLE_ALPHA.
 *
 * Pure functions; the council applies the cycle to each series before detection (changes.ts).
 */

/**
 * The level a weekly cycle must reach to be taken out. The steps fitted first come from the same days, and days
 * are not quite independent (the machine's drift persists). Measured on families without a cycle — 5 to 40 series,
 * 30 to 365 nights, machine drift φ 0 or 0.6, up to five releases of −20 % or +40 %, bad nights — 500 families
 * each, the test passed 0.2–1.2 % of them at 0.01, 0–0.4 % at 0.001 and 0–0.2 % at 0.0001: the bar is 0.0001. A
 * false cycle costs little anyway: a profile of a few tenths of a percent taken out of every series alike.
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
  /** F test of no weekly cycle (6 and days − 7 − steps degrees of freedom). */
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
 * Series pooled per day, at most: the median of a day is as good from a few hundred series as from ten thousand,
 * and a council run over millions of runs keeps a few hundred days × this many numbers, not every run.
 */
const MAX_SERIES_PER_DAY = 256;
/** The bar for the pooled series' steps: they only stand for its levels while the cycle is fitted. */
const STEP_ALPHA = 0.05;

/** The family's weekly cycle, or undefined when there is not enough to estimate one or no cycle beyond chance. */
export function estimateWeeklyCycle(series: readonly CycleSeries[], alpha = CYCLE_ALPHA): WeeklyCycle | undefined {
  const pooled = pooledDays(series);
  const perWeekday = Array.from({ length: 7 }, () => 0);
  for (const d of pooled) perWeekday[weekdayOf(d.day)]++;
  if (perWeekday.some((count) => count < MIN_DAYS_PER_WEEKDAY)) return undefined;
  const weekdays = pooled.map((d) => weekdayOf(d.day));
  const level = pooled.map((d) => d.level);

  // 1. From day-to-day changes, consecutive days only.
  const changes: number[][] = Array.from({ length: 7 }, () => []);
  for (let i = 1; i < pooled.length; i++) if (pooled[i].day === pooled[i - 1].day + 1) changes[weekdays[i]].push(level[i] - level[i - 1]);
  const dayChanges = changes.map((c) => (c.length ? median(c) : 0));
  const trend = dayChanges.reduce((a, b) => a + b, 0) / 7;
  let running = 0;
  let cycle = centre(dayChanges.map((c) => (running += c - trend)));

  // 2. Levels and cycle together.
  let cuts: number[] = [];
  let residuals: number[] = [];
  let means: number[] = [];
  for (let round = 0; round < 3; round++) {
    const adjusted = level.map((x, i) => x - cycle[weekdays[i]]);
    cuts = detectSeries(
      adjusted.map((x) => 100 * Math.exp(x)),
      { alpha: STEP_ALPHA, minChangePct: 0 },
    ).steps.map((c) => c.index);
    const bounds = [0, ...cuts, pooled.length];
    residuals = level.slice();
    for (let k = 0; k + 1 < bounds.length; k++) {
      let mean = 0;
      for (let i = bounds[k]; i < bounds[k + 1]; i++) mean += adjusted[i];
      mean /= bounds[k + 1] - bounds[k];
      for (let i = bounds[k]; i < bounds[k + 1]; i++) residuals[i] -= mean;
    }
    means = weekdayMeans(residuals, weekdays);
    cycle = centre(means);
  }

  // 3. Beyond chance? (The cycle is each weekday's mean less the mean of the seven.)
  let within = 0;
  residuals.forEach((r, i) => (within += (r - means[weekdays[i]]) ** 2));
  const dof = pooled.length - 7 - cuts.length;
  if (dof < 1) return undefined;
  const between = cycle.reduce((sum, c, w) => sum + c * c * perWeekday[w], 0) / 6;
  const variance = within / dof;
  const p = variance > 0 ? 1 - fCdf(between / variance, 6, dof) : between > 0 ? 0 : 1;
  if (!(p <= alpha)) return undefined;
  const factors = cycle.map(Math.exp);
  return { factors, swingPct: (Math.max(...factors) / Math.min(...factors) - 1) * 100, p, days: pooled.length };
}

function centre(xs: number[]): number[] {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.map((x) => x - mean);
}

function weekdayMeans(values: readonly number[], weekdays: readonly number[]): number[] {
  const sum = Array.from({ length: 7 }, () => 0);
  const count = Array.from({ length: 7 }, () => 0);
  values.forEach((v, i) => {
    sum[weekdays[i]] += v;
    count[weekdays[i]]++;
  });
  return sum.map((s, w) => (count[w] ? s / count[w] : 0));
}

/** The family's day series: per UTC day, the median across series of each series' mean log run that day less its median. */
function pooledDays(series: readonly CycleSeries[]): { day: number; level: number }[] {
  const byDay = new Map<number, number[]>();
  let logs = new Float64Array(0);
  for (const s of series) {
    const n = s.values.length;
    if (n < MIN_RUNS || s.days.length !== n) continue;
    let usable = true;
    for (let i = 0; i < n && usable; i++) usable = s.values[i] > 0 && Number.isFinite(s.values[i]) && Number.isInteger(s.days[i]);
    if (!usable) continue;
    if (logs.length < n) logs = new Float64Array(n);
    for (let i = 0; i < n; i++) logs[i] = Math.log(s.values[i]);
    const centre = median(logs.subarray(0, n));
    // Runs of one day (repeats, bisection) averaged first, so a busy day of one series counts once.
    const own = new Map<number, { sum: number; n: number }>();
    for (let i = 0; i < n; i++) {
      const e = own.get(s.days[i]);
      if (e) {
        e.sum += logs[i] - centre;
        e.n++;
      } else own.set(s.days[i], { sum: logs[i] - centre, n: 1 });
    }
    for (const [day, e] of own) {
      const list = byDay.get(day);
      if (!list) byDay.set(day, [e.sum / e.n]);
      else if (list.length < MAX_SERIES_PER_DAY) list.push(e.sum / e.n);
    }
  }
  return [...byDay.entries()].sort((a, b) => a[0] - b[0]).map(([day, levels]) => ({ day, level: median(levels) }));
}

/** A series with the cycle taken out: each run divided by its weekday's factor. */
export function withoutWeeklyCycle(values: ArrayLike<number>, days: ArrayLike<number>, cycle: WeeklyCycle): number[] {
  return Array.from(values, (v, i) => {
    // A run without a readable day keeps its value (the estimate skipped it too).
    const factor = cycle.factors[weekdayOf(days[i])];
    return factor === undefined ? v : v / factor;
  });
}
