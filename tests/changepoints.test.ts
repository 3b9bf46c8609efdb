import { describe, expect, it } from "vitest";
import { benjaminiHochberg, DEFAULT_DETECTOR_OPTIONS, detectChangePoints } from "../lib/analysis/changepoints";
import { studentTQuantileTwoSided, studentTTwoSidedP } from "../lib/analysis/student-t";

/** Seeded Gaussian noise (mulberry32 + Box–Muller): the same series on every run. */
function noise(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** levels[i] per run, plus Gaussian noise of sd = cv × level. */
function series(levels: number[], cv: number, seed: number): number[] {
  const g = noise(seed);
  return levels.map((l) => l * (1 + cv * g()));
}
const flat = (n: number, level: number) => Array.from({ length: n }, () => level);

describe("detectChangePoints", () => {
  it("finds a step up at the first run after it, with a positive interval that holds the true size", () => {
    const [change, ...rest] = detectChangePoints(series([...flat(20, 100), ...flat(20, 120)], 0.02, 1));
    expect(rest).toHaveLength(0);
    expect(change.index).toBe(20);
    expect(change.before.n).toBe(20);
    expect(change.after.n).toBe(20);
    expect(change.change_pct).toBeGreaterThan(15);
    expect(change.change_pct).toBeLessThan(25);
    expect(change.ci_pct[0]).toBeGreaterThan(0);
    expect(change.ci_pct[0]).toBeLessThan(20);
    expect(change.ci_pct[1]).toBeGreaterThan(20);
    expect(change.ci_pct[0]).toBeLessThan(change.change_pct);
    expect(change.ci_pct[1]).toBeGreaterThan(change.change_pct);
    expect(change.p_value).toBeLessThan(1e-6);
    expect(change.deterministic).toBe(false);
  });

  it("finds a step down, signed negative, interval below zero around −20 %", () => {
    const changes = detectChangePoints(series([...flat(25, 500), ...flat(15, 400)], 0.02, 2));
    expect(changes.map((c) => c.index)).toEqual([25]);
    const [c] = changes;
    expect(c.change_pct).toBeLessThan(0);
    expect(c.ci_pct[0]).toBeLessThan(-20);
    expect(c.ci_pct[1]).toBeGreaterThan(-20);
    expect(c.ci_pct[1]).toBeLessThan(0);
  });

  it("finds a regression and its fix a few runs later, each at its own run", () => {
    const changes = detectChangePoints(series([...flat(15, 100), ...flat(6, 115), ...flat(19, 100)], 0.02, 3));
    expect(changes.map((c) => c.index)).toEqual([15, 21]);
    expect(changes[0].change_pct).toBeGreaterThan(0);
    expect(changes[1].change_pct).toBeLessThan(0);
    // Adjacent segments: the first change's after is the second's before.
    expect(changes[0].after).toEqual(changes[1].before);
  });

  it("reports a jump between two flat stretches as deterministic, with p 0 and a point interval", () => {
    const changes = detectChangePoints([...flat(10, 5), ...flat(10, 7)]);
    expect(changes).toEqual([
      {
        index: 10,
        before: { n: 10, mean: 5, stdev: 0 },
        after: { n: 10, mean: 7, stdev: 0 },
        change_pct: 40,
        ci_pct: [40, 40],
        difference: 2,
        ci_difference: [2, 2],
        p_value: 0,
        deterministic: true,
      },
    ]);
  });

  it("finds nothing in a constant series, nor in an empty or short one", () => {
    expect(detectChangePoints(flat(50, 0.1))).toEqual([]);
    expect(detectChangePoints([])).toEqual([]);
    expect(detectChangePoints([1, 2, 3, 4, 5])).toEqual([]);
  });

  it("needs minRunsEachSide runs after a change before reporting it", () => {
    expect(DEFAULT_DETECTOR_OPTIONS.minRunsEachSide).toBe(3);
    expect(detectChangePoints([...flat(20, 1), 2, 2])).toEqual([]);
    expect(detectChangePoints([...flat(20, 1), 2, 2, 2]).map((c) => c.index)).toEqual([20]);
    expect(detectChangePoints([...flat(20, 1), 2, 2, 2], { minRunsEachSide: 4 })).toEqual([]);
    const noisy = series([...flat(30, 100), ...flat(4, 130)], 0.01, 4);
    expect(detectChangePoints(noisy).map((c) => c.index)).toEqual([30]);
    expect(detectChangePoints(noisy, { minRunsEachSide: 5 })).toEqual([]);
  });

  it("reports no change in pure noise (200 seeded series, CV 1–10 %)", () => {
    let found = 0;
    for (let seed = 100; seed < 300; seed++) found += detectChangePoints(series(flat(20 + (seed % 41), 250), [0.01, 0.03, 0.05, 0.1][seed % 4], seed)).length;
    expect(found).toBe(0);
  });

  it("does not take a single outlier for a change, anywhere in the series", () => {
    for (const at of [0, 1, 2, 10, 20, 37, 38, 39]) {
      const values = series(flat(40, 100), 0.02, 5);
      values[at] = 180;
      expect(detectChangePoints(values), `spike at ${at}`).toEqual([]);
      const constant = flat(40, 100);
      constant[at] = 180;
      expect(detectChangePoints(constant), `spike at ${at} in a flat series`).toEqual([]);
    }
  });

  it("still finds a step when an outlier sits in one of its segments", () => {
    const values = series([...flat(20, 100), ...flat(20, 110)], 0.02, 6);
    values[28] = 200;
    expect(detectChangePoints(values).map((c) => c.index)).toEqual([20]);
  });

  it("does not report changes under minChangePct, however significant", () => {
    const values = series([...flat(30, 100), ...flat(30, 101.5)], 0.001, 7);
    expect(detectChangePoints(values)).toEqual([]);
    expect(detectChangePoints(values, { minChangePct: 1 }).map((c) => c.index)).toEqual([30]);
  });

  it("reports a step from a level near zero by its difference, whose interval agrees with Fieller's wherever that one is bounded", () => {
    // A series with no natural zero (a z-score, a temperature in °C): the level before is not distinguishable from 0,
    // so no percentage can be bounded, but the step itself is as clear as the same step shifted far from 0.
    const g = noise(11);
    const nearZero = [...flat(40, 0), ...flat(40, 3)].map((level) => level + g());
    const [step] = detectChangePoints(nearZero);
    expect(step.index).toBe(40);
    expect(step.ci_pct).toEqual([-Infinity, Infinity]);
    expect(step.ci_difference[0]).toBeGreaterThan(0);
    expect(step.ci_difference[0]).toBeLessThan(3);
    expect(step.ci_difference[1]).toBeGreaterThan(3);
    const [shifted] = detectChangePoints(nearZero.map((v) => v + 100));
    expect(shifted.index).toBe(40);
    expect(shifted.difference).toBeCloseTo(step.difference, 9);
    expect(Number.isFinite(shifted.ci_pct[0]) && shifted.ci_pct[0] > 0).toBe(true);
    // Wherever the ratio's interval is bounded, it excludes no change exactly when the difference's does.
    for (let seed = 0; seed < 40; seed++) {
      const values = series([...flat(25, 100), ...flat(25, 100 + (seed % 8))], 0.03, 100 + seed);
      for (const c of detectChangePoints(values, { minChangePct: 0, alpha: 0.2 }))
        expect(c.ci_pct[0] > 0 || c.ci_pct[1] < 0).toBe(c.ci_difference[0] > 0 || c.ci_difference[1] < 0);
    }
  });

  it("puts changes only between commits when several runs share one, and is deterministic", () => {
    const values = series([...flat(20, 100), ...flat(20, 120)], 0.02, 8);
    expect(detectChangePoints(values).map((c) => c.index)).toEqual([20]);
    // Runs 19–21 are repeats of one commit: the change cannot fall inside them.
    const groups = values.map((_, i) => (i < 19 ? i : i <= 21 ? 19 : i - 2));
    const [change] = detectChangePoints(values, undefined, { groups });
    expect([19, 22]).toContain(change.index);
    expect(detectChangePoints(values)).toEqual(detectChangePoints([...values]));
  });

  it("throws on non-finite values and on bad options", () => {
    expect(() => detectChangePoints([1, 2, NaN, 4])).toThrow(/values\[2\] is NaN/);
    expect(() => detectChangePoints([1, Infinity])).toThrow(/values\[1\] is Infinity/);
    expect(() => detectChangePoints([1, 2], { alpha: 0 })).toThrow(/alpha/);
    expect(() => detectChangePoints([1, 2], { minRunsEachSide: 1 })).toThrow(/minRunsEachSide/);
    expect(() => detectChangePoints([1, 2], { confidence: 1 })).toThrow(/confidence/);
  });
});

describe("Student's t distribution", () => {
  it("matches t-table values (two-sided)", () => {
    expect(studentTTwoSidedP(2.228, 10)).toBeCloseTo(0.05, 4);
    expect(studentTTwoSidedP(3.169, 10)).toBeCloseTo(0.01, 4);
    expect(studentTTwoSidedP(2.086, 20)).toBeCloseTo(0.05, 4);
    expect(studentTTwoSidedP(12.706, 1)).toBeCloseTo(0.05, 4);
    expect(studentTTwoSidedP(1, 1)).toBeCloseTo(0.5, 12); // Cauchy: P(|T| > 1) = 1/2
    expect(studentTTwoSidedP(1.959964, 1e7)).toBeCloseTo(0.05, 5); // → normal
    expect(studentTTwoSidedP(0, 5)).toBe(1);
    expect(studentTTwoSidedP(-2.228, 10)).toBeCloseTo(studentTTwoSidedP(2.228, 10), 12);
    expect(studentTTwoSidedP(40, 30)).toBeLessThan(1e-20);
  });

  it("inverts to the table's critical values", () => {
    expect(studentTQuantileTwoSided(0.05, 10)).toBeCloseTo(2.228139, 5);
    expect(studentTQuantileTwoSided(0.01, 3)).toBeCloseTo(5.840909, 5);
    expect(studentTQuantileTwoSided(0.05, 2.5)).toBeGreaterThan(studentTQuantileTwoSided(0.05, 3));
  });
});

describe("benjaminiHochberg", () => {
  // Benjamini & Hochberg (1995), section 4: 15 p-values; at q = 0.05 the first 4 are rejected.
  const P = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1];
  const Q = [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.063857, 0.063857, 0.0645, 0.0765, 0.486, 0.581182, 0.714875, 0.753231, 0.813214, 1];

  it("reproduces the paper's example: hand-computed q-values, 4 discoveries at 0.05", () => {
    const q = benjaminiHochberg(P);
    q.forEach((x, i) => expect(x).toBeCloseTo(Q[i], 6));
    expect(q.filter((x) => x <= 0.05)).toHaveLength(4);
  });

  it("keeps the input order", () => {
    const order = [7, 0, 14, 3, 9, 1, 12, 5, 2, 11, 4, 13, 6, 10, 8];
    const q = benjaminiHochberg(order.map((i) => P[i]));
    q.forEach((x, k) => expect(x).toBeCloseTo(Q[order[k]], 6));
    expect(benjaminiHochberg([])).toEqual([]);
    expect(() => benjaminiHochberg([0.5, 1.5])).toThrow(/pValues\[1\]/);
  });
});
