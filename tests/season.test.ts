import { describe, expect, it } from "vitest";
import { changeLocations, detectSeries } from "../lib/analysis/changepoints";
import { centredMovingAverage, findSeason, seasonalProfile, withoutSeason } from "../lib/analysis/season";
import { gaussian, seededRandom } from "../lib/seed/random";

/** AR(1) noise with unit marginal variance. */
function ar1(rng: () => number, n: number, phi: number): number[] {
  let state = gaussian(rng);
  return Array.from({ length: n }, () => (state = phi * state + Math.sqrt(1 - phi * phi) * gaussian(rng)));
}

function studentT3(rng: () => number): number {
  let chi = 0;
  for (let k = 0; k < 3; k++) chi += gaussian(rng) ** 2;
  return gaussian(rng) / Math.sqrt(chi / 3) / Math.sqrt(3);
}

/** A monthly series: a summer peak (a sine of period 12 plus its first harmonic), persistent noise, and optionally one step. */
function monthly(rng: () => number, n: number, step?: { at: number; size: number }): number[] {
  const noise = ar1(rng, n, 0.5);
  return noise.map((e, i) => 100 + 6 * Math.sin((2 * Math.PI * i) / 12) + 2 * Math.cos((4 * Math.PI * i) / 12) + (step && i >= step.at ? step.size : 0) + e);
}

/** Weekly counts of an epidemic disease, in miniature: a burst of 12 runs every 50, its height wandering, on AR(1) noise. */
function epidemics(rng: () => number): number[] {
  return ar1(rng, 500, 0.5).map((e, i) => {
    const phase = i % 50;
    const height = 4 + 2 * Math.sin(i / 97);
    return 0.5 * e + (phase < 12 ? height * Math.sin((Math.PI * phase) / 12) ** 2 : 0);
  });
}

describe("the seasonal cycle of one series", () => {
  it("the moving average over an even period is centred (2 × P) and leaves a constant-plus-cycle series at the constant", () => {
    const x = Array.from({ length: 48 }, (_, i) => 5 + Math.sin((2 * Math.PI * i) / 12));
    const level = centredMovingAverage(x, 12);
    expect(Number.isNaN(level[5])).toBe(true);
    expect(Number.isNaN(level[42])).toBe(true);
    for (let i = 6; i < 42; i++) expect(level[i]).toBeCloseTo(5, 9);
    const profile = seasonalProfile(x, 12);
    for (let phase = 0; phase < 12; phase++) expect(profile[phase]).toBeCloseTo(Math.sin((2 * Math.PI * phase) / 12), 9);
    expect(withoutSeason(x, { period: 12, profile }).every((v) => Math.abs(v - 5) < 1e-9)).toBe(true);
  });

  it("finds a monthly cycle under persistent noise, with its period and swing", () => {
    const season = findSeason(monthly(seededRandom(1), 240));
    expect(season?.period).toBe(12);
    // The true swing: max − min of 6·sin + 2·cos(2·) over the 12 phases.
    const truth = Array.from({ length: 12 }, (_, i) => 6 * Math.sin((2 * Math.PI * i) / 12) + 2 * Math.cos((4 * Math.PI * i) / 12));
    const swing = Math.max(...truth) - Math.min(...truth);
    expect(season!.amplitude).toBeGreaterThan(0.9 * swing);
    expect(season!.amplitude).toBeLessThan(1.1 * swing);
  });

  it("finds a cycle of epidemics: bursts every 50 runs, of uneven heights, on persistent noise", () => {
    expect(findSeason(epidemics(seededRandom(2)))?.period).toBe(50);
  });

  it("finds none in clean noise of any kind the detector is calibrated for, at any length (100 series a cell)", () => {
    const rng = seededRandom(3);
    const kinds: Record<string, (n: number) => number[]> = {
      independent: (n) => Array.from({ length: n }, () => gaussian(rng)),
      "AR(1) φ 0.9": (n) => ar1(rng, n, 0.9),
      "Student-t 3 df": (n) => Array.from({ length: n }, () => studentT3(rng)),
    };
    const found: string[] = [];
    for (const n of [30, 60, 365, 1000])
      for (const [kind, make] of Object.entries(kinds)) for (let k = 0; k < 100; k++) if (findSeason(make(n))) found.push(`${kind}, ${n} runs`);
    expect(found).toEqual([]);
  });

  it("finds none in what is not a cycle: a smooth curve, a random walk, a staircase of steps", () => {
    const rng = seededRandom(4);
    const smooth = Array.from({ length: 200 }, (_, i) => 1 / (1 + Math.exp(-(i - 100) / 15)) + 0.002 * gaussian(rng));
    let walk = 0;
    const randomWalk = Array.from({ length: 500 }, () => (walk += gaussian(rng)));
    const staircase = Array.from({ length: 300 }, (_, i) => Math.floor(i / 40) * 3 + gaussian(rng));
    expect(findSeason(smooth)).toBeUndefined();
    expect(findSeason(randomWalk)).toBeUndefined();
    expect(findSeason(staircase)).toBeUndefined();
  });
});

describe("the detector with a season", () => {
  it("reports a monthly series' one step where it is, and not its peaks", () => {
    const detection = detectSeries(monthly(seededRandom(5), 240, { at: 150, size: 5 }));
    expect(detection.season?.period).toBe(12);
    expect(changeLocations(detection)).toEqual([150]);
  });

  it("reports nothing in a seasonal series without a change, where the same series read without its season shows changes", () => {
    const bursts = epidemics(seededRandom(2));
    const detection = detectSeries(bursts);
    expect(detection.season?.period).toBe(50);
    expect(changeLocations(detection)).toEqual([]);
    // Several runs at one commit put the same moment at several phases: no season is looked for, and the bursts are read as changes.
    const groups = bursts.map((_, i) => (i === 1 ? 0 : i));
    const withoutSeasonLookup = detectSeries(bursts, undefined, { groups });
    expect(withoutSeasonLookup.season).toBeUndefined();
    expect(changeLocations(withoutSeasonLookup).length).toBeGreaterThan(0);
    // seasonMinAcf 1 takes no cycle out either, with the same result; it must lie in (0, 1].
    const noSeason = detectSeries(bursts, { seasonMinAcf: 1 });
    expect(noSeason.season).toBeUndefined();
    expect(changeLocations(noSeason).length).toBeGreaterThan(0);
    expect(() => detectSeries(bursts, { seasonMinAcf: 0 })).toThrow(/seasonMinAcf/);
  });
});
