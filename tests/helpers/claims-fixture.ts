import { facts as factsSchema, type Facts } from "../../lib/analysis/facts";
import { withCountNoun } from "../../lib/episode/nouns";
import { BUMP, fixtureFacts } from "./truth-fixture";

/**
 * The truth fixture as the council computes facts today: counts carry their nouns (lib/episode/nouns.ts), and a
 * second event — an improvement across four series at BUMP, bisected from three code commits, that users felt — so the
 * offline writer tells an event and its users with claims (lib/episode/claims.ts).
 */
export const CANDIDATE_1 = "d4e5f60718293a4b5c6d7e8f90123456789012ab";
export const CANDIDATE_2 = "e5f60718293a4b5c6d7e8f90123456789012abcd";

export function claimsFacts(): Facts {
  const base = fixtureFacts();
  const f = (id: string, value: number, unit: Facts["facts"][number]["unit"], decimals: number, signed?: boolean) => ({
    id,
    label: id,
    value,
    unit,
    decimals,
    source: "test",
    ...(signed ? { signed } : {}),
  });
  const facts = [
    ...base.facts.map((x) => (x.id === "changes.improvements" ? { ...x, value: 1 } : x)),
    f("event.2.date", Date.parse("2026-11-11T06:00:00.000Z"), "date", 0),
    f("event.2.change_pct", 12.4, "percent", 1, true),
    f("event.2.ci_low_pct", 8.1, "percent", 1, true),
    f("event.2.ci_high_pct", 16.6, "percent", 1, true),
    f("event.2.before", 1002.5, "tokens/s", 1),
    f("event.2.after", 1126.8, "tokens/s", 1),
    f("event.2.runs_before", 10, "count", 0),
    f("event.2.runs_after", 8, "count", 0),
    f("event.2.q_value", 0.0031, "p_value", 2),
    f("event.2.series", 4, "count", 0),
    f("event.2.series_same", 4, "count", 0),
    f("event.2.median_change_pct", 11.2, "percent", 1, true),
    f("event.2.median.ci_low_pct", 9.3, "percent", 1, true),
    f("event.2.median.ci_high_pct", 13.5, "percent", 1, true),
    f("event.2.median.series", 4, "count", 0),
    f("event.2.candidates", 3, "count", 0),
    f("event.2.bisect.steps", 2, "count", 0),
    f("event.2.bisect.extra_runs", 6, "count", 0),
    f("event.2.users.latency_before_ms", 512.3, "ms", 1),
    f("event.2.users.latency_after_ms", 455.9, "ms", 1),
    f("event.2.users.latency_change_pct", -11, "percent", 1, true),
    f("event.2.users.ci_low_pct", -14.2, "percent", 1, true),
    f("event.2.users.ci_high_pct", -7.6, "percent", 1, true),
    f("event.2.users.q_value", 0.004, "p_value", 2),
    f("event.2.users.placebo_days", 14, "days", 0),
    f("event.2.users.usual_change_pct", 1.2, "percent", 1, true),
    f("event.2.users.hours", 24, "hours", 0),
    f("event.2.users.error_before_pct", 2.1, "percent", 2),
    f("event.2.users.error_after_pct", 1.6, "percent", 2),
  ].map(withCountNoun);
  const event2 = {
    n: 2,
    commit_sha: BUMP,
    commit_ts: "2026-11-11T06:00:00.000Z",
    subject: "chore(deps): bump torch 1.2",
    candidates: [CANDIDATE_1, CANDIDATE_2, BUMP],
    kind: "improvement" as const,
    status: "kept" as const,
    fixed_by_sha: "",
    fixed_ts: null,
    bisection: { status: "bisected" as const, steps: 2, steps_left: 0, extra_runs: 6, note: "" },
    lead: {
      label: "throughput llama-3.1-8b int8 (wikitext-2, cuda)",
      metric: "tokens_per_sec",
      change_pct: 12.4,
      ci_pct: [8.1, 16.6] as [number, number],
      q_value: 0.0031,
      mean_before: 1002.5,
      mean_after: 1126.8,
      n_before: 10,
      n_after: 8,
    },
    series_changed: 4,
    series_same_direction: 4,
    median_change_pct: 11.2,
    median_ci_pct: [9.3, 13.5] as [number, number],
    median_series: 4,
    users: {
      measurable: true,
      felt: true,
      latency_change_pct: -11,
      latency_ci_pct: [-14.2, -7.6] as [number, number],
      latency_p_value: 0.001,
      latency_q_value: 0.004,
      other_way: false,
    },
  };
  return {
    ...base,
    facts,
    events: [
      ...base.events,
      {
        ...base.events[0],
        ...event2,
        event_id: "",
        new: true,
        attribution: "exact",
        range_from_sha: "",
        recovered: null,
        returns_of: "",
        triage: null,
        blamed_by: null,
        gate: null,
        tradeoff: null,
      },
    ],
    identifiers: [...base.identifiers, "throughput"],
  } as Facts;
}

/** Commits of the drift and spread events of `shapesFacts` (each short sha carries a letter). */
export const DRIFT = "f1e2d3c4b5a69788123456789012345678901234";
export const SPREAD = "e9d8c7b6a5f40312345678901234567890123456";
export const LOOKBACK_START = "d7c6b5a4f3e21098765432109876543210987654";
export const RANGE_FROM = "c8b7a6f5e4d30211223344556677889900aabbcc";
export const RANGE_A = "b9a8f7e6d5c40122334455667788990011aabbcc";
export const RANGE_B = "a0f9e8d7c6b50133445566778899001122aabbcc";

/**
 * The claims fixture with an event of each other shape (docs/change-points.md): a drift blamed on its commit (event 3,
 * p95 latency creeping up, three series: told in full), a spread change at its commit (event 4, p95 latency 2.76× as
 * noisy, three series: told in full), a drift that began before the first run looked at (event 5, mean latency creeping
 * down, an improvement blamed on no commit: a line) and a spread change in a range of two code commits (event 6,
 * throughput steadier: a line).
 */
export function shapesFacts(): Facts {
  const base = claimsFacts();
  const f = (id: string, value: number, unit: Facts["facts"][number]["unit"], decimals: number, signed?: boolean) => ({
    id,
    label: id,
    value,
    unit,
    decimals,
    source: "test",
    ...(signed ? { signed } : {}),
  });
  const facts = [
    ...base.facts.map((x) => (x.id === "changes.regressions" ? { ...x, value: 3 } : x.id === "changes.improvements" ? { ...x, value: 3 } : x)),
    f("event.3.date", Date.parse("2026-11-12T06:00:00.000Z"), "date", 0),
    f("event.3.drift.slope_pct_per_run", 0.49, "pct_per_run", 2, true),
    f("event.3.drift.ci_low", 0.38, "pct_per_run", 2, true),
    f("event.3.drift.ci_high", 0.61, "pct_per_run", 2, true),
    f("event.3.runs_drifting", 60, "count", 0),
    f("event.3.change_pct", 28.8, "percent", 1, true),
    f("event.3.ci_low_pct", 22.4, "percent", 1, true),
    f("event.3.ci_high_pct", 36, "percent", 1, true),
    f("event.3.q_value", 0.0004, "p_value", 2),
    f("event.3.series", 3, "count", 0),
    f("event.3.series_same", 3, "count", 0),
    f("event.3.candidates", 1, "count", 0),
    f("event.4.date", Date.parse("2026-11-13T06:00:00.000Z"), "date", 0),
    f("event.4.spread.ratio", 2.76, "times", 2),
    f("event.4.spread.ci_low", 1.72, "times", 2),
    f("event.4.spread.ci_high", 4.43, "times", 2),
    f("event.4.runs_before", 62, "count", 0),
    f("event.4.runs_after", 38, "count", 0),
    f("event.4.q_value", 0.0002, "p_value", 2),
    f("event.4.series", 3, "count", 0),
    f("event.4.series_same", 3, "count", 0),
    f("event.4.candidates", 1, "count", 0),
    f("event.5.date", Date.parse("2026-08-01T06:00:00.000Z"), "date", 0),
    f("event.5.drift.slope_pct_per_run", -0.21, "pct_per_run", 2, true),
    f("event.5.drift.ci_low", -0.3, "pct_per_run", 2, true),
    f("event.5.drift.ci_high", -0.12, "pct_per_run", 2, true),
    f("event.5.runs_drifting", 100, "count", 0),
    f("event.5.change_pct", -20.8, "percent", 1, true),
    f("event.5.ci_low_pct", -29.7, "percent", 1, true),
    f("event.5.ci_high_pct", -11.9, "percent", 1, true),
    f("event.5.q_value", 0.003, "p_value", 2),
    f("event.5.series", 1, "count", 0),
    f("event.5.series_same", 1, "count", 0),
    f("event.5.candidates", 0, "count", 0),
    f("event.6.date", Date.parse("2026-11-09T06:00:00.000Z"), "date", 0),
    f("event.6.spread.ratio", 0.62, "times", 2),
    f("event.6.spread.ci_low", 0.48, "times", 2),
    f("event.6.spread.ci_high", 0.8, "times", 2),
    f("event.6.runs_before", 20, "count", 0),
    f("event.6.runs_after", 15, "count", 0),
    f("event.6.q_value", 0.012, "p_value", 2),
    f("event.6.series", 1, "count", 0),
    f("event.6.series_same", 1, "count", 0),
    f("event.6.candidates", 2, "count", 0),
  ].map(withCountNoun);
  const event = (o: Record<string, unknown>) => ({
    ...base.events[1],
    event_id: "",
    new: true,
    attribution: "exact",
    range_from_sha: "",
    recovered: null,
    returns_of: "",
    triage: null,
    blamed_by: null,
    gate: null,
    tradeoff: null,
    bisection: null,
    users: null,
    median_ci_pct: null,
    median_series: 0,
    fixed_by_sha: "",
    fixed_ts: null,
    drift: null,
    spread: null,
    ...o,
  });
  const lead = (label: string, metric: string, change_pct: number, ci_pct: [number, number], q_value: number, n_before = 0, n_after = 0) => ({
    label,
    metric,
    change_pct,
    ci_pct,
    q_value,
    mean_before: 100,
    mean_after: 100,
    n_before,
    n_after,
  });
  const events = [
    event({
      n: 3,
      shape: "drift",
      commit_sha: DRIFT,
      commit_ts: "2026-11-12T06:00:00.000Z",
      subject: "kernel: fuse attention",
      candidates: [DRIFT],
      range_from_sha: BUMP,
      kind: "regression",
      status: "open",
      lead: lead("quantization llama-3.1-8b int8 (wikitext-2, cuda)", "latency_p95_ms", 28.8, [22.4, 36], 0.0004),
      drift: { slope_pct_per_run: 0.49, ci_pct_per_run: [0.38, 0.61], runs: 60 },
      series_changed: 3,
      series_same_direction: 3,
      median_change_pct: 28.8,
    }),
    event({
      n: 4,
      shape: "spread",
      commit_sha: SPREAD,
      commit_ts: "2026-11-13T06:00:00.000Z",
      subject: "runtime: new allocator",
      candidates: [SPREAD],
      range_from_sha: DRIFT,
      kind: "regression",
      status: "open",
      lead: lead("quantization Qwen 1.5 7B int8 (wikitext-2, cuda)", "latency_p95_ms", 176, [72, 343], 0.0002, 62, 38),
      spread: { ratio: 2.76, ci_ratio: [1.72, 4.43] },
      series_changed: 3,
      series_same_direction: 3,
      median_change_pct: 176,
    }),
    event({
      n: 5,
      shape: "drift",
      attribution: "window",
      commit_sha: LOOKBACK_START,
      commit_ts: "2026-08-01T06:00:00.000Z",
      subject: "",
      candidates: [],
      kind: "improvement",
      status: "kept",
      lead: lead("quantization Qwen 1.5 7B int8 (wikitext-2, cuda)", "latency_mean_ms", -20.8, [-29.7, -11.9], 0.003),
      drift: { slope_pct_per_run: -0.21, ci_pct_per_run: [-0.3, -0.12], runs: 100 },
      series_changed: 1,
      series_same_direction: 1,
      median_change_pct: -20.8,
    }),
    event({
      n: 6,
      shape: "spread",
      attribution: "range",
      commit_sha: RANGE_B,
      commit_ts: "2026-11-09T06:00:00.000Z",
      subject: "",
      candidates: [RANGE_A, RANGE_B],
      range_from_sha: RANGE_FROM,
      kind: "improvement",
      status: "kept",
      lead: lead("throughput llama-3.1-8b int8 (wikitext-2, cuda)", "tokens_per_sec", -38, [-52, -20], 0.012, 20, 15),
      spread: { ratio: 0.62, ci_ratio: [0.48, 0.8] },
      series_changed: 1,
      series_same_direction: 1,
      median_change_pct: -38,
    }),
  ];
  return factsSchema.parse({ ...base, facts, events: [...base.events, ...events] });
}
