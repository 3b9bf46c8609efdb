import { studentTQuantileTwoSided, studentTTwoSidedP } from "../../lib/analysis/student-t";

import type { SegmentStats } from "../../lib/analysis/changepoints";

export { benjaminiHochberg } from "../../lib/analysis/changepoints";

/**
 * The detector Muse used before the multiscale scan of lib/analysis/changepoints.ts, kept
 * as it was for the bench to score side by side with it; nothing in lib/ or app/ uses it.
 *
 * Change points in one benchmark series (runs ordered by upstream commit), so a
 * change can be pinned on the commit whose run starts it. Pure functions, no I/O.
 *
 * The method is Apache Otava's (formerly Hunter), itself MongoDB's E-Divisive
 * (Daly et al., ICPE 2020) with a t-test in place of the permutation test
 * (Student's by default, Welch's as an option):
 *
 *  0. despike: an isolated spike is replaced by its neighbours' median (see despike);
 *  1. split: e-divisive means (Matteson & James 2014) — the energy statistic
 *     picks the best split of a segment, the t-test at a looser level
 *     (10 × alpha, as Otava's split step) decides whether to keep it, and both
 *     halves are split again (recursive bisection);
 *  2. merge: every candidate is re-tested against the segments adjacent to it
 *     (previous change → this one → next change); the weakest failing candidate
 *     (largest p-value, then smallest change) is removed and its neighbours
 *     re-tested, until every one left is significant at alpha and at least
 *     minChangePct large;
 *  3. place: each change is moved to the split of its own two segments that
 *     explains most of the variance (least squares of one mean shift: the
 *     maximum-likelihood location under Gaussian noise); the energy statistic is
 *     robust but, on Gaussian noise, lands one run off more often, and a commit
 *     blamed one run off is a wrong commit. Then merge again.
 *
 * Deterministic: no permutations, no randomness; ties go to the earliest index.
 */

export interface DetectorOptions {
  /** Significance level for each split's test (before the multiple-testing correction across series). */
  alpha: number;
  /** Runs required on each side of a change. */
  minRunsEachSide: number;
  /** Changes smaller than this relative size (percent of the mean before) are not reported (noise floor). */
  minChangePct: number;
  /** Confidence level of the magnitude's interval, e.g. 0.95. */
  confidence: number;
  /**
   * The two-sample t-test at each split: "student" (pooled variance, Otava's default) or
   * "welch" (unequal variances). See DEFAULT_DETECTOR_OPTIONS for why Student's is the default.
   */
  test: "student" | "welch";
}

/**
 * Tuned on the seeded corpus of `npm run bench -- --only changepoints` (bench/changepoints.ts,
 * which also prints the neighbouring settings; goals: recall ≥ 95 % and exact commit ≥ 90 %
 * for steps ≥ 10 % at CV ≤ 3 %, ≤ 1 false alarm per 100 clean series):
 *  - test "student": Welch's test has ~3 degrees of freedom when one side has 3–4 runs,
 *    so near either end, or for a fix a few runs after its regression, it needs a much
 *    larger step; at any alpha where Welch keeps false alarms ≤ 1 per 100 its recall is
 *    ≤ 86 % (Student's: 96 %). Benchmark noise is close to one CV across a change, which
 *    is Student's assumption; Otava uses it too. "welch" stays available.
 *  - alpha 1e-4: the split is the best of O(n²) (τ, κ) positions, so the nominal level must
 *    be far below the false-alarm rate wanted: 1e-3 (Otava's default) gives ~2–3 false
 *    alarms per 100 clean series, 1e-4 gives 0.3, 3e-5 drops recall to the 95 % line.
 *  - minRunsEachSide 3: 4 or 5 lose every change 3 runs from an end and short
 *    regression→fix pairs (recall 90 %, exact 85 %) and buy no fewer false alarms here
 *    (the spike filter, not the minimum, is what keeps a lone outlier from being a segment).
 *  - minChangePct 2: below 2 % a benchmark shift is not worth a story even when real (at
 *    CV 1 % it can be significant); it trims false alarms on the quietest series.
 *  - confidence 0.95: the conventional interval for the reported magnitude.
 */
export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = Object.freeze({
  alpha: 1e-4,
  minRunsEachSide: 3,
  minChangePct: 2,
  confidence: 0.95,
  test: "student",
});

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
   * Confidence interval of change_pct at options.confidence: Fieller's interval for
   * the ratio of the two means (independent samples, Welch–Satterthwaite degrees of
   * freedom), minus 1, in percent. Unlike "Welch CI of the difference ÷ mean before"
   * it accounts for the uncertainty of the mean before too. [-Infinity, Infinity]
   * when the mean before is not itself distinguishable from 0 (the ratio is unbounded).
   */
  ci_pct: [number, number];
  /** Two-sided p-value of the t-test (options.test) at this split (uncorrected). */
  p_value: number;
  /** Both adjacent segments have zero variance and different means: a deterministic jump (p_value 0). */
  deterministic: boolean;
}

// ---------------------------------------------------------------------------
// Segment statistics and the Welch test.

function segmentStats(values: number[], from: number, to: number): SegmentStats {
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

interface TTestResult {
  p: number;
  deterministic: boolean;
  /** Welch–Satterthwaite degrees of freedom, for the interval, whichever the test (NaN when both variances are 0). */
  df: number;
}

function tTest(a: SegmentStats, b: SegmentStats, test: DetectorOptions["test"]): TTestResult {
  const va = (a.stdev * a.stdev) / a.n;
  const vb = (b.stdev * b.stdev) / b.n;
  const se2 = va + vb;
  if (se2 === 0) return a.mean === b.mean ? { p: 1, deterministic: false, df: NaN } : { p: 0, deterministic: true, df: NaN };
  const df = (se2 * se2) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  if (test === "welch") return { p: studentTTwoSidedP((b.mean - a.mean) / Math.sqrt(se2), df), deterministic: false, df };
  // Student's: one pooled variance, n_a + n_b − 2 degrees of freedom.
  const pooled = ((a.n - 1) * a.stdev * a.stdev + (b.n - 1) * b.stdev * b.stdev) / (a.n + b.n - 2);
  return { p: studentTTwoSidedP((b.mean - a.mean) / Math.sqrt(pooled * (1 / a.n + 1 / b.n)), a.n + b.n - 2), deterministic: false, df };
}

function relativeChangePct(before: SegmentStats, after: SegmentStats): number {
  if (before.mean === 0) return after.mean === 0 ? 0 : after.mean > 0 ? Infinity : -Infinity;
  return ((after.mean - before.mean) / Math.abs(before.mean)) * 100;
}

/** Fieller's interval for μ_after / μ_before, as a percent change relative to |μ_before| (see DetectedChange.ci_pct). */
function fiellerChangeCi(before: SegmentStats, after: SegmentStats, df: number, confidence: number): [number, number] {
  const [a, b] = [after.mean, before.mean];
  const va = (after.stdev * after.stdev) / after.n;
  const vb = (before.stdev * before.stdev) / before.n;
  const t = va + vb === 0 ? 0 : studentTQuantileTwoSided(1 - confidence, df);
  // (a − R·b)² ≤ t²(va + R²·vb)  ⇔  A·R² − 2ab·R + (a² − t²va) ≤ 0
  const A = b * b - t * t * vb;
  if (!(A > 0)) return [-Infinity, Infinity];
  const half = t * Math.sqrt(a * a * vb + b * b * va - t * t * va * vb);
  const [rLo, rHi] = [(a * b - half) / A, (a * b + half) / A];
  // change = sign(b)·(R − 1): for a negative mean before, the interval flips.
  return b > 0 ? [(rLo - 1) * 100, (rHi - 1) * 100] : [(1 - rHi) * 100, (1 - rLo) * 100];
}

// ---------------------------------------------------------------------------
// Split: e-divisive means with a t-test.

/**
 * Sums of |x_i − x_j| over blocks, in O(1) after an O(n²) table: P[i][j] is the sum
 * over p < i, q < j. This makes each energy statistic O(1), so a segment of length
 * L costs O(L²) for all (τ, κ) pairs (the original e-divisive's own search).
 */
function distancePrefix(values: number[]): (i1: number, i2: number, j1: number, j2: number) => number {
  const n = values.length;
  const w = n + 1;
  const P = new Float64Array(w * w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) P[(i + 1) * w + j + 1] = P[i * w + j + 1] + P[(i + 1) * w + j] - P[i * w + j] + Math.abs(values[i] - values[j]);
  }
  return (i1, i2, j1, j2) => P[i2 * w + j2] - P[i1 * w + j2] - P[i2 * w + j1] + P[i1 * w + j1];
}

/**
 * The e-divisive candidate of [from, to): the τ (and the end κ of the segment
 * after it) maximising q̂ = pq/(p+q) · Ê(X = [from, τ), Y = [τ, κ)), with
 * Ê = 2·mean|X−Y| − mean|X−X'| − mean|Y−Y'|. Searching κ too (Matteson & James)
 * is what finds a regression and its fix a few runs apart: with κ fixed at the
 * end, neither side of a short excursion looks different from "the rest".
 */
function bestSplit(block: ReturnType<typeof distancePrefix>, from: number, to: number, m: number): { tau: number; kappa: number } | undefined {
  let best: { tau: number; kappa: number; q: number } | undefined;
  for (let tau = from + m; tau + m <= to; tau++) {
    const p = tau - from;
    const withinX = block(from, tau, from, tau) / (p * (p - 1));
    for (let kappa = tau + m; kappa <= to; kappa++) {
      const q = kappa - tau;
      const e = (2 * block(from, tau, tau, kappa)) / (p * q) - withinX - block(tau, kappa, tau, kappa) / (q * (q - 1));
      const score = ((p * q) / (p + q)) * e;
      if (!best || score > best.q + 1e-12 * Math.abs(best.q)) best = { tau, kappa, q: score };
    }
  }
  return best;
}

function split(values: number[], block: ReturnType<typeof distancePrefix>, from: number, to: number, o: DetectorOptions, out: number[]): void {
  const m = o.minRunsEachSide;
  const found = bestSplit(block, from, to, m);
  if (!found) return;
  const test = tTest(segmentStats(values, from, found.tau), segmentStats(values, found.tau, found.kappa), o.test);
  if (!(test.p <= Math.min(0.5, o.alpha * 10))) return;
  out.push(found.tau);
  split(values, block, from, found.tau, o, out);
  split(values, block, found.tau, to, o, out);
}

// ---------------------------------------------------------------------------
// Merge and place.

function describe(values: number[], cuts: number[], k: number, o: DetectorOptions): DetectedChange {
  const from = k === 0 ? 0 : cuts[k - 1];
  const to = k === cuts.length - 1 ? values.length : cuts[k + 1];
  const before = segmentStats(values, from, cuts[k]);
  const after = segmentStats(values, cuts[k], to);
  const test = tTest(before, after, o.test);
  const ci: [number, number] = test.deterministic
    ? [relativeChangePct(before, after), relativeChangePct(before, after)]
    : fiellerChangeCi(before, after, test.df, o.confidence);
  return { index: cuts[k], before, after, change_pct: relativeChangePct(before, after), ci_pct: ci, p_value: test.p, deterministic: test.deterministic };
}

/** Otava's merge: drop the weakest failing candidate, re-test its neighbours, repeat. Returns the survivors' cuts. */
function merge(values: number[], cuts: number[], options: DetectorOptions): number[] {
  const kept = [...cuts];
  for (;;) {
    const tests = kept.map((_, k) => {
      const from = k === 0 ? 0 : kept[k - 1];
      const to = k === kept.length - 1 ? values.length : kept[k + 1];
      const before = segmentStats(values, from, kept[k]);
      const after = segmentStats(values, kept[k], to);
      return { p: tTest(before, after, options.test).p, size: Math.abs(relativeChangePct(before, after)) };
    });
    let worst = -1;
    // Insignificant ones first (largest p), then too-small ones (smallest change): Otava's two passes, in one loop
    // so a removal for size also re-tests the neighbours' significance.
    for (let k = 0; k < tests.length; k++) if (tests[k].p > options.alpha && (worst < 0 || tests[k].p > tests[worst].p)) worst = k;
    if (worst < 0)
      for (let k = 0; k < tests.length; k++) if (tests[k].size < options.minChangePct && (worst < 0 || tests[k].size < tests[worst].size)) worst = k;
    if (worst < 0) return kept;
    kept.splice(worst, 1);
  }
}

/** Move each change to the least-squares split between its neighbours (the MLE of one mean shift). */
function place(values: number[], cuts: number[], m: number): number[] {
  const prefix = [0];
  for (const v of values) prefix.push(prefix[prefix.length - 1] + v);
  const placed = [...cuts];
  for (let k = 0; k < placed.length; k++) {
    const from = k === 0 ? 0 : placed[k - 1];
    const to = k === placed.length - 1 ? values.length : placed[k + 1];
    // Between-segment sum of squares of a split at τ (maximal where the residual sum of squares is minimal).
    const score = (tau: number) => {
      const [p, q] = [tau - from, to - tau];
      const diff = (prefix[to] - prefix[tau]) / q - (prefix[tau] - prefix[from]) / p;
      return ((p * q) / (p + q)) * diff * diff;
    };
    let best = placed[k];
    let bestScore = score(best);
    // Only a clearly better split moves a change (rounding ties keep it where it is).
    for (let tau = from + m; tau + m <= to; tau++) {
      const s = score(tau);
      if (s > bestScore * (1 + 1e-9)) [best, bestScore] = [tau, s];
    }
    placed[k] = best;
  }
  return placed;
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A run further than this many noise standard deviations from its neighbours' median is a spike. */
const SPIKE_SIGMAS = 5;

/**
 * Isolated spikes replaced by the median of their ±h neighbours (a Hampel filter).
 * One bad run (a GC pause, a noisy neighbour) otherwise inflates its segment's variance
 * enough to hide a real 10 % step, or makes a short segment of its own. The noise scale
 * is the MAD of successive differences (÷ √2), which a step barely moves, unlike the
 * series' own MAD. With h = minRunsEachSide − 1, any run of ≥ minRunsEachSide points at
 * one level keeps its own median, so a change the detector may report is never clipped
 * (shorter runs can be, and are not reportable anyway). Needs values.length ≥ 2h + 1.
 */
function despike(values: number[], h: number): number[] {
  const diffs = values.slice(1).map((v, i) => Math.abs(v - values[i]));
  // MAD is 0 when most successive runs are equal (quantized timings, flat series): then the
  // mean absolute difference (E|d| = 2σ/√π under Gaussian noise), so one spike is still a spike
  // but equal-ish runs are not all "spikes" against a zero scale.
  const mad = (1.4826 * medianOf(diffs)) / Math.SQRT2;
  const sigma = mad > 0 ? mad : ((diffs.reduce((sum, d) => sum + d, 0) / Math.max(1, diffs.length)) * Math.sqrt(Math.PI)) / 2;
  return values.map((v, i) => {
    // A full window of 2h + 1 runs, shifted inward at the ends (a truncated, even window would
    // average two levels and invent a value neither side has).
    const from = Math.min(Math.max(0, i - h), values.length - 2 * h - 1);
    const local = medianOf(values.slice(from, from + 2 * h + 1));
    return Math.abs(v - local) > SPIKE_SIGMAS * sigma ? local : v;
  });
}

function resolveOptions(options?: Partial<DetectorOptions>): DetectorOptions {
  const o = { ...DEFAULT_DETECTOR_OPTIONS, ...options };
  if (!(o.alpha > 0 && o.alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${o.alpha}`);
  if (!(Number.isInteger(o.minRunsEachSide) && o.minRunsEachSide >= 2))
    throw new RangeError(`minRunsEachSide must be a whole number ≥ 2 (a variance needs 2 runs), got ${o.minRunsEachSide}`);
  if (!(o.minChangePct >= 0 && Number.isFinite(o.minChangePct))) throw new RangeError(`minChangePct must be a finite number ≥ 0, got ${o.minChangePct}`);
  if (o.test !== "student" && o.test !== "welch") throw new RangeError(`test must be "student" or "welch", got ${String(o.test)}`);
  if (!(o.confidence > 0 && o.confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${o.confidence}`);
  return o;
}

/**
 * The change points of a series ordered by commit, earliest first. O(n²) time and
 * memory for the distance table plus O(L²) per segment searched; a few ms at n = 500.
 * Throws a RangeError on a non-finite value (a NaN in a series is a data bug upstream).
 */
export function detectChangePoints(values: number[], options?: Partial<DetectorOptions>): DetectedChange[] {
  const o = resolveOptions(options);
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new RangeError(`detectChangePoints: values[${i}] is ${v}; every value must be a finite number`);
  });
  const m = o.minRunsEachSide;
  if (values.length < 2 * m) return [];
  // Everything below (candidates, tests, the reported means) works on the despiked series.
  values = despike(values, m - 1);
  const candidates: number[] = [];
  split(values, distancePrefix(values), 0, values.length, o, candidates);
  candidates.sort((a, b) => a - b);
  let cuts = merge(values, candidates, o);
  const placed = place(values, cuts, m);
  if (placed.some((c, k) => c !== cuts[k]))
    cuts = merge(
      values,
      [...new Set(placed)].sort((a, b) => a - b),
      o,
    );
  return cuts.map((_, k) => describe(values, cuts, k, o));
}
