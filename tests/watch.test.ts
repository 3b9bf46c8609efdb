// The watcher must compute in UTC whatever the machine's zone: run this file in a far-off one.
process.env.TZ = "Pacific/Kiritimati";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v5 as uuidv5 } from "uuid";
import { readLatestWatcherRun, watch } from "../lib/agents/watch";
import type { UpstreamRepo } from "../lib/upstream/types";
import { UpstreamError } from "../lib/upstream/types";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { MemoryRepo, fixedClock, testDeps } from "./helpers/deps";

const NS = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
const HEARTS_SHA = "a".repeat(40);
const PACKS_SHA = "b".repeat(40);
const OLD_PACKS_SHA = "c".repeat(40);

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await t.db.insert("bench_runs", [
    {
      ts: "2026-11-20T09:00:00.000Z", run_id: uuidv5("r1", NS), commit_sha: HEARTS_SHA, benchmark_type: "quantization", variant: "int8",
      model: "llama-3.1-8b", quant: "int8", dataset: "unknown", device: "cuda", latency_mean_ms: 10, latency_p50_ms: null, latency_p95_ms: 14,
      latency_p99_ms: null, tokens_per_sec: 100, cost_per_1k: null, memory_peak_mb: null, extra: "{}", source_path: "",
    },
  ]);
  await t.db.insert("ui_events", [
    // The newest Banterpacks event for the latest commit is at 10:30 UTC.
    { ts: "2026-11-20T10:30:00.000Z", event_id: uuidv5("e1", NS), session_id: uuidv5("s", NS), commit_sha: PACKS_SHA, event_type: "query_submit", latency_ms: 5, user_agent: "", metadata: "{}" },
    { ts: "2026-11-20T10:00:00.000Z", event_id: uuidv5("e2", NS), session_id: uuidv5("s", NS), commit_sha: PACKS_SHA, event_type: "overlay_open", latency_ms: 5, user_agent: "", metadata: "{}" },
  ]);
});
afterAll(async () => {
  await t.drop();
});

const commit = (sha: string, ts: string) => ({ sha, ts, author: "dev", message: "m", files: [] });
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

  it("is error when an upstream repository cannot be reached, and honours configured thresholds", async () => {
    const broken: UpstreamRepo = { ...hearts, name: "banterhearts", location: "x", latestCommit: async () => { throw new UpstreamError("connect ECONNREFUSED", true); }, listCommits: hearts.listCommits.bind(hearts), readFile: hearts.readFile.bind(hearts) };
    const deps = testDeps(t.db, { clock: fixedClock("2026-11-20T11:00:00.000Z"), upstream: { hearts: broken, packs } });
    const result = await watch(deps, { runId: "8d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
    expect(result.summary.verdict).toBe("error");
    expect(result.summary.reasons[0]).toContain("upstream unreachable");

    const strict = testDeps(t.db, { clock: fixedClock("2026-11-20T11:00:00.000Z"), upstream: { hearts, packs }, envVars: { MUSE_PACKS_MAX_LAG_SECONDS: "600" } });
    const verdict = await watch(strict, { runId: "9d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a" });
    expect(verdict.summary.sources[1].status).toBe("degraded");
    expect(strict.metrics.pending().filter((s) => s.metric === "muse.watch.lag_seconds").map((s) => s.tags)).toEqual([
      expect.arrayContaining(["source:banterhearts"]),
      expect.arrayContaining(["source:banterpacks"]),
    ]);
  });
});
