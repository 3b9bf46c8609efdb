import { describe, expect, it } from "vitest";
import { MAX_SEGMENT_RUNS, SPEED_SIDE_ALPHA, speedSideAt } from "../lib/analysis/speed-side";
import type { Series } from "../lib/analysis/series";
import { gaussian, seededRandom } from "../lib/seed/random";

/**
 * The speed side of an accuracy change (lib/analysis/speed-side.ts): one test of a method's p95 at a commit another
 * series placed. It must find a real speed-up the search would miss, bound its segments by the changes around it,
 * and hold its level on nightly noise that drifts.
 */

const sha = (i: number) => `c${i}`;
function series(values: number[]): Series {
  return {
    key: { benchmark_type: "quantization", model: "m", quant: "int4", variant: "int4", dataset: "d", device: "cuda", metric: "latency_p95_ms" },
    points: values.map((value, i) => ({
      run_id: `r${i}`,
      run_ts: "",
      commit_sha: sha(i),
      commit_ts: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
      value,
      request_id: "",
    })),
  };
}
/** 30 nightly runs of AR(1) noise (φ, 4 % CV on the log scale), level × `factor(i)`. */
function nightly(rng: () => number, phi: number, factor: (i: number) => number, n = 30): number[] {
  let e = gaussian(rng);
  return Array.from({ length: n }, (_, i) => {
    e = phi * e + Math.sqrt(1 - phi * phi) * gaussian(rng);
    return 8 * factor(i) * Math.exp(0.04 * e);
  });
}
const at = (i: number) => ({ commitSha: sha(i), commitTs: "" });

describe("speedSideAt", () => {
  it("finds a −20 % speed-up with 4–5 runs a side between two other releases, its interval around it", () => {
    const rng = seededRandom(3);
    let found = 0;
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      // Releases at 9 (×0.8), 14 (the speed-up, ×0.8) and 18 (×1.4): the test sees only [9, 18).
      const values = nightly(rng, 0.5, (i) => (i >= 9 ? 0.8 : 1) * (i >= 14 ? 0.8 : 1) * (i >= 18 ? 1.4 : 1));
      const check = speedSideAt(series(values), [9, 18], at(14), { phi: 0.5 })!;
      expect(check.before.n).toBe(5);
      expect(check.after.n).toBe(4);
      if (check.p_value <= SPEED_SIDE_ALPHA && check.change_pct < 0) found++;
      if (check.ci_pct[0] <= -20 && check.ci_pct[1] >= -20) covered++;
    }
    expect(found / trials).toBeGreaterThan(0.95);
    expect(covered / trials).toBeGreaterThan(0.9);
  });

  it("holds its level where nothing moved: nightly AR(1) noise, φ 0 to 0.7 (the detector's φ given), 4–5 runs a side", () => {
    const rng = seededRandom(17);
    for (const phi of [0, 0.5, 0.7]) {
      let alarms = 0;
      const trials = 2000;
      for (let t = 0; t < trials; t++) {
        const check = speedSideAt(series(nightly(rng, phi, () => 1)), [9, 18], at(14), { phi })!;
        if (check.p_value <= SPEED_SIDE_ALPHA) alarms++;
      }
      // Nominal 5 %; Monte Carlo se about 0.5 points.
      expect(alarms / trials, `φ ${phi}`).toBeLessThanOrEqual(0.065);
    }
  });

  it("agrees with its interval: significant exactly when the interval leaves out 0", () => {
    const rng = seededRandom(5);
    for (let t = 0; t < 300; t++) {
      const step = 1 - 0.1 * rng();
      const check = speedSideAt(series(nightly(rng, 0.3, (i) => (i >= 15 ? step : 1))), [], at(15), { phi: 0.3 })!;
      const excludesZero = check.ci_pct[1] < 0 || check.ci_pct[0] > 0;
      expect(excludesZero, `p ${check.p_value}`).toBe(check.p_value < 0.05);
    }
  });

  it("keeps each side within MAX_SEGMENT_RUNS runs and to the nearest boundary", () => {
    const rng = seededRandom(9);
    const check = speedSideAt(series(nightly(rng, 0, () => 1, 100)), [10, 80], at(50))!;
    expect(check.before.n).toBe(MAX_SEGMENT_RUNS);
    expect(check.after.n).toBe(MAX_SEGMENT_RUNS);
    const near = speedSideAt(series(nightly(rng, 0, () => 1, 100)), [45, 58], at(50))!;
    expect([near.before.n, near.after.n]).toEqual([5, 8]);
  });

  it("says nothing with fewer than 3 runs a side, on a deterministic value, or at the first run", () => {
    const rng = seededRandom(1);
    const values = nightly(rng, 0, () => 1);
    expect(speedSideAt(series(values), [12], at(14))).toBeUndefined();
    expect(speedSideAt(series(values.map(() => 8)), [], at(14))).toBeUndefined();
    expect(speedSideAt(series(values), [], at(0))).toBeUndefined();
  });
});
