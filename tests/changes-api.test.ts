import { v5 as uuidv5 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "../app/api/changes/route";
import { benchChange } from "./helpers/bench-changes";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { saveEnv, setEnv } from "./helpers/env";

/** GET /api/changes through its route handler, against real bench_changes rows (a migrated database of its own). */

const NS = "0c4f9f2e-7f55-4c43-9d7e-5a0b8f1e2d3c";
const id = (name: string) => uuidv5(name, NS);
let t: TestDatabase;
const saved = saveEnv(["CLICKHOUSE_URL", "CLICKHOUSE_DATABASE"]);

const change = (name: string, commit: string, status: string, overrides: Record<string, unknown> = {}) =>
  benchChange({ changeId: id(name), runId: id("run") }, commit, status, overrides);

beforeAll(async () => {
  t = await createTestDatabase();
  await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
  await t.db.insert("bench_changes", [
    change("open", "1", "open"),
    change("fixed", "2", "open", { commit_ts: "2026-11-17T09:00:00.000Z" }),
    change("kept", "3", "kept", { kind: "improvement", change_pct: -9, commit_ts: "2026-11-19T09:00:00.000Z" }),
    change("withdrawn", "4", "withdrawn"),
  ]);
  // A later run: the regression of commit 2 is fixed by commit 5 (newer version of the same change).
  await t.db.insert("bench_changes", [
    change("fixed", "2", "fixed", {
      commit_ts: "2026-11-17T09:00:00.000Z",
      updated_at: "2026-11-20T12:00:00.000Z",
      fixed_by_sha: "5".repeat(40),
      fixed_ts: "2026-11-20T09:00:00.000Z",
    }),
  ]);
});
afterAll(async () => {
  await setEnv(saved);
  await t?.drop();
});

async function get(query: string): Promise<{ status: number; body: Record<string, unknown>; cache: string | null }> {
  const response = await GET(new Request(`http://localhost/api/changes${query}`));
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, cache: response.headers.get("cache-control") };
}

describe("GET /api/changes", () => {
  it("returns the open regressions by default (latest version of each change), with a readable series label", async () => {
    const { status, body, cache } = await get("");
    expect(status).toBe(200);
    expect(cache).toContain("s-maxage=60");
    expect(body).toMatchObject({ status: "open", limit: 50, count: 1 });
    const [row] = body.changes as Record<string, unknown>[];
    expect(row).toMatchObject({
      change_id: id("open"),
      commit_sha: "1".repeat(40),
      status: "open",
      kind: "regression",
      change_pct: 18.3,
      ci_low_pct: 12.25,
      ci_high_pct: 24.5,
      label: "quantization llama-3.1-8b q4_k_m (d, cuda)",
    });
  });

  it("filters by status; all is open, fixed and kept (never withdrawn), newest commit first; limit bounds it", async () => {
    const fixed = await get("?status=fixed");
    expect((fixed.body.changes as { commit_sha: string; fixed_by_sha: string }[]).map((c) => [c.commit_sha[0], c.fixed_by_sha[0]])).toEqual([["2", "5"]]);
    const kept = await get("?status=kept");
    expect((kept.body.changes as { kind: string }[]).map((c) => c.kind)).toEqual(["improvement"]);
    const all = await get("?status=all");
    expect((all.body.changes as { commit_sha: string; status: string }[]).map((c) => [c.commit_sha[0], c.status])).toEqual([
      ["3", "kept"],
      ["1", "open"],
      ["2", "fixed"],
    ]);
    const limited = await get("?status=all&limit=2");
    expect(limited.body).toMatchObject({ count: 2, limit: 2 });
  });

  it("refuses invalid, unknown and repeated parameters with 400 naming the parameter", async () => {
    const cases: [string, string][] = [
      ["?status=withdrawn", "status"],
      ["?status=", "status"],
      ["?limit=0", "limit"],
      ["?limit=501", "limit"],
      ["?limit=abc", "limit"],
      ["?limit=1.5", "limit"],
      ["?since=2026-01-01", "since"],
      ["?status=open&status=fixed", "status"],
    ];
    for (const [query, parameter] of cases) {
      const { status, body, cache } = await get(query);
      expect(status, query).toBe(400);
      expect(body.parameter, query).toBe(parameter);
      expect(String(body.error), query).toContain(parameter);
      expect(cache, query).toBe("no-store");
    }
  });

  it("answers 503 when ClickHouse is unreachable, naming nothing of the connection", async () => {
    await setEnv({ CLICKHOUSE_URL: "http://127.0.0.1:9", CLICKHOUSE_DATABASE: t.config.database });
    try {
      const { status, body } = await get("?status=all");
      expect(status).toBe(503);
      expect(JSON.stringify(body)).not.toContain("127.0.0.1");
    } finally {
      await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
    }
  });
});
