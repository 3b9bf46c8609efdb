import type { SegmentStats } from "./changepoints";
import { blockSumVariance, contrastVariance, residualNoise } from "./noise";
import type { Series, SeriesMetric } from "./series";
import { studentTQuantileTwoSided, studentTTwoSidedP } from "./student-t";

/**
 * The speed side of an accuracy change (docs/quality.md, "Trade-offs"): did the same quantization method get faster at
 * the commit where its accuracy fell?
 *
 * The detector searches every series for changes anywhere, and pays for that search in its threshold: a 20 % speed-up
 * with four or five nightly runs between two other releases, in noise that drifts and cycles weekly, can stay below
 * it. Here the place is not searched for: the accuracy series put it there. One question is asked of the method's
 * speed series, at one known split, so an ordinary two-sample test at its nominal level is what it says it is:
 *
 * - Segments: the runs before the split back to the speed series' previous detected change, and after it up to its
 *   next one, each at most MAX_SEGMENT_RUNS long (the level around the commit, not a month-old one).
 * - Test: the difference of the mean logarithms of the runs (a ratio, so p95 −20 % and tokens/s +25 % are the same
 *   size), standardised by the noise of the whole speed series — σ and day-to-day persistence φ of its log runs
 *   around the levels between the boundaries and the split (noise.ts residualNoise, bias-corrected) — and the exact
 *   variance of that contrast under AR(1) noise (noise.ts contrastVariance), as the detector standardises its own.
 *   Nightly runs that drift together would make a plain two-sample test see speed-ups that are not there; this one
 *   holds its level on them (tests/speed-side.test.ts). Student's t with the residuals' degrees of freedom,
 *   and the interval from the same standard error, so the test and the interval always agree.
 * - Level: SPEED_SIDE_ALPHA, one test per accuracy regression that has a speed series; reported with its p-value and
 *   both sample sizes.
 */

export interface SpeedSideCheck {
  metric: SeriesMetric;
  /** The relative change of the speed metric at the split (negative: less time, or fewer tokens/s). */
  change_pct: number;
  ci_pct: [number, number];
  p_value: number;
  before: SegmentStats;
  after: SegmentStats;
  /** Index of the first run after the split in the speed series. */
  index: number;
}

/** The level of one pre-specified test: the chance of a speed side told where the method's speed did not move. */
export const SPEED_SIDE_ALPHA = 0.05;
/** Runs each side at most: the level around the commit, not one from weeks before. */
export const MAX_SEGMENT_RUNS = 20;
/** Runs each side at least (a deviation needs two; three make the test worth its name). */
export const MIN_SEGMENT_RUNS = 3;

/**
 * The test of the speed series `speed` at the first run that measured `commitSha` (or, when no run did, the first
 * run after `commitTs`), between the nearest `boundaries` on either side (indices of first runs after other changes:
 * the series' own and those found anywhere in its family). Undefined
 * when either side has fewer than MIN_SEGMENT_RUNS runs, or a value is not positive.
 */
export function speedSideAt(
  speed: Series,
  boundaries: readonly number[],
  at: { commitSha: string; commitTs: string },
  options: { phi?: number; confidence?: number } = {},
): SpeedSideCheck | undefined {
  const confidence = options.confidence ?? 0.95;
  const points = speed.points;
  const index = splitIndex(speed, at);
  if (index <= 0) return undefined;
  const previous = Math.max(0, ...boundaries.filter((s) => s < index));
  const next = Math.min(points.length, ...boundaries.filter((s) => s > index));
  const from = Math.max(previous, index - MAX_SEGMENT_RUNS);
  const to = Math.min(next, index + MAX_SEGMENT_RUNS);
  const values = points.map((p) => p.value);
  const before = values.slice(from, index);
  const after = values.slice(index, to);
  if (before.length < MIN_SEGMENT_RUNS || after.length < MIN_SEGMENT_RUNS) return undefined;
  if ([...before, ...after].some((v) => !(v > 0))) return undefined;
  const logs = values.map(Math.log);
  // The noise around the level the boundaries and the split give the whole series (other releases taken out).
  const cuts = [...new Set([...boundaries, index])].filter((i) => i > 0 && i < values.length).sort((a, b) => a - b);
  const noise = residualNoise(logs, cuts);
  // A deterministic value (no spread beyond rounding of the logs, 1e-9 relative): nothing to test.
  if (!(noise.sigma > 1e-9)) return undefined;
  // φ from 30 runs is biased low and uncertain: the detector's own (pulled toward its family's) when given, if larger.
  const phi = Math.max(noise.phi, options.phi ?? 0);
  const sigma = segmentedSigma(logs, cuts, phi);
  const diff = mean(logs.slice(index, to)) - mean(logs.slice(from, index));
  const se = sigma * Math.sqrt(contrastVariance(before.length, after.length, phi));
  const df = Math.max(2, values.length - cuts.length - 1);
  const t = diff / se;
  const half = studentTQuantileTwoSided(1 - confidence, df) * se;
  const pct = (x: number) => (Math.exp(x) - 1) * 100;
  return {
    metric: speed.key.metric,
    change_pct: pct(diff),
    ci_pct: [pct(diff - half), pct(diff + half)],
    p_value: studentTTwoSidedP(t, df),
    before: segment(before),
    after: segment(after),
    index,
  };
}

/**
 * σ of AR(1) noise (lag-1 correlation φ) from the residuals around each segment's own mean: a short segment's mean
 * follows its noise, so the residuals hold less than its variance — E[Σ residual²] = σ² Σ (n − V(n, φ)/n) over the
 * segments, V(n, φ) the variance of a segment's sum in units of σ² (noise.ts blockSumVariance) — and dividing by that
 * instead of by the count is what keeps nightly drift from reading as a speed-up.
 */
function segmentedSigma(values: number[], cuts: readonly number[], phi: number): number {
  const bounds = [0, ...cuts, values.length];
  let [ss, expected] = [0, 0];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const part = values.slice(bounds[k], bounds[k + 1]);
    if (part.length === 0) continue;
    const m = mean(part);
    ss += part.reduce((a, v) => a + (v - m) ** 2, 0);
    expected += part.length - blockSumVariance(part.length, phi) / part.length;
  }
  return expected > 0 ? Math.sqrt(ss / expected) : 0;
}

/** The index of the first run of `s` that measured `commitSha`, or else the first after `commitTs` (−1: none). */
export function splitIndex(s: Series, at: { commitSha: string; commitTs: string }): number {
  const measured = s.points.findIndex((p) => p.commit_sha === at.commitSha);
  return measured >= 0 ? measured : s.points.findIndex((p) => Date.parse(p.commit_ts) >= Date.parse(at.commitTs));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function segment(xs: number[]): SegmentStats {
  const m = mean(xs);
  return { n: xs.length, mean: m, stdev: xs.length > 1 ? Math.sqrt(xs.reduce((a, v) => a + (v - m) ** 2, 0) / (xs.length - 1)) : 0 };
}
