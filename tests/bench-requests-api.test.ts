import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST as cannotRunRoute } from "../app/api/bench/requests/[id]/cannot-run/route";
import { POST as claimRoute } from "../app/api/bench/requests/[id]/claim/route";
import { GET as pendingRoute } from "../app/api/bench/requests/route";
import { POST as ingestRoute } from "../app/api/ingest/bench/route";
import { listRequests, putRequests, type NewBenchRequest } from "../lib/bisection/requests";
import { validateReports } from "../lib/ingest/reports/ingest";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { saveEnv, setEnv } from "./helpers/env";

/**
 * The runner API (GET /api/bench/requests, POST …/{id}/claim, POST
 * …/{id}/cannot-run) and the request id on POST /api/ingest/bench, through the
 * route handlers on real ClickHouse; and a runner's whole round trip.
 */

const RUNNER_TOKEN = "test-runner-token-9c2e51";
const INGEST_TOKEN = "test-ingest-token-4b7d02";
const BASE = "http://127.0.0.1";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const ENV_KEYS = ["MUSE_RUNNER_TOKEN", "MUSE_INGEST_TOKEN", "CLICKHOUSE_URL", "CLICKHOUSE_DATABASE", "MUSE_LOG_LEVEL", "DD_API_KEY", "MUSE_DLQ_DIR"] as const;
const FIXTURE = path.join(import.meta.dirname, "fixtures", "reports", "quantization.json");

let seq = 0;
function newRequest(overrides: Partial<NewBenchRequest> = {}): NewBenchRequest {
  seq += 1;
  const now = Date.now();
  return {
    request_id: `api-req-${seq}-${Math.random().toString(36).slice(2, 8)}`,
    event_id: "event-api",
    commit_sha: SHA,
    benchmark_type: "quantization",
    model: "meta-llama/Llama-3.2-3B-Instruct",
    quant: "int8",
    variant: "int8",
    dataset: "wikitext-2",
    device: "cuda",
    repeats: 2,
    reason: "bisect latency_p95_ms",
    requested_at: new Date(now - 60_000 + seq),
    expires_at: new Date(now + 86_400_000),
    ...overrides,
  };
}

/** A quantization report measured at `commit`, generated `minutesAgo` minutes ago (a repeat differs in generated_at). */
function report(commit: string, minutesAgo: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const r = JSON.parse(readFileSync(FIXTURE, "utf8")) as Record<string, unknown>;
  return { ...r, commit_sha: commit, generated_at: new Date(Date.now() - minutesAgo * 60_000).toISOString(), ...extra };
}

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
const params = (id: string) => ({ params: Promise.resolve({ id }) });

function getPending(query = "", token = RUNNER_TOKEN): Promise<Response> {
  return pendingRoute(new Request(`${BASE}/api/bench/requests${query}`, { headers: auth(token) }));
}
function claim(id: string, body: unknown, token = RUNNER_TOKEN, headers: Record<string, string> = { "Content-Type": "application/json" }): Promise<Response> {
  return claimRoute(
    new Request(`${BASE}/api/bench/requests/${encodeURIComponent(id)}/claim`, {
      method: "POST",
      headers: { ...auth(token), ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
    params(id),
  );
}
function cannotRun(id: string, body: unknown, token = RUNNER_TOKEN): Promise<Response> {
  return cannotRunRoute(
    new Request(`${BASE}/api/bench/requests/${encodeURIComponent(id)}/cannot-run`, {
      method: "POST",
      headers: { ...auth(token), "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }),
    params(id),
  );
}
function ingest(body: unknown, headers: Record<string, string> = {}, token = INGEST_TOKEN): Promise<Response> {
  return ingestRoute(
    new Request(`${BASE}/api/ingest/bench`, {
      method: "POST",
      headers: { ...auth(token), "Content-Type": "application/json", ...headers },
      body: JSON.stringify(body),
    }),
  );
}

let t: TestDatabase;
const saved = saveEnv(ENV_KEYS);
beforeAll(async () => {
  t = await createTestDatabase();
});
beforeEach(async () => {
  await setEnv({
    MUSE_RUNNER_TOKEN: RUNNER_TOKEN,
    MUSE_INGEST_TOKEN: INGEST_TOKEN,
    CLICKHOUSE_URL: t.config.url,
    CLICKHOUSE_DATABASE: t.config.database,
    MUSE_LOG_LEVEL: "error",
    DD_API_KEY: undefined,
    MUSE_DLQ_DIR: undefined,
  });
});
afterAll(async () => {
  await setEnv(saved);
  await t?.drop();
});

const statusOf = async (id: string) => (await listRequests(t.db, { ids: [id] }))[0]?.status;

describe("GET /api/bench/requests", () => {
  it("lists pending requests in the documented shape, oldest first, honouring ?limit=", async () => {
    const [a, b] = [newRequest(), newRequest()];
    await putRequests(t.db, [b, a]);
    const res = await getPending();
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await res.json();
    expect(Object.keys(body)).toEqual(["requests"]);
    const mine = body.requests.filter((r: { id: string }) => r.id === a.request_id || r.id === b.request_id);
    expect(mine).toEqual([
      {
        id: a.request_id,
        commit_sha: SHA,
        benchmark_type: "quantization",
        model: "meta-llama/Llama-3.2-3B-Instruct",
        quant: "int8",
        variant: "int8",
        dataset: "wikitext-2",
        device: "cuda",
        repeats: 2,
        reason: "bisect latency_p95_ms",
        requested_at: a.requested_at.toISOString(),
        expires_at: a.expires_at.toISOString(),
      },
      expect.objectContaining({ id: b.request_id }),
    ]);
    expect((await (await getPending("?limit=1")).json()).requests).toHaveLength(1);
  });

  it("400 naming a bad or unknown query parameter", async () => {
    for (const [query, parameter] of [
      ["?limit=0", "limit"],
      ["?limit=many", "limit"],
      ["?status=done", "status"],
    ]) {
      const res = await getPending(query);
      expect(res.status, query).toBe(400);
      const body = await res.json();
      expect(body.parameter, query).toBe(parameter);
      expect(body.error, query).toContain(parameter);
    }
  });
});

describe("POST /api/bench/requests/{id}/claim and /cannot-run", () => {
  it("200 with the request for the first runner, 409 for another, 404 for an unknown id, 410 once closed", async () => {
    const r = newRequest();
    await putRequests(t.db, [r]);
    const first = await claim(r.request_id, { runner: "gpu-box-1", lease_seconds: 600 });
    expect(first.status).toBe(200);
    const { request } = await first.json();
    expect(request).toMatchObject({ id: r.request_id, commit_sha: SHA, repeats: 2, status: "claimed", claimed_by: "gpu-box-1" });
    expect(Date.parse(request.lease_until) - Date.now()).toBeGreaterThan(590_000);
    expect((await getPending()).status).toBe(200);
    expect((await (await getPending()).json()).requests.map((q: { id: string }) => q.id)).not.toContain(r.request_id);

    const second = await claim(r.request_id, { runner: "gpu-box-2" });
    expect(second.status).toBe(409);
    expect((await second.json()).error).toContain("claimed by another runner");
    expect((await claim("no-such-request", { runner: "gpu-box-2" })).status).toBe(404);

    const skipped = await cannotRun(r.request_id, { runner: "gpu-box-1", reason: "the commit does not build" });
    expect(skipped.status).toBe(200);
    expect((await skipped.json()).request).toMatchObject({ id: r.request_id, status: "cannot_run", answer: "the commit does not build" });
    expect(await statusOf(r.request_id)).toBe("cannot_run");
    expect((await claim(r.request_id, { runner: "gpu-box-2" })).status).toBe(410);
    expect((await cannotRun(r.request_id, { runner: "gpu-box-2", reason: "no GPU" })).status).toBe(410);
    expect((await cannotRun("no-such-request", { runner: "gpu-box-2", reason: "no GPU" })).status).toBe(404);
  });

  it("a runner holding no claim may answer cannot-run; another runner's live claim answers 409", async () => {
    const [free, held] = [newRequest(), newRequest()];
    await putRequests(t.db, [free, held]);
    expect((await cannotRun(free.request_id, { runner: "cpu-box", reason: "needs cuda" })).status).toBe(200);
    expect((await claim(held.request_id, { runner: "gpu-box-1" })).status).toBe(200);
    expect((await cannotRun(held.request_id, { runner: "cpu-box", reason: "needs cuda" })).status).toBe(409);
  });

  it("400 naming the field for bad bodies and ids; 415 for another content type", async () => {
    const r = newRequest();
    await putRequests(t.db, [r]);
    const cases: [unknown, string][] = [
      [{}, "runner"],
      [{ runner: "" }, "runner"],
      [{ runner: 7 }, "runner"],
      [{ runner: "gpu\u0000box" }, "runner"],
      [{ runner: "gpu-box", lease_seconds: 1 }, "lease_seconds"],
      [{ runner: "gpu-box", lease_seconds: 1.5 }, "lease_seconds"],
      [{ runner: "gpu-box", lease_secs: 60 }, "lease_secs"],
    ];
    for (const [body, field] of cases) {
      const res = await claim(r.request_id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const answer = await res.json();
      expect(answer.field, JSON.stringify(body)).toBe(field);
      expect(answer.error, JSON.stringify(body)).toContain(field);
    }
    const noReason = await cannotRun(r.request_id, { runner: "gpu-box" });
    expect(noReason.status).toBe(400);
    expect((await noReason.json()).field).toBe("reason");
    for (const body of ["not json", "[]", "null"]) expect((await claim(r.request_id, body)).status, body).toBe(400);
    const badId = await claim("bad id!", { runner: "gpu-box" });
    expect(badId.status).toBe(400);
    expect((await badId.json()).parameter).toBe("id");
    expect((await claim(r.request_id, { runner: "gpu-box" }, RUNNER_TOKEN, { "Content-Type": "text/plain" })).status).toBe(415);
    expect(await statusOf(r.request_id)).toBe("pending");
  });
});

describe("tokens: the runner routes take MUSE_RUNNER_TOKEN only, and it opens nothing else", () => {
  it("refuses the ingest token (and no token) on the runner routes with 401", async () => {
    const r = newRequest();
    await putRequests(t.db, [r]);
    for (const res of [
      await getPending("", INGEST_TOKEN),
      await claim(r.request_id, { runner: "gpu-box" }, INGEST_TOKEN),
      await cannotRun(r.request_id, { runner: "gpu-box", reason: "x" }, INGEST_TOKEN),
      await pendingRoute(new Request(`${BASE}/api/bench/requests`)),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect(await statusOf(r.request_id)).toBe("pending");
  });

  it("refuses the runner token on POST /api/ingest/bench with 401", async () => {
    expect((await ingest(report(SHA, 1), {}, RUNNER_TOKEN)).status).toBe(401);
  });

  it("503 naming MUSE_RUNNER_TOKEN when it is not configured", async () => {
    await setEnv({ MUSE_RUNNER_TOKEN: undefined });
    const res = await getPending();
    expect(res.status).toBe(503);
    expect((await res.json()).error).toContain("MUSE_RUNNER_TOKEN");
  });
});

describe("POST /api/ingest/bench with a request id", () => {
  it("400 naming X-Muse-Request-Id when it is malformed", async () => {
    for (const bad of ["has space", "a".repeat(101), "semi;colon"]) {
      const res = await ingest(report(SHA, 1), { "X-Muse-Request-Id": bad });
      expect(res.status, bad).toBe(400);
      expect((await res.json()).error, bad).toContain("X-Muse-Request-Id");
    }
  });

  it("400 naming both when the header and the report's request_id disagree; a bad request_id in a report is a problem at its path", async () => {
    const res = await ingest([report(SHA, 1), report(SHA, 2, { request_id: "other-request" })], { "X-Muse-Request-Id": "this-request" });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toContain("X-Muse-Request-Id");
    expect(body.error).toContain("request_id");
    expect(body.error).toContain("other-request");
    expect(body.error).toContain("this-request");
    expect(body.problems).toEqual([{ index: 1, path: "request_id", message: expect.stringContaining("disagree") }]);

    const bad = await ingest(report(SHA, 1, { request_id: "no spaces" }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).problems).toEqual([{ index: 0, path: "request_id", message: expect.any(String) }]);
  });

  it("gives a report the same run id whether the request id came in the body or the header, and two repeats two ids", async () => {
    const one = report(SHA, 3);
    const viaHeader = validateReports([{ report: one, requestId: "req-x" }]);
    const viaBody = validateReports([{ report: { ...one, request_id: "req-x" } }]);
    const without = validateReports([{ report: one }]);
    const repeat = validateReports([{ report: report(SHA, 4), requestId: "req-x" }]);
    if (!viaHeader.ok || !viaBody.ok || !without.ok || !repeat.ok) throw new Error("fixture reports should be valid");
    expect(viaHeader.reports[0].run_id).toBe(viaBody.reports[0].run_id);
    expect(viaHeader.reports[0].run_id).toBe(without.reports[0].run_id);
    expect(repeat.reports[0].run_id).not.toBe(viaHeader.reports[0].run_id);
    expect(viaBody.reports[0].bench_runs.every((row) => row.request_id === "req-x")).toBe(true);
    expect(without.reports[0].bench_runs.every((row) => row.request_id === "")).toBe(true);
  });

  it("accepts a run for an unknown request (reported in the answer, not fatal)", async () => {
    const res = await ingest(report(SHA, 5), { "X-Muse-Request-Id": "never-requested" });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 1, requests_done: [], requests_unknown: ["never-requested"] });
  });
});

describe("a runner, end to end", () => {
  it("GET pending → claim → POST its repeats with X-Muse-Request-Id → the runs are stored with the request id and the request is done", async () => {
    const commit = "fedcba9876543210fedcba9876543210fedcba98";
    const r = newRequest({ commit_sha: commit, repeats: 2 });
    await putRequests(t.db, [r]);

    const listed = (await (await getPending("?limit=500")).json()).requests as { id: string; commit_sha: string; repeats: number }[];
    const job = listed.find((q) => q.id === r.request_id)!;
    expect(job).toMatchObject({ commit_sha: commit, repeats: 2 });

    const claimed = await claim(job.id, { runner: "gpu-box-e2e", lease_seconds: 3600 });
    expect(claimed.status).toBe(200);

    // The runner measures job.commit_sha job.repeats times and sends the reports together.
    const repeats = Array.from({ length: job.repeats }, (_, i) => report(job.commit_sha, 10 + i));
    const sent = await ingest(repeats, { "X-Muse-Request-Id": job.id });
    expect(sent.status).toBe(202);
    const answer = await sent.json();
    expect(answer).toEqual({ accepted: 2, run_ids: [expect.any(String), expect.any(String)], requests_done: [job.id], requests_unknown: [] });
    expect(new Set(answer.run_ids).size).toBe(2);

    const rows = await t.db.query<{ run_id: string; commit_sha: string; request_id: string }>(
      "SELECT DISTINCT run_id, commit_sha, request_id FROM bench_runs FINAL WHERE run_id IN {ids:Array(UUID)} ORDER BY run_id",
      { ids: answer.run_ids },
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatchObject({ commit_sha: commit, request_id: job.id });

    expect(await statusOf(job.id)).toBe("done");
    expect((await (await getPending("?limit=500")).json()).requests.map((q: { id: string }) => q.id)).not.toContain(job.id);
    expect((await claim(job.id, { runner: "gpu-box-late" })).status).toBe(410);
  });
});
