import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v5 as uuidv5 } from "uuid";
import { collect, collectOptions } from "../lib/agents/collect";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { MemoryRepo, fixedClock, testDeps } from "./helpers/deps";

const NS = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
const S1 = "aaaaaaaa-1111-4111-8111-111111111111";
const S2 = "bbbbbbbb-2222-4222-8222-222222222222";
const SHA1 = "1".repeat(40);
const SHA2 = "2".repeat(40);

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

function event(session: string, ts: string, type: string, latency: number, sha = SHA1) {
  return {
    ts,
    event_id: uuidv5(`${session}|${ts}|${type}`, NS),
    session_id: session,
    commit_sha: sha,
    event_type: type,
    latency_ms: latency,
    user_agent: "",
    metadata: "{}",
  };
}

const packs = new MemoryRepo("banterpacks", [
  {
    sha: SHA1,
    ts: "2026-11-19T08:00:00.000Z",
    author: "a",
    message: "feat: overlay v1",
    parents: [],
    files: [{ path: "src/overlay.ts", status: "added", additions: 120, deletions: 0 }],
  },
  {
    sha: SHA2,
    ts: "2026-11-20T08:00:00.000Z",
    author: "b",
    message: "perf: cache replies",
    parents: [],
    files: [
      { path: "src/overlay.ts", status: "modified", additions: 10, deletions: 4 },
      { path: "src/cache.ts", status: "added", additions: 40, deletions: 0 },
    ],
  },
]);

describe("collect agent", () => {
  it("rolls up one row per session-hour with the documented definitions, and re-running never double counts", async () => {
    await t.db.insert("ui_events", [
      // Session 1, 10:00 hour: 2 queries, 1 answered (1 abandoned), 1 error out of 6 events.
      event(S1, "2026-11-20T10:00:00.000Z", "overlay_open", 100),
      event(S1, "2026-11-20T10:01:00.000Z", "query_submit", 200),
      event(S1, "2026-11-20T10:01:02.000Z", "query_result", 900),
      event(S1, "2026-11-20T10:05:00.000Z", "query_submit", 300),
      event(S1, "2026-11-20T10:05:30.000Z", "error", 500),
      event(S1, "2026-11-20T10:10:00.000Z", "overlay_close", 0, SHA2),
      // Session 1, 11:00 hour: one answered query.
      event(S1, "2026-11-20T11:00:00.000Z", "query_submit", 100),
      event(S1, "2026-11-20T11:00:01.000Z", "query_result", 300),
      // Session 2, 10:00 hour: no queries.
      event(S2, "2026-11-20T10:30:00.000Z", "overlay_open", 50),
    ]);
    const deps = testDeps(t.db, { clock: fixedClock("2026-11-20T12:00:00Z"), upstream: { hearts: new MemoryRepo("banterhearts"), packs } });
    const first = await collect(collectOptions.parse({ hours: 48 }), deps);
    expect(first.summary).toMatchObject({ commits: 2, hours_rolled_up: 2, session_rows: 3 });

    const rows = await t.db.query<Record<string, number | string>>(
      `SELECT toString(hour) AS h, toString(session_id) AS s, commit_sha, avg_latency_ms, latency_sum_ms, round(error_rate, 4) AS error_rate,
              round(abandonment_rate, 4) AS abandonment_rate, events_count, errors_count, queries_count, abandoned_count, answers_count, answer_latency_sum_ms, duration_seconds
         FROM session_stats FINAL ORDER BY h, s`,
    );
    expect(rows).toEqual([
      {
        h: "2026-11-20 10:00:00",
        s: S1,
        commit_sha: SHA2,
        avg_latency_ms: 333,
        latency_sum_ms: 2000,
        error_rate: 0.1667,
        abandonment_rate: 0.5,
        events_count: 6,
        errors_count: 1,
        queries_count: 2,
        abandoned_count: 1,
        answers_count: 1,
        answer_latency_sum_ms: 900,
        duration_seconds: 600,
      },
      {
        h: "2026-11-20 10:00:00",
        s: S2,
        commit_sha: SHA1,
        avg_latency_ms: 50,
        latency_sum_ms: 50,
        error_rate: 0,
        abandonment_rate: 0,
        events_count: 1,
        errors_count: 0,
        queries_count: 0,
        abandoned_count: 0,
        answers_count: 0,
        answer_latency_sum_ms: 0,
        duration_seconds: 0,
      },
      {
        h: "2026-11-20 11:00:00",
        s: S1,
        commit_sha: SHA1,
        avg_latency_ms: 200,
        latency_sum_ms: 400,
        error_rate: 0,
        abandonment_rate: 0,
        events_count: 2,
        errors_count: 0,
        queries_count: 1,
        abandoned_count: 0,
        answers_count: 1,
        answer_latency_sum_ms: 300,
        duration_seconds: 1,
      },
    ]);

    await collect(collectOptions.parse({ hours: 48 }), deps);
    const [{ c, events }] = await t.db.query<{ c: number; events: number }>("SELECT count() AS c, sum(events_count) AS events FROM session_stats FINAL");
    expect(Number(c)).toBe(3);
    expect(Number(events)).toBe(9);
    const commits = await t.db.query<{ sha: string; files_changed: number; additions: number }>(
      "SELECT sha, files_changed, additions FROM upstream_commits FINAL WHERE repo = 'banterpacks' ORDER BY ts",
    );
    expect(commits).toEqual([
      { sha: SHA1, files_changed: 1, additions: 120 },
      { sha: SHA2, files_changed: 2, additions: 50 },
    ]);
  });

  it("writes nothing on a dry run", async () => {
    const fresh = await createTestDatabase();
    try {
      await fresh.db.insert("ui_events", [event(S2, "2026-11-20T09:00:00.000Z", "overlay_open", 10)]);
      const deps = testDeps(fresh.db, { clock: fixedClock("2026-11-20T12:00:00Z"), upstream: { hearts: new MemoryRepo("banterhearts"), packs } });
      const result = await collect(collectOptions.parse({ dryRun: true }), deps);
      expect(result.summary.dry_run).toBe(true);
      const [{ c }] = await fresh.db.query<{ c: number }>("SELECT (SELECT count() FROM session_stats) + (SELECT count() FROM upstream_commits) AS c");
      expect(Number(c)).toBe(0);
    } finally {
      await fresh.drop();
    }
  });
});
