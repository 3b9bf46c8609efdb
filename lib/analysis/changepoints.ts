import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import {
  adjacentBlockCovariance,
  blockSumVariance,
  despike,
  estimateNoise,
  median,
  normalScores,
  residualNoise,
  smallMedian,
  trimmedScale,
  type NoiseModel,
} from "./noise";
import { bestSplitIn, memoized, narrowestOverThreshold, prefixSums, scan, scanThreshold, scanTailProbability, type ScanInput } from "./scan";
import { intervalLevelFor, seriesPValue, tailWeight, type ScanStatistic } from "./scan-null";
import { findSeason, MIN_ACF, withoutSeason } from "./season";
import { fitPiecewise, kinkLocationSet, selectKinks, type KinkSearch, type PiecewiseFit } from "./trend";

/**
 * What changed in one benchmark series (runs ordered by commit), so a change can be
 * pinned on the commit whose run starts it. Pure functions, no I/O; the method, its
 * null and its evaluation are in docs/change-points.md.
 *
 *  1. Season: a cycle that stands out in the autocorrelation of the differences (a monthly
 *     peak, an epidemic every two years, a weekly load cycle) is estimated by the classical
 *     decomposition and taken out first (season.ts), so it is not read as steps.
 *  2. Outliers: a run further than outlierSigmas noise deviations from the median of its
 *     neighbours is an outlier — reported as such, replaced by that median, never a change.
 *  3. Noise as it is: the test runs on normal scores of the values (ranks: calibrated under
 *     heavy tails), with an AR(1) model of day-to-day drift read from lag-1 and lag-2
 *     differences (noise.ts).
 *  4. Steps: a multiscale scan of seeded intervals (scan.ts); the series' p-value is the
 *     smallest interval p-value calibrated by simulation for the series' length
 *     (scan-null.ts), so it is uniform under no change whatever the length. When it is
 *     significant, the narrowest intervals over the threshold give the changes; each is
 *     then moved to the best split between its neighbours and kept only while it stays
 *     significant there, at least minChangePct large, with an interval that excludes 0.
 *  5. Drift: a piecewise-linear trend whose slope changes at kinks (trend.ts), plus steps,
 *     against steps alone, by BIC; each stretch with a significant slope is a drift with
 *     its start and its runs, not a staircase of steps.
 *  6. Spread: the same scan on the sizes of successive differences: a change in how noisy
 *     runs are ("twice as noisy since …"), a kind of its own.
 *
 * The level and spread scans share the false-alarm budget alpha (Bonferroni, α/2 each), so
 * a clean series raises any alarm with probability ≤ alpha at every length.
 * Deterministic: no randomness; ties go to the earliest index.
 */

export interface DetectorOptions {
  /** Chance that a series without any change reports one (any kind but outliers); also each change's level. */
  alpha: number;
  /** Runs required on each side of a change. */
  minRunsEachSide: number;
  /** Steps smaller than this relative size (percent of the mean before) are not reported (noise floor). */
  minChangePct: number;
  /** Confidence level of every reported interval, e.g. 0.95. */
  confidence: number;
  /** A run this many noise standard deviations from its neighbours' median is an outlier. */
  outlierSigmas: number;
  /**
   * The smallest autocorrelation of a series' differences at a period for its cycle to be taken out before the scans
   * (season.ts); 1 takes none out.
   */
  seasonMinAcf: number;
}

/**
 * Chosen on the seeded corpus of `npm run bench -- --only changepoints` (never on TCPD,
 * which the bench reports with these defaults):
 *  - alpha 0.001: recall on the seeded goal cells is the same from 0.005 down to 0.001
 *    (steps of ≥ 10 % at CV ≤ 3 % are far above either bar) while false alarms under
 *    Student-t and AR(1) noise fall by half; 0.0003 starts to lose recall.
 *  - minRunsEachSide 3: a regression fixed 3 runs later is still two changes; 2 would
 *    let one noisy pair be a segment.
 *  - minChangePct 2: below 2 % a benchmark shift is not worth a story even when real.
 *  - confidence 0.95: the conventional interval.
 *  - outlierSigmas 5: Gaussian noise puts a run that far out once in ~2 million runs.
 *  - seasonMinAcf 0.3 (season.ts, MIN_ACF): no cycle is found in any clean cell of the bench; TCPD is reported beside
 *    a leave-one-out figure over it, since its score moves with it (docs/change-points.md).
 */
export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = Object.freeze({
  alpha: 0.001,
  minRunsEachSide: 3,
  minChangePct: 2,
  confidence: 0.95,
  outlierSigmas: 5,
  seasonMinAcf: MIN_ACF,
});

export interface SegmentStats {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); exactly 0 when all values are identical. */
  stdev: number;
}

export interface DetectedChange {
  /** Index of the first point after the change (points [index-1] and [index] straddle it). */
  index: number;
  /** The segment between the previous change (or start) and this one. */
  before: SegmentStats;
  /** The segment between this change and the next (or end). */
  after: SegmentStats;
  /** Signed relative change of the mean, (after − before) / |before| × 100 (±Infinity when before's mean is 0). */
  change_pct: number;
  /**
   * Confidence interval of change_pct: Fieller's interval for the ratio of the two means
   * with the AR(1) noise model of the test (the variances of both means and their
   * covariance), minus 1, in percent. [-Infinity, Infinity] when the mean before is not
   * itself distinguishable from 0.
   */
  ci_pct: [number, number];
  /** after.mean − before.mean, in the series' units. */
  difference: number;
  /**
   * Confidence interval of the difference under the same AR(1) noise model. It excludes 0 exactly when Fieller's set
   * for the ratio excludes no change, so it decides whether a step is reported even where that set is unbounded (a
   * level before that is not distinguishable from 0: a series without a natural zero, like a z-scored one).
   */
  ci_difference: [number, number];
  /**
   * P(a split this strong between the neighbouring changes | no change there): the scan
   * tail of the best split over the segment between the previous and next change, so the
   * search over positions is paid for.
   */
  p_value: number;
  /** Both adjacent segments have zero variance and different means: a deterministic jump (p_value 0). */
  deterministic: boolean;
}

export interface DetectedDrift {
  /** First run of the drifting stretch. */
  index: number;
  /** Runs in it: index … index + n − 1, the last being where a kink stops or turns it, or the series' last run. */
  n: number;
  /** Slope in percent of the stretch's starting level per run, with its interval. */
  slope_pct_per_run: number;
  ci_pct_per_run: [number, number];
  /**
   * Two-sided p-value of the stretch's slope under the AR(1) noise model, given where its kinks sit (each kink's own
   * test pays for the search over where; the trend is only fitted on a series whose level scan is significant).
   */
  p_value: number;
  /**
   * The runs the stretch could start at (95 % profile-likelihood set of its kink's location, trend.ts; it always holds
   * index): [index, index] at the series' first run. A drift that starts sharply has a narrow set; one that eases in, or a smooth curve read
   * as a line with a bend, a wide one — and then no one run, nor the commit at it, is where it began.
   */
  start_runs: [number, number];
  /** Likewise for the run where a later kink stops or turns it; null when it runs to the series' last run. */
  end_runs: [number, number] | null;
}

export interface DetectedSpread {
  /** First run of the new spread. */
  index: number;
  /** Noise standard deviation after / before, with its interval. */
  ratio: number;
  ci_ratio: [number, number];
  /** Scan p-value of the split between its neighbours, as for steps. */
  p_value: number;
}

export interface SeriesDetection {
  /**
   * The series' calibrated p-value: P(this much evidence of any change | none), over the
   * whole search (level and spread scans, Bonferroni). Uniform under no change; the value
   * Benjamini–Hochberg takes across series.
   */
  p_value: number;
  steps: DetectedChange[];
  drifts: DetectedDrift[];
  spreads: DetectedSpread[];
  /** Indices of runs reported as outliers (not changes). */
  outliers: number[];
  /** The noise model of the test (normal scores) and of the values. */
  noise: { phi: number; sigma: number };
  /** Runs in the series. */
  runs: number;
  /**
   * The seasonal cycle taken out before the scans (season.ts), if the series has one: its period in runs, the
   * autocorrelation of differences at that period, and its swing in the series' units. Changes are read from the
   * seasonally adjusted values.
   */
  season?: DetectedSeason;
}

export interface DetectedSeason {
  period: number;
  acf: number;
  amplitude: number;
}

export interface DetectInput {
  /**
   * Group of each value (e.g. its commit's position): several runs of one commit sit
   * together, so a change falls only where the group changes. Omitted: every run its own.
   */
  groups?: ArrayLike<number>;
  /** Only steps with a split p-value ≤ this are kept (Benjamini–Bogomolov: alpha × selected / tested). Default: alpha. */
  changeLevel?: number;
  /**
   * The day-to-day persistence of series like this one (detectAcross: the run-weighted mean φ of the family), worth
   * `runs` runs of evidence: the φ the level scan tests with is this series' own φ̂ pulled toward it. Omitted: φ̂ alone.
   */
  phiPrior?: PhiPrior;
}

export interface PhiPrior {
  phi: number;
  runs: number;
}

// ---------------------------------------------------------------------------
// Segments and intervals on the values.

function segmentStats(values: ArrayLike<number>, from: number, to: number): SegmentStats {
  const n = to - from;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = from; i < to; i++) {
    sum += values[i];
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  // Identical values: mean is the value itself and stdev exactly 0 (sum / n can round off, and then a
  // flat-then-jump series would get a tiny variance instead of being recognised as deterministic).
  if (min === max) return { n, mean: min, stdev: 0 };
  const mean = sum / n;
  let ss = 0;
  for (let i = from; i < to; i++) ss += (values[i] - mean) ** 2;
  return { n, mean, stdev: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

function relativeChangePct(before: SegmentStats, after: SegmentStats): number {
  if (before.mean === 0) return after.mean === 0 ? 0 : after.mean > 0 ? Infinity : -Infinity;
  return ((after.mean - before.mean) / Math.abs(before.mean)) * 100;
}

/**
 * Fieller's interval for μ_after / μ_before − 1 in percent, given the variances of both
 * means and their covariance: {R : (a − R·b)² ≤ z²(v_a + R²·v_b − 2R·c)}.
 */
function fiellerChangeCi(before: number, after: number, vBefore: number, vAfter: number, cov: number, z: number): [number, number] {
  const [a, b] = [after, before];
  const A = b * b - z * z * vBefore;
  if (!(A > 0)) return [-Infinity, Infinity];
  const B = a * b - z * z * cov;
  const disc = B * B - A * (a * a - z * z * vAfter);
  const half = Math.sqrt(Math.max(0, disc));
  const [rLo, rHi] = [(B - half) / A, (B + half) / A];
  // change = sign(b)·(R − 1): for a negative mean before, the interval flips.
  return b > 0 ? [(rLo - 1) * 100, (rHi - 1) * 100] : [(1 - rHi) * 100, (1 - rLo) * 100];
}

// ---------------------------------------------------------------------------
// The scan of one series for shifts of its level.

interface LevelScan {
  /** Calibrated p-value of the whole scan. */
  p: number;
  /** Narrowest-over-threshold splits (empty unless p ≤ the level). */
  cuts: number[];
  input: ScanInput;
  prefix: Float64Array;
}

/** Residuals from the running median are clipped at this many noise standard deviations (a Huber-type guard against heavy tails). */
const CLIP_SIGMAS = 2.5;

/**
 * The values the scan tests: each run's deviation from the median of the 2m − 1 runs
 * around it clipped at CLIP_SIGMAS noise deviations (lag-1 differences' trimmed scale).
 * A running median keeps steps of ≥ m runs where they are, so only isolated wild runs
 * move; Student-t tails no longer decide a contrast, and a 10σ step stays a 10σ step
 * (ranks would cap the evidence of a short excursion at what its few ranks can give).
 */
function scoredInput(values: ArrayLike<number>, m: number, allowed: Uint8Array): ScanInput & { clipShare: number } {
  const n = values.length;
  let clippedRuns = 0;
  const d1 = new Float64Array(Math.max(0, n - 1));
  for (let i = 1; i < n; i++) d1[i - 1] = values[i] - values[i - 1];
  let sigma = trimmedScale(d1) / Math.SQRT2;
  if (sigma === 0) sigma = ((d1.reduce((sum, d) => sum + Math.abs(d), 0) / Math.max(1, d1.length)) * Math.sqrt(Math.PI)) / 2 / Math.SQRT2;
  const clipped = Float64Array.from(values);
  const h = m - 1;
  if (sigma > 0 && n >= 2 * h + 1) {
    const window = new Float64Array(2 * h + 1);
    const bound = CLIP_SIGMAS * sigma;
    for (let i = 0; i < n; i++) {
      const start = Math.min(Math.max(0, i - h), n - 2 * h - 1);
      for (let k = 0; k < window.length; k++) window[k] = values[start + k];
      const local = smallMedian(window);
      clipped[i] = local + Math.max(-bound, Math.min(bound, values[i] - local));
      if (Math.abs(values[i] - local) > bound) clippedRuns++;
    }
  }
  // σ and φ of the clipped values from their lag-1 and lag-2 differences (robust to steps; noisy on short series).
  const noise = estimateNoise(clipped);
  const clipShare = n > 0 ? clippedRuns / n : 0;
  return noise.sigma > 0
    ? { values: clipped, sigma: noise.sigma, phi: noise.phi, m, allowed, clipShare }
    : { values: clipped, sigma, phi: 0, m, allowed, clipShare };
}

/** Thresholds on |Z| per interval length, and interval levels per series length: shared by every series alike. */
const thresholdFor = memoized(100_000, (t: number, l: number, m: number) => `${t}:${l}:${m}`, scanThreshold);
const intervalLevel = memoized(
  100_000,
  (level: number, n: number, statistic: ScanStatistic, weight: number, priorPhi?: number) => `${statistic}:${level}:${n}:${weight}:${priorPhi ?? ""}`,
  intervalLevelFor,
);

/** About the series-level rate at which the first pass takes out steps before the noise is measured around them. */
const FIRST_PASS_LEVEL = 0.01;

/**
 * The evidence of a level shift anywhere in `values` (the statistic scan-null.ts is
 * calibrated for) and, at `level`, where. Two passes: the first, with the noise read from
 * differences, finds the steps it can; the second measures the noise around them
 * (residualNoise, more precise about day-to-day drift) and scans again with it.
 */
export function levelScan(
  values: ArrayLike<number>,
  m: number,
  allowed: Uint8Array,
  level: number,
  statistic: ScanStatistic = "level",
  tails?: number,
  phiPrior?: PhiPrior,
): LevelScan & { minIntervalP: number; clipShare: number } {
  const n = values.length;
  const first = scoredInput(values, m, allowed);
  const prefix = prefixSums(first.values);
  const clipShare = first.clipShare;
  if (!(first.sigma > 0)) return { p: 1, cuts: [], input: first, prefix, minIntervalP: 1, clipShare };
  // How heavy the noise's tails look (0 Gaussian … 1 Student-t with 3 df), from the share of runs clipped: it picks
  // the null the p-value is read from (scan-null.ts). The spread scan's input is ranks: it takes the level's.
  const weight = tails ?? tailWeight(clipShare, n);
  // The first pass's bar is fixed (not read from the null table, which is simulated through this very pass):
  // about FIRST_PASS_LEVEL over the ~n effectively independent intervals of a scan.
  const t1 = FIRST_PASS_LEVEL / n;
  // The first pass finds the steps it can under two readings of the noise — independent, and with the φ of
  // the differences (robust to steps, but noisy on a short series) — and keeps the reading whose fit, noise
  // measured around its steps, has the better AR(1) BIC: a step read as persistence, or persistence read as
  // a stream of steps, both lose. Each split is moved to its best place between its neighbours first.
  // The spread scan's persistence is read from the lag-1 autocorrelation of its scores instead: two successive
  // differences share a run, and a spread that swells and ebbs with a season (measles in TCPD) makes long stretches
  // of large and small sizes, which the differences of the scores themselves barely show.
  const independent: ScanInput = { ...first, phi: 0, sigma: first.sigma * Math.sqrt(1 - first.phi) };
  const persistent: ScanInput = statistic === "spread" ? { ...first, ...residualNoise(first.values, []) } : first;
  // A short series read through its family's φ weighs the independent reading against the persistence its family
  // says it has — the differences' φ pulled toward the family's, σ the marginal scale that φ implies — rather than
  // against its own differences' φ, which on a few dozen runs is as likely to come out low as high. Against its own,
  // drift cut into steps wins too often, and the null of the whole search (what its p-value is read from:
  // scan-null.ts) has a tail ten times heavier at 1 % (30 runs, φ 0.5: T 3.0·10⁻⁵ against 2.5·10⁻⁴). With the
  // family's persistence alone, a series whose steps are real reads them as drift.
  // The family's φ is a prior for the level scan only (the spread scan's scores have no family persistence).
  const prior = statistic === "level" ? phiPrior : undefined;
  const pull = (phi: number, p: PhiPrior) => (n * phi + p.runs * p.phi) / (n + p.runs);
  const pulledPhi = prior && pull(first.phi, prior);
  const readings =
    pulledPhi !== undefined
      ? [independent, { ...first, phi: pulledPhi, sigma: first.sigma * Math.sqrt((1 - first.phi) / (1 - pulledPhi)) }]
      : persistent.phi === 0
        ? [independent]
        : [independent, persistent];
  let best: { noise: NoiseModel; bic: number } | undefined;
  for (const reading of readings) {
    const cuts = collapseNearPairs(reading, prefix, place(reading, prefix, narrowestOverThreshold(scan(reading, (l) => thresholdFor(t1, l, m)).hits)));
    const noise = residualNoise(first.values, cuts);
    const bic = ar1Bic(n, cuts.length, noise);
    if (!best || bic < best.bic) best = { noise, bic };
    // The independent reading has the larger |Z| at every split (its σ√V is never the larger): when it finds no
    // step, the other reading finds none either and would measure the same noise.
    if (reading === independent && cuts.length === 0) break;
  }
  const around = best!.noise;
  // On a few dozen runs φ̂ is too uncertain to lean on: pulled toward the family's φ, weighted by runs.
  const phi = prior ? pull(around.phi, prior) : around.phi;
  const input: ScanInput = around.sigma > 0 ? { ...first, sigma: around.sigma, phi } : first;
  // A series read through the family's φ takes its p-value from the null of that very reading (scan-null.ts).
  const priorPhi = prior?.phi;
  const t = intervalLevel(level, n, statistic, weight, priorPhi);
  const result = scan(input, (l) => thresholdFor(t, l, input.m));
  const p = seriesPValue(result.minIntervalP, n, statistic, weight, priorPhi);
  return {
    p,
    cuts: p <= level ? collapseNearPairs(input, prefix, narrowestOverThreshold(result.hits)) : [],
    input,
    prefix,
    minIntervalP: result.minIntervalP,
    clipShare,
  };
}

/**
 * BIC of a Gaussian AR(1) piecewise-constant fit: n·log(innovation variance) + log(n) per parameter — σ, φ, and 3 a
 * step: its mean, its location, and the search for that location (a change point costs more than a plain
 * parameter, as in Zhang & Siegmund's modified BIC). With 2 a step, persistence read as a stream of steps wins too
 * often on short AR(1) series; with 4, short steps in independent noise start to be missed (bench/changepoints.ts).
 */
function ar1Bic(n: number, steps: number, noise: { sigma: number; phi: number }): number {
  const innovation = noise.sigma * noise.sigma * (1 - noise.phi * noise.phi);
  return innovation > 0 ? n * Math.log(innovation) + (3 * steps + 2) * Math.log(n) : -Infinity;
}

/**
 * Two splits closer than 2m that one split explains as well: kept as one. The narrowest
 * interval over the threshold can straddle a large step with too few runs on one side to
 * split at it, and then flanks it with two splits a few runs apart; a real short excursion
 * (a regression fixed a few runs later) is not explained by one split, and stays two.
 */
function collapseNearPairs(input: ScanInput, prefix: Float64Array, cuts: number[]): number[] {
  const n = input.values.length;
  const kept = [...cuts];
  const between = (bounds: number[]) => {
    let ss = 0;
    for (let k = 0; k + 1 < bounds.length; k++) ss += (prefix[bounds[k + 1]] - prefix[bounds[k]]) ** 2 / (bounds[k + 1] - bounds[k]);
    return ss;
  };
  const penalty = 2 * Math.log(n) * input.sigma * input.sigma * ((1 + input.phi) / (1 - input.phi));
  for (let k = 0; k + 1 < kept.length;) {
    if (kept[k + 1] - kept[k] >= 2 * input.m) {
      k++;
      continue;
    }
    const [from, to] = [k === 0 ? 0 : kept[k - 1], k + 2 < kept.length ? kept[k + 2] : n];
    const one = bestSplitIn(input, prefix, from, to);
    if (one && between([from, kept[k], kept[k + 1], to]) - between([from, one.tau, to]) < penalty) kept.splice(k, 2, one.tau);
    else k++;
  }
  return kept;
}

/**
 * The statistic the null tables are simulated for (scripts/calibrate-scan.ts): the smallest interval p-value of the
 * level scan, or of the spread scan, of a series, outliers removed as the detector removes them, and the share of
 * runs the level scan clips (how heavy its tails look).
 */
export function scanNullSample(values: ArrayLike<number>, m: number, statistic: ScanStatistic, phiPrior?: PhiPrior): { t: number; clipShare: number } {
  const { values: clean } = despike(values, m - 1, DEFAULT_DETECTOR_OPTIONS.outlierSigmas);
  const all = (k: number) => new Uint8Array(k + 1).fill(1);
  const level = levelScan(clean, m, all(clean.length), 1e-300, "level", 0, phiPrior);
  if (statistic === "level") return { t: level.minIntervalP, clipShare: level.clipShare };
  const scanned = spreadSeries(clean, []);
  return { t: levelScan(scanned, m, all(scanned.length), 1e-300, statistic, 0).minIntervalP, clipShare: level.clipShare };
}

/**
 * The series the spread scan tests: the sizes of successive differences, a step's own
 * difference set to the typical size, as normal scores. A change of spread is a shift of
 * their level, and ranks make the test as calibrated under heavy tails as under Gaussian
 * noise (the sizes themselves are skewed and, under Student-t noise, heavy-tailed).
 */
function spreadSeries(x: ArrayLike<number>, stepCuts: readonly number[]): Float64Array {
  const d = new Float64Array(x.length - 1);
  for (let i = 1; i < x.length; i++) d[i - 1] = x[i] - x[i - 1];
  const centre = median(d);
  const size = d.map((v) => Math.abs(v - centre));
  const typical = median(size);
  for (const c of stepCuts) size[c - 1] = typical;
  return normalScores(size);
}

/** Each split moved to the best split between its neighbours, until none moves (or two would meet). */
function place(input: ScanInput, prefix: Float64Array, cuts: number[]): number[] {
  let placed = [...cuts];
  for (let round = 0; round < 2 * cuts.length + 2; round++) {
    const moved = placed.map(
      (tau, k) => bestSplitIn(input, prefix, k === 0 ? 0 : placed[k - 1], k === placed.length - 1 ? input.values.length : placed[k + 1])?.tau ?? tau,
    );
    if (moved.some((t, k) => k > 0 && t <= moved[k - 1]) || moved.every((t, k) => t === placed[k])) return placed;
    placed = moved;
  }
  return placed;
}

/**
 * Moves each split to the best one between its neighbours and drops, one at a time, the
 * weakest that fails there (largest scan p-value, p > level, or `acceptable` says no),
 * until every split left passes. Returns the splits with their p-values.
 */
function refine(
  scanned: LevelScan,
  cuts: number[],
  level: number,
  acceptable: (from: number, tau: number, to: number) => boolean,
): { tau: number; p: number }[] {
  const { input, prefix } = scanned;
  const n = input.values.length;
  let kept = [...cuts];
  // A placement that has not settled within the rounds reports nothing: on a smooth curve, which no set of steps
  // describes, the splits chase one another (TCPD's us_population: tested as they stood, 49 "steps").
  for (let round = 0; round < 4 * cuts.length + 8 && kept.length; round++) {
    const placed = kept.map((tau, k) => {
      const from = k === 0 ? 0 : kept[k - 1];
      const to = k === kept.length - 1 ? n : kept[k + 1];
      const best = bestSplitIn(input, prefix, from, to);
      return best ? { tau: best.tau, z: best.z, from, to } : { tau, z: 0, from, to };
    });
    // Two splits whose best places meet or cross are one change: the weaker goes (tested as they were, one change
    // could be reported twice at the same run).
    const clash = placed.findIndex((x, k) => k > 0 && x.tau <= placed[k - 1].tau);
    if (clash > 0) {
      kept.splice(placed[clash].z < placed[clash - 1].z ? clash : clash - 1, 1);
      continue;
    }
    if (placed.some((x, k) => x.tau !== kept[k])) {
      kept = placed.map((x) => x.tau);
      continue;
    }
    const tested = placed.map((x) => ({ tau: x.tau, p: scanTailProbability(x.z, x.to - x.from, input.m), ok: true }));
    tested.forEach((x, k) => (x.ok = x.p <= level && acceptable(placed[k].from, x.tau, placed[k].to)));
    let worst = -1;
    for (let k = 0; k < tested.length; k++) if (!tested[k].ok && (worst < 0 || tested[k].p > tested[worst].p)) worst = k;
    if (worst < 0) return tested.map(({ tau, p }) => ({ tau, p }));
    kept.splice(worst, 1);
  }
  return [];
}

// ---------------------------------------------------------------------------
// Steps, drifts and spreads.

interface Context {
  values: Float64Array;
  options: DetectorOptions;
  allowed: Uint8Array;
  /** Noise of the values themselves (for magnitudes and intervals), with the test's φ. */
  sigma: number;
  phi: number;
  z: number;
  /** How heavy the noise's tails look, 0 (Gaussian) … 1 (Student-t, 3 df), read beyond both (scan-null.ts): the null every scan of this series reads. */
  tails: number;
}

function describeStep(ctx: Context, from: number, tau: number, to: number, p: number): DetectedChange {
  const before = segmentStats(ctx.values, from, tau);
  const after = segmentStats(ctx.values, tau, to);
  const change = relativeChangePct(before, after);
  const difference = after.mean - before.mean;
  const deterministic = before.stdev === 0 && after.stdev === 0 && before.mean !== after.mean;
  const [a, b] = [tau - from, to - tau];
  const s2 = ctx.sigma * ctx.sigma;
  if (deterministic || s2 === 0)
    return {
      index: tau,
      before,
      after,
      change_pct: change,
      ci_pct: [change, change],
      difference,
      ci_difference: [difference, difference],
      p_value: deterministic ? 0 : p,
      deterministic,
    };
  // The variances of both means and their covariance under the test's AR(1) model: one source for both intervals.
  const vBefore = (s2 * blockSumVariance(a, ctx.phi)) / (a * a);
  const vAfter = (s2 * blockSumVariance(b, ctx.phi)) / (b * b);
  const cov = (s2 * adjacentBlockCovariance(a, b, ctx.phi)) / (a * b);
  const half = ctx.z * Math.sqrt(Math.max(0, vBefore + vAfter - 2 * cov));
  return {
    index: tau,
    before,
    after,
    change_pct: change,
    ci_pct: fiellerChangeCi(before.mean, after.mean, vBefore, vAfter, cov, ctx.z),
    difference,
    ci_difference: [difference - half, difference + half],
    p_value: p,
    deterministic,
  };
}

/**
 * A step worth reporting: large enough, and its interval agrees with the test (excludes no change). The difference's
 * interval decides: it excludes 0 exactly when Fieller's set for the ratio excludes no change, and stays a plain
 * interval where that set is unbounded (a level before not distinguishable from 0, on a series with no natural zero).
 */
function reportableStep(ctx: Context, from: number, tau: number, to: number): boolean {
  const step = describeStep(ctx, from, tau, to, 0);
  return Math.abs(step.change_pct) >= ctx.options.minChangePct && (step.ci_difference[0] > 0 || step.ci_difference[1] < 0);
}

function stepsFrom(ctx: Context, scanned: LevelScan, level: number): DetectedChange[] {
  const kept = refine(scanned, scanned.cuts, level, (from, tau, to) => reportableStep(ctx, from, tau, to));
  const n = ctx.values.length;
  return kept.map((c, k) => describeStep(ctx, k === 0 ? 0 : kept[k - 1].tau, c.tau, k === kept.length - 1 ? n : kept[k + 1].tau, c.p));
}

/** Σ over segments of the squared deviations of the values from their segment means: the residual of steps alone. */
function withinSegments(values: Float64Array, cuts: readonly number[]): number {
  const bounds = [0, ...cuts, values.length];
  let ss = 0;
  for (let k = 0; k + 1 < bounds.length; k++) ss += segmentStats(values, bounds[k], bounds[k + 1]).stdev ** 2 * (bounds[k + 1] - bounds[k] - 1);
  return ss;
}

/** Runs between two kinks, and between a kink and either end: a drift worth telling spans a dozen runs (m = 3). */
const kinkSpacing = (minRunsEachSide: number) => 4 * minRunsEachSide;

/** At most this many kinks in one series' trend: a drift that starts, speeds up, slows and stops is four. */
const MAX_KINKS = 8;

/** The parameters a set of kinks costs: a slope from the first run is one, any other kink two (slope and where). */
const kinkParameters = (kinks: readonly number[]) => kinks.reduce((sum, k) => sum + (k === 0 ? 1 : 2), 0);

/**
 * Steps alone against a trend that creeps: a continuous piecewise-linear line whose slope may change at kinks
 * (trend.ts), plus steps found on the values with that line taken out — by BIC, with the noise variance inflated for
 * AR(1) dependence. A series that creeps is better told by its slopes and where each began than by a staircase; a
 * series that steps gains nothing from one. Each stretch between kinks whose slope is significant is a drift; a
 * stretch whose slope is not (the creep stopped) is not told, but ends the drift before it.
 */
function driftOrSteps(ctx: Context, stepsAlone: DetectedChange[], level: number): { drifts: DetectedDrift[]; steps: DetectedChange[] } {
  const x = ctx.values;
  const n = x.length;
  const m = ctx.options.minRunsEachSide;
  const alone = { drifts: [], steps: stepsAlone };
  if (!(ctx.sigma > 0) || n < kinkSpacing(m)) return alone;
  const inflation = (1 + ctx.phi) / (1 - ctx.phi);
  const variance = ctx.sigma * ctx.sigma * inflation;
  const penalty = Math.log(n) * variance;
  const stepCost = (rss: number, steps: number) => rss + penalty * (2 * steps + 1);
  const costA = stepCost(
    withinSegments(
      x,
      stepsAlone.map((s) => s.index),
    ),
    stepsAlone.length,
  );
  const search = { allowed: ctx.allowed, minRuns: kinkSpacing(m), penalty, maxKinks: MAX_KINKS };
  const trendAlone = selectKinks(x, [], search);
  const trendFit = trendAlone.length ? fitPiecewise(x, [], trendAlone) : undefined;
  // No step or one: the full comparison (more scans) only when the trend alone already fits better.
  if (!trendFit || (stepsAlone.length <= 1 && !(stepCost(trendFit.rss, 0) + penalty * kinkParameters(trendAlone) < costA))) return alone;

  // Steps on the values with the trend taken out, then the kinks again with those steps in the model.
  const residual = x.map((v, i) => v - trendFit.slopePart[i]);
  const residualScan = levelScan(residual, m, ctx.allowed, level, "level", ctx.tails);
  const rctx: Context = { ...ctx, values: residual };
  const steps = refine(residualScan, residualScan.cuts, level, (from, tau, to) => {
    const before = segmentStats(residual, from, tau);
    const after = segmentStats(residual, tau, to);
    return (
      Math.abs(after.mean - before.mean) >= (ctx.options.minChangePct / 100) * Math.abs(segmentStats(x, from, tau).mean) && reportableStep(rctx, from, tau, to)
    );
  }).map((c) => c.tau);
  // The noise is the larger of the test's and what the fit leaves: structure the model lacks (a missed step, a cycle)
  // is not evidence for a kink.
  const noiseOf = (f: PiecewiseFit) => Math.max(variance, (f.rss / Math.max(1, n - f.beta.length)) * inflation);
  // Two ways in, the cheaper kept: kinks given the steps found with the trend taken out, and kinks given the steps
  // found alone (a sharp step on a gentle slope, which a trend fitted first would blur into a ramp).
  const models = [
    trendModel(x, steps, search, level, noiseOf),
    trendModel(
      x,
      stepsAlone.map((s) => s.index),
      search,
      level,
      noiseOf,
    ),
  ];
  const cost = (model: TrendModel) => stepCost(model.fit.rss, model.steps.length) + penalty * kinkParameters(model.kinks);
  const best = models.reduce<TrendModel | undefined>((b, model) => (model && (!b || cost(model) < cost(b)) ? model : b), undefined);
  if (!best || !(cost(best) < costA)) return alone;
  const { fit, kinks } = best;
  const stepP = best.steps === steps ? residualScan.p : undefined;

  // The stretches between kinks, each with its slope (the sum of the slope changes up to it) and that slope's
  // variance from the fit's covariance.
  const vertices = kinks[0] === 0 ? kinks : [0, ...kinks];
  // Where a stretch could start and stop: each kink's 95 % location set, the others held (slack z² × the noise
  // variance its test used). Read once a kink: where one drift stops, the next starts.
  const sets = new Map<number, [number, number]>();
  const locationSet = (run: number) => {
    if (!sets.has(run)) sets.set(run, kinkLocationSet(x, best.steps, kinks, kinks.indexOf(run), search, ctx.z * ctx.z * noiseOf(fit)));
    return sets.get(run)!;
  };
  const drifts: DetectedDrift[] = [];
  vertices.forEach((start, j) => {
    const end = j + 1 < vertices.length ? vertices[j + 1] : n - 1;
    const terms = kinks.flatMap((k, i) => (k <= start ? [1 + best.steps.length + i] : []));
    if (!terms.length) return;
    const slope = terms.reduce((sum, t) => sum + fit.beta[t], 0);
    let v = 0;
    for (const a of terms) for (const b of terms) v += fit.inverse.get(a, b);
    const se = Math.sqrt(noiseOf(fit) * v);
    const p = se > 0 ? 2 * (1 - normalCdf(Math.abs(slope / se), 0, 1)) : 0;
    if (!(p <= level)) return;
    const scale = Math.abs(fit.fitted[start]) > 0 ? 100 / Math.abs(fit.fitted[start]) : NaN;
    drifts.push({
      index: start,
      n: end - start + 1,
      slope_pct_per_run: slope * scale,
      ci_pct_per_run: [(slope - ctx.z * se) * scale, (slope + ctx.z * se) * scale],
      p_value: p,
      start_runs: start === 0 ? [0, 0] : locationSet(start),
      end_runs: j + 1 < vertices.length ? locationSet(end) : null,
    });
  });
  if (!drifts.length) return alone;
  // The steps of the trend model, described on the values with the slopes taken out.
  const detrended = x.map((v, i) => v - fit.slopePart[i]);
  const dctx: Context = { ...ctx, values: detrended };
  const cuts = best.steps;
  return {
    drifts,
    steps: cuts.map((tau, j) => describeStep(dctx, j === 0 ? 0 : cuts[j - 1], tau, j === cuts.length - 1 ? n : cuts[j + 1], stepP ?? stepsAlone[j].p_value)),
  };
}

interface TrendModel {
  steps: number[];
  kinks: number[];
  fit: PiecewiseFit;
}

/**
 * The kinks of a trend given its steps: forward selection (trend.ts), then each kink must hold given the others —
 * the weakest above the level goes, one at a time. A kink's p-value pays for the search over where it sits
 * (Bonferroni over the runs between its neighbours), and a slope that changes by less than half at it is the same
 * drift bending, not a new one. Undefined when no kink holds.
 */
function trendModel(x: Float64Array, steps: number[], search: KinkSearch, level: number, noiseOf: (f: PiecewiseFit) => number): TrendModel | undefined {
  const n = x.length;
  let kinks = selectKinks(x, steps, search);
  let fit = kinks.length ? fitPiecewise(x, steps, kinks) : undefined;
  const slopeAt = (f: PiecewiseFit, run: number) => kinks.reduce((sum, c, j) => (c <= run ? sum + f.beta[1 + steps.length + j] : sum), 0);
  const smallBend = (f: PiecewiseFit, k: number) => {
    if (kinks[k] === 0) return false;
    const [before, after] = [slopeAt(f, kinks[k] - 1), slopeAt(f, kinks[k])];
    return Math.abs(after - before) < 0.5 * Math.max(Math.abs(before), Math.abs(after));
  };
  const searched = (k: number) => Math.max(1, (k + 1 < kinks.length ? kinks[k + 1] : n) - (k > 0 ? kinks[k - 1] : 0) - 2 * search.minRuns);
  while (fit && kinks.length) {
    const f = fit;
    const ps = kinks.map((c, k) => {
      const j = 1 + steps.length + k;
      const se = Math.sqrt(noiseOf(f) * f.inverse.get(j, j));
      const p = se > 0 ? 2 * (1 - normalCdf(Math.abs(f.beta[j] / se), 0, 1)) : 0;
      return c === 0 ? p : smallBend(f, k) ? 1 + p : p * searched(k);
    });
    const worst = ps.reduce((w, p, k) => (p > ps[w] ? k : w), 0);
    if (!(ps[worst] > level)) break;
    kinks = kinks.filter((_, k) => k !== worst);
    fit = kinks.length ? fitPiecewise(x, steps, kinks) : undefined;
  }
  return fit && kinks.length ? { steps, kinks, fit } : undefined;
}

/**
 * Changes of spread: the level scan on the sizes of successive differences (a step's own
 * difference left out), so "twice as noisy since a1b2c3d" is found like a step is.
 */
function spreadsOf(ctx: Context, stepCuts: number[], level: number): { p: number; spreads: DetectedSpread[] } {
  const x = ctx.values;
  const n = x.length;
  const d = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) d[i - 1] = x[i] - x[i - 1];
  const size = spreadSeries(x, stepCuts);
  const allowed = new Uint8Array(n);
  for (let c = 1; c < n - 1; c++) allowed[c] = ctx.allowed[c + 1];
  const scanned = levelScan(size, ctx.options.minRunsEachSide, allowed, level, "spread", ctx.tails);
  const cuts = refine(scanned, scanned.cuts, level, () => true);
  const spreads = cuts.map((c, k) => {
    const from = k === 0 ? 0 : cuts[k - 1].tau;
    const to = k === cuts.length - 1 ? n - 1 : cuts[k + 1].tau;
    const [before, after] = [trimmedScale(d.subarray(from, c.tau)), trimmedScale(d.subarray(c.tau, to))];
    // Var(log of a scale from k differences) ≈ 1.36/k (the MAD's; the trimmed scale does at least as well).
    const se = Math.sqrt(1.36 / (c.tau - from) + 1.36 / (to - c.tau));
    const ratio = before > 0 ? after / before : Infinity;
    return { index: c.tau + 1, ratio, ci_ratio: [ratio * Math.exp(-ctx.z * se), ratio * Math.exp(ctx.z * se)] as [number, number], p_value: c.p };
  });
  return { p: scanned.p, spreads: spreads.filter((s) => s.ci_ratio[0] > 1 || s.ci_ratio[1] < 1) };
}

function resolveOptions(options?: Partial<DetectorOptions>): DetectorOptions {
  const o = { ...DEFAULT_DETECTOR_OPTIONS, ...options };
  if (!(o.alpha > 0 && o.alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${o.alpha}`);
  if (!(Number.isInteger(o.minRunsEachSide) && o.minRunsEachSide >= 2))
    throw new RangeError(`minRunsEachSide must be a whole number ≥ 2 (a variance needs 2 runs), got ${o.minRunsEachSide}`);
  if (!(o.minChangePct >= 0 && Number.isFinite(o.minChangePct))) throw new RangeError(`minChangePct must be a finite number ≥ 0, got ${o.minChangePct}`);
  if (!(o.confidence > 0 && o.confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${o.confidence}`);
  if (!(o.outlierSigmas > 0)) throw new RangeError(`outlierSigmas must be > 0, got ${o.outlierSigmas}`);
  if (!(o.seasonMinAcf > 0 && o.seasonMinAcf <= 1)) throw new RangeError(`seasonMinAcf must be in (0, 1], got ${o.seasonMinAcf}`);
  return o;
}

/**
 * Everything the detector finds in one series ordered by commit, earliest first:
 * its calibrated p-value, steps, drifts, spread changes and outliers. O(n log n).
 * Throws a RangeError on a non-finite value (a NaN in a series is a data bug upstream).
 */
export function detectSeries(values: ArrayLike<number>, options?: Partial<DetectorOptions>, input: DetectInput = {}): SeriesDetection {
  const o = resolveOptions(options);
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i])) throw new RangeError(`detectChangePoints: values[${i}] is ${values[i]}; every value must be a finite number`);
  const m = o.minRunsEachSide;
  const n = values.length;
  const none: SeriesDetection = { p_value: 1, steps: [], drifts: [], spreads: [], outliers: [], noise: { phi: 0, sigma: 0 }, runs: n };
  if (n < 2 * m) return none;
  if (input.groups && input.groups.length !== n) throw new RangeError(`groups has ${input.groups.length} entries for ${n} values`);
  const allowed = new Uint8Array(n + 1);
  for (let i = 1; i < n; i++) allowed[i] = input.groups ? (input.groups[i] !== input.groups[i - 1] ? 1 : 0) : 1;

  // A cycle is a property of time, so it is looked for only where every run is its own point in time: several runs
  // at one commit (bisection repeats) would put the same moment at several phases. It comes out before outliers are
  // looked for, or a seasonal peak would be one.
  let everyRunAlone = true;
  for (let i = 1; i < n && everyRunAlone; i++) everyRunAlone = allowed[i] === 1;
  const season = everyRunAlone ? findSeason(values, o.seasonMinAcf) : undefined;
  const { values: clean, outliers } = despike(season ? withoutSeason(values, season) : values, m - 1, o.outlierSigmas);
  // Half the false-alarm budget to level shifts, half to spread.
  const half = o.alpha / 2;
  const changeLevel = input.changeLevel ?? o.alpha;
  const level = levelScan(clean, m, allowed, half, "level", undefined, input.phiPrior);
  const ctx: Context = {
    values: clean,
    options: o,
    allowed,
    // The noise of the test itself (measured around the first pass's steps), so the interval agrees with it.
    sigma: level.input.sigma,
    phi: level.input.phi,
    z: normalQuantile(1 - (1 - o.confidence) / 2, 0, 1),
    tails: tailWeight(level.clipShare, n),
  };
  if (ctx.sigma === 0) {
    // Runs mostly equal: the scale of the values from their mean absolute difference, as for the scores.
    let sum = 0;
    for (let i = 1; i < n; i++) sum += Math.abs(clean[i] - clean[i - 1]);
    ctx.sigma = ((sum / (n - 1)) * Math.sqrt(Math.PI)) / 2 / Math.SQRT2;
  }
  const stepsAlone = level.cuts.length ? stepsFrom(ctx, level, Math.max(changeLevel, 0)) : [];
  const { drifts, steps } = level.cuts.length ? driftOrSteps(ctx, stepsAlone, changeLevel) : { drifts: [], steps: stepsAlone };
  const spread = spreadsOf(
    ctx,
    steps.map((s) => s.index),
    half,
  );
  return {
    p_value: Math.min(1, 2 * Math.min(level.p, spread.p)),
    steps,
    drifts,
    spreads: spread.spreads,
    outliers,
    noise: { phi: ctx.phi, sigma: ctx.sigma },
    runs: n,
    ...(season && { season: { period: season.period, acf: season.acf, amplitude: season.amplitude } }),
  };
}

/**
 * Where anything but an outlier changes, earliest first: every step, every change of spread, and each end of a drift
 * whose run is pinned down — its 95 % location set narrower than the spacing kinks keep (a set that wide could hold
 * another kink: the drift eased in or out, or a smooth curve was read as a line with a bend, and no run is where it
 * changed). What TCPD's annotators mark as change points.
 */
export function changeLocations(
  detection: Pick<SeriesDetection, "steps" | "drifts" | "spreads" | "runs">,
  pinnedWithin = kinkSpacing(DEFAULT_DETECTOR_OPTIONS.minRunsEachSide),
): number[] {
  const pinned = (runs: [number, number] | null): runs is [number, number] => runs !== null && runs[1] - runs[0] < pinnedWithin;
  const drifts = detection.drifts.flatMap((d) => [...(pinned(d.start_runs) ? [d.index] : []), ...(pinned(d.end_runs) ? [d.index + d.n - 1] : [])]);
  const all = [...detection.steps.map((s) => s.index), ...drifts, ...detection.spreads.map((s) => s.index)];
  return [...new Set(all)].sort((a, b) => a - b);
}

/** The steps of a series (see detectSeries for the other kinds). */
export function detectChangePoints(values: ArrayLike<number>, options?: Partial<DetectorOptions>, input?: DetectInput): DetectedChange[] {
  return detectSeries(values, options, input).steps;
}

export interface FamilySeries {
  values: ArrayLike<number>;
  groups?: ArrayLike<number>;
  /** This series' own minChangePct (e.g. 0 for a metric judged by an absolute floor after detection); default the family's. */
  minChangePct?: number;
}

export interface FamilyDetection {
  /** One detection per input series, same order; series Benjamini–Hochberg did not select report no change. */
  series: (SeriesDetection & { q_value: number; selected: boolean })[];
  /** Series tested (enough runs) and selected (q ≤ alpha). */
  tested: number;
  selected: number;
  /** Steps found in all series, each at its own level, before the correction across series. */
  candidates: number;
  /** The level each change inside a selected series was tested at: alpha × selected / tested (Benjamini–Bogomolov). */
  change_level: number;
}

/**
 * Many series as one family: Benjamini–Hochberg over every tested series' calibrated
 * p-value (significant or not), then, inside the R selected of m tested series, each
 * change at level alpha·R/m (Benjamini & Bogomolov 2014: the average false discovery
 * proportion within the selected series stays ≤ alpha). Series too short to test take
 * no part.
 */
export function detectAcross(family: readonly FamilySeries[], options?: Partial<DetectorOptions>, alone?: readonly SeriesDetection[]): FamilyDetection {
  const o = resolveOptions(options);
  const own = (s: FamilySeries) => (s.minChangePct === undefined ? o : resolveOptions({ ...o, minChangePct: s.minChangePct }));
  const { detections: first, phiPrior } = detectEach(family, o, alone);
  const testedIdx = family.map((s, i) => (s.values.length >= 2 * o.minRunsEachSide ? i : -1)).filter((i) => i >= 0);
  const q = benjaminiHochberg(testedIdx.map((i) => first[i].p_value));
  const qOf = new Map(testedIdx.map((i, k) => [i, q[k]]));
  const selected = q.filter((x) => x <= o.alpha).length;
  const changeLevel = testedIdx.length ? (o.alpha * selected) / testedIdx.length : o.alpha;
  const series = first.map((d, i) => {
    const qi = qOf.get(i) ?? 1;
    if (!(qi <= o.alpha)) return { ...d, steps: [], drifts: [], spreads: [], q_value: qi, selected: false };
    const prior = needsPhiPrior(family[i].values.length, phiPrior) ? phiPrior : undefined;
    const again = changeLevel < o.alpha ? detectSeries(family[i].values, own(family[i]), { groups: family[i].groups, changeLevel, phiPrior: prior }) : d;
    return { ...again, q_value: qi, selected: true };
  });
  return { series, tested: testedIdx.length, selected, change_level: changeLevel, candidates: first.reduce((sum, d) => sum + d.steps.length, 0) };
}

/**
 * Each series of a family on its own (no correction across them), short series testing with φ pulled toward the
 * family's (familyPhiPrior); long ones are their own evidence. What detectAcross corrects across series.
 * `alone`, when given, is each series' detectSeries with its familyOptions, computed elsewhere (detection-workers.ts
 * spreads it over cores); the result is the same.
 */
export function detectEach(
  family: readonly FamilySeries[],
  options?: Partial<DetectorOptions>,
  precomputed?: readonly SeriesDetection[],
): { detections: SeriesDetection[]; phiPrior: PhiPrior | undefined } {
  const o = resolveOptions(options);
  const own = (s: FamilySeries) => (s.minChangePct === undefined ? o : resolveOptions({ ...o, minChangePct: s.minChangePct }));
  if (precomputed && precomputed.length !== family.length) throw new RangeError(`${precomputed.length} detections given for ${family.length} series`);
  const alone = precomputed ?? family.map((s) => detectSeries(s.values, own(s), { groups: s.groups }));
  const phiPrior = familyPhiPrior(alone);
  const detections = alone.map((d, i) =>
    needsPhiPrior(family[i].values.length, phiPrior) ? detectSeries(family[i].values, own(family[i]), { groups: family[i].groups, phiPrior }) : d,
  );
  return { detections, phiPrior };
}

/** The detector options each series of a family is first detected with: the family's, with its own minChangePct. */
export function familyOptions(family: readonly FamilySeries[], options?: Partial<DetectorOptions>): DetectorOptions[] {
  const { alpha, minRunsEachSide, minChangePct, confidence, outlierSigmas, seasonMinAcf } = resolveOptions(options);
  const o: DetectorOptions = { alpha, minRunsEachSide, minChangePct, confidence, outlierSigmas, seasonMinAcf };
  return family.map((s) => (s.minChangePct === undefined ? o : resolveOptions({ ...o, minChangePct: s.minChangePct })));
}

/**
 * Runs of evidence the family's φ is worth to one series: chosen on the clean AR(1) cells of the bench (30 and 60
 * runs: 1.7 and 2.0 false alarms per 100 series alone, 0.4 and 0.6 with it) and checked on the seeded corpus, whose
 * independent-noise family gives a φ near 0 and so changes nothing there.
 */
export const PHI_PRIOR_RUNS = 60;

/**
 * The day-to-day persistence series of one family share — nightly benchmarks run on the same machines, so their drift
 * is the machines' — as a prior for each: the mean of the series' own φ̂ weighted by their runs. Undefined for a family
 * too small to say more than one series does (fewer than 5 series).
 */
export function familyPhiPrior(detections: readonly Pick<SeriesDetection, "noise" | "runs">[]): PhiPrior | undefined {
  const usable = detections.filter((d) => d.runs > 0 && d.noise.sigma > 0);
  if (usable.length < 5) return undefined;
  const runs = usable.reduce((sum, d) => sum + d.runs, 0);
  // To the hundredth: the null and thresholds read at it are shared by every family with that φ (and cached).
  return { phi: Math.round((usable.reduce((sum, d) => sum + d.noise.phi * d.runs, 0) / runs) * 100) / 100, runs: PHI_PRIOR_RUNS };
}

/**
 * Series of 4 × PHI_PRIOR_RUNS runs or more weigh the prior at under a fifth, and their own φ̂ is precise (the clean
 * AR(1) cells from 365 runs on are calibrated without it): they keep their first detection, so a family of long series
 * is detected once.
 */
const needsPhiPrior = (n: number, prior: PhiPrior | undefined): prior is PhiPrior => prior !== undefined && n < 4 * prior.runs;

/**
 * Benjamini–Hochberg adjusted p-values (q-values), same order as the input:
 * q_(i) = min over j ≥ i of p_(j) · m / j, capped at 1 (Benjamini & Hochberg 1995).
 * Keeping q ≤ α controls the false discovery rate at α across the family.
 */
export function benjaminiHochberg(pValues: number[]): number[] {
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`benjaminiHochberg: pValues[${i}] is ${p}; p-values must be in [0, 1]`);
  });
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const q = new Array<number>(m);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    running = Math.min(running, (order[r][0] * m) / (r + 1));
    q[order[r][1]] = running;
  }
  return q;
}
