import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";

/**
 * The noise of a benchmark series as the change-point detector models it: heavy tails
 * are taken out by ranks, day-to-day drift by an AR(1) model whose two parameters are
 * read from differences (which a step barely moves). Pure functions, no I/O.
 * docs/change-points.md explains why each choice was made.
 */

/** The Gaussian-consistent scale of the median absolute deviation: 1.4826 × MAD estimates σ for normal data. */
const MAD_TO_SIGMA = 1.482602218505602;

/** Median of a few values, sorted in place in a scratch buffer (the running medians' inner loop: no allocation). */
export function smallMedian(scratch: Float64Array): number {
  for (let i = 1; i < scratch.length; i++) {
    const v = scratch[i];
    let j = i - 1;
    while (j >= 0 && scratch[j] > v) {
      scratch[j + 1] = scratch[j];
      j--;
    }
    scratch[j + 1] = v;
  }
  const mid = scratch.length >> 1;
  return scratch.length % 2 ? scratch[mid] : (scratch[mid - 1] + scratch[mid]) / 2;
}

export function median(xs: ArrayLike<number>): number {
  const s = Float64Array.from(xs).sort();
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** 1.4826 × the median absolute deviation from the median: σ for Gaussian data, unmoved by a few wild values. */
export function robustScale(xs: ArrayLike<number>): number {
  const m = median(xs);
  const dev = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) dev[i] = Math.abs(xs[i] - m);
  return MAD_TO_SIGMA * median(dev);
}

/**
 * Van der Waerden normal scores: each value replaced by Φ⁻¹((rank − ½)/n), ties sharing
 * their mean rank. Under no change and independent noise the scores are a random
 * permutation of fixed numbers whatever the noise distribution is, so a test on them
 * is as calibrated under Student-t tails as under Gaussian noise, and loses nothing
 * (asymptotic relative efficiency 1) when the noise is Gaussian. Order is kept, so a
 * step in the values is a step in the scores at the same run.
 */
export function normalScores(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  const scores = new Float64Array(n);
  for (let r = 0; r < n;) {
    let end = r + 1;
    while (end < n && values[order[end]] === values[order[r]]) end++;
    const score = normalQuantile((r + end) / 2 / n, 0, 1); // mean rank of the tie group, ((r+1)+end)/2, minus ½, over n
    for (let k = r; k < end; k++) scores[order[k]] = score;
    r = end;
  }
  return scores;
}

/**
 * σ from the central part of a sample: the mean square of the values within the (1 − trim)
 * share closest to the median, over the same mean square of a standard normal sample
 * (1 − 2qφ(q)/(1 − trim), q = Φ⁻¹(1 − trim/2)). About twice as efficient as the MAD for
 * Gaussian data, and still deaf to the trim share of wild values (a step's difference).
 */
export function trimmedScale(xs: ArrayLike<number>, trim = TRIM): number {
  const m = median(xs);
  const sq = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) sq[i] = (xs[i] - m) ** 2;
  sq.sort();
  const keep = Math.max(1, Math.ceil((1 - trim) * sq.length));
  let sum = 0;
  for (let i = 0; i < keep; i++) sum += sq[i];
  return Math.sqrt(sum / keep / TRIM_CONSISTENCY);
}
const TRIM = 0.1;
const TRIM_Q = normalQuantile(1 - TRIM / 2, 0, 1);
const TRIM_CONSISTENCY = 1 - (2 * TRIM_Q * Math.exp((-TRIM_Q * TRIM_Q) / 2)) / Math.sqrt(2 * Math.PI) / (1 - TRIM);

export interface NoiseModel {
  /** Marginal standard deviation of the noise (robust, from differences). */
  sigma: number;
  /** Lag-1 autocorrelation of an AR(1) model of the noise, in [0, MAX_PHI]. */
  phi: number;
}

/** Autocorrelation beyond this is not told apart from a wandering level: the detector would have no power left. */
export const MAX_PHI = 0.9;

/**
 * σ and φ of an AR(1) noise from the robust scales of lag-1 and lag-2 differences:
 * Var(x_t − x_{t−1}) = 2σ²(1 − φ), Var(x_t − x_{t−2}) = 2σ²(1 − φ²), so their ratio is
 * 1 + φ. A step or a spike moves one or two differences, which the MAD ignores, and a
 * linear drift moves none of their spreads; the series' own variance or its lag-1
 * autocorrelation would read a step as persistence. Negative φ is read as 0 (it would
 * make the long-run variance smaller; assuming none errs on the calibrated side).
 * Needs 5 values; fewer give φ = 0 and σ from lag-1 differences.
 */
export function estimateNoise(values: ArrayLike<number>, from = 0, to = values.length): NoiseModel {
  const n = to - from;
  if (n < 3) return { sigma: 0, phi: 0 };
  const d1 = new Float64Array(n - 1);
  for (let i = from + 1; i < to; i++) d1[i - from - 1] = values[i] - values[i - 1];
  const s1 = trimmedScale(d1);
  if (n < 5 || s1 === 0) return { sigma: s1 / Math.SQRT2, phi: 0 };
  const d2 = new Float64Array(n - 2);
  for (let i = from + 2; i < to; i++) d2[i - from - 2] = values[i] - values[i - 2];
  const s2 = trimmedScale(d2);
  const phi = Math.min(MAX_PHI, Math.max(0, (s2 * s2) / (s1 * s1) - 1));
  return { sigma: s1 / Math.sqrt(2 * (1 - phi)), phi };
}

/**
 * Var(Σ of k consecutive values) / σ² for AR(1) noise with lag-1 correlation φ:
 * k(1 + φ)/(1 − φ) − 2φ(1 − φᵏ)/(1 − φ)²  (k when φ = 0).
 */
export function blockSumVariance(k: number, phi: number): number {
  if (phi === 0) return k;
  const q = 1 - phi;
  return (k * (1 + phi)) / q - (2 * phi * (1 - phi ** k)) / (q * q);
}

/** Cov(Σ of a block of a, Σ of the b values right after it) / σ² for AR(1) noise: φ(1 − φᵃ)(1 − φᵇ)/(1 − φ)². */
export function adjacentBlockCovariance(a: number, b: number, phi: number): number {
  if (phi === 0) return 0;
  const q = 1 - phi;
  return (phi * (1 - phi ** a) * (1 - phi ** b)) / (q * q);
}

/**
 * Var(mean of a block − mean of the next block) / σ², the exact variance of the contrast
 * the detector tests, for AR(1) noise (1/a + 1/b when φ = 0). Using it instead of
 * 1/a + 1/b is what keeps day-to-day drift from reading as a change.
 */
export function contrastVariance(a: number, b: number, phi: number): number {
  if (phi === 0) return 1 / a + 1 / b;
  return blockSumVariance(a, phi) / (a * a) + blockSumVariance(b, phi) / (b * b) - (2 * adjacentBlockCovariance(a, b, phi)) / (a * b);
}

/**
 * Isolated spikes replaced by the median of the 2h + 1 runs around them (a Hampel
 * filter; the window is shifted inward at the ends so it never averages two levels).
 * A run further than `sigmas` noise standard deviations from that median is a spike,
 * the noise scale being the robust scale of lag-1 differences ÷ √2, which a step
 * barely moves. With h = minRunsEachSide − 1 any run of ≥ minRunsEachSide points at
 * one level keeps its own median, so a reportable change is never clipped.
 * Returns the cleaned values and the indices of the spikes (reported as outliers).
 */
export function despike(values: ArrayLike<number>, h: number, sigmas: number): { values: Float64Array; outliers: number[] } {
  const n = values.length;
  const out = Float64Array.from(values);
  const outliers: number[] = [];
  if (n < 2 * h + 1) return { values: out, outliers };
  const d1 = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) d1[i - 1] = values[i] - values[i - 1];
  let sigma = robustScale(d1) / Math.SQRT2;
  // Most successive runs equal (quantized timings): the mean absolute difference (E|d| = 2σ/√π) instead,
  // so one spike is still a spike but equal-ish runs are not all spikes against a zero scale.
  if (sigma === 0) sigma = (d1.reduce((s, d) => s + Math.abs(d), 0) / Math.max(1, d1.length)) * (Math.sqrt(Math.PI) / 2);
  if (sigma === 0) return { values: out, outliers };
  const window = new Float64Array(2 * h + 1);
  for (let i = 0; i < n; i++) {
    const start = Math.min(Math.max(0, i - h), n - 2 * h - 1);
    for (let k = 0; k < window.length; k++) window[k] = values[start + k];
    const local = smallMedian(window);
    if (Math.abs(values[i] - local) > sigmas * sigma) {
      out[i] = local;
      outliers.push(i);
    }
  }
  return { values: out, outliers };
}

/**
 * σ and φ of the noise around a piecewise-constant fit (the segments between `cuts`): the
 * residuals' variance and lag-1 autocorrelation within segments, corrected for the bias of
 * a mean-corrected AR(1) estimate (Kendall: E[r₁] ≈ φ − (1 + 3φ)/n). Twice as efficient as
 * the differences' estimate, but a missed step reads as persistence, so it is only used
 * once a first scan has taken out the steps it could find.
 */
export function residualNoise(values: ArrayLike<number>, cuts: readonly number[]): NoiseModel {
  const bounds = [0, ...cuts, values.length];
  let [ss, lag, count] = [0, 0, 0];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const [from, to] = [bounds[k], bounds[k + 1]];
    let mean = 0;
    for (let i = from; i < to; i++) mean += values[i];
    mean /= to - from;
    for (let i = from; i < to; i++) {
      const e = values[i] - mean;
      ss += e * e;
      if (i > from) lag += e * (values[i - 1] - mean);
    }
    count += to - from;
  }
  const dof = count - (bounds.length - 1);
  if (!(ss > 0) || dof < 2) return { sigma: 0, phi: 0 };
  const r1 = lag / ss;
  const phi = Math.min(MAX_PHI, Math.max(0, (r1 + 1 / dof) / (1 - 3 / dof)));
  return { sigma: Math.sqrt(ss / dof), phi };
}
