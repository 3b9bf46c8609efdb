import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as postBench } from "../../app/api/ingest/bench/route";
import { POST as postEvents } from "../../app/api/ingest/events/route";
import { runCli } from "../../lib/cli";
import type { Db } from "../../lib/clickhouse/client";
import { createDlq } from "../../lib/dlq";
import { migratedDatabase, startClickHouseChild, type ClickHouseChild } from "./helpers/clickhouse-child";
import { setEnv } from "../helpers/env";
import { expectEventsExactlyOnce } from "./helpers/exactly-once";
import { Gen, HARDENING_SEED } from "./helpers/gen";
import { serveRoutes, type RouteServer } from "./helpers/http";
import { report } from "./helpers/leaks";
import { HARDENING_SECRETS } from "./helpers/setup";

/**
 * ClickHouse failing under the ingest routes, on a ClickHouse of this file's
 * own (a child process on a free port with its own data directory):
 *
 * 1. killed (SIGKILL) while clients are ingesting, requests in flight: every
 *    answer is a clean 202 — stored, or queued in the dead-letter store with
 *    `queued: true` — or, for reports, 503 "queued for replay"; never a 5xx
 *    from a throwing handler, never a hang;
 * 2. frozen (SIGSTOP) so requests time out, some of which it then executes
 *    when it thaws: the same rows land twice, by two paths;
 * 3. restarted on the same data directory, clients retrying some requests,
 *    `muse dlq replay` run twice: every accepted event is in ClickHouse
 *    exactly once, every accepted report's rows too, and the store is empty.
 */

const SHA = "7".repeat(40);
const fixture = (name: string) =>
  JSON.parse(readFileSync(path.join(import.meta.dirname, "..", "fixtures", "reports", `${name}.json`), "utf8")) as Record<string, unknown>;
const REPORT_TYPES = ["quantization", "compilation", "inference_performance", "prompt_suite", "kernel_optimization"];

interface EventsRequest {
  uids: string[];
  body: string;
  key?: string;
}
interface EventsAnswer {
  request: EventsRequest;
  status: number;
  accepted?: number;
  queued?: boolean;
  error?: string;
}

let dataDir: string;
let dlqDir: string;
let clickhouse: ClickHouseChild;
let db: Db;
let server: RouteServer;
const gen = new Gen(HARDENING_SEED + 1);

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "muse-hardening-faults-ch-"));
  dlqDir = mkdtempSync(path.join(os.tmpdir(), "muse-hardening-faults-dlq-"));
  clickhouse = await startClickHouseChild({ dataDir });
  const target = await migratedDatabase(clickhouse.url);
  db = target.db;
  await setEnv({
    CLICKHOUSE_URL: clickhouse.url,
    CLICKHOUSE_DATABASE: target.config.database,
    CLICKHOUSE_REQUEST_TIMEOUT_MS: "1500",
    MUSE_DLQ_DIR: dlqDir,
    MUSE_LOG_LEVEL: "info",
  });
  server = await serveRoutes({ "/api/ingest/events": postEvents, "/api/ingest/bench": postBench });
});

afterAll(async () => {
  await server?.close();
  await setEnv({ CLICKHOUSE_URL: undefined, CLICKHOUSE_DATABASE: undefined, CLICKHOUSE_REQUEST_TIMEOUT_MS: undefined, MUSE_DLQ_DIR: process.env.MUSE_DLQ_DIR });
  await db?.close();
  await clickhouse?.stop();
  for (const dir of [dataDir, dlqDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

let batchNo = 0;
function eventsRequest(keyed: boolean): EventsRequest {
  const b = batchNo++;
  const session = gen.uuid();
  const uids = Array.from({ length: gen.int(1, 5) }, (_, j) => `f${b}x${j}`);
  const base = Date.now() - gen.int(60, 3 * 86_400) * 1000;
  const events = uids.map((uid, j) => ({
    ts: new Date(base + j).toISOString(),
    session_id: session,
    commit_sha: SHA,
    event_type: gen.pick(["query_submit", "query_result", "ui.click"]),
    latency_ms: gen.int(1, 900),
    metadata: { uid },
  }));
  return { uids, body: JSON.stringify({ events }), key: keyed ? `faults-${HARDENING_SEED}-${b}` : undefined };
}

async function sendEvents(request: EventsRequest): Promise<EventsAnswer> {
  const res = await fetch(`${server.url}/api/ingest/events`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${HARDENING_SECRETS.MUSE_INGEST_TOKEN}`,
      "content-type": "application/json",
      ...(request.key ? { "idempotency-key": request.key } : {}),
    },
    body: request.body,
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await res.json()) as { accepted?: number; queued?: boolean; error?: string };
  return { request, status: res.status, ...json };
}

function benchReport(i: number): Record<string, unknown> {
  // Distinct content → distinct run_id: a fixture with its own generated_at.
  const r = fixture(REPORT_TYPES[i % REPORT_TYPES.length]);
  r.generated_at = new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString();
  r.commit_sha = SHA;
  return r;
}

async function sendReport(report: Record<string, unknown>) {
  const res = await fetch(`${server.url}/api/ingest/bench`, {
    method: "POST",
    headers: { authorization: `Bearer ${HARDENING_SECRETS.MUSE_INGEST_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(report),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, json: (await res.json()) as { accepted?: number; run_ids?: string[]; error?: string } };
}

/** Clients sending until `stop()` resolves, `count` requests each at most. */
async function clients(n: number, count: number, until: { done: boolean }): Promise<EventsAnswer[]> {
  const answers: EventsAnswer[] = [];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let i = 0; i < count && !until.done; i++) answers.push(await sendEvents(eventsRequest(gen.chance(0.5))));
    }),
  );
  return answers;
}

describe("ClickHouse stopped, frozen and restarted under the ingest routes", () => {
  const answers: EventsAnswer[] = [];
  const reports: { report: Record<string, unknown>; status: number; error?: string }[] = [];

  it("while it runs: every request is stored", async () => {
    const until = { done: false };
    answers.push(...(await clients(3, 10, until)));
    for (let i = 0; i < 3; i++) {
      const r = benchReport(i);
      const res = await sendReport(r);
      reports.push({ report: r, status: res.status });
    }
    expect(answers.map((a) => [a.status, a.queued ?? false])).toEqual(answers.map(() => [202, false]));
    expect(reports.map((r) => r.status)).toEqual([202, 202, 202]);
  });

  it("killed mid-ingest: every answer is a clean 202 (stored or queued) or a 503 that says the report was queued", async () => {
    const until = { done: false };
    const running = clients(4, 1_000, until);
    // Let requests flow, then crash the server under them.
    await new Promise((r) => setTimeout(r, 400));
    await clickhouse.kill();
    const killedAt = answers.length;
    // Keep ingesting against the dead server for a while.
    await new Promise((r) => setTimeout(r, 3_000));
    until.done = true;
    const during = await running;
    answers.push(...during);
    for (let i = 3; i < 6; i++) {
      const r = benchReport(i);
      const res = await sendReport(r);
      reports.push({ report: r, status: res.status, error: res.json.error });
    }

    expect(server.thrown).toEqual([]);
    const bad = during.filter((a) => a.status !== 202 || a.accepted !== a.request.uids.length);
    expect(bad.map((a) => ({ status: a.status, error: a.error }))).toEqual([]);
    const queued = during.filter((a) => a.queued);
    expect(queued.length).toBeGreaterThan(0);
    expect(reports.slice(3).map((r) => r.status)).toEqual([503, 503, 503]);
    expect(reports.slice(3).every((r) => /queued for replay/.test(r.error ?? ""))).toBe(true);
    report(`killed after ${killedAt} requests: ${during.length} answered during the outage window, ${queued.length} queued to the DLQ`);
  });

  it("restarted on the same data: retries and a replay (twice) leave every accepted event and report exactly once", async () => {
    clickhouse = await startClickHouseChild({ dataDir, port: clickhouse.port });

    // Some clients retry what they sent during the outage (with or without their key) before the replay runs.
    const queued = answers.filter((a) => a.queued);
    for (const a of queued.slice(0, 8)) {
      const retry = await sendEvents(a.request);
      expect(retry.status).toBe(202);
      expect(retry.queued).toBeUndefined();
    }
    // The bench sender retries its refused reports (the store has them too).
    for (const r of reports.slice(3, 5)) expect((await sendReport(r.report)).status).toBe(202);

    const dlq = createDlq({ dir: dlqDir });
    expect(await dlq.depth()).toBeGreaterThan(0);
    const first = await runCli(["dlq", "replay"]);
    expect(first).toBe(0);
    expect(await dlq.depth()).toBe(0);
    // A second replay (an operator running it again) finds nothing and changes nothing.
    expect(await runCli(["dlq", "replay"])).toBe(0);

    await expectExactlyOnce(answers, reports);
  });

  it("frozen (requests time out, then it thaws and executes them): still exactly once after the replay", async () => {
    const before = answers.length;
    process.kill(clickhouse.pid, "SIGSTOP");
    let frozen: EventsAnswer[];
    try {
      const batch = [eventsRequest(true), eventsRequest(false), eventsRequest(true)];
      frozen = await Promise.all(batch.map(sendEvents));
    } finally {
      process.kill(clickhouse.pid, "SIGCONT");
    }
    answers.push(...frozen);
    expect(frozen.map((a) => [a.status, a.queued])).toEqual(frozen.map(() => [202, true]));
    // The thawed server runs what it had received; the replay then writes the same rows again.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await runCli(["dlq", "replay"])).toBe(0);
    expect(await createDlq({ dir: dlqDir }).depth()).toBe(0);
    expect(answers.length).toBe(before + 3);
    await expectExactlyOnce(answers, reports);
  });
});

async function expectExactlyOnce(answers: EventsAnswer[], reports: { report: Record<string, unknown>; status: number }[]) {
  await expectEventsExactlyOnce(db, new Set(answers.filter((a) => a.status === 202).flatMap((a) => a.request.uids)));

  // Reports: every one sent is stored (202 directly, or queued with its 503), each variant row once.
  const [bench] = await db.query<{ runs: number; rows: number; keys: number }>(
    "SELECT uniqExact(run_id) AS runs, count() AS rows, uniqExact(run_id, variant) AS keys FROM bench_runs FINAL",
  );
  expect(Number(bench.runs)).toBe(reports.length);
  expect(Number(bench.rows)).toBe(Number(bench.keys));
}
