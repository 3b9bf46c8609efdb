import { CLIP_SHARES, SCAN_NULL_TABLES } from "./scan-null-table";
import { PRIOR_NULL_TABLES } from "./scan-null-prior-table";

/**
 * The null distribution of a whole series' scan: the smallest interval p-value T over
 * every seeded interval (scan.ts), with the noise estimated from the series itself, as
 * simulated under no change (scripts/calibrate-scan.ts writes one table per noise family —
 * Gaussian and Student-t with 3 df — and statistic — the level scan and the spread scan —
 * each giving, per series length, T's quantiles at the tabulated probabilities). A series
 * reads the Gaussian null, the Student-t one or a log-linear blend of both, by how heavy
 * its tails look (tailWeight: the share of its runs the scan clips).
 *
 * seriesPValue(T, n) = P(T* ≤ T) under the null: interpolated in log–log between the
 * tabulated probabilities and lengths. Below the smallest tabulated probability the
 * last effective number of tests (P / T) carries on (the tail of a minimum of many
 * p-values is linear in T); above the longest length it grows in proportion to n
 * (the number of short intervals, which dominate it, does).
 */

/** Which scan a p-value is for: a shift of level, or of spread (changepoints.ts). */
export type ScanStatistic = keyof (typeof SCAN_NULL_TABLES)["gaussian"];
/** The noise each family of tables is simulated under: Gaussian, and Student-t with 3 degrees of freedom. */
export type NoiseFamily = keyof typeof SCAN_NULL_TABLES;

/** Log–log interpolation of a per-length row at n (held flat beyond the tabulated lengths). */
function alongLengths(lengths: readonly number[], row: readonly number[], n: number): number {
  if (n <= lengths[0]) return row[0];
  const last = lengths.length - 1;
  if (n >= lengths[last]) return row[last];
  let i = 1;
  while (lengths[i] < n) i++;
  const f = (Math.log(n) - Math.log(lengths[i - 1])) / (Math.log(lengths[i]) - Math.log(lengths[i - 1]));
  return row[i - 1] + f * (row[i] - row[i - 1]);
}

/** Runs of Gaussian noise the clip share is pulled toward before it is judged (tailWeight). */
const TAIL_PRIOR_RUNS = 60;

/**
 * The tail weight's range: the two simulated nulls, extended by half their distance on either side (seriesPValue
 * extrapolates log-linearly). Symmetric about their midpoint, so a weight read too low is as likely as one read too
 * high and the errors cancel.
 */
const TAIL_WEIGHT_RANGE = [-1, 2] as const;

/**
 * How heavy a series' tails look, from the share of its runs the level scan clips: 0 at the mean share of Gaussian
 * noise of that length, 1 at the mean share of Student-t noise with 3 df, linear between and beyond (within
 * TAIL_WEIGHT_RANGE), in steps of 0.1 (so series share thresholds, and the weight is stable to the last digit of the
 * share).
 *
 * Why beyond: the weight is an estimate, and a Student-t series whose share happens to come out low reads a lighter
 * null than its own. Held at [0, 1], every such error made the p-value smaller and none made it larger: on 1,000
 * clean Student-t series of 365 runs, 2.4 % of p-values fell at or below 0.01 (bench/changepoints-real.ts), though
 * the Student-t null alone gives 1.2 %. Read beyond, the errors on the two sides cancel to first order.
 */
export function tailWeight(clipShare: number, n: number): number {
  const g = alongLengths(CLIP_SHARES.lengths, CLIP_SHARES.gaussian, n);
  const t = alongLengths(CLIP_SHARES.lengths, CLIP_SHARES.t3, n);
  if (!(t > g)) return 0;
  // Tails cannot be judged on a few dozen runs: the share is pulled toward the Gaussian one as if TAIL_PRIOR_RUNS
  // Gaussian runs had been seen too (on short series the two nulls are close anyway; on long ones the data decide).
  // With 200 such runs a Student-t series of 365 runs was read at about two thirds of its weight.
  const shrunk = (clipShare * n + g * TAIL_PRIOR_RUNS) / (n + TAIL_PRIOR_RUNS);
  const [lowest, highest] = TAIL_WEIGHT_RANGE;
  const w = Math.min(highest, Math.max(lowest, (shrunk - g) / (t - g)));
  return Math.round(w * 10) / 10;
}

/** P(T* ≤ t) for one tabulated length, from its quantile row (log–log interpolation). */
function rowAt(probs: readonly number[], quantiles: readonly number[], t: number): number {
  if (t >= quantiles[0]) {
    // Above the largest tabulated quantile: linear in log T up to P = 1 at T = 1.
    const [lt, lp] = [Math.log(quantiles[0]), Math.log(probs[0])];
    return t >= 1 ? 1 : Math.exp(lp + ((Math.log(t) - lt) * (0 - lp)) / (0 - lt));
  }
  for (let i = 1; i < quantiles.length; i++) {
    // A quantile of exactly 0 (the shortest series: the scan's tail reaches 0 within the simulation's precision) has
    // no logarithm to interpolate to: P(T* ≤ t) for t below the quantile before it is at most that quantile's
    // probability, and that bound is what is said.
    if (quantiles[i] <= 0) return probs[i - 1];
    if (t >= quantiles[i]) {
      const f = (Math.log(t) - Math.log(quantiles[i])) / (Math.log(quantiles[i - 1]) - Math.log(quantiles[i]));
      return Math.exp(Math.log(probs[i]) + f * (Math.log(probs[i - 1]) - Math.log(probs[i])));
    }
  }
  const last = quantiles.length - 1;
  return Math.min(1, t * (probs[last] / quantiles[last]));
}

/**
 * The calibrated p-value of a series of n values whose smallest interval p-value is t, read from the null of its
 * noise: the Gaussian tables at tails = 0, the Student-t tables at 1, between them log-linearly, and beyond them (a weight
 * outside [0, 1]: tailWeight) extrapolated the same way.
 */
export function seriesPValue(t: number, n: number, statistic: ScanStatistic = "level", tails = 0, priorPhi?: number): number {
  const prior = priorPhi !== undefined && statistic === "level";
  const light = () => (prior ? priorPValue(t, n, priorPhi) : familyPValue(t, n, statistic, "gaussian"));
  const heavy = () => (prior ? tablePValue(PRIOR_NULL_TABLES.t3, t, n) : familyPValue(t, n, statistic, "t3"));
  if (tails === 0) return light();
  if (tails === 1) return heavy();
  return logBlend(light(), heavy(), tails);
}

/**
 * a and b blended log-linearly at weight w of b (linearly when either is 0, which has no logarithm), within [0, 1];
 * a w outside [0, 1] extrapolates.
 */
function logBlend(a: number, b: number, w: number): number {
  if (a === 0 || b === 0) return Math.min(1, Math.max(0, (1 - w) * a + w * b));
  return Math.min(1, Math.exp((1 - w) * Math.log(a) + w * Math.log(b)));
}

/**
 * The null of a short series whose φ is pulled toward its family's (changepoints.ts, PhiPrior): Gaussian AR(1) noise
 * at the family's φ, read through the prior at that φ (PRIOR_NULL_TABLES, simulated at a few φ from 0), interpolated
 * in log p between the neighbouring φ and held beyond the last.
 */
function priorPValue(t: number, n: number, phi: number): number {
  const grid = PRIOR_NULL_TABLES.phis;
  const at = (k: number) => tablePValue(PRIOR_NULL_TABLES.level[k], t, n);
  if (!(phi > grid[0])) return at(0);
  if (phi >= grid[grid.length - 1]) return at(grid.length - 1);
  let k = 1;
  while (grid[k] < phi) k++;
  return logBlend(at(k - 1), at(k), (phi - grid[k - 1]) / (grid[k] - grid[k - 1]));
}

function familyPValue(t: number, n: number, statistic: ScanStatistic, family: NoiseFamily): number {
  return tablePValue(SCAN_NULL_TABLES[family][statistic], t, n);
}

interface NullTable {
  readonly probabilities: readonly number[];
  readonly lengths: readonly number[];
  readonly quantiles: readonly (readonly number[])[];
}

function tablePValue(table: NullTable, t: number, n: number): number {
  if (!(t > 0)) return 0;
  if (t >= 1) return 1;
  const { lengths, probabilities } = table;
  const rows = table.quantiles;
  const rowCdf = (row: readonly number[], x: number) => rowAt(probabilities, row, x);
  if (n <= lengths[0]) return rowCdf(rows[0], t);
  const last = lengths.length - 1;
  if (n >= lengths[last]) return Math.min(1, rowCdf(rows[last], (t * n) / lengths[last]));
  let i = 1;
  while (lengths[i] < n) i++;
  const f = (Math.log(n) - Math.log(lengths[i - 1])) / (Math.log(lengths[i]) - Math.log(lengths[i - 1]));
  const [a, b] = [rowCdf(rows[i - 1], t), rowCdf(rows[i], t)];
  return Math.min(1, Math.exp(Math.log(a) + f * (Math.log(b) - Math.log(a))));
}

/** The smallest interval p-value t at which seriesPValue(t, n) = p (bisection in log t). */
export function intervalLevelFor(p: number, n: number, statistic: ScanStatistic = "level", tails = 0, priorPhi?: number): number {
  let lo = Math.log(1e-300);
  let hi = 0;
  for (let i = 0; i < 100 && hi - lo > 1e-6; i++) {
    const mid = (lo + hi) / 2;
    if (seriesPValue(Math.exp(mid), n, statistic, tails, priorPhi) > p) hi = mid;
    else lo = mid;
  }
  return Math.exp(lo);
}
