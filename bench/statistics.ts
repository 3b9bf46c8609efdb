import { DEFAULT_IMPACT, impactFromWindows, impactWindows, type WindowTotals } from "../lib/analysis/impact";
import { differencedCorrelation, eventEstimate } from "../lib/analysis/statistics";
import { fisherInterval } from "../lib/analysis/facts";
import { studentTTwoSidedP } from "../lib/analysis/student-t";
import { gaussian, seededRandom } from "../lib/seed/random";
import { say, type Row, type SectionResult } from "./lib";

/**
 * What the episodes claim on top of the detector, calibrated against worlds where the answer is known (issue 27),
 * each side by side with the method it replaces. No database: both methods are run on the same simulated figures
 * (the new ones through the same pure functions lib/analysis/impact.ts and lib/analysis/statistics.ts use on what
 * ClickHouse sums).
 *
 * - "Users felt it" on null commits: hourly user latency (hourly noise sd 3 %) with a ±6 % weekly cycle (the sample
 *   world's), or hourly AR(1) noise with φ = 0.7, or both with a ±10 % daily cycle; no effect at all. Before: Welch's t on the hourly means of the 24 h
 *   before against the 24 h after. Now: the 24 h after against the same hours a week before, beyond the same
 *   week-over-week change on 6 placebo days (impactFromWindows). Rate of p < 0.05, goal ≤ 5 %; and power at +5/+10 %.
 * - Headline sizes: 98 series that all moved exactly +40 %, 3–10 runs each side, noise CV 2 % and 5 %. Before: the
 *   largest series' change and its Fieller interval. Now: the median across the series with its order-statistic
 *   interval (eventEstimate). Coverage of +40 %, goal ≥ 90 %. (All 98 series are past the detector at +40 %; it is
 *   not run here.)
 * - Correlation: two independent Gaussian random walks over 8 and 30 days. Before: Pearson r of the levels with a
 *   Fisher-z interval over the days. Now: r of day-to-day differences with a moving-block bootstrap interval, none
 *   below 14 differences (differencedCorrelation). Share of intervals excluding 0, goal ≤ 7 %.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface HourlyWorld {
  dailyAmplitude: number;
  weeklyAmplitude: number;
  phi: number;
  /** Marginal sd of the hourly log noise. */
  sd: number;
  /** Multiplicative effect from the deploy on. */
  effect: number;
}

/** Hourly totals of a world: 20 answers an hour, latency 400 ms × daily × weekly cycle × exp(AR(1) noise) × effect after the deploy. */
function simulateHours(
  rng: () => number,
  world: HourlyWorld,
  from: number,
  hours: number,
  deployAt: number,
): { ts: number; latency: number; answers: number }[] {
  const innovation = world.sd * Math.sqrt(1 - world.phi * world.phi);
  let e = gaussian(rng, 0, world.sd);
  const out: { ts: number; latency: number; answers: number }[] = [];
  for (let h = 0; h < hours; h++) {
    const ts = from + h * HOUR;
    e = world.phi * e + gaussian(rng, 0, innovation);
    const daily = 1 + world.dailyAmplitude * Math.sin((2 * Math.PI * ts) / DAY);
    const weekly = 1 + world.weeklyAmplitude * Math.sin((2 * Math.PI * ts) / (7 * DAY));
    out.push({ ts, latency: 400 * daily * weekly * Math.exp(e) * (ts >= deployAt ? world.effect : 1), answers: 20 });
  }
  return out;
}

function welch(a: number[], b: number[]): number {
  const m = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const v = (x: number[]) => {
    const mu = m(x);
    return x.reduce((s, y) => s + (y - mu) ** 2, 0) / (x.length - 1);
  };
  const [va, vb] = [v(a) / a.length, v(b) / b.length];
  const t = (m(b) - m(a)) / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return studentTTwoSidedP(t, df);
}

function usersFelt(world: HourlyWorld, reps: number, seed: number): { before: number; now: number; measurable: number } {
  const rng = seededRandom(seed);
  const config = DEFAULT_IMPACT;
  let before = 0;
  let now = 0;
  let measurable = 0;
  for (let r = 0; r < reps; r++) {
    // The commit at a random time: any day of the week, any hour.
    const start = Date.UTC(2026, 0, 1) + Math.floor(rng() * 7 * 24) * HOUR;
    const commitAt = start + 14 * DAY + Math.floor(rng() * 24 * 60) * 60_000;
    const { deployAt, starts, periodMs } = impactWindows(new Date(commitAt), config);
    const hours = simulateHours(rng, world, start, 17 * 24, deployAt.getTime());
    // Before: 24 h before the commit against 24 h from the deploy (the old SQL's windows).
    const lastBefore = Math.floor(commitAt / HOUR) * HOUR;
    const afterFrom = Math.ceil(deployAt.getTime() / HOUR) * HOUR;
    const a = hours.filter((h) => h.ts >= lastBefore - 24 * HOUR && h.ts < lastBefore).map((h) => h.latency);
    const b = hours.filter((h) => h.ts >= afterFrom && h.ts < afterFrom + 24 * HOUR).map((h) => h.latency);
    if (welch(a, b) < 0.05) before++;
    // Now: the same windows ClickHouse would sum.
    const windows: WindowTotals[] = starts.map((s) => {
      const inside = hours.filter((h) => h.ts >= s.getTime() && h.ts < s.getTime() + periodMs);
      return {
        hours: inside.length,
        latency_sum: inside.reduce((t, h) => t + h.latency * h.answers, 0),
        answers: inside.reduce((t, h) => t + h.answers, 0),
        errors: 0,
        events: 0,
        abandoned: 0,
        queries: 0,
      };
    });
    const u = impactFromWindows(windows, "worse", config);
    if (u.measurable) measurable++;
    if (u.latency_p_value !== null && u.latency_p_value < 0.05) now++;
  }
  return { before: (before / reps) * 100, now: (now / reps) * 100, measurable: (measurable / reps) * 100 };
}

/** Fieller's 95 % interval of mean(after) / mean(before) − 1 for independent means, in percent. */
function fieller(a: number, b: number, va: number, vb: number): [number, number] {
  const z = 1.959964;
  const A = b * b - z * z * vb;
  if (!(A > 0)) return [-Infinity, Infinity];
  const B = a * b;
  const half = Math.sqrt(Math.max(0, B * B - A * (a * a - z * z * va)));
  return [((B - half) / A - 1) * 100, ((B + half) / A - 1) * 100];
}

function headline(cv: number, episodes: number, seed: number): { before: number; now: number; beforeMean: number; nowMean: number } {
  const rng = seededRandom(seed);
  const TRUE = 40;
  let coverBefore = 0;
  let coverNow = 0;
  let sumBefore = 0;
  let sumNow = 0;
  for (let ep = 0; ep < episodes; ep++) {
    const changes = Array.from({ length: 98 }, () => {
      const level = 50 + rng() * 450;
      const nb = 3 + Math.floor(rng() * 8);
      const na = 3 + Math.floor(rng() * 8);
      const runs = (n: number, mu: number) => Array.from({ length: n }, () => mu * (1 + gaussian(rng, 0, cv / 100)));
      const [x, y] = [runs(nb, level), runs(na, level * (1 + TRUE / 100))];
      const m = (v: number[]) => v.reduce((s, t) => s + t, 0) / v.length;
      const s2 = (v: number[]) => v.reduce((s, t) => s + (t - m(v)) ** 2, 0) / (v.length - 1);
      return { change_pct: (m(y) / m(x) - 1) * 100, ci_pct: fieller(m(y), m(x), s2(y) / na, s2(x) / nb) };
    });
    const largest = changes.reduce((p, c) => (Math.abs(c.change_pct) > Math.abs(p.change_pct) ? c : p));
    const estimate = eventEstimate(changes);
    sumBefore += largest.change_pct;
    sumNow += estimate.change_pct;
    if (largest.ci_pct[0] <= TRUE && TRUE <= largest.ci_pct[1]) coverBefore++;
    if (estimate.ci_pct[0] <= TRUE && TRUE <= estimate.ci_pct[1]) coverNow++;
  }
  return { before: (coverBefore / episodes) * 100, now: (coverNow / episodes) * 100, beforeMean: sumBefore / episodes, nowMean: sumNow / episodes };
}

function randomWalks(days: number, reps: number, seed: number): { before: number; now: number; withInterval: number } {
  const rng = seededRandom(seed);
  let before = 0;
  let now = 0;
  let withInterval = 0;
  for (let r = 0; r < reps; r++) {
    const walk = () => {
      const v = [0];
      for (let d = 1; d < days; d++) v.push(v[d - 1] + gaussian(rng));
      return v;
    };
    const [x, y] = [walk(), walk()];
    const m = (v: number[]) => v.reduce((s, t) => s + t, 0) / v.length;
    const [mx, my] = [m(x), m(y)];
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < days; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) ** 2;
      syy += (y[i] - my) ** 2;
    }
    const ci = fisherInterval(sxy / Math.sqrt(sxx * syy), days);
    if (ci && (ci[0] > 0 || ci[1] < 0)) before++;
    const d = differencedCorrelation(x, y, { seed: 1000 + r, reps: 1000 });
    if (d.ci) {
      withInterval++;
      if (d.ci[0] > 0 || d.ci[1] < 0) now++;
    }
  }
  return { before: (before / reps) * 100, now: (now / reps) * 100, withInterval: (withInterval / reps) * 100 };
}

export async function statisticsSection(options: { reps: number; episodes: number; walks: number }): Promise<SectionResult> {
  const pct = (v: number) => `${v.toFixed(1)} %`;
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");

  const worlds: [string, HourlyWorld][] = [
    ["weekly ±6 %", { dailyAmplitude: 0, weeklyAmplitude: 0.06, phi: 0, sd: 0.03, effect: 1 }],
    ["AR(1) φ 0.7", { dailyAmplitude: 0, weeklyAmplitude: 0, phi: 0.7, sd: 0.03, effect: 1 }],
    ["daily ±10 % + weekly ±6 % + AR(1) φ 0.7", { dailyAmplitude: 0.1, weeklyAmplitude: 0.06, phi: 0.7, sd: 0.03, effect: 1 }],
  ];
  for (const [name, world] of worlds) {
    const r = usersFelt(world, options.reps, 27);
    say(`statistics: users felt it, null commits, ${name}: before ${pct(r.before)}, now ${pct(r.now)}`);
    details[`users_null_${name}`] = r;
    // Monte Carlo standard error of a rate near 5 %: a rate within two of them of 5 % is at its nominal level.
    const mcse = Math.sqrt((5 * 95) / options.reps);
    rows.push({
      section: "statistics",
      measure: `"users felt it" on null commits, ${name} (p < 0.05)`,
      value: pct(r.now),
      ratio: `before ${pct(r.before)}`,
      note: `${verdict(r.now <= 5 + 2 * mcse)} ≤ 5 % (Monte Carlo se ${mcse.toFixed(1)} points); ${options.reps} commits, measurable ${pct(r.measurable)}`,
    });
  }
  for (const effect of [1.05, 1.1]) {
    const r = usersFelt({ dailyAmplitude: 0.1, weeklyAmplitude: 0.06, phi: 0.7, sd: 0.03, effect }, options.reps, 28);
    details[`users_power_${effect}`] = r;
    rows.push({
      section: "statistics",
      measure: `"users felt it" on a real +${Math.round((effect - 1) * 100)} % (daily + weekly cycles + AR(1))`,
      value: pct(r.now),
      ratio: `before ${pct(r.before)}`,
      note: "power (before's figure mixes in the cycle)",
    });
  }
  for (const cv of [2, 5]) {
    const r = headline(cv, options.episodes, 40 + cv);
    say(`statistics: headline +40 %, CV ${cv} %: before covers ${pct(r.before)}, now ${pct(r.now)}`);
    details[`headline_cv${cv}`] = r;
    rows.push({
      section: "statistics",
      measure: `headline interval covers +40 % (98 series, CV ${cv} %)`,
      value: pct(r.now),
      ratio: `before ${pct(r.before)}`,
      note: `${verdict(r.now >= 90)} ≥ 90 %; mean headline now +${r.nowMean.toFixed(1)} %, before +${r.beforeMean.toFixed(1)} %; ${options.episodes} episodes`,
    });
  }
  for (const days of [8, 30]) {
    const r = randomWalks(days, options.walks, 80 + days);
    say(`statistics: random walks over ${days} days: before ${pct(r.before)} exclude 0, now ${pct(r.now)}`);
    details[`walks_${days}`] = r;
    rows.push({
      section: "statistics",
      measure: `correlation interval excludes 0, independent random walks, ${days} days`,
      value: pct(r.now),
      ratio: `before ${pct(r.before)}`,
      note: `${verdict(r.now <= 7)} ≤ 7 %; interval given in ${pct(r.withInterval)}; ${options.walks} pairs`,
    });
  }
  return { rows, details };
}
