import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { v5 as uuidv5 } from "uuid";
import { changeConfig } from "../lib/agents/council";
import { detectChanges, openRegressions, storeChanges, timeOnlyAttribution } from "../lib/analysis/changes";
import { computeFacts, fisherInterval, scoreConfidence } from "../lib/analysis/facts";
import { DEFAULT_IMPACT, userImpact } from "../lib/analysis/impact";
import { localFdrBound } from "../lib/analysis/statistics";
import { correlations, dailyPacks, joinedDays } from "../lib/analysis/queries";
import type { Series } from "../lib/analysis/series";
import { parseEnv } from "../lib/env";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { seedSampleWindow } from "./helpers/sample-window";

/**
 * Data constructed for the analysis (tests/helpers/sample-window.ts): 14 days
 * of benchmarks and session rollups. Hearts p95 latency rises 10 ms a day;
 * user latency follows it (2 × p95 + 100), so r = +1 by construction. One
 * model (llama int8) gets a planted 30 % regression in the current week;
 * another (mistral fp16) only jitters.
 */
const NS = "6ba7b812-9dad-11d1-80b4-00c04fd430c8";
const NOW = new Date("2026-11-15T00:00:00.000Z");
const WINDOW = { from: new Date("2026-11-08T00:00:00.000Z"), to: NOW };

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedSampleWindow(t.db, NS);
});
afterAll(async () => {
  await t.drop();
});

describe("analysis", () => {
  it("aggregates Banterpacks days from the rollup as ratios of sums", async () => {
    const days = await dailyPacks(t.db, WINDOW);
    expect(days).toHaveLength(7);
    expect(days[0]).toMatchObject({ day: "2026-11-08", user_latency_ms: 2 * 170 + 100, error_rate: 0.02, abandonment_rate: 0.1, sessions: 4, events: 200 });
  });

  it("joins both sources on the day and finds the planted correlation with corr()", async () => {
    const days = await joinedDays(t.db, WINDOW);
    expect(days.map((d) => d.day)).toEqual(["2026-11-08", "2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13", "2026-11-14"]);
    const corr = await correlations(t.db, WINDOW);
    expect(corr.days).toBe(7);
    expect(corr.latency_vs_user_latency).toBeCloseTo(1, 6);
  });

  it("scores confidence from completeness, recency, volume and the evidence of the story's changes", async () => {
    // Newest data: benchmarks at 16:00 and sessions until 14:00 on the 14th, 11 h before now.
    const facts = await computeFacts(t.db, {
      window: WINDOW,
      now: new Date("2026-11-15T01:00:00Z"),
      freshSeconds: 12 * 3600,
      eventsPerDay: 100,
      changes: changeConfig(parseEnv({})),
    });
    expect(facts.confidence).toMatchObject({ completeness: 1, recency: 1, volume: 1 });
    // The story relies on the found changes: evidence = 1 − the local-fdr bound of the weakest one's q-value.
    expect(facts.events.length).toBeGreaterThan(0);
    expect(facts.confidence.evidence).toBeCloseTo(1 - localFdrBound(Math.max(...facts.events.map((e) => e.lead.q_value))), 4);
    expect(facts.confidence.value).toBeGreaterThan(0.6);
    // Both sides rise by the same steps every day (a shared trend): the levels correlate perfectly, their day-to-day
    // changes do not vary at all, so no correlation is stated.
    expect(facts.correlation).toBeNull();
    expect(facts.facts.find((f) => f.id === "correlation.latency_user")).toBeUndefined();
    expect(facts.facts.find((f) => f.id === "window.joined_days")!.value).toBe(7);
  });

  it("lets the weakest component limit confidence", () => {
    const base = {
      joinedDays: 7,
      windowDays: 7,
      newestDataAgeSeconds: 3600,
      freshSeconds: 14400,
      benchRows: 100,
      events: 100_000,
      benchRowsExpected: 14,
      eventsExpected: 1400,
      storyQValues: [0.001],
      coverage: 1,
    };
    const partial = scoreConfidence({ ...base, joinedDays: 3 });
    expect(partial.limiting).toBe("completeness");
    expect(partial.value).toBeCloseTo(3 / 7, 4);
    expect(scoreConfidence({ ...base, newestDataAgeSeconds: 14400 + 43200 })).toMatchObject({ limiting: "recency", recency: 0.5 });
    // A story resting on a change with q = 0.3 is not certain; one at q = 0.01 is less certain than 1 − q says.
    expect(scoreConfidence({ ...base, storyQValues: [0.0001, 0.3] })).toMatchObject({ limiting: "evidence", evidence: 0.5046 });
    expect(scoreConfidence({ ...base, storyQValues: [0.01] }).evidence).toBeCloseTo(0.8888, 3);
    // Placed on a range bisection is still narrowing: attribution limits it; a felt change at q = 0.04 limits the users' side.
    expect(scoreConfidence({ ...base, storyAttributions: [{ attribution: "range", bisecting: true }] })).toMatchObject({ limiting: "attribution", value: 0.8 });
    expect(scoreConfidence({ ...base, storyAttributions: [{ attribution: "exact", bisecting: false }], userQValues: [0.04] })).toMatchObject({
      limiting: "users",
    });
    expect(scoreConfidence({ ...base, userQValues: [0.04] }).users).toBeCloseTo(0.7407, 3);
    // "Nothing changed" is as certain as the share of series that could have shown a change.
    expect(scoreConfidence({ ...base, storyQValues: [], coverage: 0.25 })).toMatchObject({ limiting: "evidence", value: 0.25 });
  });

  it("gives the correlation a Fisher-z interval that narrows with more days", () => {
    const week = fisherInterval(0.8, 7)!;
    const month = fisherInterval(0.8, 30)!;
    expect(week[0]).toBeLessThan(0.8);
    expect(week[1]).toBeGreaterThan(0.8);
    expect(month[1] - month[0]).toBeLessThan(week[1] - week[0]);
    expect(fisherInterval(0.8, 3)).toBeNull();
  });
});

// ---------------------------------------------------------------- change points, attribution, lifecycle

const HOUR = 3_600_000;
const T0 = Date.parse("2026-11-01T00:00:00.000Z");
const sha = (label: string) => createHash("sha1").update(label).digest("hex");

/** One series: a run per entry, at the commit given (commit i at T0 + i h). */
function series(model: string, values: number[], commitOf: (i: number) => string): Series {
  return {
    key: { benchmark_type: "quantization", model, quant: "int8", variant: "int8", dataset: "wikitext-2", device: "cuda", metric: "latency_p95_ms" },
    points: values.map((value, i) => ({
      run_id: `${model}-${i}`,
      run_ts: new Date(T0 + i * HOUR + 600_000).toISOString(),
      commit_sha: commitOf(i),
      commit_ts: new Date(T0 + i * HOUR).toISOString(),
      value,
      request_id: "",
    })),
  };
}
const noisy = (n: number, level: number, seed: number) => Array.from({ length: n }, (_, i) => level * (1 + 0.01 * Math.sin(seed + i * 1.7)));

describe("change points across series", () => {
  const config = { ...changeConfig(parseEnv({})), lookbackDays: 30 };

  it("attributes a step to the one commit when every commit has a run", () => {
    const values = [...noisy(10, 100, 1), ...noisy(10, 130, 2)];
    const commits = values.map((_, i) => ({ sha: sha(`c${i}`), ts: new Date(T0 + i * HOUR).toISOString() }));
    const result = detectChanges([series("llama-3.1-8b", values, (i) => commits[i].sha)], timeOnlyAttribution(commits), config);
    expect(result.changes).toHaveLength(1);
    const [c] = result.changes;
    expect(c).toMatchObject({ kind: "regression", commit_sha: sha("c10"), previous_sha: sha("c9"), candidates: [sha("c10")], status: "open" });
    expect(c.change_pct).toBeCloseTo(30, 0);
    expect(c.ci_pct[0]).toBeLessThan(30);
    expect(c.ci_pct[1]).toBeGreaterThan(30);
    expect(c.q_value).toBeLessThanOrEqual(config.alpha);
  });

  it("names every commit between the two runs when several landed without a run of their own", () => {
    const values = [...noisy(10, 100, 3), ...noisy(10, 80, 4)];
    // Runs at commits c0..c9 and c12..c21; c10 and c11 landed in between with no run.
    const runCommit = (i: number) => sha(`d${i < 10 ? i : i + 2}`);
    const at = (k: number) =>
      k < 10 ? T0 + k * HOUR : k === 10 ? T0 + 9 * HOUR + 20 * 60_000 : k === 11 ? T0 + 9 * HOUR + 40 * 60_000 : T0 + (k - 2) * HOUR + 3_000;
    const commits = Array.from({ length: 22 }, (_, k) => ({ sha: sha(`d${k}`), ts: new Date(at(k)).toISOString() }));
    const points = series("mistral-7b", values, runCommit);
    // The run after the gap belongs to c12, committed at position 10 (after c10 and c11).
    points.points.forEach((p, i) => (p.commit_ts = new Date(T0 + i * HOUR + (i >= 10 ? 3_000 : 0)).toISOString()));
    const result = detectChanges([points], timeOnlyAttribution(commits), config);
    expect(result.changes).toHaveLength(1);
    expect(result.changes[0]).toMatchObject({ kind: "improvement", commit_sha: sha("d12"), previous_sha: sha("d9"), status: "kept" });
    expect(result.changes[0].candidates).toEqual([sha("d10"), sha("d11"), sha("d12")]);
  });

  it("links a regression to the later change that reverses it (fixed, by which commit)", () => {
    const values = [...noisy(8, 100, 5), ...noisy(8, 140, 6), ...noisy(8, 100, 7)];
    const commits = values.map((_, i) => ({ sha: sha(`e${i}`), ts: new Date(T0 + i * HOUR).toISOString() }));
    const result = detectChanges([series("qwen2.5-7b", values, (i) => commits[i].sha)], timeOnlyAttribution(commits), config);
    expect(result.changes.map((c) => [c.kind, c.commit_sha, c.status])).toEqual([
      ["regression", sha("e8"), "fixed"],
      ["improvement", sha("e16"), "kept"],
    ]);
    expect(result.changes[0]).toMatchObject({ fixed_by_sha: sha("e16"), fixed_ts: commits[16].ts });
  });

  it("controls false discoveries across series: many flat series yield nothing", () => {
    const flat = Array.from({ length: 50 }, (_, k) => series(`m${k}`, noisy(30, 100 + k, k), (i) => sha(`f${k}-${i}`)));
    expect(detectChanges(flat, timeOnlyAttribution([]), config).changes).toEqual([]);
  });

  it("stores changes with their lifecycle, keeps the first detection time, and withdraws what a later run no longer finds", async () => {
    const values = [...noisy(8, 100, 8), ...noisy(8, 150, 9)];
    const commits = values.map((_, i) => ({ sha: sha(`g${i}`), ts: new Date(T0 + i * HOUR).toISOString() }));
    const detected = detectChanges([series("llama-3.1-8b", values, (i) => commits[i].sha)], timeOnlyAttribution(commits), config);
    const first = new Date("2026-11-02T00:00:00.000Z");
    await storeChanges(t.db, detected, { now: first, runId: "11111111-1111-4111-8111-111111111111", lookbackFrom: new Date(T0) });
    expect((await openRegressions(t.db)).map((r) => [r.commit_sha, r.status, r.detected_at])).toEqual([[sha("g8"), "open", first.toISOString()]]);
    // Re-detected later: same row, first detection time kept.
    await storeChanges(t.db, detected, {
      now: new Date("2026-11-03T00:00:00.000Z"),
      runId: "22222222-2222-4222-8222-222222222222",
      lookbackFrom: new Date(T0),
    });
    expect((await openRegressions(t.db)).map((r) => r.detected_at)).toEqual([first.toISOString()]);
    // A later run that finds nothing withdraws it.
    await storeChanges(
      t.db,
      { ...detected, changes: [] },
      { now: new Date("2026-11-04T00:00:00.000Z"), runId: "33333333-3333-4333-8333-333333333333", lookbackFrom: new Date(T0) },
    );
    expect(await openRegressions(t.db)).toEqual([]);
  });
});

// ---------------------------------------------------------------- user impact

describe("did users feel it", () => {
  /**
   * 14 days of hours before the commit and 2 after, with a ±6 % weekly cycle, a daily cycle and deterministic
   * hour-to-hour jitter; `after` multiplies latency from the commit on.
   */
  async function world(t: TestDatabase, at: number, after: (hour: number) => number, errorsAfter = 1) {
    const from = at - 14 * 24 * HOUR;
    const rows = Array.from({ length: 16 * 24 }, (_, h) => {
      const ts = from + h * HOUR;
      const answers = 20;
      const weekly = 1 + 0.06 * Math.sin((2 * Math.PI * ts) / (7 * 24 * HOUR));
      const daily = 1 + 0.1 * Math.sin((2 * Math.PI * ts) / (24 * HOUR));
      const jitter = 1 + 0.02 * Math.sin(h * 2.3) + 0.01 * Math.cos(h * 0.7);
      const l = Math.round(400 * weekly * daily * jitter * (ts >= at ? after(ts) : 1));
      const errors = ts >= at ? errorsAfter : 1 + (h % 3 === 0 ? 1 : 0);
      return {
        hour: new Date(ts).toISOString(),
        session_id: uuidv5(`impact-${from}-${h}`, NS),
        commit_sha: "f".repeat(40),
        avg_latency_ms: l,
        latency_sum_ms: l * answers,
        error_rate: errors / 100,
        abandonment_rate: 0.1,
        events_count: 100,
        errors_count: errors,
        queries_count: 20,
        abandoned_count: 2,
        answers_count: answers,
        answer_latency_sum_ms: l * answers,
        duration_seconds: 600,
      };
    });
    await t.db.insert("session_stats", rows);
  }
  const at = Date.parse("2026-10-10T12:00:00.000Z");

  it("says users felt a commit that raised their latency, against the same hours a week before, and which way a contrary reading goes", async () => {
    const db = await createTestDatabase();
    try {
      await world(db, at, () => 1.3, 5);
      const impact = await userImpact(db.db, new Date(at), "worse", DEFAULT_IMPACT);
      expect(impact).toMatchObject({ measurable: true, felt: true, other_way: false, hours_before: 24, hours_after: 24, placebo_days: 6 });
      expect(impact.deploy_at).toBe("2026-10-10T12:30:00.000Z");
      expect(impact.latency_change_pct!).toBeGreaterThan(26);
      expect(impact.latency_change_pct!).toBeLessThan(34);
      expect(impact.latency_ci_pct![0]).toBeLessThan(impact.latency_change_pct!);
      expect(impact.latency_ci_pct![1]).toBeGreaterThan(impact.latency_change_pct!);
      expect(impact.latency_q_value!).toBeLessThan(0.05);
      expect(impact.error_rate_after_pct!).toBeGreaterThan(impact.error_rate_before_pct!);
      expect(impact.error_rate_p_value!).toBeLessThan(0.05);
      // The same data read as an improvement: significant, but the other way — said as such, never "felt".
      expect(await userImpact(db.db, new Date(at), "better")).toMatchObject({ felt: false, other_way: true });
    } finally {
      await db.drop();
    }
  });

  it("does not say users felt the weekly cycle, and says nothing without placebo days or hours", async () => {
    const db = await createTestDatabase();
    try {
      await world(db, at, () => 1);
      // Adjacent 24-hour windows would see the weekly cycle move (±6 %); the week-matched comparison does not.
      const flat = await userImpact(db.db, new Date(at), "worse");
      expect(flat).toMatchObject({ measurable: true, felt: false, other_way: false });
      expect(Math.abs(flat.latency_change_pct!)).toBeLessThan(2);
      expect(flat.latency_p_value!).toBeGreaterThan(0.05);
      // Too early in the data for a week-before match of enough placebo windows.
      const early = await userImpact(db.db, new Date(at - 9 * 24 * HOUR), "worse");
      expect(early).toMatchObject({ measurable: false, felt: false, latency_change_pct: null });
      // After the data ends: no hours after.
      const late = await userImpact(db.db, new Date(at + 3 * 24 * HOUR), "worse");
      expect(late).toMatchObject({ measurable: false, felt: false, latency_change_pct: null });
    } finally {
      await db.drop();
    }
  });
});
