import { v5 as uuidv5 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET } from "../app/api/events/[id]/chart.svg/route";
import { benchEventRow } from "../lib/lifecycle/events";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { saveEnv, setEnv } from "./helpers/env";

/**
 * GET /api/events/{id}/chart.svg through its route handler, against real rows: a linear Banterhearts history, the
 * nightly runs of one series around a regression, one bisection run inside its range, and the stored event.
 */

const NS = "2b7c9d1e-3f4a-4b5c-8d6e-0f1a2b3c4d5e";
const id = (name: string) => uuidv5(name, NS);
const sha = (i: number) => String(i).repeat(40);
const day = (d: number) => new Date(Date.UTC(2026, 10, 1 + d, 9)).toISOString();
const saved = saveEnv(["CLICKHOUSE_URL", "CLICKHOUSE_DATABASE"]);
let t: TestDatabase;

const eventRow = (name: string, overrides: Record<string, unknown> = {}) =>
  benchEventRow.parse({
    event_id: id(name),
    first_detected_at: day(9),
    updated_at: day(9),
    run_id: id("run"),
    kind: "regression",
    state: "open",
    range_from_sha: sha(3),
    range_to_sha: sha(6),
    range_method: "graph",
    code_commits: [sha(4), sha(5), sha(6)],
    commit_ts: day(6),
    blamed_sha: "",
    bisection_status: "bisecting",
    bisection_steps: 1,
    bisection_steps_left: 1,
    bisection_extra_runs: 1,
    bisection_note: "",
    benchmark_type: "quantization",
    model: "llama-3.1-8b",
    quant: "q4_k_m",
    variant: "q4_k_m",
    dataset: "wikitext-2",
    device: "cuda",
    metric: "latency_p95_ms",
    label: "quantization llama-3.1-8b q4_k_m (wikitext-2, cuda)",
    change_pct: 20,
    ci_low_pct: 15,
    ci_high_pct: 25,
    q_value: 0.001,
    mean_before: 100,
    mean_after: 120,
    stdev_before: 1,
    stdev_after: 1,
    n_before: 3,
    n_after: 3,
    series_changed: 1,
    fixed_by_event_id: "",
    fixed_by_sha: "",
    recovered_pct: null,
    recovered_ci_low: null,
    recovered_ci_high: null,
    returns_of: "",
    ...overrides,
  });

const run = (i: number, commit: number, value: number, requestId = "") => ({
  ts: requestId ? day(10) : day(commit),
  run_id: uuidv5(`run-${i}`, NS),
  commit_sha: sha(commit),
  benchmark_type: "quantization",
  variant: "q4_k_m",
  model: "llama-3.1-8b",
  quant: "q4_k_m",
  dataset: "wikitext-2",
  device: "cuda",
  latency_mean_ms: value - 5,
  latency_p50_ms: value - 6,
  latency_p95_ms: value,
  latency_p99_ms: null,
  tokens_per_sec: 800,
  cost_per_1k: null,
  files_changed: 1,
  additions: 1,
  deletions: 1,
  request_id: requestId,
});

const get = (eventId: string) => GET(new Request(`http://localhost/api/events/${eventId}/chart.svg`), { params: Promise.resolve({ id: eventId }) });

beforeAll(async () => {
  t = await createTestDatabase();
  await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database });
  await t.db.insert(
    "upstream_commits",
    [1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({
      repo: "banterhearts",
      sha: sha(i),
      ts: day(i),
      author: "grace-h",
      message: `Commit ${i}`,
      parents: i === 1 ? [] : [sha(i - 1)],
      files: ["src/engine.py"],
      files_changed: 1,
      additions: 1,
      deletions: 1,
    })),
  );
  await t.db.insert("bench_runs", [run(1, 1, 100), run(2, 2, 101), run(3, 3, 99), run(4, 6, 120), run(5, 7, 121), run(6, 8, 119), run(7, 5, 120.5, "req-1")]);
  await t.db.insert("bench_events", [eventRow("range"), eventRow("no-code", { kind: "no_code", state: "environment", code_commits: [] })]);
});
afterAll(async () => {
  await setEnv(saved);
  await t?.drop();
});

describe("GET /api/events/{id}/chart.svg", () => {
  it("draws the event's chart as a standalone SVG: nightly and bisection runs, the range, the segment means", async () => {
    const res = await get(id("range"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=0, s-maxage=60, stale-while-revalidate=60");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'");
    const svg = await res.text();
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).not.toContain("<figure");
    expect(svg).not.toContain("<table");
    expect(svg).toContain("<title");
    expect(svg.match(/class="point-nightly"/g)).toHaveLength(6 + 1); // six runs and the legend's symbol
    expect(svg.match(/class="point-bisection"/g)).toHaveLength(1 + 1);
    expect(svg).toContain('data-role="range"');
    expect(svg).toContain("Still bisecting: the change is after 3333333, at or before 6666666");
    expect(svg).toContain("segment-before");
    expect(svg).toContain("segment-after");
    expect(svg).not.toMatch(/<script|javascript:/i);
  });

  it("answers 404 for an unknown or malformed id and for an event without a chart", async () => {
    expect((await get(id("nobody"))).status).toBe(404);
    expect((await get("not-a-uuid")).status).toBe(404);
    expect((await get(id("no-code"))).status).toBe(404);
  });
});
