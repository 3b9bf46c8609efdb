import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST } from "../app/api/ingest/events/route";
import { resetDb } from "../lib/clickhouse";
import { uiEventRow } from "../lib/clickhouse/tables";
import { resetEnvCache } from "../lib/env";
import { ingestEvents, sha256Hex, validateEvents } from "../lib/ingest/events/ingest";
import { createTestDatabase, testClickHouseConfig, type TestDatabase } from "./helpers/db";
import { setEnv } from "./helpers/env";
import { streamedPost } from "./helpers/streamed-request";

const TOKEN = "test-ingest-token-0123456789";
const URL_ = "http://localhost/api/ingest/events";
const SHA = "a".repeat(40);

let testDb: TestDatabase;
let dlqDir: string;
const savedEnv = { ...process.env };

async function configure(overrides: Record<string, string | undefined> = {}) {
  const base: Record<string, string | undefined> = {
    MUSE_INGEST_TOKEN: TOKEN,
    CLICKHOUSE_URL: testClickHouseConfig().url,
    CLICKHOUSE_DATABASE: testDb.config.database,
    MUSE_LOG_LEVEL: "error",
    MUSE_DLQ_DIR: dlqDir,
    ...overrides,
  };
  await setEnv(base);
}

function event(overrides: Record<string, unknown> = {}) {
  return {
    ts: new Date(Date.now() - 60_000).toISOString(),
    session_id: randomUUID(),
    commit_sha: SHA,
    event_type: "query.submitted",
    latency_ms: 120,
    ...overrides,
  };
}

function post(body: string, headers: Record<string, string> = {}) {
  return POST(
    new Request(URL_, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
      body,
    }),
  );
}

const postEvents = (events: unknown[], headers: Record<string, string> = {}) => post(JSON.stringify({ events }), headers);

async function count(sessionId?: string): Promise<number> {
  const rows = await testDb.db.query<{ n: number }>(
    sessionId ? "SELECT count() AS n FROM ui_events FINAL WHERE session_id = {sid:UUID}" : "SELECT count() AS n FROM ui_events FINAL",
    sessionId ? { sid: sessionId } : {},
  );
  return Number(rows[0].n);
}

async function rowsOf(sessionId: string) {
  return testDb.db.query("SELECT * FROM ui_events FINAL WHERE session_id = {sid:UUID} ORDER BY ts", { sid: sessionId }, uiEventRow);
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  dlqDir = await mkdtemp(path.join(os.tmpdir(), "muse-events-dlq-"));
});

afterAll(async () => {
  process.env = savedEnv;
  resetEnvCache();
  await resetDb();
  await testDb.drop();
  await rm(dlqDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await configure();
});

afterEach(async () => {
  await resetDb();
});

describe("POST /api/ingest/events: accepted bodies", () => {
  it("accepts {events:[...]} as JSON and stores scrubbed rows", async () => {
    const sid = randomUUID();
    const res = await postEvents([
      event({
        session_id: sid,
        commit_sha: "ABCDEF0123456789ABCDEF0123456789ABCDEF01",
        user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
      }),
      event({ session_id: sid, event_type: "panel.open", metadata: { panel: "history", n: 3 } }),
    ]);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    const rows = await rowsOf(sid);
    expect(rows).toHaveLength(2);
    const byType = Object.fromEntries(rows.map((r) => [r.event_type, r]));
    expect(byType["query.submitted"].commit_sha).toBe("abcdef0123456789abcdef0123456789abcdef01");
    expect(byType["query.submitted"].user_agent).toBe("Chrome 131 / Windows");
    expect(byType["query.submitted"].metadata).toBe("{}");
    expect(byType["panel.open"].user_agent).toBe("");
    expect(JSON.parse(byType["panel.open"].metadata)).toEqual({ panel: "history", n: 3 });
  });

  it("accepts NDJSON (charset allowed, blank lines skipped)", async () => {
    const sid = randomUUID();
    const body =
      [event({ session_id: sid }), event({ session_id: sid, latency_ms: 0 }), event({ session_id: sid })].map((e) => JSON.stringify(e)).join("\n\n") + "\n";
    const res = await post(body, { "content-type": "application/x-ndjson; charset=utf-8" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 3 });
    expect(await count(sid)).toBe(3);
  });

  it("an empty batch is accepted and writes nothing, as JSON and as NDJSON", async () => {
    const before = await count();
    const json = await postEvents([]);
    expect([json.status, await json.json()]).toEqual([202, { accepted: 0 }]);
    const ndjson = await post("\n\n", { "content-type": "application/x-ndjson" });
    expect([ndjson.status, await ndjson.json()]).toEqual([202, { accepted: 0 }]);
    expect(await count()).toBe(before);
  });

  it("accepts epoch milliseconds and stores them as the same instant", async () => {
    const sid = randomUUID();
    const ms = Date.UTC(2026, 0, 15, 12, 34, 56, 789);
    const res = await postEvents([event({ session_id: sid, ts: ms })]);
    expect(res.status).toBe(202);
    const [row] = await rowsOf(sid);
    expect(Date.parse(row.ts)).toBe(ms);
  });

  it("accepts ISO timestamps with an offset and ignores unknown top-level keys", async () => {
    const sid = randomUUID();
    const res = await postEvents([event({ session_id: sid, ts: "2026-01-15T13:34:56.789+01:00", email: "leak@example.com", extra: { a: 1 } })]);
    expect(res.status).toBe(202);
    const [row] = await rowsOf(sid);
    expect(Date.parse(row.ts)).toBe(Date.UTC(2026, 0, 15, 12, 34, 56, 789));
    expect(JSON.stringify(row)).not.toContain("leak@example.com");
  });
});

describe("POST /api/ingest/events: all or nothing", () => {
  it("writes nothing when one event is invalid and names its index and field", async () => {
    const sid = randomUUID();
    const res = await postEvents([event({ session_id: sid }), event({ session_id: sid, latency_ms: -1 }), event({ session_id: sid })]);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.problems).toEqual([{ index: 1, path: "latency_ms", message: expect.stringContaining("latency_ms") }]);
    expect(body.problem_count).toBe(1);
    expect(await count(sid)).toBe(0);
  });

  it("reports every field of every bad event, capped at 100 problems", async () => {
    const bad = Array.from({ length: 60 }, () => ({ ts: "yesterday", session_id: "nope", commit_sha: "xyz", event_type: "Bad Type", latency_ms: 1.5 }));
    const res = await postEvents(bad);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.problems).toHaveLength(100);
    expect(body.problem_count).toBe(300);
    expect(body.problems.slice(0, 5).map((p: { path: string }) => p.path)).toEqual(["ts", "session_id", "commit_sha", "event_type", "latency_ms"]);
  });

  it("rejects a ts more than 5 minutes in the future", async () => {
    const sid = randomUUID();
    const res = await postEvents([event({ session_id: sid, ts: new Date(Date.now() + 10 * 60_000).toISOString() })]);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.problems[0]).toMatchObject({ index: 0, path: "ts", message: expect.stringContaining("future") });
    expect(await count(sid)).toBe(0);
  });

  it("rejects metadata over 16 KiB, non-object metadata and pathological nesting", async () => {
    // Built as text: JSON.stringify itself would overflow the stack on this nesting.
    const deep = JSON.stringify(event({ metadata: { deep: "DEEP" } })).replace('"DEEP"', "[".repeat(100_000) + "]".repeat(100_000));
    const others = [event({ metadata: { blob: "x".repeat(17_000) } }), event({ metadata: [1, 2] })].map((e) => JSON.stringify(e));
    const res = await post(`{"events":[${[...others, deep].join(",")}]}`);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.problems.map((p: { index: number; path: string }) => [p.index, p.path])).toEqual([
      [0, "metadata"],
      [1, "metadata"],
      [2, "metadata"],
    ]);
  });

  it("names the NDJSON line that is not JSON, and writes nothing", async () => {
    const sid = randomUUID();
    const body = [JSON.stringify(event({ session_id: sid })), "", "{not json", JSON.stringify(event({ session_id: sid }))].join("\n");
    const res = await post(body, { "content-type": "application/x-ndjson" });
    expect(res.status).toBe(400);
    const json = await res.json();
    expect(json.problems).toEqual([{ index: 1, path: "", message: "line 3 is not valid JSON" }]);
    expect(await count(sid)).toBe(0);
  });

  it("answers 400 for a body that is not JSON, not UTF-8, or not {events:[...]}", async () => {
    expect((await post("{oops")).status).toBe(400);
    expect((await post("[1,2]")).status).toBe(400);
    const invalidUtf8 = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const res = await POST(
      new Request(URL_, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: invalidUtf8 }),
    );
    expect(res.status).toBe(400);
    expect((await res.json()).error).toContain("UTF-8");
  });
});

describe("POST /api/ingest/events: exactly once", () => {
  it("a retry with the same Idempotency-Key writes nothing and replays the answer", async () => {
    const sid = randomUUID();
    const body = JSON.stringify({ events: [event({ session_id: sid }), event({ session_id: sid, event_type: "b" })] });
    const key = `retry-${randomUUID()}`;
    const first = await post(body, { "idempotency-key": key });
    expect(first.status).toBe(202);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const before = await count();
    const writtenAt = async () =>
      (await testDb.db.query<{ at: string }>("SELECT toString(max(ingested_at)) AS at FROM ui_events WHERE session_id = {sid:UUID}", { sid }))[0].at;
    const firstWrite = await writtenAt();
    const second = await post(body, { "idempotency-key": key });
    expect(second.status).toBe(202);
    expect(await second.json()).toEqual({ accepted: 2 });
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await count()).toBe(before);
    expect(await count(sid)).toBe(2);
    // Not even rewritten: a rewrite would stamp the rows again.
    expect(await writtenAt()).toBe(firstWrite);
  });

  it("the same Idempotency-Key with a different body is 422 and writes nothing", async () => {
    const key = `conflict-${randomUUID()}`;
    expect((await postEvents([event()], { "idempotency-key": key })).status).toBe(202);
    const sid = randomUUID();
    const res = await postEvents([event({ session_id: sid })], { "idempotency-key": key });
    expect(res.status).toBe(422);
    expect((await res.json()).error).toMatch(/Idempotency-Key .* was already used with a different body/);
    expect(await count(sid)).toBe(0);
  });

  it("requests racing with one Idempotency-Key and different bodies: the first claim wins, the others are 422", async () => {
    for (let round = 0; round < 5; round++) {
      const key = `race-${randomUUID()}`;
      const sessions = Array.from({ length: 4 }, () => randomUUID());
      const answers = await Promise.all(sessions.map((sid) => postEvents([event({ session_id: sid })], { "idempotency-key": key })));
      const statuses = answers.map((r) => r.status);
      expect(
        statuses.filter((s) => s === 202),
        `round ${round}: ${statuses.join(",")}`,
      ).toHaveLength(1);
      expect(statuses.filter((s) => s === 422)).toHaveLength(3);
      const written = await Promise.all(sessions.map((sid) => count(sid)));
      expect(written).toEqual(statuses.map((s) => (s === 202 ? 1 : 0)));
    }
  });

  it("a retry WITHOUT a key of the identical body collapses onto the same rows", async () => {
    const sid = randomUUID();
    const body = JSON.stringify({ events: [event({ session_id: sid }), event({ session_id: sid, event_type: "c" })] });
    expect((await post(body)).status).toBe(202);
    const res = await post(body);
    expect(res.status).toBe(202);
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    expect(await count(sid)).toBe(2);
  });

  it("rejects a malformed Idempotency-Key", async () => {
    const res = await postEvents([event()], { "idempotency-key": "has spaces in it" });
    expect(res.status).toBe(400);
  });
});

describe("POST /api/ingest/events: privacy", () => {
  it("no raw PII reaches ClickHouse", async () => {
    const sid = randomUUID();
    const raw = {
      email: "jane.doe@example.com",
      ipv4: "198.51.100.23",
      ipv6: "2001:db8:85a3::8a2e:370:7334",
      phone: "+44 20 7946 0958",
      phoneUs: "(555) 867-5309",
      bearer: "mF_9.B5f-4.1JqMzzzzzz",
      openai: "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
      github: "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
      aws: "AKIAIOSFODNN7EXAMPLE",
      password: "hunter2-correct-horse",
      cookie: "sid=s3cr3tc00ki3",
      jwt: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      uaDevice: "SM-S918B",
    };
    const res = await postEvents([
      event({
        session_id: sid,
        user_agent: `Mozilla/5.0 (Linux; Android 14; ${raw.uaDevice}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36`,
        metadata: {
          note: `contact ${raw.email} from ${raw.ipv4} or ${raw.ipv6}, call ${raw.phone} or ${raw.phoneUs}`,
          headers: { Authorization: `Bearer ${raw.bearer}`, Cookie: raw.cookie, "x-trace": `Bearer ${raw.bearer}` },
          config: [{ password: raw.password }, { apiKey: raw.openai }, `gh ${raw.github} aws ${raw.aws}`],
          auth: { session: raw.jwt },
          [raw.email]: "key with an e-mail",
          tokens_in: 120,
        },
      }),
    ]);
    expect(res.status).toBe(202);
    const stored = await testDb.db.query("SELECT * FROM ui_events FINAL WHERE session_id = {sid:UUID}", { sid });
    expect(stored).toHaveLength(1);
    const text = JSON.stringify(stored);
    for (const [name, value] of Object.entries(raw)) {
      expect(text, `${name} leaked`).not.toContain(value);
    }
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("s3cr3t");
    const metadata = JSON.parse(String(stored[0].metadata));
    expect(metadata.tokens_in).toBe(120);
    expect(metadata.note).toBe("contact [email] from [ip] or [ip], call [phone] or [phone]");
    expect(stored[0].user_agent).toBe("Chrome 131 / Android");
  });
});

describe("POST /api/ingest/events: refusals", () => {
  it("401 without a token, and with a wrong one, with WWW-Authenticate", async () => {
    const without = await POST(
      new Request(URL_, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ events: [event()] }) }),
    );
    expect(without.status).toBe(401);
    expect(without.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const wrong = await post(JSON.stringify({ events: [event()] }), { authorization: "Bearer not-the-token" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("503 naming the variable when MUSE_INGEST_TOKEN is not configured", async () => {
    await configure({ MUSE_INGEST_TOKEN: undefined });
    const res = await postEvents([event()]);
    expect(res.status).toBe(503);
    expect((await res.json()).error).toContain("MUSE_INGEST_TOKEN");
  });

  it("415 for other content types", async () => {
    for (const type of ["text/plain", "application/xml", "application/json; charset=iso-8859-1"]) {
      expect((await post(JSON.stringify({ events: [event()] }), { "content-type": type })).status).toBe(415);
    }
  });

  it("413 for more than 10,000 events, JSON and NDJSON", async () => {
    const sid = randomUUID();
    const many = Array.from({ length: 10_001 }, () => event({ session_id: sid }));
    expect((await postEvents(many)).status).toBe(413);
    const ndjson = many.map((e) => JSON.stringify(e)).join("\n");
    expect((await post(ndjson, { "content-type": "application/x-ndjson" })).status).toBe(413);
    expect(await count(sid)).toBe(0);
  });

  it("413 for a body over 5 MiB, by Content-Length and by the bytes actually read", async () => {
    const big = JSON.stringify({ events: [event({ metadata: { pad: "x".repeat(5 * 1024 * 1024) } })] });
    expect((await post(big)).status).toBe(413);
    // A stream without Content-Length: the cap applies to what is read.
    const chunk = new TextEncoder().encode("x".repeat(1024 * 1024));
    const { request, sent } = streamedPost(URL_, { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, Array(8).fill(chunk));
    const res = await POST(request);
    expect(res.status).toBe(413);
    expect(sent()).toBeLessThanOrEqual(7);
  });

  it("400 naming the body when the upload breaks off mid-body, and writes nothing", async () => {
    const sid = randomUUID();
    const half = new TextEncoder().encode(JSON.stringify({ events: [event({ session_id: sid })] }).slice(0, 40));
    const { request } = streamedPost(URL_, { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, [half], new Error("socket hang up"));
    const res = await POST(request);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/request body could not be read/);
    expect(await count(sid)).toBe(0);
  });

  async function closedClickHouse(): Promise<string> {
    const blackhole = createServer();
    await new Promise<void>((r) => blackhole.listen(0, "127.0.0.1", () => r()));
    const port = (blackhole.address() as { port: number }).port;
    await new Promise<void>((r) => blackhole.close(() => r()));
    return `http://127.0.0.1:${port}`;
  }

  it("202 queued when ClickHouse is unreachable: the rows wait in the dead-letter store (see tests/dlq.test.ts)", async () => {
    await configure({ CLICKHOUSE_URL: await closedClickHouse() });
    const before = (await readdir(dlqDir)).length;
    const res = await postEvents([event(), event()], { "idempotency-key": `down-${randomUUID()}` });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2, queued: true });
    expect((await readdir(dlqDir)).length).toBe(before + 1);
  });

  it("503 without leaking SQL or stack when ClickHouse is unreachable and nothing can be queued", async () => {
    const file = path.join(dlqDir, "a-file");
    await writeFile(file, "");
    await configure({ CLICKHOUSE_URL: await closedClickHouse(), MUSE_DLQ_DIR: path.join(file, "dlq") });
    const res = await postEvents([event()], { "idempotency-key": `down-${randomUUID()}` });
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error).not.toMatch(/SELECT|INSERT|ingest_requests|at .*\.ts|ECONNREFUSED|ENOTDIR/);
  });
});

describe("validateEvents + ingestEvents without HTTP (the seeder's path)", () => {
  it("validates and writes through the same scrubbing path", async () => {
    const sid = randomUUID();
    const now = new Date();
    const result = validateEvents([event({ session_id: sid, metadata: { who: "x@example.com" } })], now);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const out = await ingestEvents(testDb.db, result.events, { bodySha256: sha256Hex(`seed-${sid}`), now });
    expect(out).toEqual({ accepted: 1, replayed: false });
    const [row] = await rowsOf(sid);
    expect(JSON.parse(row.metadata)).toEqual({ who: "[email]" });
  });

  it("writes with async_insert (CLICKHOUSE_ASYNC_INSERT) and waits for it", async () => {
    const sid = randomUUID();
    const now = new Date();
    const result = validateEvents([event({ session_id: sid }), event({ session_id: sid, event_type: "d" })], now);
    if (!result.ok) throw new Error("sample events should be valid");
    const out = await ingestEvents(testDb.db, result.events, { bodySha256: sha256Hex(`async-${sid}`), asyncInsert: true, now });
    expect(out.accepted).toBe(2);
    expect(await count(sid)).toBe(2);
  });
});
