/**
 * A seasonal cycle in one series, found from the series alone and taken out before the change-point scans.
 *
 * Why: a cycle read as noise is read as persistence and then as a stream of steps. Weekly measles counts rise into an
 * epidemic every two years, and an AR(1) model of the noise, however persistent, calls each epidemic a pair of steps
 * (six in TCPD's `measles`, where four of five annotators marked no change at all); a monthly series with a summer
 * peak hides its one real step among twelve seasonal ones (`seatbelts`, `jfk_passengers`). Benchmark histories have
 * cycles too — a weekly load cycle of the machines (weekly-cycle.ts takes out the one a family shares, from run dates;
 * this module finds one a series has on its own, from its values).
 *
 * The method, in three steps (docs/change-points.md, §2, step 1 of the method):
 * 1. **Which period.** The autocorrelation of the first differences, at every lag from 3 runs to a quarter of the
 *    series (at least MIN_CYCLES cycles). Differences are deaf to steps and trends (a step is one large difference,
 *    a trend a constant), and under persistent noise their autocorrelation dies within a lag or two (AR(1) with φ:
 *    −(1 − φ)·φ^(k−1)/2 at lag k). A cycle of period P makes it rise again at P.
 * 2. **Whether it is real.** The autocorrelation at P must be at least MIN_ACF, at least MIN_Z standard errors
 *    (1/√n each), and stand at least MIN_ACF above its lowest value between P/2 and P. The last condition rules out a
 *    smooth series: its differences are persistent, so their autocorrelation is high at every short lag and falls
 *    steadily, while a cycle's falls by half a period and rises again. Among the periods that pass, the one with
 *    the largest autocorrelation is kept.
 * 3. **Its shape.** The classical decomposition (R's `decompose`): a centred moving average over one period
 *    (2 × P when P is even) as the local level, each phase's mean departure from it over the cycles as the seasonal
 *    profile, centred on zero. The profile is subtracted from the series; steps, drifts and spreads are then read from
 *    the seasonally adjusted values.
 *
 * No cycle is found in clean series: none in the bench's 15 clean cells (1,000 series each of 30 to 2,000 runs,
 * independent, AR(1) φ 0.5 and Student-t noise; bench/changepoints-real.ts counts them), none in 100 a cell with AR(1)
 * φ 0.9 as well (tests/season.test.ts), so the calibrated nulls of the scans are untouched. MIN_ACF (the detector's
 * seasonMinAcf) was set after seeing TCPD's series, whose weakest real cycle (`measles`) reads 0.35; TCPD's
 * sensitivity to it, and a leave-one-out score over it, are in docs/change-points.md.
 * Pure functions, O(n²/4) for the autocorrelations.
 */

/** Cycles a period needs in the series before it is believed: a quarter of the runs at most. */
export const MIN_CYCLES = 4;
/** The shortest period: two runs alternating is not a season, and lags 1–2 carry the noise's own persistence. */
export const MIN_PERIOD = 3;
/** The smallest autocorrelation of differences at the period, and the smallest rise from its trough before it. */
export const MIN_ACF = 0.3;
/** The autocorrelation at the period in standard errors (1/√(n − 1)) at least: short series need a clearer cycle. */
export const MIN_Z = 5;

export interface Season {
  /** Runs per cycle. */
  period: number;
  /** Autocorrelation of the first differences at the period: how regular the cycle is (1 a perfect repeat). */
  acf: number;
  /** The seasonal profile, one value per phase (run index mod period), centred on zero, in the series' units. */
  profile: Float64Array;
  /** Largest minus smallest value of the profile: the cycle's swing, in the series' units. */
  amplitude: number;
}

/** Autocorrelation of the first differences of `values` at lags 0 … maxLag. */
export function differenceAutocorrelation(values: ArrayLike<number>, maxLag: number): Float64Array {
  const n = values.length - 1;
  const acf = new Float64Array(maxLag + 1);
  if (n < 2) return acf;
  const d = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += d[i] = values[i + 1] - values[i];
  mean /= n;
  let c0 = 0;
  for (let i = 0; i < n; i++) c0 += (d[i] -= mean) ** 2;
  if (!(c0 > 0)) return acf;
  for (let k = 0; k <= maxLag && k < n; k++) {
    let c = 0;
    for (let i = 0; i + k < n; i++) c += d[i] * d[i + k];
    acf[k] = c / c0;
  }
  return acf;
}

/** The centred moving average over one period (2 × P when P is even, so it stays centred); NaN within half a period of either end. */
export function centredMovingAverage(values: ArrayLike<number>, period: number): Float64Array {
  const n = values.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + values[i];
  const half = Math.floor(period / 2);
  const level = new Float64Array(n).fill(NaN);
  for (let i = half; i + half < n; i++) {
    level[i] =
      period % 2
        ? (prefix[i + half + 1] - prefix[i - half]) / period
        : ((prefix[i + half] - prefix[i - half]) / period + (prefix[i + half + 1] - prefix[i - half + 1]) / period) / 2;
  }
  return level;
}

/** Each phase's mean departure from the moving average, centred on zero (the classical decomposition's seasonal term). */
export function seasonalProfile(values: ArrayLike<number>, period: number): Float64Array {
  const level = centredMovingAverage(values, period);
  const sum = new Float64Array(period);
  const count = new Float64Array(period);
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(level[i])) continue;
    sum[i % period] += values[i] - level[i];
    count[i % period]++;
  }
  const profile = sum.map((s, phase) => (count[phase] ? s / count[phase] : 0));
  const centre = profile.reduce((a, b) => a + b, 0) / period;
  return profile.map((v) => v - centre);
}

/** The series' seasonal cycle, or undefined when it has none that stands out from its noise (see the module comment). */
export function findSeason(values: ArrayLike<number>, minAcf = MIN_ACF): Season | undefined {
  const n = values.length;
  const longest = Math.floor(n / MIN_CYCLES);
  if (longest < MIN_PERIOD) return undefined;
  const acf = differenceAutocorrelation(values, longest);
  const floor = Math.max(minAcf, MIN_Z / Math.sqrt(n - 1));
  let best: { period: number; acf: number } | undefined;
  for (let period = MIN_PERIOD; period <= longest; period++) {
    const r = acf[period];
    if (!(r >= floor) || (best && r <= best.acf)) continue;
    let trough = Infinity;
    for (let k = Math.max(1, Math.floor(period / 2)); k < period; k++) trough = Math.min(trough, acf[k]);
    if (r - trough >= minAcf) best = { period, acf: r };
  }
  if (!best) return undefined;
  const profile = seasonalProfile(values, best.period);
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of profile) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return { ...best, profile, amplitude: hi - lo };
}

/** The values less their season's profile (the seasonally adjusted series). */
export function withoutSeason(values: ArrayLike<number>, season: Pick<Season, "period" | "profile">): Float64Array {
  return Float64Array.from(values, (v, i) => v - season.profile[i % season.period]);
}
