import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { AttributedChange } from "../lib/analysis/changes";
import type { SegmentStats } from "../lib/analysis/changepoints";
import type { SeriesKey } from "../lib/analysis/series";
import {
  bisectingEvents,
  eventId,
  groupIntoEvents,
  isOpenRegression,
  linkLifecycle,
  loadEvents,
  openRegressionEvents,
  recoveredFraction,
  storeEvents,
  toRow,
  type BenchEvent,
  type BenchEventRow,
} from "../lib/lifecycle/events";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/** lib/lifecycle/events.ts: recovery, grouping, fixes and returns, identity (pure), and bench_events on real ClickHouse. */

const sha = (c: string) => c.repeat(40);
const M0 = sha("0");
const M1 = sha("1");
const M2 = sha("2");
const M3 = sha("3");
const M4 = sha("4");
const M5 = sha("5");
const C1 = sha("a");
const C2 = sha("b");
const C3 = sha("c");
const C4 = sha("d");
const C5 = sha("e");
const C6 = sha("f");

const P95: SeriesKey = {
  benchmark_type: "quantization",
  model: "llama-3.1-8b",
  quant: "q4_k_m",
  variant: "q4_k_m",
  dataset: "wikitext-2",
  device: "cuda",
  metric: "latency_p95_ms",
};
const TPS: SeriesKey = { ...P95, metric: "tokens_per_sec" };
const OTHER: SeriesKey = { ...P95, model: "mistral-7b" };

const seg = (mean: number, stdev = 2, n = 10): SegmentStats => ({ n, mean, stdev });

let changeSeq = 0;
function change(o: {
  key?: SeriesKey;
  kind?: "regression" | "improvement";
  before: SegmentStats;
  after: SegmentStats;
  prev: string;
  commit: string;
  ts: string;
  candidates: string[];
}): AttributedChange {
  const key = o.key ?? P95;
  const pct = ((o.after.mean - o.before.mean) / Math.abs(o.before.mean)) * 100;
  changeSeq += 1;
  return {
    change_id: `change-${changeSeq}`,
    key,
    label: key.model,
    kind: o.kind ?? "regression",
    change_pct: pct,
    ci_pct: [pct - 2, pct + 2],
    p_value: 0.0001,
    q_value: 0.001,
    before: o.before,
    after: o.after,
    deterministic: false,
    commit_sha: o.commit,
    commit_ts: o.ts,
    previous_sha: o.prev,
    candidates: o.candidates,
    range_method: "graph",
    status: "open",
    fixed_by_sha: "",
    fixed_ts: null,
  };
}

const T1 = "2031-03-01T09:00:00.000Z";
const T2 = "2031-03-05T09:00:00.000Z";
const T3 = "2031-03-09T09:00:00.000Z";
const NOW = new Date("2031-03-10T06:00:00.000Z");
const LATER = new Date("2031-03-11T06:00:00.000Z");
const ctx = { now: NOW, runId: "run-1" };

/** Events built and linked as a council run does. */
function build(changes: AttributedChange[], stored: BenchEventRow[] = [], context = ctx): BenchEvent[] {
  const events = groupIntoEvents(changes, stored, context);
  linkLifecycle(events);
  return events;
}
const byRange = (events: BenchEvent[], from: string, to: string) => {
  const found = events.filter((e) => e.range_from_sha === from && e.range_to_sha === to);
  expect(found).toHaveLength(1);
  return found[0];
};

describe("recoveredFraction", () => {
  it("is (after − level) / (after − before): before 100, after 140, level 120 recovered 50 %", () => {
    const exact = recoveredFraction(seg(100, 0, 5), seg(140, 0, 5), seg(120, 0, 5));
    expect(exact.fraction).toBe(0.5);
    expect(exact.ci).toEqual([0.5, 0.5]);
    // Direction does not matter: a throughput drop 100 → 60 that came back to 80 is also half recovered.
    expect(recoveredFraction(seg(100, 0), seg(60, 0), seg(80, 0)).fraction).toBe(0.5);
    expect(recoveredFraction(seg(100, 0), seg(140, 0), seg(140, 0)).fraction).toBe(0);
    expect(recoveredFraction(seg(100, 0), seg(140, 0), seg(90, 0)).fraction).toBeCloseTo(1.25, 12);
  });

  it("has the delta-method 95 % interval of the three means", () => {
    // sd 10, n 4: each mean's variance is 25. ∂f/∂before = ∂f/∂after = 20/40² = 0.0125, ∂f/∂level = 1/40.
    const r = recoveredFraction(seg(100, 10, 4), seg(140, 10, 4), seg(120, 10, 4));
    const half = 1.959964 * Math.sqrt(0.0125 ** 2 * 25 * 2 + (1 / 40) ** 2 * 25);
    expect(r.fraction).toBe(0.5);
    expect(r.ci[0]).toBeCloseTo(0.5 - half, 10);
    expect(r.ci[1]).toBeCloseTo(0.5 + half, 10);
    expect(half).toBeCloseTo(0.30005, 4);
  });

  it("narrows as the segments hold more runs", () => {
    const widths = [3, 10, 30, 100].map((n) => {
      const r = recoveredFraction(seg(100, 8, n), seg(140, 8, n), seg(110, 8, n));
      expect(r.fraction).toBeCloseTo(0.75, 12);
      return r.ci[1] - r.ci[0];
    });
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeLessThan(widths[i - 1]);
    // The half-width goes as 1/√n.
    expect(widths[0] / widths[3]).toBeCloseTo(Math.sqrt(100 / 3), 8);
  });

  it("reaches 100 % for a full recovery, not for a clearly partial one", () => {
    const full = recoveredFraction(seg(100, 2, 10), seg(140, 2, 10), seg(100, 2, 10));
    expect(full.fraction).toBe(1);
    expect(full.ci[0]).toBeLessThan(1);
    expect(full.ci[1]).toBeGreaterThan(1);
    // 95 % recovered but noisy: the interval still reaches 100 %.
    expect(recoveredFraction(seg(100, 10, 3), seg(140, 10, 3), seg(102, 10, 3)).ci[1]).toBeGreaterThanOrEqual(1);
    // 90 % recovered and tight: it does not.
    expect(recoveredFraction(seg(100, 1, 50), seg(140, 1, 50), seg(104, 1, 50)).ci[1]).toBeLessThan(1);
  });
});

describe("groupIntoEvents and linkLifecycle", () => {
  const regression = (o: Partial<Parameters<typeof change>[0]> = {}) =>
    change({ before: seg(100), after: seg(140), prev: M0, commit: M1, ts: T1, candidates: [C1], ...o });
  const fix = (level: number, o: Partial<Parameters<typeof change>[0]> = {}) =>
    change({ kind: "improvement", before: seg(140), after: seg(level), prev: M2, commit: M3, ts: T2, candidates: [C3], ...o });

  it("marks a regression fully recovered by a later improvement as fixed, by that improvement's commit", () => {
    const events = build([regression(), fix(100)]);
    expect(events).toHaveLength(2);
    const [r, i] = events;
    expect(r.kind).toBe("regression");
    expect(i.kind).toBe("improvement");
    expect(i.state).toBe("kept");
    expect(r.state).toBe("fixed");
    expect(r.fixed_by_event_id).toBe(i.event_id);
    expect(r.fixed_by_sha).toBe(C3);
    expect(r.recovered_pct).toBe(100);
    expect(r.recovered_ci_low!).toBeLessThan(100);
    expect(r.recovered_ci_high!).toBeGreaterThanOrEqual(100);
    expect(isOpenRegression(r)).toBe(false);
    expect(r.blamed_sha).toBe(C1);
  });

  it("names the fix's range end while the fix itself is still a range being bisected", () => {
    const [r, i] = build([regression(), fix(100, { candidates: [C3, C4] })]);
    expect(i.blamed_sha).toBe("");
    expect(i.bisection_status).toBe("bisecting");
    expect(r.fixed_by_sha).toBe(M3);
  });

  it("marks a partly recovered regression partly_fixed with its fraction, still open", () => {
    const [r] = build([regression(), fix(120)]);
    expect(r.state).toBe("partly_fixed");
    expect(r.recovered_pct).toBe(50);
    // sd 2, n 10: half-width 1.96 · √(0.0125² · 0.4 · 2 + 0.025² · 0.4) = 3.7955…
    expect(r.recovered_ci_low).toBe(46.2);
    expect(r.recovered_ci_high).toBe(53.8);
    expect(isOpenRegression(r)).toBe(true);
    expect(isOpenRegression({ kind: "regression", state: "open" })).toBe(true);
    expect(isOpenRegression({ kind: "improvement", state: "kept" })).toBe(false);
    expect(isOpenRegression({ kind: "regression", state: "withdrawn" })).toBe(false);
  });

  it("takes the latest later improvement of the series as the fix", () => {
    const events = build([regression(), fix(120), fix(100, { prev: M4, commit: M5, ts: T3, candidates: [C5] })]);
    const r = events[0];
    expect(r.fixed_by_sha).toBe(C5);
    expect(r.state).toBe("fixed");
    expect(r.recovered_pct).toBe(100);
  });

  it("leaves a regression open when no later improvement touches its series", () => {
    const events = build([regression(), fix(100, { key: OTHER }), fix(100, { ts: "2031-02-20T09:00:00.000Z", prev: M4, commit: M5, candidates: [C5] })]);
    const r = events.find((e) => e.kind === "regression")!;
    expect(r.state).toBe("open");
    expect(r.fixed_by_event_id).toBe("");
    expect(r.recovered_pct).toBeNull();
  });

  it("makes a regression that comes back after its fix a new event that returns_of the old one", () => {
    const back = change({ before: seg(100), after: seg(145), prev: M4, commit: M5, ts: T3, candidates: [C5] });
    const elsewhere = change({ key: OTHER, before: seg(100), after: seg(145), prev: M3, commit: M4, ts: T3, candidates: [C6] });
    const events = build([regression(), fix(100), back, elsewhere]);
    const old = byRange(events, M0, M1);
    const again = events.find((e) => e.kind === "regression" && e.blamed_sha === C5)!;
    const other = events.find((e) => e.kind === "regression" && e.blamed_sha === C6)!;
    expect(old.state).toBe("fixed");
    expect(again.event_id).not.toBe(old.event_id);
    expect(again.returns_of).toBe(old.event_id);
    expect(again.state).toBe("open");
    expect(other.returns_of).toBe("");
    expect(old.returns_of).toBe("");
  });

  it("does not call a regression of a never-fixed series a return", () => {
    const back = change({ before: seg(140), after: seg(180), prev: M4, commit: M5, ts: T3, candidates: [C5] });
    const events = build([regression(), back]);
    expect(events.every((e) => e.returns_of === "")).toBe(true);
  });

  it("makes a change with no code commit in its range a no_code environment event, blamed on nothing", () => {
    const [e] = build([regression({ candidates: [] })]);
    expect(e.kind).toBe("no_code");
    expect(e.state).toBe("environment");
    expect(e.blamed_sha).toBe("");
    expect(e.code_commits).toEqual([]);
    expect(e.bisection_status).toBe("");
    expect(e.bisection_steps_left).toBe(0);
    expect(e.range_from_sha).toBe(M0);
    expect(e.range_to_sha).toBe(M1);
    expect(isOpenRegression(e)).toBe(false);
  });

  it("groups the series that changed between the same two measured commits into one event led by p95 latency", () => {
    const tps = change({ key: TPS, before: seg(50), after: seg(30), prev: M0, commit: M1, ts: T1, candidates: [C1, C2, C3] });
    const p95 = change({ before: seg(100), after: seg(120), prev: M0, commit: M1, ts: T1, candidates: [C1, C2, C3] });
    const events = build([tps, p95]);
    expect(events).toHaveLength(1);
    const [e] = events;
    expect(e.series_changed).toBe(2);
    expect(e.series).toHaveLength(2);
    // p95 latency leads even though the throughput change is larger.
    expect(e.metric).toBe("latency_p95_ms");
    expect(e.change_pct).toBeCloseTo(20, 10);
    expect(e.code_commits).toEqual([C1, C2, C3]);
    expect(e.blamed_sha).toBe("");
    expect(e.bisection_status).toBe("bisecting");
    expect(e.bisection_steps_left).toBe(2);
    expect(e.event_id).toBe(eventId(M0, M1, "worse"));

    // No code between the runs: the pair alone groups them (no candidate to overlap on).
    const noCode = build([
      change({ key: TPS, before: seg(50), after: seg(30), prev: M0, commit: M1, ts: T1, candidates: [] }),
      change({ before: seg(100), after: seg(120), prev: M0, commit: M1, ts: T1, candidates: [] }),
      change({ key: OTHER, before: seg(100), after: seg(120), prev: M2, commit: M3, ts: T2, candidates: [] }),
    ]);
    expect(noCode).toHaveLength(2);
    expect(noCode.map((e) => e.series_changed)).toEqual([2, 1]);
  });

  it("groups changes whose candidate ranges overlap (different cadences) into one event on the commits most suspect", () => {
    const nightly = change({ before: seg(100), after: seg(130), prev: M0, commit: M3, ts: T2, candidates: [C1, C2, C3] });
    const weekly = change({ key: OTHER, before: seg(100), after: seg(125), prev: M1, commit: M4, ts: T3, candidates: [C2, C3, C4] });
    const events = build([nightly, weekly]);
    expect(events).toHaveLength(1);
    expect(events[0].code_commits).toEqual([C2, C3]);
    expect(events[0].series_changed).toBe(2);

    // The same overlap in the other direction is another event.
    const opposite = change({ key: OTHER, kind: "improvement", before: seg(125), after: seg(100), prev: M1, commit: M4, ts: T3, candidates: [C2, C3, C4] });
    const split = build([nightly, opposite]);
    expect(split).toHaveLength(2);
    expect(new Set(split.map((e) => e.kind))).toEqual(new Set(["regression", "improvement"]));

    // Disjoint ranges between different runs stay apart.
    const apart = change({ key: OTHER, before: seg(100), after: seg(125), prev: M3, commit: M4, ts: T3, candidates: [C4, C5] });
    expect(build([nightly, apart])).toHaveLength(2);
  });
});

describe("event identity across council runs", () => {
  const first = () => change({ before: seg(100), after: seg(130), prev: M0, commit: M3, ts: T2, candidates: [C1, C2, C3] });

  function storedVersion(overrides: Partial<BenchEventRow> = {}): BenchEventRow {
    const [e] = build([first()], [], { now: NOW, runId: "run-1" });
    return { ...toRow(e), ...overrides };
  }

  it("keeps the stored id and first detection when the new range overlaps, even when the detector moved a run", () => {
    const stored = storedVersion();
    expect(stored.event_id).toBe(eventId(M0, M3, "worse"));
    const moved = change({ before: seg(100), after: seg(130), prev: M1, commit: M4, ts: T3, candidates: [C2, C3, C4] });
    const [e] = build([moved], [stored], { now: LATER, runId: "run-2" });
    expect(e.event_id).toBe(stored.event_id);
    expect(e.event_id).not.toBe(eventId(M1, M4, "worse"));
    expect(e.first_detected_at).toBe(NOW.toISOString());
    expect(e.updated_at).toBe(LATER.toISOString());
    expect(e.run_id).toBe("run-2");
    expect(e.range_from_sha).toBe(M1);
    expect(e.code_commits).toEqual([C2, C3, C4]);
  });

  it("carries the stored bisection over when the code commits are the same", () => {
    const stored = storedVersion({
      blamed_sha: C2,
      bisection_status: "bisected",
      bisection_steps: 2,
      bisection_steps_left: 0,
      bisection_extra_runs: 7,
      bisection_note: "decided by the repeat limit",
    });
    // Detected again from a bot's commit that measured M0: a different pair, the same code commits.
    const again = change({ before: seg(100), after: seg(131), prev: M2, commit: M3, ts: T2, candidates: [C1, C2, C3] });
    const [e] = build([again], [stored], { now: LATER, runId: "run-2" });
    expect(e.event_id).toBe(stored.event_id);
    expect(e.blamed_sha).toBe(C2);
    expect(e.bisection_status).toBe("bisected");
    expect(e.bisection_steps).toBe(2);
    expect(e.bisection_steps_left).toBe(0);
    expect(e.bisection_extra_runs).toBe(7);
    expect(e.bisection_note).toBe("decided by the repeat limit");
    expect(e.first_detected_at).toBe(NOW.toISOString());
  });

  it("starts the bisection again when the range itself changed", () => {
    const stored = storedVersion({ blamed_sha: C2, bisection_status: "bisected", bisection_steps: 2, bisection_steps_left: 0, bisection_extra_runs: 7 });
    const narrower = change({ before: seg(100), after: seg(130), prev: M1, commit: M3, ts: T2, candidates: [C2, C3] });
    const [e] = build([narrower], [stored], { now: LATER, runId: "run-2" });
    expect(e.event_id).toBe(stored.event_id);
    expect(e.code_commits).toEqual([C2, C3]);
    // A "bisected" status without the commit it found would never be bisected again nor name a commit.
    expect(e.blamed_sha).toBe("");
    expect(e.bisection_status).toBe("bisecting");
    expect(e.bisection_steps).toBe(0);
    expect(e.bisection_steps_left).toBe(1);
  });

  it("gives a non-overlapping change, a change in the other direction, or a withdrawn event's range a new id", () => {
    const stored = storedVersion({ blamed_sha: C2, bisection_status: "bisected" });
    const elsewhere = change({ before: seg(100), after: seg(130), prev: M3, commit: M5, ts: T3, candidates: [C5, C6] });
    const [e] = build([elsewhere], [stored], { now: LATER, runId: "run-2" });
    expect(e.event_id).toBe(eventId(M3, M5, "worse"));
    expect(e.first_detected_at).toBe(LATER.toISOString());
    expect(e.bisection_status).toBe("bisecting");
    expect(e.blamed_sha).toBe("");

    const better = change({ kind: "improvement", before: seg(130), after: seg(100), prev: M0, commit: M3, ts: T2, candidates: [C1, C2, C3] });
    expect(build([better], [stored], { now: LATER, runId: "run-2" })[0].event_id).toBe(eventId(M0, M3, "better"));

    const withdrawn = { ...stored, event_id: "withdrawn-one", state: "withdrawn" as const };
    const [w] = build([first()], [withdrawn], { now: LATER, runId: "run-2" });
    expect(w.event_id).toBe(eventId(M0, M3, "worse"));
    expect(w.first_detected_at).toBe(LATER.toISOString());
  });

  it("gives two new events overlapping one stored event the stored id only once", () => {
    const stored = storedVersion();
    const a = change({ before: seg(100), after: seg(130), prev: M0, commit: M2, ts: T1, candidates: [C1] });
    // Another benchmark configuration (the same one in adjacent ranges would be one event: see below).
    const b = change({ key: { ...P95, model: "mistral-7b" }, before: seg(100), after: seg(130), prev: M2, commit: M3, ts: T2, candidates: [C2, C3] });
    const events = build([a, b], [stored], { now: LATER, runId: "run-2" });
    expect(events).toHaveLength(2);
    expect(events.filter((e) => e.event_id === stored.event_id)).toHaveLength(1);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(2);
  });
});

describe("one configuration in adjacent nightly ranges", () => {
  it("is one event over both ranges, searched by bisection together, not a second event blamed on the next night's commit", () => {
    // p95 moved between the runs of M0 and M2 (C1 in range); tokens/s of the same configuration, a run missing, a night
    // later between M2 and M3 (C2 alone in range): without joining, C2 would be blamed outright.
    const p95 = change({ kind: "improvement", before: seg(100), after: seg(80), prev: M0, commit: M2, ts: T1, candidates: [C1] });
    const tps = change({
      key: { ...P95, metric: "tokens_per_sec" },
      kind: "improvement",
      before: seg(80),
      after: seg(100),
      prev: M2,
      commit: M3,
      ts: T2,
      candidates: [C2],
    });
    const [event, ...rest] = build([p95, tps], [], { now: LATER, runId: "run-1" });
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ code_commits: [C1, C2], range_from_sha: M0, range_to_sha: M3, blamed_sha: "", bisection_status: "bisecting" });
    // Another configuration a night later stays its own event.
    const other = change({
      key: { ...P95, model: "mistral-7b" },
      kind: "improvement",
      before: seg(80),
      after: seg(60),
      prev: M2,
      commit: M3,
      ts: T2,
      candidates: [C2],
    });
    expect(build([p95, other], [], { now: LATER, runId: "run-1" })).toHaveLength(2);
  });

  it("takes a lone change a night off a larger event in the same direction into that event", () => {
    // Two series move between M0 and M2; a third series' step lands a run later (M2..M3, C2 alone in range).
    const a = change({ kind: "improvement", before: seg(100), after: seg(80), prev: M0, commit: M2, ts: T1, candidates: [C1] });
    const b = change({ key: TPS, kind: "improvement", before: seg(80), after: seg(100), prev: M0, commit: M2, ts: T1, candidates: [C1] });
    const late = change({ key: OTHER, kind: "improvement", before: seg(100), after: seg(82), prev: M2, commit: M3, ts: T2, candidates: [C2] });
    const events = build([a, b, late], [], { now: LATER, runId: "run-1" });
    expect(events).toHaveLength(1);
    expect(events[0].code_commits).toEqual([C1, C2]);
    expect(events[0].blamed_sha).toBe("");
    // In the other direction it stays apart.
    const opposite = change({ key: OTHER, kind: "regression", before: seg(100), after: seg(120), prev: M2, commit: M3, ts: T2, candidates: [C2] });
    expect(build([a, b, opposite], [], { now: LATER, runId: "run-1" })).toHaveLength(2);
  });
});

describe("bench_events storage", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.drop();
  });
  beforeEach(async () => {
    await t.db.command("TRUNCATE TABLE bench_events");
  });

  /** An open regression (one commit), one being bisected, a partly fixed one and its fix, an environment change. */
  function councilRun(): BenchEvent[] {
    return build([
      change({ before: seg(100), after: seg(140), prev: M0, commit: M1, ts: T1, candidates: [C1] }),
      change({ key: TPS, kind: "improvement", before: seg(40), after: seg(50), prev: M1, commit: M2, ts: "2031-03-03T09:00:00.000Z", candidates: [C2] }),
      change({ key: OTHER, before: seg(100), after: seg(118), prev: M2, commit: M3, ts: T2, candidates: [C3, C4, C5] }),
      change({ key: TPS, before: seg(50), after: seg(40), prev: M3, commit: M4, ts: T3, candidates: [] }),
      change({ kind: "improvement", before: seg(140), after: seg(120), prev: M4, commit: M5, ts: "2031-03-09T10:00:00.000Z", candidates: [C6] }),
    ]);
  }
  const countFinal = async () => (await t.db.queryOne("SELECT count() AS n FROM bench_events FINAL", {}, z.object({ n: z.coerce.number() })))?.n;

  it("round-trips through loadEvents, openRegressionEvents and bisectingEvents", async () => {
    const events = councilRun();
    expect(events.map((e) => e.kind)).toEqual(["regression", "improvement", "regression", "no_code", "improvement"]);
    const written = await storeEvents(t.db, events, { now: NOW, runId: "run-1", stored: [] });
    expect(written).toHaveLength(5);

    const loaded = await loadEvents(t.db, new Date("2031-01-01T00:00:00.000Z"));
    expect(loaded).toEqual(events.map(toRow));
    expect(await loadEvents(t.db, new Date("2031-03-06T00:00:00.000Z"))).toHaveLength(2);

    const partly = events[0];
    expect(partly.state).toBe("partly_fixed");
    const open = await openRegressionEvents(t.db);
    // Newest first: the range being bisected, then the partly fixed one.
    expect(open.map((e) => e.event_id)).toEqual([events[2].event_id, partly.event_id]);
    expect(open[1].recovered_pct).toBe(50);
    expect(open[1].fixed_by_sha).toBe(C6);
    expect(await openRegressionEvents(t.db, 1)).toHaveLength(1);

    const bisecting = await bisectingEvents(t.db);
    expect(bisecting.map((e) => e.event_id)).toEqual([events[2].event_id]);
    expect(bisecting[0].code_commits).toEqual([C3, C4, C5]);
    expect(bisecting[0].bisection_steps_left).toBe(2);
  });

  it("withdraws a stored event a later run no longer finds, once", async () => {
    const events = councilRun();
    await storeEvents(t.db, events, { now: NOW, runId: "run-1", stored: [] });
    const stored = await loadEvents(t.db, new Date("2031-01-01T00:00:00.000Z"));
    const gone = events[2];

    const second = build(
      councilRun()
        .filter((e) => e.event_id !== gone.event_id)
        .flatMap((e) => e.changes),
      stored,
      { now: LATER, runId: "run-2" },
    );
    expect(second.map((e) => e.event_id)).toEqual(events.filter((e) => e !== gone).map((e) => e.event_id));
    const written = await storeEvents(t.db, second, { now: LATER, runId: "run-2", stored });
    expect(written).toHaveLength(5);

    const after = await loadEvents(t.db, new Date("2031-01-01T00:00:00.000Z"));
    expect(after).toHaveLength(5);
    const withdrawn = after.find((e) => e.event_id === gone.event_id)!;
    expect(withdrawn.state).toBe("withdrawn");
    expect(withdrawn.updated_at).toBe(LATER.toISOString());
    expect(withdrawn.run_id).toBe("run-2");
    expect(withdrawn.first_detected_at).toBe(NOW.toISOString());
    expect(after.filter((e) => e.state === "withdrawn")).toHaveLength(1);
    expect((await openRegressionEvents(t.db)).map((e) => e.event_id)).toEqual([events[0].event_id]);
    expect(await bisectingEvents(t.db)).toEqual([]);

    // A third run that still does not find it writes no new version of it.
    const third = await storeEvents(t.db, second, { now: new Date("2031-03-12T06:00:00.000Z"), runId: "run-3", stored: after });
    expect(third.map((e) => e.event_id)).not.toContain(gone.event_id);
    const last = await loadEvents(t.db, new Date("2031-01-01T00:00:00.000Z"));
    expect(last.find((e) => e.event_id === gone.event_id)).toEqual(withdrawn);
  });

  it("is idempotent: storing the same run again leaves one row per event under FINAL", async () => {
    const events = councilRun();
    await storeEvents(t.db, events, { now: NOW, runId: "run-1", stored: [] });
    const once = await loadEvents(t.db, new Date("2031-01-01T00:00:00.000Z"));
    await storeEvents(t.db, events, { now: NOW, runId: "run-1", stored: once });
    await storeEvents(t.db, events, { now: NOW, runId: "run-1", stored: once });
    expect(await countFinal()).toBe(5);
    const perEvent = await t.db.query(
      "SELECT event_id, count() AS n FROM bench_events FINAL GROUP BY event_id",
      {},
      z.object({ event_id: z.string(), n: z.coerce.number() }),
    );
    expect(perEvent.every((r) => r.n === 1)).toBe(true);
    expect(await loadEvents(t.db, new Date("2031-01-01T00:00:00.000Z"))).toEqual(once);
  });
});
