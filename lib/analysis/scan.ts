import normalCdf from "@stdlib/stats-base-dists-normal-cdf";
import { contrastVariance } from "./noise";

/**
 * The multiscale scan behind the change-point detector: the standardised difference of
 * means (a CUSUM contrast) at every split of a set of intervals that covers the series
 * at every scale, in O(n log n), and the tail probability of its maximum.
 *
 * - Intervals: "seeded" intervals (Kovács, Li, Haselbeck & Bühlmann, Biometrika 2023),
 *   lengths falling geometrically by SCALE_STEP from n to 2m, each length laid at a shift
 *   of half of itself (every run where it could be, for the shortest lengths). Every
 *   change with m runs on each side before the next one sits near the middle of an
 *   interval that holds it alone, so a short regression-and-fix is seen as two changes.
 * - Contrast at split τ of [s, e): Z = (mean[s, τ) − mean[τ, e)) / (σ √V), V the exact
 *   variance of that difference under AR(1) noise (noise.ts contrastVariance).
 * - Tail of the maximum over one interval: Siegmund's approximation for the scan of a
 *   Gaussian random walk's standardised CUSUM (James, James & Siegmund 1987; Siegmund
 *   1988), with the discrete-time overshoot correction ν.
 * - Tail of the maximum over all intervals: the smallest interval p-value, T, is mapped to
 *   the series' p-value 1 − (1 − T)^k(n), k(n) the effective number of independent
 *   intervals, fitted by simulation under no change (scripts/calibrate-scan.ts, table in
 *   scan-calibration.ts) — what makes the series' p-value uniform under the null.
 */

/** Each scale's interval length is this fraction of the next longer one. */
export const SCALE_STEP = 0.8;
/** Intervals of one scale start every length × SHIFT_FRACTION runs. */
export const SHIFT_FRACTION = 0.5;

export interface Interval {
  start: number;
  end: number;
}

/** Interval lengths from n down to 2m, each at most SCALE_STEP of the previous one. */
export function scanLengths(n: number, m: number): number[] {
  const lengths: number[] = [];
  for (let l = n; l >= 2 * m; l = Math.min(l - 1, Math.floor(l * SCALE_STEP))) lengths.push(l);
  return lengths;
}

/** Starts of the intervals of length l over [0, n): every shift, and one ending at n. */
export function intervalStarts(n: number, l: number): number[] {
  const shift = Math.max(1, Math.floor(l * SHIFT_FRACTION));
  const starts: number[] = [];
  for (let s = 0; s + l <= n; s += shift) starts.push(s);
  if (starts[starts.length - 1] !== n - l) starts.push(n - l);
  return starts;
}

/** ν(x), Siegmund's correction for the overshoot of a discrete-time random walk over a boundary. */
function overshoot(x: number): number {
  if (x < 1e-8) return 1;
  const h = x / 2;
  return ((2 / x) * (normalCdf(h, 0, 1) - 0.5)) / (h * normalCdf(h, 0, 1) + Math.exp((-h * h) / 2) / Math.sqrt(2 * Math.PI));
}

const INTEGRATION_POINTS = 24;

/**
 * P(max over splits τ = m … l − m of |Z_τ| ≥ b) for one interval of l runs of independent
 * Gaussian noise, by Siegmund's approximation: the chance to start above b plus the
 * expected number of upcrossings, 2(1 − Φ(b)) + 2bφ(b) ∫ ν(b/√(l·u(1 − u))) du / (2u(1 − u))
 * over u in [m/l, 1 − m/l] (integrated in logit u, where the integrand is smooth), at most 1.
 * Autocorrelated noise, with Z standardised by its exact variance, makes neighbouring
 * splits more alike and the true tail lighter: the approximation errs on the safe side.
 */
export function scanTailProbability(b: number, l: number, m: number): number {
  if (!(b > 0)) return 1;
  const single = 2 * (1 - normalCdf(b, 0, 1));
  if (l < 2 * m + 1) return Math.min(1, single);
  const x0 = Math.log(m / (l - m));
  const x1 = -x0;
  const step = (x1 - x0) / INTEGRATION_POINTS;
  let integral = 0;
  for (let k = 0; k <= INTEGRATION_POINTS; k++) {
    const x = x0 + k * step;
    const u = 1 / (1 + Math.exp(-x));
    const weight = k === 0 || k === INTEGRATION_POINTS ? 1 : k % 2 ? 4 : 2; // Simpson
    integral += weight * overshoot(b / Math.sqrt(l * u * (1 - u)));
  }
  integral *= step / 3;
  const density = Math.exp((-b * b) / 2) / Math.sqrt(2 * Math.PI);
  return Math.min(1, single + b * density * integral);
}

/** The b at which scanTailProbability(b, l, m) = p (bisection: the tail falls monotonically in b). */
export function scanThreshold(p: number, l: number, m: number): number {
  let lo = 0;
  let hi = 4;
  while (scanTailProbability(hi, l, m) > p) hi *= 1.5;
  for (let i = 0; i < 60 && hi - lo > 1e-9; i++) {
    const mid = (lo + hi) / 2;
    if (scanTailProbability(mid, l, m) > p) lo = mid;
    else hi = mid;
  }
  return hi;
}

export interface ScanInput {
  /** The values the contrast is computed on (the detector passes normal scores). */
  values: ArrayLike<number>;
  /** Noise standard deviation and AR(1) coefficient of `values`. */
  sigma: number;
  phi: number;
  /** Runs required on each side of a split. */
  m: number;
  /** allowed[τ] = 1 when a change may fall between runs τ − 1 and τ (runs of one commit sit together). */
  allowed: Uint8Array;
}

/** Prefix sums, so an interval's mean is O(1). */
export function prefixSums(values: ArrayLike<number>): Float64Array {
  const p = new Float64Array(values.length + 1);
  for (let i = 0; i < values.length; i++) p[i + 1] = p[i] + values[i];
  return p;
}

/**
 * 1/√V(a, l − a) for a = 0 … l (0 where a split is impossible): the same for every interval of
 * length l, so kept per (m, φ, l) — a series' scans and re-placements ask for the same few lengths
 * again and again, and many series share φ = 0.
 */
const inverseContrastScale = memoized(
  20_000,
  (l: number, m: number, phi: number) => `${m}:${roundPhi(phi)}:${l}`,
  (l: number, m: number, phiEstimate: number): Float64Array => {
    const phi = roundPhi(phiEstimate);
    const w = new Float64Array(l + 1);
    for (let a = m; a <= l - m; a++) w[a] = 1 / Math.sqrt(contrastVariance(a, l - a, phi));
    return w;
  },
);

/** φ rounded up to a hundredth (a hair more conservative), so that series share their weights. */
function roundPhi(phi: number): number {
  return Math.ceil(phi * 100 - 1e-9) / 100;
}

/**
 * `compute` with its results kept by `key`, up to `limit` of them (then started afresh): the scan asks for the same
 * thresholds and weights for every series of a length, and for every interval of a length within one.
 */
export function memoized<A extends unknown[], R>(limit: number, key: (...args: A) => string, compute: (...args: A) => R): (...args: A) => R {
  const cache = new Map<string, R>();
  return (...args: A) => {
    const k = key(...args);
    let value = cache.get(k);
    if (value === undefined) {
      value = compute(...args);
      if (cache.size >= limit) cache.clear();
      cache.set(k, value);
    }
    return value;
  };
}

export interface BestSplit {
  tau: number;
  /** |Z| at tau. */
  z: number;
}

/** The split of [start, end) with the largest |Z| (earliest on ties); undefined when no split is allowed. */
export function bestSplitIn(input: ScanInput, prefix: Float64Array, start: number, end: number, weights?: Float64Array): BestSplit | undefined {
  const { m, allowed, sigma, phi } = input;
  const l = end - start;
  if (l < 2 * m || !(sigma > 0)) return undefined;
  const w = weights ?? inverseContrastScale(l, m, phi);
  let best: BestSplit | undefined;
  const total = prefix[end] - prefix[start];
  for (let a = m; a <= l - m; a++) {
    const tau = start + a;
    if (!allowed[tau]) continue;
    const left = prefix[tau] - prefix[start];
    const diff = left / a - (total - left) / (l - a);
    const z = (Math.abs(diff) * w[a]) / sigma;
    if (!best || z > best.z * (1 + 1e-12)) best = { tau, z };
  }
  return best;
}

export interface ScanResult {
  /** Intervals whose best split reached the threshold, with that split. */
  hits: (Interval & BestSplit)[];
  /** The smallest interval p-value over every interval scanned (1 when none could be). */
  minIntervalP: number;
}

/**
 * Scans every seeded interval of [0, n). `threshold(l)` gives the |Z| an interval of
 * length l must reach to be a hit.
 */
export function scan(input: ScanInput, threshold: (l: number) => number): ScanResult {
  const n = input.values.length;
  const prefix = prefixSums(input.values);
  const hits: ScanResult["hits"] = [];
  let minIntervalP = 1;
  for (const l of scanLengths(n, input.m)) {
    const weights = inverseContrastScale(l, input.m, input.phi);
    const bar = threshold(l);
    let levelMax = 0;
    for (const start of intervalStarts(n, l)) {
      const best = bestSplitIn(input, prefix, start, start + l, weights);
      if (!best) continue;
      if (best.z > levelMax) levelMax = best.z;
      if (best.z >= bar) hits.push({ start, end: start + l, ...best });
    }
    // One tail probability per length: it falls with |Z|, so the length's largest |Z| gives its smallest p.
    if (levelMax > 0) minIntervalP = Math.min(minIntervalP, scanTailProbability(levelMax, l, input.m));
  }
  return { hits, minIntervalP };
}

/**
 * Narrowest-over-threshold selection (Baranowski, Chen & Fryzlewicz 2019): hits taken
 * from the shortest up, each adding its split unless it straddles a split already taken.
 * The shortest interval over the threshold holds one change and little else, which is
 * what places a change at its own run when another is a few runs away.
 */
export function narrowestOverThreshold(hits: ScanResult["hits"]): number[] {
  const sorted = [...hits].sort((a, b) => a.end - a.start - (b.end - b.start) || b.z - a.z || a.start - b.start);
  const cuts: number[] = [];
  for (const h of sorted) if (!cuts.some((c) => c > h.start && c < h.end)) cuts.push(h.tau);
  return cuts.sort((a, b) => a - b);
}
