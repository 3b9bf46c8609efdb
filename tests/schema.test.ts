import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TABLES, type TableName } from "../lib/clickhouse/tables";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/** Each table takes its typed row and gives the same row back. */

const SHA_A = "a".repeat(40);
const SHA_B = "0123456789abcdef0123456789abcdef01234567";
const RUN = "3f1c2b9e-8a47-4f0e-9a51-6f7c1d2e3b4a";
const SESSION = "0b8e2a1c-5d6f-4a3b-8c9d-1e2f3a4b5c6d";
const T = "2026-11-20T10:15:30.123Z";
// agent_locks rows expire (TTL) a day after expires_at, so its sample lies in the future.

const samples: { [K in TableName]: Record<string, unknown> } = {
  bench_changes: {
    change_id: "5f0e1d2c-3b4a-4596-8877-665544332211",
    detected_at: T,
    updated_at: T,
    run_id: RUN,
    benchmark_type: "quantization",
    model: "llama-3.1-8b",
    quant: "int8",
    variant: "int8",
    dataset: "wikitext-2",
    device: "cuda",
    metric: "latency_p95_ms",
    commit_sha: SHA_A,
    commit_ts: T,
    commit_candidates: [SHA_A],
    previous_sha: SHA_A,
    kind: "regression",
    change_pct: 41.25,
    ci_low_pct: 35.5,
    ci_high_pct: 47.75,
    p_value: 0.0001,
    q_value: 0.0004,
    mean_before: 100.5,
    mean_after: 141.75,
    n_before: 9,
    n_after: 12,
    status: "open",
    fixed_by_sha: "",
    fixed_ts: null,
    // sql/020: a spread change (the drift columns stay NULL).
    shape: "spread",
    slope_pct_per_run: null,
    slope_ci_low: null,
    slope_ci_high: null,
    drift_runs: 0,
    spread_ratio: 2.25,
    spread_ci_low: 1.625,
    spread_ci_high: 3.125,
  },
  bench_runs: {
    ts: T,
    run_id: RUN,
    commit_sha: SHA_A,
    benchmark_type: "quantization",
    variant: "int8",
    model: "llama-3.1-8b",
    quant: "int8",
    dataset: "wikitext-2",
    device: "cuda",
    latency_mean_ms: 12.5,
    latency_p50_ms: 12.25,
    latency_p95_ms: 18.75,
    latency_p99_ms: null,
    tokens_per_sec: 812.5,
    cost_per_1k: 0.000125,
    memory_peak_mb: 5120,
    extra: '{"accuracy":0.912}',
    source_path: "reports/quantization/q1.json",
    pull_request: 7,
    accuracy: 0.912,
    loss: null,
    perplexity: null,
  },
  llm_events: {
    ts: T,
    event_id: "9d5e4c3b-2a1f-4e0d-8c7b-6a5f4e3d2c1b",
    run_id: RUN,
    source: "council",
    model: "gpt-4o-mini",
    operation: "episode",
    tokens_in: 1834,
    tokens_out: 612,
    latency_ms: 2310,
    cost_usd: 0.000642,
    status: "success",
    error_msg: "",
  },
  ui_events: {
    ts: T,
    event_id: "1a2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c8d",
    session_id: SESSION,
    commit_sha: SHA_B,
    event_type: "query_submit",
    latency_ms: 245,
    user_agent: "Firefox 132 / Linux",
    metadata: '{"query_length":42}',
  },
  session_stats: {
    hour: "2026-11-20T10:00:00Z",
    session_id: SESSION,
    commit_sha: SHA_B,
    avg_latency_ms: 231,
    latency_sum_ms: 2310,
    error_rate: 0.1,
    abandonment_rate: 0,
    events_count: 10,
    errors_count: 1,
    queries_count: 3,
    abandoned_count: 0,
    answers_count: 3,
    answer_latency_sum_ms: 2250,
    duration_seconds: 420,
  },
  watcher_runs: {
    ts: T,
    run_id: RUN,
    hearts_commit: SHA_A,
    packs_commit: SHA_B,
    hearts_rows_found: 14,
    packs_rows_found: 5032,
    hearts_newest_ts: "2026-11-20T09:00:00Z",
    packs_newest_ts: null,
    hearts_lag_seconds: 4530,
    packs_lag_seconds: null,
    lag_seconds: 4530,
    status: "degraded",
    reasons: ["banterpacks: no rows for latest commit"],
    duration_ms: 88,
  },
  episodes: {
    ts: T,
    updated_at: T,
    run_id: RUN,
    series: "chimera",
    episode_num: 7,
    lang: "en",
    title: "INT8 shaves 18% off p95",
    summary: "s",
    confidence_score: 0.75,
    correlation_strength: -0.5,
    tokens_total: 2446,
    cost_total: 0.000642,
    status: "draft",
    file_path: "episodes/chimera/ep-007.md",
    commit_sha: "",
    markdown: "---\ntitle: x\n---\n",
    facts: "{}",
    claims: "[]",
    problems: [],
    writer: '{"kind":"offline"}',
    translation_of: "",
  },
  deployments: {
    ts: T,
    updated_at: T,
    run_id: RUN,
    episode_run_id: "7e6d5c4b-3a2f-4e1d-8c0b-9a8f7e6d5c4b",
    commit_sha: SHA_B,
    status: "ready",
    vercel_deployment_id: "dpl_abc",
    url: "https://muse.example.dev",
    duration_ms: 42000,
    error_msg: "",
    events_seen: ["evt_1"],
  },
  agent_runs: {
    run_id: RUN,
    agent: "ingest",
    trigger: "cron",
    status: "ok",
    started_at: T,
    finished_at: "2026-11-20T10:15:31.000Z",
    duration_ms: 877,
    attempts: 1,
    error: "",
    summary: '{"files":3}',
    options: "{}",
    updated_at: "2026-11-20T10:15:31.000Z",
  },
  agent_locks: { agent: "ingest", run_id: RUN, acquired_at: T, expires_at: "2099-11-20T10:30:30.123Z", released: 0, updated_at: T },
  upstream_commits: {
    repo: "banterpacks",
    sha: SHA_B,
    ts: T,
    author: "dev",
    message: "feat: faster overlay",
    parents: [SHA_A],
    files: ["src/a.ts", "src/b.ts"],
    files_changed: 2,
    additions: 40,
    deletions: 7,
  },
  ingest_requests: {
    idempotency_key: "key-1",
    route: "events",
    body_sha256: "f".repeat(64),
    accepted: 12,
    response: '{"accepted":12}',
    received_at: T,
  },
  ingest_key_claims: {
    route: "/api/ingest/events",
    idempotency_key: "key-1",
    body_sha256: "e".repeat(64),
    claimed_at: T,
  },
  bench_requests: {
    request_id: "bisect-7f3a-1",
    event_id: "5f0e1d2c-3b4a-4596-8877-665544332211",
    commit_sha: SHA_A,
    benchmark_type: "quantization",
    model: "llama-3.1-8b",
    quant: "int8",
    variant: "int8",
    dataset: "wikitext-2",
    device: "cuda",
    repeats: 3,
    reason: "bisect latency_p95_ms between two nightly runs",
    status: "claimed",
    claimed_by: "runner-gpu-1",
    lease_until: "2026-11-20T11:15:30.123Z",
    answer: "",
    dispatched_at: null,
    requested_at: T,
    expires_at: "2026-11-22T10:15:30.123Z",
    updated_at: T,
  },
  bench_request_claims: {
    request_id: "bisect-7f3a-1",
    claim_id: RUN,
    runner: "runner-gpu-1",
    // Claims expire (TTL) 30 days after claimed_at, so this sample lies in the future.
    claimed_at: "2099-11-20T10:15:30.123Z",
    lease_until: "2099-11-20T11:15:30.123Z",
    released: 0,
  },
};

const PLAIN_MERGETREE = new Set<TableName>(["ingest_key_claims", "bench_request_claims"]);

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

describe("schema round trip", () => {
  for (const table of Object.keys(TABLES) as TableName[]) {
    it(`${table} stores its typed row and returns it unchanged`, async () => {
      const schema = TABLES[table];
      const row = schema.parse(samples[table]);
      await t.db.insert(table, [row]);
      const columns = Object.keys(schema.shape);
      // FINAL collapses the ReplacingMergeTree tables; a plain MergeTree (every claim kept) has nothing to collapse.
      const final = PLAIN_MERGETREE.has(table) ? "" : "FINAL";
      const back = await t.db.query(`SELECT ${columns.join(", ")} FROM {table:Identifier} ${final}`, { table }, schema);
      expect(back).toHaveLength(1);
      expect(normalise(back[0])).toEqual(normalise(row));
    });
  }

  it("collapses a retried write of the same key (ReplacingMergeTree read with FINAL)", async () => {
    const row = TABLES.ui_events.parse({ ...samples.ui_events, event_id: "2a2b3c4d-5e6f-4a1b-9c2d-3e4f5a6b7c8d" });
    await t.db.insert("ui_events", [row]);
    await t.db.insert("ui_events", [row]);
    const [{ c }] = await t.db.query<{ c: number }>("SELECT count() AS c FROM ui_events FINAL WHERE event_id = {id:UUID}", { id: row.event_id });
    expect(Number(c)).toBe(1);
  });

  it("keeps episodes of different series with the same number apart", async () => {
    const base = TABLES.episodes.parse(samples.episodes);
    await t.db.insert("episodes", [
      { ...base, series: "banterpacks", episode_num: 7 },
      { ...base, series: "chimera", episode_num: 7, lang: "de" },
    ]);
    const rows = await t.db.query<{ series: string; lang: string }>("SELECT series, lang FROM episodes FINAL WHERE episode_num = 7 ORDER BY series, lang");
    expect(rows).toEqual([
      { series: "banterpacks", lang: "en" },
      { series: "chimera", lang: "de" },
      { series: "chimera", lang: "en" },
    ]);
  });
});

/** Float32 columns and timestamps come back in ClickHouse's own rendering. */
function normalise(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => {
      if (typeof v === "number" && !Number.isInteger(v)) return [k, Number(v.toPrecision(6))];
      if (typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v)) return [k, new Date(v).toISOString()];
      return [k, v];
    }),
  );
}
