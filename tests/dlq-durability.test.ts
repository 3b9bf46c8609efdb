import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST as postBench } from "../app/api/ingest/bench/route";
import { POST as postEvents } from "../app/api/ingest/events/route";
import { resetDb } from "../lib/clickhouse";
import { createDlq, DlqFullError, dlqDurability } from "../lib/dlq";
import { saveEnv, setEnv } from "./helpers/env";

/**
 * No silent loss when ClickHouse is down (issue 14, item 4): on a serverless
 * instance the ingest routes never answer `202 queued` onto per-instance
 * files; they answer 503 + Retry-After and the sender keeps its batch, unless
 * MUSE_DLQ_DURABLE=true declares the store durable. The store has a cap and
 * says so when it is full.
 */

const TOKEN = "dlq-durability-token-91";
const ENV_KEYS = [
  "MUSE_INGEST_TOKEN",
  "CLICKHOUSE_URL",
  "MUSE_LOG_LEVEL",
  "MUSE_DLQ_DIR",
  "DD_API_KEY",
  "VERCEL",
  "MUSE_DLQ_DURABLE",
  "MUSE_DLQ_MAX_ENTRIES",
  "MUSE_DLQ_MAX_BYTES",
] as const;
const saved = saveEnv(ENV_KEYS);
let dir: string;
let closedUrl: string;

beforeAll(async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  closedUrl = `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  await new Promise<void>((r) => s.close(() => r()));
});
afterAll(async () => {
  await setEnv(saved);
});
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "muse-dlq-cap-"));
  await setEnv({
    MUSE_INGEST_TOKEN: TOKEN,
    CLICKHOUSE_URL: closedUrl,
    MUSE_LOG_LEVEL: "error",
    MUSE_DLQ_DIR: dir,
    DD_API_KEY: undefined,
    VERCEL: undefined,
    MUSE_DLQ_DURABLE: undefined,
    MUSE_DLQ_MAX_ENTRIES: undefined,
    MUSE_DLQ_MAX_BYTES: undefined,
  });
});
afterEach(async () => {
  await resetDb();
  await rm(dir, { recursive: true, force: true });
});

function event(i: number) {
  return {
    ts: new Date(Date.now() - 60_000 - i * 1000).toISOString(),
    session_id: randomUUID(),
    commit_sha: "c".repeat(40),
    event_type: "test.event",
    latency_ms: 100 + i,
    metadata: { i },
  };
}

function send(events: unknown[], key?: string) {
  return postEvents(
    new Request("http://localhost/api/ingest/events", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
      body: JSON.stringify({ events }),
    }),
  );
}

const entries = async () => (await readdir(dir).catch(() => [])).filter((f) => f.endsWith(".json"));

describe("on a serverless instance (VERCEL=1) with ClickHouse down", () => {
  it("the events route answers 503 + Retry-After and writes nothing to instance storage", async () => {
    await setEnv({ VERCEL: "1" });
    const res = await send([event(0), event(1)], `k-${randomUUID()}`);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    const body = await res.json();
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error).toMatch(/not stored: keep them and retry with the same Idempotency-Key/);
    expect(await entries()).toEqual([]);
  });

  it("queues (202) only when MUSE_DLQ_DURABLE=true declares the store durable", async () => {
    await setEnv({ VERCEL: "1", MUSE_DLQ_DURABLE: "true" });
    const res = await send([event(0)]);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1, queued: true });
    expect(await entries()).toHaveLength(1);
  });

  it("the bench route answers 503 + Retry-After without claiming the reports were queued", async () => {
    await setEnv({ VERCEL: "1" });
    const report = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "reports", "compilation.json"), "utf8"));
    const res = await postBench(
      new Request("http://localhost/api/ingest/bench", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(report),
      }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("30");
    expect((await res.json()).error).not.toMatch(/queued/);
    expect(await entries()).toEqual([]);
  });
});

describe("the store's cap", () => {
  it("refuses a new entry past MUSE_DLQ_MAX_ENTRIES with 503 saying the store is full; a retry of a queued request still refreshes its entry", async () => {
    await setEnv({ MUSE_DLQ_MAX_ENTRIES: "2" });
    const first = [event(0)];
    expect((await send(first, "cap-1")).status).toBe(202);
    expect((await send([event(1)], "cap-2")).status).toBe(202);
    const third = await send([event(2)], "cap-3");
    expect(third.status).toBe(503);
    expect(third.headers.get("retry-after")).toBe("30");
    expect((await third.json()).error).toMatch(/dead-letter store is full; the events were not stored/);
    expect(await entries()).toHaveLength(2);
    // The same request again is the same entry: no growth, so accepted.
    expect((await send(first, "cap-1")).status).toBe(202);
  });

  it("refuses past MUSE_DLQ_MAX_BYTES, naming both caps", async () => {
    const dlq = createDlq({ dir, maxBytes: 2_000 });
    const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ i, pad: "x".repeat(100) }));
    await dlq.add({ kind: "clickhouse.insert", key: "a-1", source: "test", error: "down", payload: { inserts: [{ table: "ui_events", rows: rows(10) }] } });
    const full = dlq.add({
      kind: "clickhouse.insert",
      key: "a-2",
      source: "test",
      error: "down",
      payload: { inserts: [{ table: "ui_events", rows: rows(10) }] },
    });
    await expect(full).rejects.toBeInstanceOf(DlqFullError);
    await expect(full).rejects.toThrow(/MUSE_DLQ_MAX_ENTRIES=10000, MUSE_DLQ_MAX_BYTES=2000/);
    expect(await dlq.depth()).toBe(1);
  });
});

describe("dlqDurability", () => {
  it("is durable on a machine with a disk, not on a serverless platform, unless told", () => {
    expect(dlqDurability("auto", {})).toEqual({ durable: true });
    for (const marker of ["VERCEL", "AWS_LAMBDA_FUNCTION_NAME", "NETLIFY", "K_SERVICE"]) {
      expect(dlqDurability("auto", { [marker]: "1" }).durable).toBe(false);
    }
    expect(dlqDurability("true", { VERCEL: "1" })).toEqual({ durable: true });
    expect(dlqDurability("false", {}).durable).toBe(false);
  });
});
