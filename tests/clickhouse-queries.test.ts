import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitRows, commitsSince, insertUpstreamCommits, latestCommitSha, newestCommitTs } from "../lib/clickhouse/queries/upstream-commits";
import { eventHours, rollUpSessionHours } from "../lib/clickhouse/queries/ui-events";
import { upstreamCommitRow } from "../lib/clickhouse/tables";
import type { UpstreamCommit } from "../lib/upstream/types";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/** The per-table query modules (lib/clickhouse/queries) against a migrated database of their own. */

const commit = (sha: string, ts: string): UpstreamCommit => ({
  sha: sha.repeat(40),
  ts,
  author: "a",
  message: `commit ${sha}`,
  parents: [],
  files: [
    { path: "src/a.ts", status: "modified", additions: 3, deletions: 1 },
    { path: "src/b.ts", status: "added", additions: 2, deletions: 0 },
  ],
});

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

describe("upstream_commits queries", () => {
  it("turns commits into valid rows with their change statistics", () => {
    const [row] = commitRows("banterpacks", [commit("1", "2026-11-01T00:00:00.000Z")]);
    expect(upstreamCommitRow.parse(row)).toMatchObject({ repo: "banterpacks", files: ["src/a.ts", "src/b.ts"], files_changed: 2, additions: 5, deletions: 1 });
  });

  it("answers nothing on an empty table, then the newest commit per repository", async () => {
    expect(await latestCommitSha(t.db, "banterhearts")).toBeUndefined();
    expect(await newestCommitTs(t.db, "banterpacks")).toBeUndefined();
    expect(await commitsSince(t.db, new Date(0))).toBe(0);
    await insertUpstreamCommits(t.db, "banterhearts", [commit("a", "2026-11-01T00:00:00.000Z"), commit("b", "2026-11-02T00:00:00.000Z")]);
    await insertUpstreamCommits(t.db, "banterpacks", [commit("c", "2026-11-03T00:00:00.000Z")]);
    await insertUpstreamCommits(t.db, "banterpacks", []);
    expect(await latestCommitSha(t.db, "banterhearts")).toBe("b".repeat(40));
    expect(await newestCommitTs(t.db, "banterpacks")).toBe("2026-11-03T00:00:00.000Z");
    expect(await commitsSince(t.db, new Date("2026-11-01T12:00:00Z"))).toBe(2);
  });
});

describe("ui_events queries", () => {
  it("lists the hours with events and rolls them up into session_stats", async () => {
    const session = "3b241101-e2bb-4255-8caf-4136c566a962";
    const event = (id: string, ts: string, type: string) => ({
      ts,
      event_id: id,
      session_id: session,
      commit_sha: "f".repeat(40),
      event_type: type,
      latency_ms: 100,
      user_agent: "",
      metadata: "{}",
    });
    await t.db.insert("ui_events", [
      event("00000000-0000-4000-8000-000000000001", "2026-11-05T10:05:00.000Z", "query_submit"),
      event("00000000-0000-4000-8000-000000000002", "2026-11-05T10:06:00.000Z", "query_result"),
      event("00000000-0000-4000-8000-000000000003", "2026-11-05T12:00:00.000Z", "query_submit"),
    ]);
    const hours = await eventHours(t.db, new Date("2026-11-05T00:00:00Z"), new Date("2026-11-06T00:00:00Z"), undefined);
    expect(hours).toEqual(["2026-11-05 10:00:00", "2026-11-05 12:00:00"]);
    await rollUpSessionHours(t.db, hours);
    const rows = await t.db.query<{ hour: string; events_count: number; abandoned_count: number }>(
      "SELECT hour, events_count, abandoned_count FROM session_stats FINAL ORDER BY hour",
    );
    expect(rows).toEqual([
      { hour: "2026-11-05T10:00:00Z", events_count: 2, abandoned_count: 0 },
      { hour: "2026-11-05T12:00:00Z", events_count: 1, abandoned_count: 1 },
    ]);
  });
});
