import { v5 as uuidv5 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "../app/api/changes/route";
import { benchEventRow } from "../lib/lifecycle/events";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { saveEnv, setEnv } from "./helpers/env";

/** GET /api/changes through its route handler, against real bench_events rows (a migrated database of its own). */

const NS = "0c4f9f2e-7f55-4c43-9d7e-5a0b8f1e2d3c";
const id = (name: string) => uuidv5(name, NS);
let t: TestDatabase;
const saved = saveEnv(["CLICKHOUSE_URL", "CLICKHOUSE_DATABASE"]);

/**
 * A bench_events row: by default an open 18.3 % p95-latency regression of llama-3.1-8b q4_k_m blamed on commit
 * `commit` × 40, at 2026-11-18 09:00; `overrides` change any column.
 */
const event = (name: string, commit: string, overrides: Record<string, unknown> = {}) => ({
  event_id: id(name),
  first_detected_at: "2026-11-19T12:00:00.000Z",
  updated_at: "2026-11-19T12:00:00.000Z",
  run_id: id("run"),
  kind: "regression",
  state: "open",
  range_from_sha: "0".repeat(40),
  range_to_sha: commit.repeat(40),
  range_method: "graph",
  code_commits: [commit.repeat(40)],
  commit_ts: "2026-11-18T09:00:00.000Z",
  blamed_sha: commit.repeat(40),
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
  series_changed: 2,
  fixed_by_event_id: "",
  fixed_by_sha: "",
  recovered_pct: null,
  recovered_ci_low: null,
  recovered_ci_high: null,
  returns_of: "",
  ...overrides,
});

beforeAll(async () => {
  t = await createTestDatabase();
  await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
  await t.db.insert("bench_events", [
    event("open", "1"),
    event("partly", "2", { commit_ts: "2026-11-17T09:00:00.000Z" }),
    event("fixed", "3", { commit_ts: "2026-11-16T09:00:00.000Z" }),
    event("kept", "4", { kind: "improvement", state: "kept", change_pct: -9, commit_ts: "2026-11-19T09:00:00.000Z" }),
    event("environment", "5", { kind: "no_code", state: "environment", code_commits: [], blamed_sha: "", commit_ts: "2026-11-15T09:00:00.000Z" }),
    event("withdrawn", "6", { state: "withdrawn" }),
    // A range being bisected: no commit blamed yet.
    event("range", "7", {
      commit_ts: "2026-11-20T09:00:00.000Z",
      range_from_sha: "a".repeat(40),
      code_commits: ["7".repeat(40), "8".repeat(40), "9".repeat(40)],
      blamed_sha: "",
      bisection_status: "bisecting",
      bisection_steps: 1,
      bisection_steps_left: 1,
      bisection_extra_runs: 3,
    }),
  ]);
  // A later council run: the regression of commit 2 is partly fixed, that of commit 3 fixed (newer versions of the same events).
  await t.db.insert("bench_events", [
    event("partly", "2", {
      commit_ts: "2026-11-17T09:00:00.000Z",
      updated_at: "2026-11-20T12:00:00.000Z",
      state: "partly_fixed",
      fixed_by_event_id: id("fix-2"),
      fixed_by_sha: "c".repeat(40),
      recovered_pct: 52,
      recovered_ci_low: 31,
      recovered_ci_high: 73,
    }),
    event("fixed", "3", {
      commit_ts: "2026-11-16T09:00:00.000Z",
      updated_at: "2026-11-20T12:00:00.000Z",
      state: "fixed",
      fixed_by_event_id: id("fix-3"),
      fixed_by_sha: "d".repeat(40),
      recovered_pct: 101,
      recovered_ci_low: 92,
      recovered_ci_high: 110,
    }),
  ]);
});
afterAll(async () => {
  await setEnv(saved);
  await t?.drop();
});

type Event = Record<string, unknown> & { event_id: string; state: string };

async function get(query: string): Promise<{ status: number; body: Record<string, unknown>; cache: string | null }> {
  const response = await GET(new Request(`http://localhost/api/changes${query}`));
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, cache: response.headers.get("cache-control") };
}

const events = (body: Record<string, unknown>) => body.events as Event[];

describe("GET /api/changes", () => {
  it("returns the regression events still open, fully or in part, by default (latest version of each), newest commit first", async () => {
    const { status, body, cache } = await get("");
    expect(status).toBe(200);
    expect(cache).toContain("s-maxage=60");
    expect(Object.keys(body)).toEqual(["events"]);
    expect(events(body).map((e) => [e.event_id, e.state])).toEqual([
      [id("range"), "open"],
      [id("open"), "open"],
      [id("partly"), "partly_fixed"],
    ]);
    expect(events(body)[0]).toMatchObject({
      kind: "regression",
      blamed_sha: "",
      range_from_sha: "a".repeat(40),
      range_to_sha: "7".repeat(40),
      code_commits: ["7".repeat(40), "8".repeat(40), "9".repeat(40)],
      bisection_status: "bisecting",
      bisection_steps: 1,
      bisection_steps_left: 1,
      bisection_extra_runs: 3,
      commit_ts: "2026-11-20T09:00:00.000Z",
      first_detected_at: "2026-11-19T12:00:00.000Z",
    });
    expect(events(body)[2]).toMatchObject({
      label: "quantization llama-3.1-8b q4_k_m (d, cuda)",
      metric: "latency_p95_ms",
      change_pct: 18.3,
      ci_low_pct: 12.25,
      ci_high_pct: 24.5,
      blamed_sha: "2".repeat(40),
      fixed_by_sha: "c".repeat(40),
      recovered_pct: 52,
      recovered_ci_low: 31,
      recovered_ci_high: 73,
      returns_of: "",
    });
  });

  it("answers each event with every column of bench_events but the bookkeeping ones (run_id, updated_at)", async () => {
    const { body } = await get("");
    const expected = Object.keys(benchEventRow.shape).filter((c) => c !== "run_id" && c !== "updated_at");
    for (const e of events(body)) expect(Object.keys(e)).toEqual(expected);
  });

  it("filters by state (never withdrawn); limit bounds it", async () => {
    const only = async (state: string) => events((await get(`?state=${state}`)).body).map((e) => [e.event_id, e.state]);
    expect(await only("open")).toEqual([
      [id("range"), "open"],
      [id("open"), "open"],
    ]);
    expect(await only("partly_fixed")).toEqual([[id("partly"), "partly_fixed"]]);
    expect(await only("fixed")).toEqual([[id("fixed"), "fixed"]]);
    expect(await only("kept")).toEqual([[id("kept"), "kept"]]);
    expect(await only("environment")).toEqual([[id("environment"), "environment"]]);
    const fixed = events((await get("?state=fixed")).body)[0];
    expect(fixed).toMatchObject({ fixed_by_event_id: id("fix-3"), fixed_by_sha: "d".repeat(40), recovered_pct: 101 });
    const limited = await get("?limit=2");
    expect(events(limited.body).map((e) => e.event_id)).toEqual([id("range"), id("open")]);
    const one = await get("?state=open&limit=1");
    expect(events(one.body).map((e) => e.event_id)).toEqual([id("range")]);
  });

  it("refuses invalid, unknown and repeated parameters with 400 naming the parameter", async () => {
    const cases: [string, string][] = [
      ["?state=withdrawn", "state"],
      ["?state=all", "state"],
      ["?state=", "state"],
      ["?state=open,fixed", "state"],
      ["?limit=0", "limit"],
      ["?limit=501", "limit"],
      ["?limit=abc", "limit"],
      ["?limit=1.5", "limit"],
      ["?status=open", "status"],
      ["?since=2026-01-01", "since"],
      ["?state=open&state=fixed", "state"],
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
      const { status, body } = await get("?state=fixed");
      expect(status).toBe(503);
      expect(JSON.stringify(body)).not.toContain("127.0.0.1");
    } finally {
      await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
    }
  });
});
