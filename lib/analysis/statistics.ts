import { seededRandom } from "../seed/random";
import { studentTQuantileTwoSided, studentTTwoSidedP } from "./student-t";

/**
 * The statistics the episodes state on top of the detector, as pure functions
 * (docs/statistics.md explains each: what it estimates, its null, why its
 * interval covers). lib/analysis/impact.ts, lib/analysis/facts.ts and
 * lib/analysis/queries.ts call them on what ClickHouse aggregated;
 * bench/statistics.ts calls the same functions on simulated worlds.
 */

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const avg = (v: number[]) => sum(v) / v.length;
const sd = (v: number[]) => {
  const m = avg(v);
  return Math.sqrt(sum(v.map((x) => (x - m) ** 2)) / (v.length - 1));
};

/** Benjamini–Hochberg adjusted q-values; nulls (tests not run) stay null and do not count. */
export function benjaminiHochberg(ps: (number | null)[]): (number | null)[] {
  const present = ps.map((p, i) => ({ p, i })).filter((x): x is { p: number; i: number } => x.p !== null && Number.isFinite(x.p));
  const m = present.length;
  const out: (number | null)[] = ps.map(() => null);
  present.sort((a, b) => b.p - a.p);
  let running = 1;
  present.forEach(({ p, i }, rankFromTop) => {
    const rank = m - rankFromTop;
    running = Math.min(running, (p * m) / rank);
    out[i] = Math.min(1, running);
  });
  return out;
}

export interface PlaceboTest {
  /** The after window's statistic minus the placebo windows' mean. */
  estimate: number;
  ci: [number, number];
  p: number;
  /** Placebo windows (degrees of freedom + 1). */
  placebos: number;
  /** Mean of the placebo windows' statistic (the usual change without a release). */
  placeboMean: number;
}

/**
 * A placebo (prediction) test: is the after window's statistic unlike the same statistic on K windows before the
 * change? Under the null the K + 1 values are exchangeable (here: week-over-week changes of whole days, which do not
 * depend on the weekly or daily cycle, and whose hourly autocorrelation stays inside each window). Student's t with
 * K − 1 degrees of freedom on (x₀ − mean) / (sd · √(1 + 1/K)): exact for independent normal windows.
 */
export function placeboTest(after: number, placebos: number[], confidence = 0.95): PlaceboTest | null {
  const k = placebos.length;
  if (k < 2 || !Number.isFinite(after) || placebos.some((x) => !Number.isFinite(x))) return null;
  const placeboMean = avg(placebos);
  const estimate = after - placeboMean;
  const se = sd(placebos) * Math.sqrt(1 + 1 / k);
  if (!(se > 0)) return { estimate, ci: [estimate, estimate], p: estimate === 0 ? 1 : 0, placebos: k, placeboMean };
  const q = studentTQuantileTwoSided(1 - confidence, k - 1);
  return { estimate, ci: [estimate - q * se, estimate + q * se], p: studentTTwoSidedP(estimate / se, k - 1), placebos: k, placeboMean };
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2). */
function binomialHalfCdf(k: number, n: number): number {
  let term = Math.pow(0.5, n);
  let total = 0;
  for (let i = 0; i <= k; i++) {
    total += term;
    term = (term * (n - i)) / (i + 1);
  }
  return total;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The distribution-free interval of a median from order statistics: [x₍ⱼ₎, x₍ₙ₊₁₋ⱼ₎] with the largest j such that
 * P(Binomial(n, ½) ≤ j − 1) ≤ (1 − confidence) / 2, so it covers the population median with probability ≥ confidence
 * for any continuous distribution. Null when n is too small for that (n < 6 at 95 %).
 */
export function medianInterval(values: number[], confidence = 0.95): [number, number] | null {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  let j = 0;
  while (j + 1 <= n / 2 && binomialHalfCdf(j, n) <= (1 - confidence) / 2) j++;
  if (j === 0) return null;
  return [sorted[j - 1], sorted[n - j]];
}

export interface SeriesChange {
  change_pct: number;
  ci_pct: [number, number];
}

export interface EventEstimate {
  /** The event's size: the median change across its series of one metric. */
  change_pct: number;
  ci_pct: [number, number];
  series: number;
  /** How the interval was made: order statistics of the median (n ≥ 6), the series' own interval (n = 1), or the hull of the series' intervals (2–5). */
  method: "median_order_statistics" | "single_series" | "hull_of_series";
}

/**
 * An event's headline size: the median of its series' changes (each series a replicate of the one code change), with
 * the order-statistic interval of the median. With one series, that series' own interval (nothing was selected from
 * among several). With 2–5 series, where no order-statistic interval reaches 95 %, the hull of their intervals.
 */
export function eventEstimate(changes: SeriesChange[], confidence = 0.95): EventEstimate {
  const values = changes.map((c) => c.change_pct);
  const m = median(values);
  if (changes.length === 1) return { change_pct: m, ci_pct: changes[0].ci_pct, series: 1, method: "single_series" };
  const ci = medianInterval(values, confidence);
  if (ci) return { change_pct: m, ci_pct: ci, series: changes.length, method: "median_order_statistics" };
  const lo = Math.min(...changes.map((c) => c.ci_pct[0]));
  const hi = Math.max(...changes.map((c) => c.ci_pct[1]));
  return { change_pct: m, ci_pct: [Math.min(lo, m), Math.max(hi, m)], series: changes.length, method: "hull_of_series" };
}

export function pearson(x: number[], y: number[]): number | null {
  const n = x.length;
  if (n < 3) return null;
  const mx = avg(x);
  const my = avg(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}

export interface DifferencedCorrelation {
  r: number | null;
  /** Day-to-day differences the correlation is computed over. */
  pairs: number;
  /** Moving-block bootstrap percentile interval, or null: too few differences for one that covers (the r is descriptive). */
  ci: [number, number] | null;
  block: number;
}

/** Differences below which the correlation is given without an interval (bench/statistics.ts: the bootstrap's coverage at n = 7 is far below 95 %). */
export const MIN_BOOTSTRAP_PAIRS = 14;

/**
 * Pearson r of day-to-day differences (two random walks share no steps, so differencing removes their spurious
 * correlation), with a seeded moving-block bootstrap interval (block ≈ n^⅓, so short-range dependence left after
 * differencing stays inside blocks): Fisher's z ± t(⌊n / block⌋ − 1) × the bootstrap standard error of z. Deterministic: the
 * same days give the same interval.
 */
export function differencedCorrelation(x: number[], y: number[], options: CorrelationOptions = {}): DifferencedCorrelation {
  return correlationOfDifferences(
    x.slice(1).map((v, i) => v - x[i]),
    y.slice(1).map((v, i) => v - y[i]),
    options,
  );
}

export interface CorrelationOptions {
  seed?: number;
  reps?: number;
  confidence?: number;
  minPairs?: number;
}

/** Day-to-day differences of consecutive days only (a missing day breaks the chain: no difference across it). */
export function dayDifferences(days: { day: string; x: number; y: number }[]): { dx: number[]; dy: number[] } {
  const dx: number[] = [];
  const dy: number[] = [];
  for (let i = 1; i < days.length; i++) {
    if (Date.parse(`${days[i].day}T00:00:00Z`) - Date.parse(`${days[i - 1].day}T00:00:00Z`) !== 86_400_000) continue;
    dx.push(days[i].x - days[i - 1].x);
    dy.push(days[i].y - days[i - 1].y);
  }
  return { dx, dy };
}

/** As differencedCorrelation, on differences already taken. */
export function correlationOfDifferences(dx: number[], dy: number[], options: CorrelationOptions = {}): DifferencedCorrelation {
  const n = dx.length;
  const r = pearson(dx, dy);
  const block = Math.max(1, Math.round(Math.cbrt(n)));
  if (r === null || n < (options.minPairs ?? MIN_BOOTSTRAP_PAIRS)) return { r, pairs: n, ci: null, block };
  const rng = seededRandom(options.seed ?? 20261122);
  const reps = options.reps ?? 2000;
  const confidence = options.confidence ?? 0.95;
  const zs: number[] = [];
  const bx = new Array<number>(n);
  const by = new Array<number>(n);
  for (let b = 0; b < reps; b++) {
    for (let i = 0; i < n;) {
      const start = Math.floor(rng() * (n - block + 1));
      for (let j = 0; j < block && i < n; j++, i++) {
        bx[i] = dx[start + j];
        by[i] = dy[start + j];
      }
    }
    const rb = pearson(bx, by);
    if (rb !== null) zs.push(Math.atanh(Math.max(-0.999999, Math.min(0.999999, rb))));
  }
  if (zs.length < reps / 2) return { r, pairs: n, ci: null, block };
  const z0 = Math.atanh(Math.max(-0.999999, Math.min(0.999999, r)));
  // The bootstrap's standard error of Fisher's z (a block resample keeps short-range dependence), with Student's t on
  // as many degrees of freedom as there are independent blocks, less one (bench/statistics.ts: t(n − 3) undercovers).
  const se = sd(zs);
  const t = studentTQuantileTwoSided(1 - confidence, Math.max(1, Math.floor(n / block) - 1));
  return { r, pairs: n, ci: [Math.tanh(z0 - t * se), Math.tanh(z0 + t * se)], block };
}

/**
 * A lower bound on the local false discovery rate of a p-value (Sellke, Bayarri & Berger 2001: the Bayes factor for
 * the null is at least −e·p·ln p for p < 1/e), at prior odds of one: the probability, at least, that a change with
 * this p is not real. 1 − it is the evidence a story has from its weakest change; unlike 1 − q it is well below 1 for
 * p-values near the detector's level (p = 0.01 → 0.89, p = 0.001 → 0.98).
 */
export function localFdrBound(p: number): number {
  if (!(p > 0)) return 0;
  if (p >= 1 / Math.E) return 0.5;
  const bf = -Math.E * p * Math.log(p);
  return bf / (1 + bf);
}

/**
 * The smallest relative step (percent of the level) a series could have shown at 80 % power and two-sided `alpha`
 * with half its runs each side (α = 0.01 by default): (z₁₋α/₂ + z₀.₈) · cv · √(4 / n), the noise cv estimated from successive differences
 * (robust to one step: MAD of differences / √2 / median level). Null with fewer than 4 runs or a level of zero.
 */
export function minimalDetectableChangePct(values: number[], zAlpha = 2.576): number | null {
  const n = values.length;
  if (n < 4) return null;
  const level = median(values);
  if (!(Math.abs(level) > 0)) return null;
  const diffs = values.slice(1).map((v, i) => Math.abs(v - values[i]));
  const sigma = (median(diffs) * 1.4826) / Math.SQRT2;
  return (zAlpha + 0.8416) * (sigma / Math.abs(level)) * Math.sqrt(4 / n) * 100;
}
