import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeFacts, scoreConfidence } from "../lib/analysis/facts";
import { classifyChange, correlations, dailyPacks, joinedDays, modelChanges } from "../lib/analysis/queries";
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

  it("finds the planted regression by Welch's t-test and leaves the jitter alone", async () => {
    const changes = await modelChanges(t.db, WINDOW);
    const llama = changes.find((c) => c.model === "llama-3.1-8b" && c.metric === "latency_p95_ms")!;
    expect(llama.previous_mean).toBeCloseTo(100, 6);
    expect(llama.current_mean).toBeCloseTo(130, 6);
    expect(llama.change_pct).toBeCloseTo(30, 4);
    expect(llama.p_value!).toBeLessThan(0.001);
    expect(classifyChange(llama)).toBe("regression");
    const throughput = changes.find((c) => c.model === "llama-3.1-8b" && c.metric === "tokens_per_sec")!;
    expect(classifyChange(throughput)).toBe("regression");
    const mistral = changes.find((c) => c.model === "mistral-7b" && c.metric === "latency_p95_ms")!;
    expect(classifyChange(mistral)).toBe("noise");
  });

  it("scores confidence as the minimum of its four components and reports each", async () => {
    // Newest data: benchmarks at 16:00 and sessions until 14:00 on the 14th, 11 h before now.
    const facts = await computeFacts(t.db, { window: WINDOW, now: new Date("2026-11-15T01:00:00Z"), freshSeconds: 12 * 3600, eventsPerDay: 100 });
    expect(facts.confidence).toMatchObject({ completeness: 1, recency: 1, volume: 1 });
    expect(facts.confidence.correlation).toBeCloseTo(1, 4);
    expect(facts.confidence.value).toBeCloseTo(1, 4);
    // The planted llama regression, and the rising trend model itself (mean 130 → 200 ms week on week).
    expect(facts.changes.filter((c) => c.kind === "regression").map((c) => `${c.model}/${c.metric}`).sort()).toEqual([
      "llama-3.1-8b/latency_p95_ms",
      "llama-3.1-8b/tokens_per_sec",
      "phi-3-mini/latency_p95_ms",
    ]);
    expect(facts.facts.find((f) => f.id === "changes.regressions")!.value).toBe(3);
    expect(facts.facts.find((f) => f.id === "window.joined_days")!.value).toBe(7);
  });

  it("lets the weakest component limit confidence", () => {
    const c = scoreConfidence({ joinedDays: 3, windowDays: 7, correlation: -0.9, newestDataAgeSeconds: 3600, freshSeconds: 14400, benchRows: 100, events: 100_000, benchRowsExpected: 14, eventsExpected: 1400 });
    expect(c.limiting).toBe("completeness");
    expect(c.value).toBeCloseTo(3 / 7, 4);
    expect(c.correlation).toBeCloseTo(0.9, 6);
    const stale = scoreConfidence({ joinedDays: 7, windowDays: 7, correlation: 0.9, newestDataAgeSeconds: 14400 + 43200, freshSeconds: 14400, benchRows: 100, events: 100_000, benchRowsExpected: 14, eventsExpected: 1400 });
    expect(stale).toMatchObject({ limiting: "recency", recency: 0.5 });
  });
});
