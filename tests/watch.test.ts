// The watcher must compute in UTC whatever the machine's zone: run this file in a far-off one.
process.env.TZ = "Pacific/Kiritimati";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v5 as uuidv5 } from "uuid";
import { z } from "zod";
import { runAgent } from "../lib/agents/runner";
import { TransientError } from "../lib/agents/types";
import { readLatestWatcherRun, watch, watchAgent } from "../lib/agents/watch";
import type { UpstreamRepo } from "../lib/upstream/types";
import { UpstreamError } from "../lib/upstream/types";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { MemoryRepo, fixedClock, seriesOf, testDeps } from "./helpers/deps";

const NS = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
const HEARTS_SHA = "a".repeat(40);
const PACKS_SHA = "b".repeat(40);
const OLD_PACKS_SHA = "c".repeat(40);

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.insert("bench_runs", [
    {
      ts: "2026-11-20T09:00:00.000Z",
      run_id: uuidv5("r1", NS),
      commit_sha: HEARTS_SHA,
      benchmark_type: "quantization",
      variant: "int8",
      model: "llama-3.1-8b",
      quant: "int8",
      dataset: "unknown",
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
    },
  ]);
  await t.db.insert("ui_events", [
    // The newest Banterpacks event for the latest commit is at 10:30 UTC.
    {
      ts: "2026-11-20T10:30:00.000Z",
      event_id: uuidv5("e1", NS),
      session_id: uuidv5("s", NS),
      commit_sha: PACKS_SHA,
      event_type: "query_submit",
      latency_ms: 5,
      user_agent: "",
      metadata: "{}",
    },
    {
      ts: "2026-11-20T10:00:00.000Z",
      event_id: uuidv5("e2", NS),
      session_id: uuidv5("s", NS),
      commit_sha: PACKS_SHA,
      event_type: "overlay_open",
      latency_ms: 5,
      user_agent: "",
      metadata: "{}",
    },
  ]);
});
afterAll(async () => {
  await t.drop();
});

const commit = (sha: string, ts: string) => ({ sha, ts, author: "dev", message: "m", parents: [], files: [] });
const hearts = new MemoryRepo("banterhearts", [commit(HEARTS_SHA, "2026-11-20T08:55:00.000Z")]);
const packs = new MemoryRepo("banterpacks", [commit(PACKS_SHA, "2026-11-20T09:50:00.000Z")]);

describe("watch agent", () => {
  it("is valid when both sources have rows for their latest commit within the thresholds, lag in UTC seconds", async () => {
    const deps = testDeps(t.db, { clock: fixedClock("2026-11-20T11:00:00.000Z"), upstream: { hearts, packs } });
    const result = await watch(deps, { runId: "5d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
    expect(result.summary.verdict).toBe("valid");
    const [h, p] = result.summary.sources;
    expect(h).toMatchObject({ source: "banterhearts", status: "valid", rows_found: 1, lag_seconds: 2 * 3600, newest_row_ts: "2026-11-20T09:00:00.000Z" });
    expect(p).toMatchObject({ source: "banterpacks", status: "valid", rows_found: 2, lag_seconds: 30 * 60 });
    const stored = await readLatestWatcherRun(t.db);
    expect(stored).toMatchObject({ run_id: "5d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a", status: "valid", lag_seconds: 7200 });
    expect(stored!.ts).toBe("2026-11-20T11:00:00.000Z");
  });

  it("is degraded when a source is older than its threshold", async () => {
    const deps = testDeps(t.db, { clock: fixedClock("2026-11-20T13:30:00.000Z"), upstream: { hearts, packs } });
    const result = await watch(deps, { runId: "6d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
    // hearts lag 4.5 h > 4 h; packs 3 h ≤ 4 h.
    expect(result.summary.sources.map((s) => s.status)).toEqual(["degraded", "valid"]);
    expect(result.summary.verdict).toBe("degraded");
    expect(result.summary.reasons[0]).toMatch(/banterhearts: newest row is 4\.5 h old/);
  });

  it("is degraded when the latest commit has no rows yet", async () => {
    const newer = new MemoryRepo("banterpacks", [commit(PACKS_SHA, "2026-11-20T09:50:00.000Z"), commit(OLD_PACKS_SHA, "2026-11-20T10:55:00.000Z")]);
    const deps = testDeps(t.db, { clock: fixedClock("2026-11-20T11:00:00.000Z"), upstream: { hearts, packs: newer } });
    const result = await watch(deps, { runId: "7d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
    expect(result.summary.sources[1]).toMatchObject({ status: "degraded", rows_found: 0, lag_seconds: null });
    expect(result.summary.verdict).toBe("degraded");
  });

  it("emits the freshness gauge when the latest commit has no rows: the age of the source's newest row, else of the commit", async () => {
    // Banterpacks' latest commit has no rows; its newest row (older commit) is from 10:30, 5 h before 15:30.
    const newer = new MemoryRepo("banterpacks", [commit(PACKS_SHA, "2026-11-20T09:50:00.000Z"), commit(OLD_PACKS_SHA, "2026-11-20T12:00:00.000Z")]);
    const deps = testDeps(t.db, { clock: fixedClock("2026-11-20T15:30:00.000Z"), upstream: { hearts, packs: newer } });
    const result = await watch(deps, { runId: "7e9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
    expect(result.summary.sources[1]).toMatchObject({ rows_found: 0, lag_seconds: null, data_age_seconds: 5 * 3600 });
    expect(result.summary.reasons.at(-1)).toMatch(/no rows ingested yet for the latest commit cccccc.*newest row 5\.0 h old/);
    // The stored history holds the lag that decided the verdict, not the other source's (or 0): it looks stale when it was.
    const [stored] = await t.db.query<{ packs_lag_seconds: number | null; lag_seconds: number }>(
      "SELECT packs_lag_seconds, lag_seconds FROM watcher_runs FINAL WHERE run_id = {id:UUID}",
      { id: "7e9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" },
    );
    expect(stored).toEqual({ packs_lag_seconds: 5 * 3600, lag_seconds: 6.5 * 3600 });
    const gauges = seriesOf(deps.metrics, "muse.watch.lag_seconds");
    expect(gauges.map((g) => [g.tags.find((x) => x.startsWith("source:")), g.points.at(-1)?.value])).toEqual([
      ["source:banterhearts", 6.5 * 3600],
      ["source:banterpacks", 5 * 3600],
    ]);

    // No row in the last week: at least a week (it keeps growing with the commit's age instead of resetting).
    const late = testDeps(t.db, { clock: fixedClock("2026-11-28T12:00:00.000Z"), upstream: { hearts, packs: newer } });
    const r1 = await watch(late, { runId: "7a9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
    expect(r1.summary.sources[1].data_age_seconds).toBe(8 * 86_400);
    expect(r1.summary.reasons.at(-1)).toMatch(/no row in the last 168\.0 h/);

    // A source with no rows at all: the latest commit's age (the data it should have brought is that late).
    const empty = await createTestDatabase();
    try {
      const d2 = testDeps(empty.db, { clock: fixedClock("2026-11-20T15:30:00.000Z"), upstream: { hearts, packs: newer } });
      const r2 = await watch(d2, { runId: "7f9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
      expect(r2.summary.sources.map((x) => x.data_age_seconds)).toEqual([
        Date.parse("2026-11-20T15:30:00Z") / 1000 - Date.parse("2026-11-20T08:55:00Z") / 1000,
        3.5 * 3600,
      ]);
      expect(seriesOf(d2.metrics, "muse.watch.lag_seconds")).toHaveLength(2);
    } finally {
      await empty.drop();
    }
  });

  it("a run whose verdict is error is not a success: the runner records an error, never status ok", async () => {
    const missing: UpstreamRepo = {
      ...hearts,
      name: "banterhearts",
      location: "x",
      latestCommit: async () => {
        throw new UpstreamError("repository not found", false);
      },
      listCommits: hearts.listCommits.bind(hearts),
      readFile: hearts.readFile.bind(hearts),
    };
    const deps = testDeps(t.db, { clock: fixedClock("2026-11-20T11:00:00.000Z"), upstream: { hearts: missing, packs } });
    const record = await runAgent(watchAgent, deps, { trigger: "cli", retryDelayMs: 1, runId: "1a9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
    expect(record.status).toBe("error");
    expect(record.attempts).toBe(1);
    expect(record.error).toMatch(/watch verdict is error: banterhearts: upstream unreachable \(repository not found\)/);
    const runs = seriesOf(deps.metrics, "muse.watch.runs");
    expect(runs.map((s) => s.tags.find((x) => x.startsWith("status:")))).toEqual(["status:error"]);

    // A transient cause is retried; the stored verdict is the last attempt's (one row per run).
    let calls = 0;
    const flaky: UpstreamRepo = {
      ...missing,
      latestCommit: async () => {
        calls += 1;
        if (calls === 1) throw new UpstreamError("connect ECONNREFUSED", true);
        return hearts.latestCommit();
      },
    };
    const d2 = testDeps(t.db, { clock: fixedClock("2026-11-20T11:00:00.000Z"), upstream: { hearts: flaky, packs } });
    const ok = await runAgent(watchAgent, d2, { trigger: "cli", retryDelayMs: 1, runId: "2a9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
    expect([ok.status, ok.attempts, calls]).toEqual(["ok", 2, 2]);
    const rows = await t.db.query(
      "SELECT status FROM watcher_runs FINAL WHERE run_id = {id:UUID}",
      { id: "2a9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" },
      z.object({ status: z.string() }),
    );
    expect(rows).toEqual([{ status: "valid" }]);
  });

  it("is error when an upstream repository cannot be reached, and honours configured thresholds", async () => {
    const broken: UpstreamRepo = {
      ...hearts,
      name: "banterhearts",
      location: "x",
      latestCommit: async () => {
        throw new UpstreamError("connect ECONNREFUSED", true);
      },
      listCommits: hearts.listCommits.bind(hearts),
      readFile: hearts.readFile.bind(hearts),
    };
    const deps = testDeps(t.db, { clock: fixedClock("2026-11-20T11:00:00.000Z"), upstream: { hearts: broken, packs } });
    // The verdict is recorded, then the run fails (transient cause: the runner retries it).
    const failed = await watch(deps, { runId: "8d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(TransientError);
    expect((failed as Error).message).toMatch(/^watch verdict is error: banterhearts: upstream unreachable/);
    const stored = await t.db.query(
      "SELECT status FROM watcher_runs FINAL WHERE run_id = {id:UUID}",
      { id: "8d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" },
      z.object({ status: z.string() }),
    );
    expect(stored).toEqual([{ status: "error" }]);
    expect(seriesOf(deps.metrics, "muse.watch.status").map((s) => s.tags)).toEqual([expect.arrayContaining(["status:error"])]);

    const strict = testDeps(t.db, {
      clock: fixedClock("2026-11-20T11:00:00.000Z"),
      upstream: { hearts, packs },
      envVars: { MUSE_PACKS_MAX_LAG_SECONDS: "600" },
    });
    const verdict = await watch(strict, { runId: "9d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
    expect(verdict.summary.sources[1].status).toBe("degraded");
    expect(seriesOf(strict.metrics, "muse.watch.lag_seconds").map((s) => s.tags)).toEqual([
      expect.arrayContaining(["source:banterhearts"]),
      expect.arrayContaining(["source:banterpacks"]),
    ]);
  });
});
