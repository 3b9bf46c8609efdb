import { createServer } from "node:http";
import { v5 as uuidv5 } from "uuid";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as statusPage from "../app/[lang]/status/page";
import { createDb } from "../lib/clickhouse/client";
import { bisectionProgress, eventPlace, OPEN_REGRESSIONS_LIMIT, scrub, sectionNotice, windowDays } from "../lib/site/status";
import { loadEpisodesPerDay, loadLlmPerDay, loadStatus } from "../lib/site/status.server";
import { createTestDatabase, testClickHouseConfig, type TestDatabase } from "./helpers/db";
import { saveEnv, setEnv } from "./helpers/env";

/**
 * The status page's data loader against real ClickHouse (the test run's
 * server, a migrated database of its own), and its graceful degradation:
 * missing tables and an unreachable server give notices, never an exception.
 */

const NS = "3b241101-e2bb-4255-8caf-4136c566a962";
const id = (name: string) => uuidv5(name, NS);
const SHA = "a".repeat(40);
const NOW = new Date("2026-11-20T12:00:00.000Z");
const RANGE_FROM = "a1b2c3d" + "0".repeat(33);
const RANGE_TO = "e4f5a6b" + "0".repeat(33);

/**
 * A bench_events row: by default an open 18.3 % p95-latency regression of llama-3.1-8b q4_k_m, first detected
 * 2026-11-19, at 2026-11-18 09:00 between commits 0… and f…; `overrides` change any column.
 */
const benchEvent = (name: string, overrides: Record<string, unknown> = {}) => ({
  event_id: id(`event-${name}`),
  first_detected_at: "2026-11-19T12:00:00.000Z",
  updated_at: "2026-11-19T12:00:00.000Z",
  run_id: id("r2"),
  kind: "regression",
  state: "open",
  range_from_sha: "0".repeat(40),
  range_to_sha: "f".repeat(40),
  range_method: "graph",
  code_commits: [] as string[],
  commit_ts: "2026-11-18T09:00:00.000Z",
  blamed_sha: "",
  bisection_status: "",
  bisection_steps: 0,
  bisection_steps_left: 0,
  bisection_extra_runs: 0,
  bisection_note: "",
  benchmark_type: "quantization",
  model: "llama-3.1-8b",
  quant: "q4_k_m",
  variant: "q4_k_m",
  dataset: "d",
  device: "cuda",
  metric: "latency_p95_ms",
  label: "quantization llama-3.1-8b q4_k_m (d, cuda)",
  change_pct: 18.3,
  ci_low_pct: 12.25,
  ci_high_pct: 24.5,
  q_value: 0.0003,
  mean_before: 186,
  mean_after: 220,
  stdev_before: 4,
  stdev_after: 5,
  n_before: 9,
  n_after: 12,
  series_changed: 1,
  fixed_by_event_id: "",
  fixed_by_sha: "",
  recovered_pct: null,
  recovered_ci_low: null,
  recovered_ci_high: null,
  returns_of: "",
  ...overrides,
});

/** A bench_requests row for the open-range event at commit `commit` × 40, expiring two days after it was asked for. */
const benchRequest = (name: string, commit: string, requestedAt: string, status: string, overrides: Record<string, unknown> = {}) => ({
  request_id: name,
  event_id: id("event-open-range"),
  commit_sha: commit.repeat(40),
  benchmark_type: "quantization",
  model: "mistral-7b",
  quant: "q8_0",
  variant: "q8_0",
  dataset: "d",
  device: "cuda",
  repeats: 3,
  reason: "bisection step",
  status,
  claimed_by: "",
  lease_until: null,
  answer: "",
  dispatched_at: null,
  requested_at: requestedAt,
  expires_at: new Date(Date.parse(requestedAt) + 2 * 86_400_000).toISOString(),
  updated_at: requestedAt,
  ...overrides,
});

/** The cells' text of a section's rows marked with `attribute`. */
const rowsOf = (section: string, attribute: string) =>
  [...section.matchAll(new RegExp(`<tr ${attribute}="[^"]+">([\\s\\S]*?)</tr>`, "g"))].map((m) =>
    [...m[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1].replace(/<[^>]+>/g, "").replace(/&#x27;/g, "'")),
  );

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  const db = t.db;
  await db.insert("watcher_runs", [
    {
      ts: "2026-11-20T11:00:00.000Z",
      run_id: id("w1"),
      hearts_commit: SHA,
      packs_commit: SHA,
      hearts_rows_found: 12,
      packs_rows_found: 340,
      hearts_newest_ts: "2026-11-20T09:00:00.000Z",
      packs_newest_ts: "2026-11-20T10:30:00.000Z",
      hearts_lag_seconds: 7200,
      packs_lag_seconds: 1800,
      lag_seconds: 7200,
      status: "valid",
      reasons: [],
      duration_ms: 40,
    },
    {
      ts: "2026-11-19T11:00:00.000Z",
      run_id: id("w0"),
      hearts_commit: SHA,
      packs_commit: SHA,
      hearts_rows_found: 0,
      packs_rows_found: 10,
      hearts_newest_ts: null,
      packs_newest_ts: "2026-11-19T10:00:00.000Z",
      hearts_lag_seconds: null,
      packs_lag_seconds: 3600,
      lag_seconds: 3600,
      status: "degraded",
      reasons: ["banterhearts: no rows for https://user:pw@example.com/x"],
      duration_ms: 40,
    },
  ]);
  const run = (name: string, agent: string, status: string, startedAt: string, error = "") => ({
    run_id: id(name),
    agent,
    trigger: "cron",
    status,
    started_at: startedAt,
    finished_at: startedAt,
    duration_ms: 1500,
    attempts: 1,
    error,
    summary: "{}",
    options: "{}",
    updated_at: startedAt,
  });
  await db.insert("agent_runs", [
    run("r1", "watch", "ok", "2026-11-20T11:00:00.000Z"),
    run("r2", "council", "ok", "2026-11-20T11:05:00.000Z"),
    run("r3", "ingest", "error", "2026-11-19T08:00:00.000Z", "fetch https://bot:s3cr3t-token@github.example/api failed; Authorization: Bearer abcdef123456"),
    run("r4", "council", "blocked", "2026-11-19T11:05:00.000Z"),
  ]);
  // A newer version of r2 (ReplacingMergeTree): read with FINAL, counted once.
  await db.insert("agent_runs", [{ ...run("r2", "council", "ok", "2026-11-20T11:05:00.000Z"), duration_ms: 1600, updated_at: "2026-11-20T11:06:00.000Z" }]);

  const facts = (changes: object[]) => JSON.stringify({ changes, daily: [] });
  const regression = {
    model: "llama-3.1-8b",
    quant: "q4_k_m",
    metric: "latency_p95_ms",
    kind: "regression",
    previous_mean: 186,
    current_mean: 220,
    change_pct: 18.3,
    p_value: 0.002,
    n_previous: 9,
    n_current: 12,
  };
  const improvement = { ...regression, kind: "improvement", change_pct: -12 };
  const episode = (name: string, ts: string, status: string, num: number, confidence: number, changes: object[]) => ({
    ts,
    updated_at: ts,
    run_id: id(name),
    series: "chimera",
    episode_num: num,
    lang: "en",
    title: `Episode ${name}`,
    summary: "",
    confidence_score: confidence,
    correlation_strength: 0.8,
    tokens_total: 0,
    cost_total: 0,
    status,
    file_path: "",
    commit_sha: "",
    markdown: "",
    facts: facts(changes),
    claims: "[]",
    problems: [],
    writer: "{}",
    translation_of: "",
  });
  await db.insert("episodes", [
    episode("e1", "2026-11-19T11:05:00.000Z", "draft", 0, 0.42, []),
    episode("e2", "2026-11-20T11:05:00.000Z", "publishable", 3, 0.8, [regression, improvement]),
    episode("e3", "2026-11-20T11:06:00.000Z", "rejected", 0, 0.7, [regression]),
  ]);
  // e2 is published later: a newer version of the same key.
  await db.insert("episodes", [
    { ...episode("e2", "2026-11-20T11:05:00.000Z", "published", 3, 0.8, [regression, improvement]), updated_at: "2026-11-20T11:30:00.000Z" },
  ]);

  const llm = (name: string, ts: string, tokensIn: number, tokensOut: number, cost: number | null, status = "success") => ({
    ts,
    event_id: id(name),
    run_id: id("r2"),
    source: "muse",
    model: "gpt-4o-mini",
    operation: "council",
    tokens_in: tokensIn,
    tokens_out: tokensOut,
    latency_ms: 900,
    cost_usd: cost,
    status,
    error_msg: "",
  });
  await db.insert("llm_events", [
    llm("l1", "2026-11-20T11:05:00.000Z", 5000, 800, 0.00123),
    llm("l2", "2026-11-20T11:05:30.000Z", 1000, 0, null, "timeout"),
    llm("l3", "2026-11-19T11:05:00.000Z", 4000, 700, 0.001),
  ]);

  const stats = (session: string, hour: string, events: number) => ({
    hour,
    session_id: id(session),
    commit_sha: SHA,
    avg_latency_ms: 400,
    latency_sum_ms: 400 * events,
    error_rate: 0.01,
    abandonment_rate: 0.05,
    events_count: events,
    errors_count: 1,
    queries_count: 5,
    abandoned_count: 0,
    duration_seconds: 600,
  });
  await db.insert("session_stats", [
    stats("s1", "2026-11-20T09:00:00.000Z", 40),
    stats("s2", "2026-11-20T10:00:00.000Z", 60),
    stats("s1", "2026-11-19T09:00:00.000Z", 25),
  ]);
  // Recomputed hour: replaces (FINAL), not added.
  await db.insert("session_stats", [{ ...stats("s2", "2026-11-20T10:00:00.000Z", 70) }]);
  await db.insert("ui_events", [
    {
      ts: "2026-11-20T10:45:00.000Z",
      event_id: id("u1"),
      session_id: id("s2"),
      commit_sha: SHA,
      event_type: "query_submit",
      latency_ms: 300,
      user_agent: "",
      metadata: "{}",
    },
  ]);
  const bench = (name: string, ts: string, variant: string) => ({
    ts,
    run_id: id(name),
    commit_sha: SHA,
    benchmark_type: "quantization",
    variant,
    model: "llama-3.1-8b",
    quant: "q4_k_m",
    dataset: "d",
    device: "cuda",
    latency_mean_ms: 10,
    latency_p50_ms: null,
    latency_p95_ms: 14,
    latency_p99_ms: null,
    tokens_per_sec: 100,
    cost_per_1k: null,
    memory_peak_mb: null,
    extra: "{}",
    source_path: "",
  });
  await db.insert("bench_runs", [
    bench("b1", "2026-11-20T09:00:00.000Z", "a"),
    bench("b1", "2026-11-20T09:00:00.000Z", "b"),
    bench("b2", "2026-11-18T09:00:00.000Z", "a"),
  ]);

  // bench_events: two open regressions (one a range being bisected), a partly fixed one, one fixed since (a newer
  // version), a kept improvement still being bisected, a withdrawn one, an environment change.
  await db.insert("bench_events", [
    benchEvent("open-one", { blamed_sha: "1".repeat(40), code_commits: ["1".repeat(40)], series_changed: 3 }),
    benchEvent("open-range", {
      commit_ts: "2026-11-20T08:00:00.000Z",
      first_detected_at: "2026-11-20T09:00:00.000Z",
      range_from_sha: RANGE_FROM,
      range_to_sha: RANGE_TO,
      code_commits: Array.from({ length: 7 }, (_, i) => String(i + 2).repeat(40)),
      bisection_status: "bisecting",
      bisection_steps: 1,
      bisection_steps_left: 2,
      bisection_extra_runs: 6,
      bisection_note: "waiting for runner https://bot:s3cr3t@runner.example/x",
      model: "mistral-7b",
      quant: "q8_0",
      variant: "q8_0",
      metric: "tokens_per_sec",
      label: "quantization mistral-7b q8_0 (d, cuda)",
      change_pct: -7.5,
      ci_low_pct: -11,
      ci_high_pct: -4,
    }),
    benchEvent("partly", {
      commit_ts: "2026-11-17T09:00:00.000Z",
      blamed_sha: "9".repeat(40),
      code_commits: ["9".repeat(40)],
      state: "partly_fixed",
      recovered_pct: 52,
      recovered_ci_low: 31,
      recovered_ci_high: 73,
      fixed_by_sha: "c".repeat(40),
      returns_of: id("event-older"),
    }),
    benchEvent("fixed", { blamed_sha: "4".repeat(40), code_commits: ["4".repeat(40)] }),
    benchEvent("kept", {
      kind: "improvement",
      state: "kept",
      change_pct: -12,
      range_from_sha: "d".repeat(40),
      range_to_sha: "e".repeat(40),
      code_commits: ["d".repeat(40), "e".repeat(40)],
      bisection_status: "bisecting",
      bisection_steps: 0,
      bisection_steps_left: 1,
    }),
    // An accuracy regression that took int4 below its 99 % gate, faster at once: a trade-off.
    benchEvent("gate", {
      commit_ts: "2026-11-16T09:00:00.000Z",
      blamed_sha: "8".repeat(40),
      code_commits: ["8".repeat(40)],
      quant: "int4",
      variant: "int4",
      metric: "accuracy",
      label: "quantization llama-3.1-8b int4 (d, cuda)",
      change_pct: -2.1,
      ci_low_pct: -2.8,
      ci_high_pct: -1.4,
      gate_method: "int4",
      gate_baseline: "fp16",
      gate_fraction: 0.99,
      gate_ratio_before: 0.995,
      gate_ratio_after: 0.9812,
      gate_breached: true,
      tradeoff: true,
      tradeoff_latency_metric: "latency_p95_ms",
      tradeoff_latency_label: "quantization llama-3.1-8b int4 (d, cuda)",
      tradeoff_latency_pct: -21.6,
      tradeoff_accuracy_points: -1.5,
    }),
    benchEvent("withdrawn", { state: "withdrawn", code_commits: ["6".repeat(40), "7".repeat(40)], bisection_status: "bisecting", bisection_steps_left: 1 }),
    benchEvent("environment", { kind: "no_code", state: "environment", code_commits: [] }),
  ]);
  await db.insert("bench_events", [
    benchEvent("fixed", {
      blamed_sha: "4".repeat(40),
      code_commits: ["4".repeat(40)],
      state: "fixed",
      updated_at: "2026-11-20T11:00:00.000Z",
      recovered_pct: 98,
      recovered_ci_low: 90,
      recovered_ci_high: 106,
    }),
  ]);

  // bench_requests of the last 7 days (and one older), with a newer version of one.
  await db.insert("bench_requests", [
    benchRequest("req-pending", "3", "2026-11-20T10:00:00.000Z", "pending"),
    benchRequest("req-done", "5", "2026-11-19T10:00:00.000Z", "pending"),
    benchRequest("req-cannot", "6", "2026-11-18T10:00:00.000Z", "cannot_run"),
    benchRequest("req-expired", "7", "2026-11-16T10:00:00.000Z", "pending", { expires_at: "2026-11-17T10:00:00.000Z" }),
    benchRequest("req-old", "8", "2026-11-10T10:00:00.000Z", "done"),
  ]);
  await db.insert("bench_requests", [benchRequest("req-done", "5", "2026-11-19T10:00:00.000Z", "done", { updated_at: "2026-11-19T12:00:00.000Z" })]);
});
afterAll(async () => {
  await t.drop();
});

describe("status data from ClickHouse", () => {
  it("reports freshness per source with the watcher's latest status", async () => {
    const r = await loadStatus(t.db, { now: NOW, days: 7 });
    expect(r.clickhouse).toEqual({ reachable: true });
    expect(r.freshness).toEqual({
      ok: true,
      rows: [
        { source: "banterhearts", newest_data: "2026-11-20T09:00:00.000Z", age_seconds: 3 * 3600, watcher_lag_seconds: 7200, watcher_rows_found: 12 },
        // The last raw event (10:45): a real row time, not the end of the last session hour (11:00), which no row has.
        { source: "banterpacks", newest_data: "2026-11-20T10:45:00.000Z", age_seconds: 4500, watcher_lag_seconds: 1800, watcher_rows_found: 340 },
      ],
    });
    expect(r.watcher.ok && r.watcher.rows.map((w) => w.status)).toEqual(["valid", "degraded"]);
    // Reasons are scrubbed of URL credentials.
    expect(JSON.stringify(r.watcher)).not.toContain("user:pw");
  });

  it("lists recent agent runs (FINAL: one row per run) and outcomes per agent, with errors scrubbed", async () => {
    const r = await loadStatus(t.db, { now: NOW, days: 7 });
    if (!r.agentRuns.ok || !r.agentOutcomes.ok) throw new Error("sections failed");
    expect(r.agentRuns.rows.map((a) => [a.agent, a.status])).toEqual([
      ["council", "ok"],
      ["watch", "ok"],
      ["council", "blocked"],
      ["ingest", "error"],
    ]);
    expect(r.agentRuns.rows[0].duration_ms).toBe(1600);
    const error = r.agentRuns.rows[3].error;
    expect(error).toMatch(/failed/);
    expect(error).not.toMatch(/s3cr3t|abcdef123456/);
    expect(r.agentOutcomes.rows).toEqual([
      { agent: "council", ok: 1, skipped: 0, blocked: 1, error: 0, running: 0, last_started: "2026-11-20T11:05:00.000Z" },
      { agent: "ingest", ok: 0, skipped: 0, blocked: 0, error: 1, running: 0, last_started: "2026-11-19T08:00:00.000Z" },
      { agent: "watch", ok: 1, skipped: 0, blocked: 0, error: 0, running: 0, last_started: "2026-11-20T11:00:00.000Z" },
    ]);
  });

  it("counts episodes per day with confidence, LLM tokens and cost, and ingest volume per day", async () => {
    const r = await loadStatus(t.db, { now: NOW, days: 7 });
    expect(r.episodesPerDay).toEqual({
      ok: true,
      rows: [
        { day: "2026-11-19", drafts: 1, published: 0, rejected: 0, total: 1, avg_confidence: 0.42, max_confidence: 0.42 },
        { day: "2026-11-20", drafts: 0, published: 1, rejected: 1, total: 2, avg_confidence: 0.8, max_confidence: 0.8 },
      ],
    });
    if (!r.llmPerDay.ok || !r.ingestPerDay.ok) throw new Error("sections failed");
    expect(r.llmPerDay.rows).toEqual([
      { day: "2026-11-19", calls: 1, tokens_in: 4000, tokens_out: 700, cost_usd: 0.001, failures: 0 },
      { day: "2026-11-20", calls: 2, tokens_in: 6000, tokens_out: 800, cost_usd: 0.00123, failures: 1 },
    ]);
    expect(r.ingestPerDay.rows).toEqual([
      { day: "2026-11-18", events: 0, sessions: 0, bench_rows: 1, bench_reports: 1 },
      { day: "2026-11-19", events: 25, sessions: 1, bench_rows: 0, bench_reports: 0 },
      { day: "2026-11-20", events: 110, sessions: 2, bench_rows: 2, bench_reports: 1 },
    ]);
    expect(windowDays(r)).toEqual(["2026-11-14", "2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]);
  });

  it("lists the open regression events (FINAL: latest version; open or partly fixed, never fixed, kept, withdrawn or environment), newest commit first", async () => {
    const r = await loadStatus(t.db, { now: NOW, days: 7 });
    if (!r.openRegressions.ok) throw new Error(r.openRegressions.notice);
    expect(r.openRegressions.rows.map((x) => [x.event_id, x.label, x.metric, x.change_pct, x.state])).toEqual([
      [id("event-open-range"), "quantization mistral-7b q8_0 (d, cuda)", "tokens_per_sec", -7.5, "open"],
      [id("event-open-one"), "quantization llama-3.1-8b q4_k_m (d, cuda)", "latency_p95_ms", 18.3, "open"],
      [id("event-partly"), "quantization llama-3.1-8b q4_k_m (d, cuda)", "latency_p95_ms", 18.3, "partly_fixed"],
      [id("event-gate"), "quantization llama-3.1-8b int4 (d, cuda)", "accuracy", -2.1, "open"],
    ]);
    expect(r.openRegressions.rows[3]).toMatchObject({
      gate: { method: "int4", baseline: "fp16", fraction: 0.99, ratio_after: 0.9812, breached: true },
      tradeoff_latency_pct: -21.6,
    });
    expect(r.openRegressions.rows[0]).toMatchObject({ gate: null, tradeoff_latency_pct: null });
    expect(r.openRegressions.rows[0]).toMatchObject({
      blamed_sha: "",
      range_from_sha: RANGE_FROM,
      range_to_sha: RANGE_TO,
      code_commits: 7,
      bisection_status: "bisecting",
      bisection_steps: 1,
      bisection_steps_left: 2,
      commit_ts: "2026-11-20T08:00:00.000Z",
      first_detected_at: "2026-11-20T09:00:00.000Z",
      ci_low_pct: -11,
      ci_high_pct: -4,
    });
    expect(r.openRegressions.rows[1]).toMatchObject({ blamed_sha: "1".repeat(40), code_commits: 1, series_changed: 3 });
    expect(r.openRegressions.rows[2]).toMatchObject({ recovered_pct: 52, recovered_ci_low: 31, recovered_ci_high: 73, returns_of: id("event-older") });
  });

  it("places an event at its commit, or at its range with the code commits and how far bisection got", () => {
    const range = { blamed_sha: "", range_from_sha: RANGE_FROM, range_to_sha: RANGE_TO, code_commits: 7, bisection_extra_runs: 6 };
    expect(eventPlace({ ...range, bisection_status: "bisecting", bisection_steps: 1, bisection_steps_left: 2 })).toEqual({
      from: RANGE_FROM,
      to: RANGE_TO,
      note: "7 code commits, bisecting: step 2 of 3",
    });
    expect(eventPlace({ ...range, bisection_status: "stuck", bisection_steps: 2, bisection_steps_left: 0 }).note).toBe(
      "7 code commits, bisection stuck after 2 steps",
    );
    expect(eventPlace({ ...range, blamed_sha: "b".repeat(40), bisection_status: "bisected", bisection_steps: 3, bisection_steps_left: 0 })).toEqual({
      commit: "b".repeat(40),
      note: "of 7 code commits, bisected in 3 steps",
    });
    expect(eventPlace({ ...range, blamed_sha: "1".repeat(40), code_commits: 1, bisection_status: "", bisection_steps: 0, bisection_steps_left: 0 })).toEqual({
      commit: "1".repeat(40),
      note: "",
    });
    // Waiting with no step counted as left still shows the step under way.
    expect(bisectionProgress({ bisection_status: "bisecting", bisection_steps: 3, bisection_steps_left: 0 })).toBe("bisecting: step 4 of 4");
  });

  it("reads open regression events in one bounded query", async () => {
    const spy = vi.spyOn(t.db, "query");
    try {
      await loadStatus(t.db, { now: NOW, days: 7 });
      const sql = spy.mock.calls.map((c) => String(c[0])).filter((q) => q.includes("state IN ('open', 'partly_fixed')"));
      expect(sql).toHaveLength(1);
      expect(sql[0]).toMatch(/FROM bench_events FINAL WHERE kind = 'regression'.*LIMIT \{limit:UInt32\}/s);
      expect(spy.mock.calls.find((c) => String(c[0]).includes("state IN ('open', 'partly_fixed')"))![1]).toEqual({ limit: OPEN_REGRESSIONS_LIMIT });
      expect(spy.mock.calls.some((c) => String(c[0]).includes("bench_changes"))).toBe(false);
    } finally {
      spy.mockRestore();
    }
  });

  it("lists the events being bisected (any kind, never withdrawn) and the bench requests of the last 7 days, newest first, as of now", async () => {
    const r = await loadStatus(t.db, { now: NOW, days: 7 });
    if (!r.bisecting.ok || !r.benchRequests.ok) throw new Error("sections failed");
    expect(r.bisecting.rows.map((e) => [e.event_id, e.kind, e.code_commits, e.bisection_steps, e.bisection_steps_left])).toEqual([
      [id("event-kept"), "improvement", 2, 0, 1],
      [id("event-open-range"), "regression", 7, 1, 2],
    ]);
    // Notes are scrubbed like every text on the page.
    expect(r.bisecting.rows[1].bisection_note).toBe("waiting for runner https://[redacted]@runner.example/x");
    expect(r.benchRequests.rows).toEqual([
      {
        request_id: "req-pending",
        event_id: id("event-open-range"),
        commit_sha: "3".repeat(40),
        benchmark: "quantization mistral-7b q8_0 (d, cuda)",
        repeats: 3,
        status: "pending",
        requested_at: "2026-11-20T10:00:00.000Z",
      },
      expect.objectContaining({ request_id: "req-done", status: "done" }),
      expect.objectContaining({ request_id: "req-cannot", status: "cannot_run" }),
      // Still pending as stored, but past expires_at.
      expect.objectContaining({ request_id: "req-expired", status: "expired" }),
    ]);
  });

  it("loads each section on its own with one query, as loadStatus composes it", async () => {
    const from = new Date("2026-11-14T00:00:00.000Z");
    const r = await loadStatus(t.db, { now: NOW, days: 7 });
    const spy = vi.spyOn(t.db, "query");
    try {
      expect(await loadEpisodesPerDay(t.db, from)).toEqual(r.episodesPerDay);
      expect(await loadLlmPerDay(t.db, from)).toEqual(r.llmPerDay);
      expect(spy.mock.calls.length).toBe(2);
    } finally {
      spy.mockRestore();
    }
  });

  it("only looks at the window", async () => {
    const r = await loadStatus(t.db, { now: NOW, days: 1 });
    expect(r.episodesPerDay.ok && r.episodesPerDay.rows.map((d) => d.day)).toEqual(["2026-11-20"]);
    expect(r.agentOutcomes.ok && r.agentOutcomes.rows.map((a) => a.agent)).toEqual(["council", "watch"]);
  });
});

describe("graceful degradation", () => {
  it("names the missing tables when the database is not migrated, without throwing", async () => {
    const bare = await createTestDatabase({ migrate: false });
    try {
      const r = await loadStatus(bare.db, { now: NOW });
      expect(r.clickhouse).toEqual({ reachable: true });
      for (const key of [
        "freshness",
        "watcher",
        "agentRuns",
        "agentOutcomes",
        "episodesPerDay",
        "llmPerDay",
        "ingestPerDay",
        "openRegressions",
        "bisecting",
        "benchRequests",
      ] as const) {
        expect(r[key].ok, key).toBe(false);
      }
      expect(r.watcher).toEqual({ ok: false, notice: expect.stringMatching(/table watcher_runs is missing.*migrate/) });
      expect(r.llmPerDay).toEqual({ ok: false, notice: expect.stringMatching(/table llm_events is missing/) });
      expect(r.openRegressions).toEqual({ ok: false, notice: expect.stringMatching(/table bench_events is missing/) });
      expect(r.benchRequests).toEqual({ ok: false, notice: expect.stringMatching(/table bench_requests is missing/) });
    } finally {
      await bare.drop();
    }
  });

  it("says ClickHouse is unreachable (closed port) and leaks no URL or credentials", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const db = createDb({ ...testClickHouseConfig(), url: `http://127.0.0.1:${port}`, username: "admin", password: "hunter2" });
    try {
      const started = Date.now();
      const r = await loadStatus(db, { now: NOW, pingTimeoutMs: 2000 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(r.clickhouse).toEqual({ reachable: false, notice: expect.stringMatching(/unreachable/) });
      expect(r.agentRuns).toEqual({ ok: false, notice: expect.stringMatching(/unreachable/) });
      const text = JSON.stringify(r);
      expect(text).not.toContain("hunter2");
      expect(text).not.toContain(String(port));
      expect(text).not.toContain("admin");
    } finally {
      await db.close();
    }
  });

  it("gives a query failure a generic notice, and scrubs secrets from texts", () => {
    expect(sectionNotice(new Error("Code: 60. DB::Exception: Unknown table expression identifier 'x'. (UNKNOWN_TABLE)"), ["x"])).toMatch(/table x is missing/);
    expect(sectionNotice(new Error("Code: 62. DB::Exception: Syntax error at https://user:pw@host"), ["x"])).toBe("Not available: this query failed.");
    expect(scrub("GET https://u:p@h.example/x with Bearer abc.def and api_key=XYZ123 token: qq")).toBe(
      "GET https://[redacted]@h.example/x with Bearer [redacted] and api_key=[redacted] token: [redacted]",
    );
    expect(scrub("x".repeat(500)).length).toBe(240);
  });
});

describe("the public status page", () => {
  it("is regenerated at most once a minute (not rendered per request) and its loader makes at most 10 queries", async () => {
    expect((statusPage as Record<string, unknown>).dynamic).toBeUndefined();
    expect(statusPage.revalidate).toBe(60);
    const spy = vi.spyOn(t.db, "query");
    try {
      await loadStatus(t.db, { now: NOW, days: 7 });
      expect(spy.mock.calls.length).toBeLessThanOrEqual(10);
    } finally {
      spy.mockRestore();
    }
  });

  it("shows agent runs' outcomes but never their error text (that is for maintainers, /api/runs)", async () => {
    const saved = saveEnv(["CLICKHOUSE_URL", "CLICKHOUSE_DATABASE"]);
    await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
    try {
      const tree = await statusPage.default({ params: Promise.resolve({ lang: "en" }) });
      const html = renderToStaticMarkup(tree);
      expect(html).toContain("Recent agent runs");
      expect(html).toMatch(/status-bad">error</);
      expect(html).not.toContain("github.example");
      expect(html).not.toMatch(/failed; Authorization/);
    } finally {
      await setEnv(saved);
    }
  });

  it("shows the open regression events: lead series, change and interval, commit or range, state, first detected", async () => {
    const saved = saveEnv(["CLICKHOUSE_URL", "CLICKHOUSE_DATABASE"]);
    await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
    vi.useFakeTimers({ toFake: ["Date"], now: NOW });
    try {
      const html = renderToStaticMarkup(await statusPage.default({ params: Promise.resolve({ lang: "en" }) }));
      expect(html).toContain('<h2 id="open-regressions">Open regressions</h2>');
      expect(html).not.toContain("Regressions found");
      const section = /<section aria-labelledby="open-regressions">([\s\S]*?)<\/section>/.exec(html)![1];
      // Every table of the page scrolls inside its box on narrow screens (390 px), never the page.
      expect(section).toMatch(/<div class="table-scroll"><table( class="wide( with-kind)?")?>/);
      expect(rowsOf(section, "data-event")).toEqual([
        [
          "a1b2c3d…e4f5a6b, 7 code commits, bisecting: step 2 of 3",
          "quantization mistral-7b q8_0 (d, cuda)",
          "tokens_per_sec",
          "step",
          "-7.5%",
          "[-11.0%, -4.0%]",
          "open",
          expect.stringContaining("2026"),
        ],
        [
          "1111111",
          "quantization llama-3.1-8b q4_k_m (d, cuda) (and 2 more series)",
          "latency_p95_ms",
          "step",
          "+18.3%",
          "[+12.3%, +24.5%]",
          "open",
          expect.stringContaining("2026"),
        ],
        [
          "9999999",
          "quantization llama-3.1-8b q4_k_m (d, cuda)",
          "latency_p95_ms",
          "step",
          "+18.3%",
          "[+12.3%, +24.5%]",
          "partly fixed: recovered 52% [31%, 73%] (came back after a fix)",
          expect.stringContaining("2026"),
        ],
        ["8888888", "quantization llama-3.1-8b int4 (d, cuda)", "accuracy", "step", "-2.1%", "[-2.8%, -1.4%]", "open", expect.stringContaining("2026")],
      ]);
      expect(section).toContain('data-gate="breached"');
      // The gate and the trade-off on a full-width row after the event's own.
      expect(rowsOf(section, "data-quality")).toEqual([
        ["quantization llama-3.1-8b int4 (d, cuda): below its 99.0% accuracy gate: 98.1% of fp16 · trade-off: 21.6% faster"],
      ]);
      expect(section).not.toContain("4444444"); // fixed since
      expect(section).not.toContain(id("event-kept"));
    } finally {
      vi.useRealTimers();
      await setEnv(saved);
    }
  });

  it("shows the Bisection section: events being bisected and the bench requests of the last 7 days", async () => {
    const saved = saveEnv(["CLICKHOUSE_URL", "CLICKHOUSE_DATABASE"]);
    await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
    vi.useFakeTimers({ toFake: ["Date"], now: NOW });
    try {
      const html = renderToStaticMarkup(await statusPage.default({ params: Promise.resolve({ lang: "en" }) }));
      const section = /<section aria-labelledby="bisection">([\s\S]*?)<\/section>/.exec(html)![1];
      expect(section).toContain('<h2 id="bisection">Bisection</h2>');
      expect(section).toContain('<h3 id="bisection-events">Events being bisected</h3>');
      expect(section).not.toContain("s3cr3t");
      expect(rowsOf(section, "data-event").map((r) => r.slice(0, 5))).toEqual([
        ["ddddddd…eeeeeee, 2 code commits, bisecting: step 1 of 1", "quantization llama-3.1-8b q4_k_m (d, cuda)", "latency_p95_ms", "-12.0%", "0"],
        [
          "a1b2c3d…e4f5a6b, 7 code commits, bisecting: step 2 of 3 — waiting for runner https://[redacted]@runner.example/x",
          "quantization mistral-7b q8_0 (d, cuda)",
          "tokens_per_sec",
          "-7.5%",
          "6",
        ],
      ]);
      expect(section).toContain('<h3 id="bench-requests">Benchmark requests</h3>');
      expect(section.match(/<div class="table-scroll"><table( class="wide( with-kind)?")?>/g)).toHaveLength(2);
      const requests = rowsOf(section, "data-request");
      expect(requests.map((r) => r.slice(0, 4))).toEqual([
        ["3333333", "quantization mistral-7b q8_0 (d, cuda)", "3", "pending"],
        ["5555555", "quantization mistral-7b q8_0 (d, cuda)", "3", "done"],
        ["6666666", "quantization mistral-7b q8_0 (d, cuda)", "3", "cannot run"],
        ["7777777", "quantization mistral-7b q8_0 (d, cuda)", "3", "expired"],
      ]);
      expect(requests[0][4]).toContain("2026");
      expect(section).not.toContain("8888888"); // older than 7 days
    } finally {
      vi.useRealTimers();
      await setEnv(saved);
    }
  });
});
