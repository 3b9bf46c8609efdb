import { describe, expect, it } from "vitest";
import { DEFAULT_IMPACT, adjustImpacts, impactFromWindows, type UserImpact, type WindowTotals } from "../lib/analysis/impact";
import {
  benjaminiHochberg,
  dayDifferences,
  differencedCorrelation,
  eventEstimate,
  localFdrBound,
  medianInterval,
  minimalDetectableChangePct,
  placeboTest,
} from "../lib/analysis/statistics";
import { gaussian, seededRandom } from "../lib/seed/random";

/** The statistics behind the episodes' claims (lib/analysis/statistics.ts, docs/statistics.md): pure, seeded, no database. */

describe("Benjamini–Hochberg", () => {
  it("adjusts p-values step-up, keeps nulls out of the count", () => {
    expect(benjaminiHochberg([0.01, null, 0.04, 0.03])).toEqual([0.03, null, 0.04, 0.04]);
    expect(benjaminiHochberg([0.5, 0.9])).toEqual([0.9, 0.9]);
  });
});

describe("placebo test", () => {
  it("is exact for independent normal windows: 5 % of null after-windows at p < 0.05", () => {
    const rng = seededRandom(1);
    let rejected = 0;
    for (let r = 0; r < 4000; r++) {
      const x = Array.from({ length: 7 }, () => gaussian(rng));
      if (placeboTest(x[0], x.slice(1))!.p < 0.05) rejected++;
    }
    expect(rejected / 4000).toBeGreaterThan(0.04);
    expect(rejected / 4000).toBeLessThan(0.06);
  });

  it("estimates the after window beyond the placebos' mean, and needs two placebos", () => {
    const t = placeboTest(10, [1, 2, 3, 2])!;
    expect(t.estimate).toBe(8);
    expect(t.placeboMean).toBe(2);
    expect(t.ci[0]).toBeLessThan(8);
    expect(t.p).toBeLessThan(0.01);
    expect(placeboTest(10, [1])).toBeNull();
  });
});

/** Window totals for impactFromWindows: after, its week-before match, then placebo/match pairs; latency per answer. */
const totals = (latency: number, hours = 24): WindowTotals => ({
  hours,
  latency_sum: latency * 20 * hours,
  answers: 20 * hours,
  errors: 10,
  events: 1000,
  abandoned: 5,
  queries: 100,
});

describe("did users feel it (the statistics, on window totals)", () => {
  const placebos = [1.01, 0.99, 1.02, 0.98, 1.0, 1.01].flatMap((f) => [totals(400 * f), totals(400)]);

  it("is felt only in the predicted direction; the other way is said as such", () => {
    const windows = [totals(520), totals(400), ...placebos];
    const worse = impactFromWindows(windows, "worse", DEFAULT_IMPACT);
    expect(worse).toMatchObject({ measurable: true, felt: true, other_way: false, placebo_days: 6 });
    expect(worse.latency_change_pct!).toBeCloseTo(30 / 1.0017, 0);
    const better = impactFromWindows(windows, "better", DEFAULT_IMPACT);
    expect(better).toMatchObject({ felt: false, other_way: true });
  });

  it("says nothing with fewer than three placebo days or a thin after window", () => {
    expect(impactFromWindows([totals(520), totals(400), ...placebos.slice(0, 4)], "worse", DEFAULT_IMPACT)).toMatchObject({ measurable: false, felt: false });
    expect(impactFromWindows([totals(520, 3), totals(400), ...placebos], "worse", DEFAULT_IMPACT)).toMatchObject({ measurable: false });
  });

  it("corrects across events × metrics: a p-value that alone would be felt is not, among many nulls", () => {
    const base = impactFromWindows([totals(520), totals(400), ...placebos], "worse", DEFAULT_IMPACT);
    const weak: UserImpact = { ...base, latency_p_value: 0.01, latency_change_pct: 3 };
    const nulls = Array.from({ length: 5 }, () => ({
      impact: { ...base, latency_p_value: 0.8, error_rate_p_value: 0.7, abandonment_p_value: 0.9 },
      direction: "worse" as const,
    }));
    expect(adjustImpacts([{ impact: weak, direction: "worse" }], 0.05)[0].felt).toBe(true);
    const together = adjustImpacts([{ impact: weak, direction: "worse" }, ...nulls], 0.05);
    expect(together[0].felt).toBe(false);
    expect(together[0].latency_q_value!).toBeGreaterThan(0.05);
  });
});

describe("headline sizes", () => {
  it("gives the median's order-statistic interval, none below six values", () => {
    expect(medianInterval([1, 2, 3, 4, 5])).toBeNull();
    expect(medianInterval([1, 2, 3, 4, 5, 6])).toEqual([1, 6]);
    const values = Array.from({ length: 98 }, (_, i) => i);
    const [lo, hi] = medianInterval(values)!;
    expect(lo).toBeGreaterThan(30);
    expect(hi).toBeLessThan(68);
  });

  it("tells 98 series that all moved +40 % as +40 %, not as the largest of them", () => {
    const rng = seededRandom(40);
    let covered = 0;
    for (let ep = 0; ep < 200; ep++) {
      const changes = Array.from({ length: 98 }, () => {
        const c = 40 + gaussian(rng, 0, 3);
        return { change_pct: c, ci_pct: [c - 6, c + 6] as [number, number] };
      });
      const e = eventEstimate(changes);
      expect(e.method).toBe("median_order_statistics");
      if (e.ci_pct[0] <= 40 && 40 <= e.ci_pct[1]) covered++;
      expect(Math.max(...changes.map((c) => c.change_pct))).toBeGreaterThan(e.ci_pct[1]);
    }
    expect(covered / 200).toBeGreaterThanOrEqual(0.9);
  });

  it("keeps a single series' own interval and takes the hull of two to five", () => {
    expect(eventEstimate([{ change_pct: 12, ci_pct: [8, 16] }])).toEqual({ change_pct: 12, ci_pct: [8, 16], series: 1, method: "single_series" });
    expect(
      eventEstimate([
        { change_pct: 10, ci_pct: [5, 15] },
        { change_pct: 20, ci_pct: [14, 26] },
        { change_pct: 30, ci_pct: [22, 38] },
      ]),
    ).toEqual({ change_pct: 20, ci_pct: [5, 38], series: 3, method: "hull_of_series" });
  });
});

describe("correlation", () => {
  it("gives no interval under 14 differences, and the same interval for the same days", () => {
    const rng = seededRandom(3);
    const x = Array.from({ length: 8 }, () => gaussian(rng));
    expect(
      differencedCorrelation(
        x,
        x.map((v) => 2 * v),
      ).ci,
    ).toBeNull();
    const a = Array.from({ length: 30 }, () => gaussian(rng));
    const b = a.map((v) => v + gaussian(rng, 0, 0.5));
    const first = differencedCorrelation(a, b);
    expect(first.pairs).toBe(29);
    expect(first.ci).not.toBeNull();
    expect(differencedCorrelation(a, b)).toEqual(first);
    expect(first.ci![0]).toBeGreaterThan(0);
  });

  it("does not find two independent 30-day random walks correlated more than about 5 % of the time", () => {
    const rng = seededRandom(30);
    let excluded = 0;
    for (let r = 0; r < 300; r++) {
      const walk = () => Array.from({ length: 30 }).reduce<number[]>((w) => [...w, (w.at(-1) ?? 0) + gaussian(rng)], []);
      const ci = differencedCorrelation(walk(), walk(), { seed: r, reps: 400 }).ci!;
      if (ci[0] > 0 || ci[1] < 0) excluded++;
    }
    expect(excluded / 300).toBeLessThanOrEqual(0.08);
  });

  it("differences consecutive days only", () => {
    const d = dayDifferences([
      { day: "2026-11-01", x: 1, y: 2 },
      { day: "2026-11-02", x: 2, y: 4 },
      { day: "2026-11-04", x: 9, y: 9 },
      { day: "2026-11-05", x: 10, y: 12 },
    ]);
    expect(d).toEqual({ dx: [1, 1], dy: [2, 3] });
  });
});

describe("confidence inputs", () => {
  it("bounds the local false discovery rate so evidence can go down", () => {
    expect(localFdrBound(1e-6)).toBeLessThan(1e-4);
    expect(1 - localFdrBound(0.01)).toBeCloseTo(0.8888, 3);
    expect(localFdrBound(0.5)).toBe(0.5);
  });

  it("gives the smallest step a series could have shown, smaller with more runs and less noise", () => {
    const rng = seededRandom(9);
    const series = (n: number, cv: number) => Array.from({ length: n }, () => 100 * (1 + gaussian(rng, 0, cv)));
    const noisyShort = minimalDetectableChangePct(series(8, 0.05))!;
    const quietLong = minimalDetectableChangePct(series(40, 0.01))!;
    expect(noisyShort).toBeGreaterThan(10);
    expect(quietLong).toBeLessThan(3);
    expect(minimalDetectableChangePct([1, 2, 3])).toBeNull();
  });
});
