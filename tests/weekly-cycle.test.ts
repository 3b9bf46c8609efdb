import { describe, expect, it } from "vitest";
import { detectSeries } from "../lib/analysis/changepoints";
import { estimateWeeklyCycle, weekdayOf, withoutWeeklyCycle } from "../lib/analysis/weekly-cycle";
import { gaussian, seededRandom } from "../lib/seed/random";

/** 2026-11-02, a Monday. */
const FIRST_DAY = Math.floor(Date.UTC(2026, 10, 2) / 86_400_000);

/**
 * A family of nightly series as a benchmark farm makes them: one run a night, every series of a night sharing the
 * machine's drift that night (AR(1) φ 0.6) and, when `swing` > 0, a weekly load cycle (a sine of period 7 days);
 * each run its own 1 % noise; `step` multiplies every run from night `stepAt` on.
 */
function family(
  seed: number,
  options: { series: number; nights: number; swing: number; step?: number; stepAt?: number },
): { values: number[]; days: number[] }[] {
  const rng = seededRandom(seed);
  let drift = 0;
  const night = Array.from({ length: options.nights }, () => (drift = 0.6 * drift + gaussian(rng, 0, 0.015)));
  return Array.from({ length: options.series }, (_, s) => {
    const days = Array.from({ length: options.nights }, (_, i) => FIRST_DAY + i);
    const values = days.map((day, i) => {
      const cycle = 1 + options.swing * Math.sin((2 * Math.PI * day) / 7);
      const step = options.step && i >= (options.stepAt ?? Infinity) ? options.step : 1;
      return (100 + 10 * s) * step * cycle * (1 + night[i]) * (1 + 0.01 * gaussian(rng));
    });
    return { values, days };
  });
}

describe("the weekly cycle a family shares", () => {
  it("names weekdays from day numbers (1970-01-01 was a Thursday)", () => {
    expect(weekdayOf(0)).toBe(4);
    expect(weekdayOf(FIRST_DAY)).toBe(1);
    expect(weekdayOf(-1)).toBe(3);
  });

  it("finds a ±6 % cycle in five weeks of nightlies across 40 series, each weekday within 2.5 points (about 2.5 standard errors: five days a weekday, 1.9 % of machine drift a day)", () => {
    const cycle = estimateWeeklyCycle(family(1, { series: 40, nights: 35, swing: 0.06 }));
    expect(cycle).toBeDefined();
    expect(cycle!.p).toBeLessThan(1e-3);
    const truth = Array.from({ length: 7 }, (_, w) => {
      // Day numbers with weekday w: sin(2π·day/7) depends on day mod 7.
      const day = [...Array(7).keys()].map((k) => FIRST_DAY + k).find((d) => weekdayOf(d) === w)!;
      return 1 + 0.06 * Math.sin((2 * Math.PI * day) / 7);
    });
    const mean = Math.exp(truth.reduce((a, f) => a + Math.log(f), 0) / 7);
    cycle!.factors.forEach((f, w) => expect(Math.abs(f - truth[w] / mean)).toBeLessThan(0.025));
    expect(cycle!.swingPct).toBeGreaterThan(9);
  });

  it("finds none where there is none: shared drift and run noise only, 50 families", () => {
    let found = 0;
    for (let k = 0; k < 50; k++) if (estimateWeeklyCycle(family(100 + k, { series: 40, nights: 35, swing: 0 }))) found++;
    expect(found).toBeLessThanOrEqual(1);
  });

  it("needs three of each weekday: two weeks say nothing", () => {
    expect(estimateWeeklyCycle(family(2, { series: 40, nights: 14, swing: 0.06 }))).toBeUndefined();
  });

  it("leaves a release alone: a −15 % step in every series is still −15 % once the cycle is out, and is found where the raw series hid it", () => {
    const members = family(3, { series: 40, nights: 35, swing: 0.06, step: 0.85, stepAt: 29 });
    const cycle = estimateWeeklyCycle(members);
    expect(cycle).toBeDefined();
    let foundRaw = 0;
    let foundClean = 0;
    for (const s of members) {
      const clean = withoutWeeklyCycle(s.values, s.days, cycle!);
      const ratio = (xs: ArrayLike<number>) => {
        const tail = Array.from(xs).slice(29);
        const head = Array.from(xs).slice(0, 29);
        return tail.reduce((a, b) => a + b, 0) / tail.length / (head.reduce((a, b) => a + b, 0) / head.length);
      };
      expect(Math.abs(ratio(clean) - ratio(s.values))).toBeLessThan(0.02);
      if (detectSeries(s.values).steps.some((c) => Math.abs(c.index - 29) <= 1)) foundRaw++;
      if (detectSeries(clean).steps.some((c) => Math.abs(c.index - 29) <= 1)) foundClean++;
    }
    expect(foundClean).toBeGreaterThanOrEqual(36);
    expect(foundClean).toBeGreaterThan(foundRaw);
  });

  it("skips series it cannot read: too short, or not all positive", () => {
    const members = family(4, { series: 40, nights: 35, swing: 0.06 });
    const broken = members.map((s, i) =>
      i % 2 ? { values: s.values.map((v, k) => (k === 3 ? -v : v)), days: s.days } : { values: s.values.slice(0, 10), days: s.days.slice(0, 10) },
    );
    expect(estimateWeeklyCycle(broken)).toBeUndefined();
  });
});
