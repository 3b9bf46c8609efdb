import { randomUUID } from "node:crypto";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { POST as postBench } from "../app/api/ingest/bench/route";
import { POST as postEvents } from "../app/api/ingest/events/route";
import { resetDb } from "../lib/clickhouse";
import { createDb, type Db } from "../lib/clickhouse/client";
import { clickHouseReplayer, createDlq, type DlqEntry } from "../lib/dlq";
import { runCliCaptured as cli } from "./helpers/cli";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { saveEnv, setEnv } from "./helpers/env";

/**
 * The dead-letter store end to end: ClickHouse is down while the ingest
 * routes write (a Db pointed at a closed port), the validated rows are queued,
 * and a replay against the real test database ends with every row present
 * exactly once, however often it runs.
 */

const TOKEN = "dlq-test-ingest-token-77";
const SHA = "c".repeat(40);
const ENV_KEYS = ["MUSE_INGEST_TOKEN", "CLICKHOUSE_URL", "CLICKHOUSE_DATABASE", "MUSE_LOG_LEVEL", "MUSE_DLQ_DIR", "DD_API_KEY"] as const;

let t: TestDatabase;
let dir: string;
let closedUrl: string;
const saved = saveEnv(ENV_KEYS);

async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

function event(sessionId: string, i: number) {
  return {
    ts: new Date(Date.now() - 60_000 - i * 1000).toISOString(),
    session_id: sessionId,
    commit_sha: SHA,
    event_type: `test.event_${i % 3}`,
    latency_ms: 100 + i,
    metadata: { i },
  };
}

function sendEvents(events: unknown[], headers: Record<string, string> = {}) {
  return postEvents(
    new Request("http://localhost/api/ingest/events", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ events }),
    }),
  );
}

function sendReport(report: unknown) {
  return postBench(
    new Request("http://localhost/api/ingest/bench", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(report),
    }),
  );
}

const fixture = (name: string) => JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "reports", `${name}.json`), "utf8"));

async function countFinal(db: Db, sql: string, params: Record<string, unknown>): Promise<number> {
  const [row] = await db.query<{ n: number }>(sql, params);
  return Number(row.n);
}

beforeAll(async () => {
  t = await createTestDatabase();
  closedUrl = await closedPort();
});

afterAll(async () => {
  await setEnv(saved);
  await t.drop();
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "muse-dlq-"));
  await setEnv({
    MUSE_INGEST_TOKEN: TOKEN,
    CLICKHOUSE_URL: closedUrl,
    CLICKHOUSE_DATABASE: t.config.database,
    MUSE_LOG_LEVEL: "error",
    MUSE_DLQ_DIR: dir,
    DD_API_KEY: undefined,
  });
});

afterEach(async () => {
  await resetDb();
  await rm(dir, { recursive: true, force: true });
});

describe("an ingest during a ClickHouse outage, then a replay", () => {
  it("queues the validated rows, and the replay writes every row exactly once, however often it runs", async () => {
    const sid = randomUUID();
    const key = `outage-${randomUUID()}`;
    const keyed = Array.from({ length: 25 }, (_, i) => event(sid, i));
    const unkeyed = Array.from({ length: 5 }, (_, i) => event(sid, 100 + i));

    // The overlay's requests: 202, queued (it could not hold them across a page load).
    const a = await sendEvents(keyed, { "idempotency-key": key });
    expect(a.status).toBe(202);
    expect(await a.json()).toEqual({ accepted: 25, queued: true });
    const b = await sendEvents(unkeyed);
    expect(await b.json()).toEqual({ accepted: 5, queued: true });
    // The client retries the keyed request while ClickHouse is still down: still one entry for it.
    expect((await sendEvents(keyed, { "idempotency-key": key })).status).toBe(202);

    // A bench report: 503 (the sender retries), and queued as well.
    const bench = await sendReport(fixture("compilation"));
    expect(bench.status).toBe(503);
    expect((await bench.json()).error).toContain("queued for replay");

    const dlq = createDlq({ dir });
    const { entries } = await dlq.list();
    expect(entries.map((e) => e.source).sort()).toEqual(["/api/ingest/bench", "/api/ingest/events", "/api/ingest/events"]);
    expect(entries.every((e) => e.kind === "clickhouse.insert" && e.last_error.length > 0 && e.attempts === 0)).toBe(true);
    expect((await readdir(dir)).filter((f) => f.startsWith("."))).toEqual([]);
    const keyedEntry = entries.find((e) => e.kind === "clickhouse.insert" && e.payload.inserts.some((i) => i.table === "ingest_key_claims"))!;
    const benchEntry = entries.find((e) => e.source === "/api/ingest/bench") as Extract<DlqEntry, { kind: "clickhouse.insert" }>;
    const runId = String(benchEntry.payload.inserts[0].rows[0].run_id);
    const benchRows = benchEntry.payload.inserts[0].rows.length;

    // Nothing reached ClickHouse.
    expect(await countFinal(t.db, "SELECT count() AS n FROM ui_events FINAL WHERE session_id = {sid:UUID}", { sid })).toBe(0);

    // ClickHouse is back: replay against the real database.
    const depths: number[] = [];
    const replayer = createDlq({ dir, onDepth: (d) => depths.push(d) });
    const snapshot = path.join(os.tmpdir(), `${keyedEntry.id}-${randomUUID()}.json`);
    await copyFile(path.join(dir, `${keyedEntry.id}.json`), snapshot);
    const first = await replayer.replay({ "clickhouse.insert": clickHouseReplayer(t.db) });
    expect(first).toMatchObject({ failed: [], skipped: [], depth: 0 });
    expect(first.replayed.sort()).toEqual(entries.map((e) => e.id).sort());
    expect(depths.at(-1)).toBe(0);
    expect(await readdir(dir)).toEqual([]);

    const stored = async () => ({
      events: await countFinal(t.db, "SELECT count() AS n FROM ui_events FINAL WHERE session_id = {sid:UUID}", { sid }),
      distinct: await countFinal(t.db, "SELECT uniqExact(event_id) AS n FROM ui_events WHERE session_id = {sid:UUID}", { sid }),
      // The key is claimed for the spooled body (and only it): another body with this key is refused from now on.
      keys: await countFinal(t.db, "SELECT uniqExact(body_sha256) AS n FROM ingest_key_claims WHERE idempotency_key = {k:String}", { k: key }),
      bench: await countFinal(t.db, "SELECT count() AS n FROM bench_runs FINAL WHERE run_id = {id:UUID}", { id: runId }),
    });
    expect(await stored()).toEqual({ events: 30, distinct: 30, keys: 1, bench: benchRows });

    // Replaying the same entry again (a crash after the write, before the file went) changes nothing.
    await copyFile(snapshot, path.join(dir, `${keyedEntry.id}.json`));
    await rm(snapshot);
    const second = await replayer.replay({ "clickhouse.insert": clickHouseReplayer(t.db) });
    expect(second.replayed).toEqual([keyedEntry.id]);
    expect(await stored()).toEqual({ events: 30, distinct: 30, keys: 1, bench: benchRows });
    // Nothing left: a third replay has nothing to do.
    expect(await replayer.replay({ "clickhouse.insert": clickHouseReplayer(t.db) })).toEqual({ replayed: [], failed: [], skipped: [], depth: 0 });

    // The keyed request's retry, now that ClickHouse is up, is answered from the replayed key record.
    await setEnv({ CLICKHOUSE_URL: t.config.url });
    const retry = await sendEvents(keyed, { "idempotency-key": key });
    expect(retry.status).toBe(202);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await stored()).toEqual({ events: 30, distinct: 30, keys: 1, bench: benchRows });
  });

  it("a failed replay keeps the entry, with the error and one more attempt", async () => {
    const sid = randomUUID();
    expect((await sendEvents([event(sid, 0)])).status).toBe(202);
    const down = createDb({ ...t.config, url: closedUrl, requestTimeoutMs: 2_000 });
    const dlq = createDlq({ dir });
    const result = await dlq.replay({ "clickhouse.insert": clickHouseReplayer(down) });
    await down.close();
    expect(result.replayed).toEqual([]);
    expect(result.failed).toHaveLength(1);
    expect(result.depth).toBe(1);
    const [entry] = (await dlq.list()).entries;
    expect(entry.attempts).toBe(1);
    expect(entry.last_error).not.toBe("");
    // Entries nobody can replay here (no handler) are skipped, not dropped.
    expect(await dlq.replay({})).toMatchObject({ replayed: [], skipped: [{ id: entry.id, kind: "clickhouse.insert" }], depth: 1 });
  });

  it("answers 503 when the store cannot be written either", async () => {
    const file = path.join(dir, "not-a-directory");
    await writeFile(file, "x");
    await setEnv({ MUSE_DLQ_DIR: path.join(file, "dlq") });
    const res = await sendEvents([event(randomUUID(), 0)]);
    expect(res.status).toBe(503);
    expect(Object.keys(await res.json())).toEqual(["error"]);
  });
});

describe("npm run muse -- dlq list|replay", () => {
  afterEach(() => vi.restoreAllMocks());

  it("lists the entries with the muse.dlq.depth gauge, and replays them into ClickHouse", async () => {
    const sid = randomUUID();
    expect((await sendEvents([event(sid, 0), event(sid, 1)])).status).toBe(202);
    // Without DD_API_KEY the gauge goes to the log, at info level.
    await setEnv({ MUSE_LOG_LEVEL: "info" });

    const listed = await cli(["dlq", "list"]);
    expect(listed.code).toBe(0);
    expect(listed.output).toMatch(/1 entry/);
    expect(listed.output).toMatch(/events-[0-9a-f]{32}\s+clickhouse\.insert\s+from \/api\/ingest\/events\s+2 ui_events/);
    expect(listed.output).toContain('"metric":"muse.dlq.depth","value":1');

    const json = JSON.parse((await cli(["dlq", "list", "--json"])).output.split('\n{"ts"')[0]);
    expect(json.depth).toBe(1);

    await setEnv({ CLICKHOUSE_URL: t.config.url });
    const replayed = await cli(["dlq", "replay"]);
    expect(replayed.code).toBe(0);
    expect(replayed.output).toContain("1 replayed, 0 failed, 0 skipped; 0 left");
    expect(replayed.output).toContain('"metric":"muse.dlq.depth","value":0');
    expect(await countFinal(t.db, "SELECT count() AS n FROM ui_events FINAL WHERE session_id = {sid:UUID}", { sid })).toBe(2);
    expect((await cli(["dlq", "replay"])).output).toContain("0 replayed");
  });

  it("keeps files whole: an entry is one JSON document, written by rename", async () => {
    await sendEvents([event(randomUUID(), 0)]);
    const [file] = await readdir(dir);
    expect(file).toMatch(/^events-[0-9a-f]{32}\.json$/);
    const entry = JSON.parse(await readFile(path.join(dir, file), "utf8"));
    expect(entry).toMatchObject({ version: 1, kind: "clickhouse.insert", attempts: 0 });
    await writeFile(path.join(dir, "broken.json"), "{not json");
    const { entries, unreadable } = await createDlq({ dir }).list();
    expect(entries).toHaveLength(1);
    expect(unreadable).toEqual([{ file: "broken.json", error: expect.any(String) }]);
  });
});
