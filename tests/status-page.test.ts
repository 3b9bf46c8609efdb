import { createServer } from "node:http";
import { v5 as uuidv5 } from "uuid";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as statusPage from "../app/[lang]/status/page";
import { createDb } from "../lib/clickhouse/client";
import { OPEN_REGRESSIONS_LIMIT, scrub, sectionNotice, windowDays } from "../lib/site/status";
import { loadEpisodesPerDay, loadLlmPerDay, loadStatus } from "../lib/site/status.server";
import { benchChange } from "./helpers/bench-changes";
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

  // bench_changes: two open regressions (one re-detected: a newer version), one fixed since, a kept improvement, a withdrawn one.
  const change = (name: string, commit: string, status: string, overrides: Record<string, unknown> = {}) =>
    benchChange({ changeId: id(`change-${name}`), runId: id("r2") }, commit, status, { q_value: 0.00031, ...overrides });

  await db.insert("bench_changes", [
    change("open-old", "1", "open", { change_pct: 10 }),
    change("open-new", "2", "open", {
      commit_ts: "2026-11-20T08:00:00.000Z",
      model: "mistral-7b",
      quant: "q8_0",
      variant: "q8_0",
      metric: "tokens_per_sec",
      change_pct: -7.5,
      ci_low_pct: -11,
      ci_high_pct: -4,
      q_value: 0.02,
      commit_candidates: ["2".repeat(40), "3".repeat(40)],
    }),
    change("fixed", "4", "open"),
    change("kept", "5", "kept", { kind: "improvement", change_pct: -12 }),
    change("withdrawn", "6", "withdrawn"),
  ]);
  await db.insert("bench_changes", [
    change("open-old", "1", "open", { updated_at: "2026-11-20T11:00:00.000Z" }),
    change("fixed", "4", "fixed", { updated_at: "2026-11-20T11:00:00.000Z", fixed_by_sha: "7".repeat(40), fixed_ts: "2026-11-20T10:00:00.000Z" }),
  ]);
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
        // The newer of the last raw event (10:45) and the end of the last session hour (11:00).
        { source: "banterpacks", newest_data: "2026-11-20T11:00:00.000Z", age_seconds: 3600, watcher_lag_seconds: 1800, watcher_rows_found: 340 },
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

  it("lists the open regressions of bench_changes (FINAL: latest version; not fixed, kept or withdrawn), newest commit first", async () => {
    const r = await loadStatus(t.db, { now: NOW, days: 7 });
    if (!r.openRegressions.ok) throw new Error(r.openRegressions.notice);
    expect(r.openRegressions.rows.map((x) => [x.commit_sha.slice(0, 1), x.label, x.metric, x.change_pct])).toEqual([
      ["2", "quantization mistral-7b q8_0 (d, cuda)", "tokens_per_sec", -7.5],
      ["1", "quantization llama-3.1-8b q4_k_m (d, cuda)", "latency_p95_ms", 18.3],
    ]);
    expect(r.openRegressions.rows[0]).toMatchObject({
      commit_ts: "2026-11-20T08:00:00.000Z",
      commit_candidates: ["2".repeat(40), "3".repeat(40)],
      ci_low_pct: -11,
      ci_high_pct: -4,
      q_value: 0.02,
    });
  });

  it("reads open regressions in one bounded query", async () => {
    const spy = vi.spyOn(t.db, "query");
    try {
      await loadStatus(t.db, { now: NOW, days: 7 });
      const sql = spy.mock.calls.map((c) => String(c[0])).filter((q) => q.includes("bench_changes"));
      expect(sql).toHaveLength(1);
      expect(sql[0]).toMatch(/FROM bench_changes FINAL WHERE status = 'open'.*LIMIT \{limit:UInt32\}/s);
      expect(spy.mock.calls.find((c) => String(c[0]).includes("bench_changes"))![1]).toEqual({ limit: OPEN_REGRESSIONS_LIMIT });
    } finally {
      spy.mockRestore();
    }
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
      for (const key of ["freshness", "watcher", "agentRuns", "agentOutcomes", "episodesPerDay", "llmPerDay", "ingestPerDay", "openRegressions"] as const) {
        expect(r[key].ok, key).toBe(false);
      }
      expect(r.watcher).toEqual({ ok: false, notice: expect.stringMatching(/table watcher_runs is missing.*migrate/) });
      expect(r.llmPerDay).toEqual({ ok: false, notice: expect.stringMatching(/table llm_events is missing/) });
      expect(r.openRegressions).toEqual({ ok: false, notice: expect.stringMatching(/table bench_changes is missing/) });
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
  it("is regenerated at most once a minute (not rendered per request) and its loader makes at most 8 queries", async () => {
    expect((statusPage as Record<string, unknown>).dynamic).toBeUndefined();
    expect(statusPage.revalidate).toBe(60);
    const spy = vi.spyOn(t.db, "query");
    try {
      await loadStatus(t.db, { now: NOW, days: 7 });
      expect(spy.mock.calls.length).toBeLessThanOrEqual(8);
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

  it("shows the open regressions from bench_changes, with change, interval and q-value", async () => {
    const saved = saveEnv(["CLICKHOUSE_URL", "CLICKHOUSE_DATABASE"]);
    await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
    try {
      const html = renderToStaticMarkup(await statusPage.default({ params: Promise.resolve({ lang: "en" }) }));
      expect(html).toContain('<h2 id="open-regressions">Open regressions</h2>');
      expect(html).not.toContain("Regressions found");
      const section = /<section aria-labelledby="open-regressions">([\s\S]*?)<\/section>/.exec(html)![1];
      const rows = [...section.matchAll(/<tr data-change="[^"]+">([\s\S]*?)<\/tr>/g)].map((m) =>
        [...m[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1].replace(/<[^>]+>/g, "")),
      );
      expect(rows.map((r) => r.slice(0, 6))).toEqual([
        ["2222222 (1 of 2)", "quantization mistral-7b q8_0 (d, cuda)", "tokens_per_sec", "-7.5%", "[-11.0%, -4.0%]", "0.02"],
        ["1111111", "quantization llama-3.1-8b q4_k_m (d, cuda)", "latency_p95_ms", "+18.3%", "[+12.3%, +24.5%]", "0.00031"],
      ]);
      expect(section).not.toContain("4444444"); // fixed since
    } finally {
      await setEnv(saved);
    }
  });
});
