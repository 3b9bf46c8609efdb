import { describe, expect, it } from "vitest";
import { fitPiecewise, kinkLocationSet, selectKinks } from "../lib/analysis/trend";
import { gaussian, seededRandom } from "../lib/seed/random";

const allowed = (n: number) => new Uint8Array(n + 1).fill(1);

describe("piecewise-linear trends", () => {
  it("fits a line with a step and a kink exactly, and its coefficients are the step and the change of slope", () => {
    const x = Array.from({ length: 60 }, (_, i) => 10 + 0.5 * i + (i >= 20 ? 3 : 0) - 1.5 * Math.max(0, i - 40));
    const fit = fitPiecewise(x, [20], [0, 40])!;
    expect(fit.rss).toBeLessThan(1e-12);
    const [intercept, step, slope, bend] = fit.beta;
    expect(intercept).toBeCloseTo(10, 9);
    expect(step).toBeCloseTo(3, 9);
    expect(slope).toBeCloseTo(0.5, 9);
    expect(bend).toBeCloseTo(-1.5, 9);
    // The slope part leaves the steps and the intercept out.
    expect(fit.slopePart[59]).toBeCloseTo(0.5 * 59 - 1.5 * 19, 9);
  });

  it("selects the kinks of a noisy flat–rise–flat series where they are, and no more", () => {
    const rng = seededRandom(7);
    const x = Array.from({ length: 200 }, (_, i) => Math.min(60, Math.max(0, i - 70)) * 0.1 + 0.2 * gaussian(rng));
    const kinks = selectKinks(x, [], { allowed: allowed(200), minRuns: 12, penalty: 2 * Math.log(200) * 0.04, maxKinks: 8 });
    expect(kinks).toHaveLength(2);
    expect(Math.abs(kinks[0] - 70)).toBeLessThanOrEqual(3);
    expect(Math.abs(kinks[1] - 130)).toBeLessThanOrEqual(3);
    // Each kink's 95 % location set (slack z² σ²) holds the true run, and stays within a few runs of it.
    const search = { allowed: allowed(200), minRuns: 12, penalty: 2 * Math.log(200) * 0.04, maxKinks: 8 };
    for (const [j, truth] of [70, 130].entries()) {
      const [first, last] = kinkLocationSet(x, [], kinks, j, search, 1.96 ** 2 * 0.04);
      expect(first).toBeLessThanOrEqual(truth);
      expect(last).toBeGreaterThanOrEqual(truth);
      expect(last - first).toBeLessThanOrEqual(8);
    }
    // Read as ten times noisier, the same kinks are far less certain, and their sets widen.
    const [first, last] = kinkLocationSet(x, [], kinks, 0, search, 1.96 ** 2 * 4);
    expect(last - first).toBeGreaterThan(8);
  });

  it("selects nothing in noise, and never a kink where the groups forbid one", () => {
    const rng = seededRandom(8);
    const noise = Array.from({ length: 200 }, () => gaussian(rng));
    expect(selectKinks(noise, [], { allowed: allowed(200), minRuns: 12, penalty: Math.log(200), maxKinks: 8 })).toEqual([]);
    const x = Array.from({ length: 100 }, (_, i) => Math.max(0, i - 50) + 0.01 * gaussian(rng));
    const onlyEven = Uint8Array.from({ length: 101 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const oddKink = x.map((_, i) => Math.max(0, i - 51));
    const kinks = selectKinks(oddKink, [], { allowed: onlyEven, minRuns: 12, penalty: 1e-6, maxKinks: 1 });
    expect(kinks).toHaveLength(1);
    expect(kinks[0] % 2).toBe(0);
  });
});
