import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo, Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST as postBench } from "../../app/api/ingest/bench/route";
import { POST as postEvents } from "../../app/api/ingest/events/route";
import { collectAgent } from "../../lib/agents/collect";
import { runAgent } from "../../lib/agents/runner";
import { runCli } from "../../lib/cli";
import { createDlq } from "../../lib/dlq";
import { loadEnv } from "../../lib/env";
import { memoryLogger } from "../../lib/log";
import { metricsFromEnv } from "../../lib/metrics";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { testDeps } from "../helpers/deps";
import { freePort } from "./helpers/clickhouse-child";
import { setEnv } from "../helpers/env";
import { callHandler, type Answer } from "./helpers/http";
import { scanForSecrets } from "./helpers/leaks";
import { HARDENING_SECRETS } from "./helpers/setup";

/**
 * Datadog down while the pipeline runs: metrics flushes against a closed
 * port, against a server that accepts and never answers, and against one that
 * refuses the key. The ingest routes answer as usual (and on time), agent runs
 * finish ok, flushing never throws, undelivered series wait in the dead-letter
 * store (outages only), and `muse dlq replay` delivers them once Datadog is
 * back. The API key never appears in a log line.
 */

const DD_KEY = "hardening-dd-api-key-0f9e8d7c6b5a4e3d";
const SHA = "9".repeat(40);
let t: TestDatabase;
let dlqDir: string;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await setEnv({
    DD_API_KEY: undefined,
    DD_API_URL: undefined,
    CLICKHOUSE_URL: undefined,
    CLICKHOUSE_DATABASE: undefined,
    MUSE_DLQ_DIR: process.env.MUSE_DLQ_DIR,
  });
  await t?.drop();
});
beforeEach(async () => {
  dlqDir = mkdtempSync(path.join(os.tmpdir(), "muse-hardening-dd-dlq-"));
});
afterEach(() => rmSync(dlqDir, { recursive: true, force: true }));

async function useDatadog(url: string) {
  await setEnv({
    DD_API_KEY: DD_KEY,
    DD_API_URL: url,
    CLICKHOUSE_URL: t.config.url,
    CLICKHOUSE_DATABASE: t.config.database,
    MUSE_DLQ_DIR: dlqDir,
    MUSE_LOG_LEVEL: "debug",
  });
}

const events = (n: number) => ({
  events: Array.from({ length: n }, (_, i) => ({
    ts: new Date(Date.now() - 60_000 - i).toISOString(),
    session_id: "2b9c7a4e-1f3d-4c5b-8a6e-0d9f8e7c6b5a",
    commit_sha: SHA,
    event_type: "ui.click",
    latency_ms: i,
  })),
});

async function ingest(): Promise<{ answer: Answer; ms: number }> {
  const started = performance.now();
  const answer = await callHandler(
    postEvents,
    new Request("http://localhost/api/ingest/events", {
      method: "POST",
      headers: { authorization: `Bearer ${HARDENING_SECRETS.MUSE_INGEST_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(events(3)),
    }),
  );
  if ("threw" in answer) throw answer.threw;
  return { answer, ms: performance.now() - started };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

const seriesEntries = async () => (await createDlq({ dir: dlqDir }).list()).entries.filter((e) => e.kind === "datadog.series");

/** A stand-in for Datadog's intake: answers `status`, records what it got. */
async function intake(status: number): Promise<{ url: string; received: { key: string | undefined; body: string }[]; close(): Promise<void> }> {
  const received: { key: string | undefined; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      received.push({ key: req.headers["dd-api-key"] as string | undefined, body });
      res.writeHead(status, { "content-type": "application/json" }).end(status === 202 ? '{"errors":[]}' : '{"errors":["Forbidden"]}');
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("Datadog down", () => {
  it("closed port: ingest answers 202, an agent run is ok, the flush never throws; series are queued and replayed once Datadog is back", async () => {
    await useDatadog(`http://127.0.0.1:${await freePort()}`);
    const { answer, ms } = await ingest();
    expect(answer.status).toBe(202);
    expect(ms).toBeLessThan(5_000);
    const bench = await callHandler(
      postBench,
      new Request("http://localhost/api/ingest/bench", {
        method: "POST",
        headers: { authorization: `Bearer ${HARDENING_SECRETS.MUSE_INGEST_TOKEN}`, "content-type": "application/json" },
        body: "[]",
      }),
    );
    expect("threw" in bench ? bench : bench.status).toBe(400);

    const log = memoryLogger();
    const metrics = metricsFromEnv(loadEnv(), log);
    const deps = { ...testDeps(t.db), metrics, log };
    const record = await runAgent(collectAgent, deps, { trigger: "cron" });
    expect(record.status).toBe("ok");
    await expect(metrics.flush()).resolves.toBeUndefined();
    expect(log.lines.join("\n")).toMatch(/metrics not delivered to Datadog/);
    scanForSecrets("agent log", log.lines.join("\n"));

    // The routes flush in the background (after the response): their series arrive in the store too.
    expect(await waitFor(async () => (await seriesEntries()).length >= 2, 10_000)).toBe(true);
    const queued = await seriesEntries();
    expect(queued.flatMap((e) => (e.kind === "datadog.series" ? e.payload.series.map((s) => s.metric) : []))).toEqual(
      expect.arrayContaining(["muse.ingest.requests", "muse.collect.runs"]),
    );

    // Datadog is back: the replay delivers every queued series with the key, and empties the store.
    const dd = await intake(202);
    try {
      await setEnv({ DD_API_URL: dd.url });
      expect(await runCli(["dlq", "replay"])).toBe(0);
      expect(await createDlq({ dir: dlqDir }).depth()).toBe(0);
      // Every queued batch, plus the CLI's own muse.dlq.depth gauge.
      expect(dd.received.length).toBe(queued.length + 1);
      expect(dd.received.every((r) => r.key === DD_KEY)).toBe(true);
      const delivered = dd.received.map((r) => r.body).join("\n");
      for (const metric of ["muse.ingest.requests", "muse.collect.runs", "muse.dlq.depth"]) expect(delivered).toContain(`"metric":"${metric}"`);
    } finally {
      await dd.close();
    }
  });

  it("a Datadog that accepts and never answers does not hold up the ingest answer", async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer(() => {
      /* never answers */
    });
    silent.on("connection", (s: Socket) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      await useDatadog(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
      const { answer, ms } = await ingest();
      expect(answer.status).toBe(202);
      expect(ms).toBeLessThan(3_000);
      // The flush is waiting on the silent server in the background.
      expect(await waitFor(async () => sockets.size > 0, 5_000)).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
    // Its retries then hit a closed port: the series end up queued, nothing thrown.
    expect(await waitFor(async () => (await seriesEntries()).length > 0, 15_000)).toBe(true);
  });

  it("a refused key (403): the pipeline goes on, nothing is queued that a replay could not deliver either", async () => {
    const dd = await intake(403);
    try {
      await useDatadog(dd.url);
      const log = memoryLogger();
      const metrics = metricsFromEnv(loadEnv(), log);
      const record = await runAgent(collectAgent, { ...testDeps(t.db), metrics, log }, { trigger: "cron" });
      expect(record.status).toBe("ok");
      await expect(metrics.flush()).resolves.toBeUndefined();
      expect(dd.received.length).toBeGreaterThan(0);
      expect(log.lines.join("\n")).toMatch(/Datadog answered 403/);
      expect(await seriesEntries()).toEqual([]);
      scanForSecrets("agent log", log.lines.join("\n"));
    } finally {
      await dd.close();
    }
  });
});
