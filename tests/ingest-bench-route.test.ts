import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST } from "../app/api/ingest/bench/route";
import { validateReports } from "../lib/ingest/reports/ingest";
import { BENCHMARK_TYPES, type BenchmarkType } from "../lib/ingest/reports/schemas";
import { generateReport } from "../lib/seed/reports";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { saveEnv, setEnv } from "./helpers/env";
import { streamedPost } from "./helpers/streamed-request";

const TOKEN = "test-ingest-token-5f1c";
const HEADER_SHA = "feedfacefeedfacefeedfacefeedfacefeedface";
const URL = "http://127.0.0.1/api/ingest/bench";
const FIXTURES = path.join(import.meta.dirname, "fixtures", "reports");
const ENV_KEYS = ["MUSE_INGEST_TOKEN", "CLICKHOUSE_URL", "CLICKHOUSE_DATABASE", "MUSE_LOG_LEVEL", "DD_API_KEY", "MUSE_DLQ_DIR"] as const;
const DLQ_DIR = mkdtempSync(path.join(os.tmpdir(), "muse-bench-dlq-"));

/** Rows each fixture produces (see tests/reports.test.ts for their content). */
const EXPECTED_BENCH_ROWS: Record<BenchmarkType, number> = {
  compilation: 5,
  quantization: 4,
  kernel_optimization: 6,
  attention_mechanism: 4,
  memory_optimization: 4,
  model_compilation: 3,
  inference_performance: 1,
  prompt_suite: 3,
  system_performance: 1,
};
const EXPECTED_LLM_ROWS = 4; // prompt_suite: 3 models, inference_performance: 1

function fixture(type: BenchmarkType): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, `${type}.json`), "utf8"));
}

function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return POST(
    new Request(URL, {
      method: "POST",
      headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

describe("POST /api/ingest/bench", () => {
  let test: TestDatabase;
  const saved = saveEnv(ENV_KEYS);

  const counts = async () => {
    const [row] = await test.db.query<{ bench: number; llm: number }>(
      "SELECT (SELECT count() FROM bench_runs FINAL) AS bench, (SELECT count() FROM llm_events FINAL) AS llm",
    );
    return row;
  };
  const benchCountsByType = async () =>
    Object.fromEntries(
      (await test.db.query<{ benchmark_type: string; n: number }>("SELECT benchmark_type, count() AS n FROM bench_runs FINAL GROUP BY benchmark_type")).map(
        (r) => [r.benchmark_type, r.n],
      ),
    );

  beforeAll(async () => {
    test = await createTestDatabase();
  });
  beforeEach(async () => {
    await setEnv({
      MUSE_INGEST_TOKEN: TOKEN,
      CLICKHOUSE_URL: test.config.url,
      CLICKHOUSE_DATABASE: test.config.database,
      MUSE_LOG_LEVEL: "error",
      DD_API_KEY: undefined,
      MUSE_DLQ_DIR: DLQ_DIR,
    });
  });
  afterAll(async () => {
    await setEnv(saved);
    await test?.drop();
    rmSync(DLQ_DIR, { recursive: true, force: true });
  });

  it("accepts every report type (202) and writes its rows", async () => {
    for (const type of BENCHMARK_TYPES) {
      // kernel_optimization carries no commit_sha: the header supplies it.
      const res = await post(fixture(type), { "X-Commit-Sha": HEADER_SHA });
      expect(res.status, type).toBe(202);
      const body = await res.json();
      expect(body).toEqual({ accepted: 1, run_ids: [expect.stringMatching(/^[0-9a-f-]{36}$/)] });
      const [row] = await test.db.query<{ n: number }>("SELECT count() AS n FROM bench_runs FINAL WHERE run_id = {id:UUID}", { id: body.run_ids[0] });
      expect(row.n, type).toBe(EXPECTED_BENCH_ROWS[type]);
    }
    expect(await benchCountsByType()).toEqual(EXPECTED_BENCH_ROWS);
    const llm = await test.db.query<{ model: string; tokens_in: number; tokens_out: number; status: string; source: string }>(
      "SELECT model, tokens_in, tokens_out, status, source FROM llm_events FINAL ORDER BY model",
    );
    expect(llm).toEqual([
      { model: "gemma2:9b", tokens_in: 0, tokens_out: 341, status: "reported", source: "banterhearts" },
      { model: "gpt-4o-mini", tokens_in: 129, tokens_out: 468, status: "reported", source: "banterhearts" },
      { model: "llama3.1:8b-instruct-q4_0", tokens_in: 0, tokens_out: 512, status: "reported", source: "banterhearts" },
      { model: "mistral:7b-instruct-q4_K_M", tokens_in: 0, tokens_out: 1187, status: "reported", source: "banterhearts" },
    ]);
  });

  it("re-ingesting the same reports (as one array) changes no counts and returns the same run_ids", async () => {
    const before = await counts();
    expect(before).toEqual({ bench: Object.values(EXPECTED_BENCH_ROWS).reduce((a, b) => a + b, 0), llm: EXPECTED_LLM_ROWS });
    const reports = BENCHMARK_TYPES.map(fixture);
    const first = await (await post(reports, { "X-Commit-Sha": HEADER_SHA })).json();
    const second = await post(reports, { "X-Commit-Sha": HEADER_SHA });
    expect(second.status).toBe(202);
    const body = await second.json();
    expect(body.accepted).toBe(9);
    expect(body.run_ids).toEqual(first.run_ids);
    expect(await counts()).toEqual(before);
  });

  it("applies X-Commit-Sha to reports without commit_sha, and not to reports that have one", async () => {
    const res = await post([fixture("kernel_optimization"), fixture("system_performance")], { "X-Commit-Sha": HEADER_SHA.toUpperCase() });
    expect(res.status).toBe(202);
    const { run_ids } = await res.json();
    const shas = await test.db.query<{ run_id: string; commit_sha: string }>(
      "SELECT DISTINCT run_id, commit_sha FROM bench_runs FINAL WHERE run_id IN {ids:Array(UUID)}",
      { ids: run_ids },
    );
    expect(Object.fromEntries(shas.map((s) => [s.run_id, s.commit_sha]))).toEqual({
      [run_ids[0]]: HEADER_SHA,
      [run_ids[1]]: "9d8c7b6a5f4e3d2c1b0a99887766554433221100",
    });
  });

  it("rejects a report without any commit sha, and a malformed X-Commit-Sha", async () => {
    const missing = await post(fixture("kernel_optimization"));
    expect(missing.status).toBe(400);
    expect((await missing.json()).problems).toEqual([{ index: 0, path: "commit_sha", message: expect.any(String) }]);
    const malformed = await post(fixture("kernel_optimization"), { "X-Commit-Sha": "main" });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error).toContain("X-Commit-Sha");
  });

  it("a batch with one bad report is refused with its index and path, and nothing is written", async () => {
    const before = await counts();
    const fresh = generateReport("compilation", {
      generatedAt: new Date("2026-05-01T00:00:00Z"),
      commitSha: HEADER_SHA,
      model: "mistral-7b",
      performance: 1,
      rng: () => 0.5,
    });
    const bad = fixture("compilation");
    (bad.backends as Record<string, { benchmark: Record<string, unknown> }>).onnx.benchmark.p95_time_ms = -3;
    const res = await post([fresh, fixture("quantization"), bad]);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toContain("nothing was written");
    expect(body.problems).toEqual([{ index: 2, path: "backends.onnx.benchmark.p95_time_ms", message: expect.any(String) }]);
    expect(await counts()).toEqual(before);
    const freshRunId = (validateReports([{ report: fresh }]) as { ok: true; reports: { run_id: string }[] }).reports[0].run_id;
    const [row] = await test.db.query<{ n: number }>("SELECT count() AS n FROM bench_runs WHERE run_id = {id:UUID}", { id: freshRunId });
    expect(row.n).toBe(0);
  });

  it("lists at most 100 problems", async () => {
    const res = await post(Array.from({ length: 150 }, () => ({ benchmark_type: "nope" })));
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.problems).toHaveLength(100);
    expect(body.problems[99]).toMatchObject({ index: 99, path: "benchmark_type" });
  });

  it("401 without a token or with a wrong one", async () => {
    const without = await POST(new Request(URL, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }));
    expect(without.status).toBe(401);
    expect(without.headers.get("WWW-Authenticate")).toContain("Bearer");
    const wrong = await post(fixture("compilation"), { Authorization: "Bearer not-the-token" });
    expect(wrong.status).toBe(401);
  });

  it("503 naming MUSE_INGEST_TOKEN when it is not configured", async () => {
    await setEnv({ MUSE_INGEST_TOKEN: undefined });
    const res = await post(fixture("compilation"));
    expect(res.status).toBe(503);
    expect((await res.json()).error).toContain("MUSE_INGEST_TOKEN");
  });

  it("415 for a content type other than application/json", async () => {
    const res = await post(JSON.stringify(fixture("compilation")), { "Content-Type": "text/plain" });
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: expect.stringContaining("application/json") });
    expect((await post(fixture("system_performance"), { "Content-Type": "application/json; charset=utf-8" })).status).toBe(202);
    // The body is decoded as UTF-8, so a declared other charset is refused rather than misread.
    expect((await post(fixture("system_performance"), { "Content-Type": "application/json; charset=iso-8859-1" })).status).toBe(415);
  });

  it("400 naming the body when the upload breaks off mid-body, and writes nothing", async () => {
    const before = await counts();
    const half = new TextEncoder().encode(JSON.stringify(fixture("compilation")).slice(0, 200));
    const { request } = streamedPost(
      URL,
      { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json", "X-Commit-Sha": "a".repeat(40) },
      [half],
      new Error("socket hang up"),
    );
    const res = await POST(request);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/request body could not be read/);
    expect(await counts()).toEqual(before);
  });

  it("413 when Content-Length says more than 1 MiB, or the body turns out bigger", async () => {
    const declared = await post(fixture("compilation"), { "Content-Length": String(2 * 1024 * 1024) });
    expect(declared.status).toBe(413);
    // No Content-Length on a streamed body: the bytes read decide.
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    const { request } = streamedPost(URL, { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" }, Array(20).fill(chunk));
    const streamed = await POST(request);
    expect(streamed.status).toBe(413);
    const big = await post(JSON.stringify([{ padding: "x".repeat(1024 * 1024) }]));
    expect(big.status).toBe(413);
  });

  it("413 for more than 1000 reports", async () => {
    const res = await post(Array.from({ length: 1001 }, () => ({})));
    expect(res.status).toBe(413);
  });

  it("400 when the body is not JSON, empty, or not a report", async () => {
    const notJson = await post("{ nope");
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error).toContain("not valid JSON");
    expect((await post("")).status).toBe(400);
    expect((await post([])).status).toBe(400);
    const scalar = await post("42");
    expect(scalar.status).toBe(400);
    expect((await scalar.json()).problems).toEqual([{ index: 0, path: "", message: expect.any(String) }]);
  });

  it("503 without internals when ClickHouse is unreachable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await setEnv({ CLICKHOUSE_URL: `http://127.0.0.1:${port}` });

    const res = await post(fixture("compilation"));
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error).toContain("ClickHouse is unreachable");
    expect(body.error).not.toMatch(/INSERT|at .*\.ts|ECONNREFUSED/);
    // ...and the rows wait in the dead-letter store as well (replay: tests/dlq.test.ts).
    expect(body.error).toContain("queued for replay");
    expect(readdirSync(DLQ_DIR)).toEqual([expect.stringMatching(/^bench-[0-9a-f]{32}\.json$/)]);
  });
});
