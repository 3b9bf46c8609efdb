import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as postEvents } from "../../app/api/ingest/events/route";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { setEnv } from "../helpers/env";
import { BAD_CONTENT_TYPES, fuzzRoute, invalidUtf8, json, truncated, utf8, type FuzzCase } from "./helpers/fuzz";
import { deepArrayText, Gen, HARDENING_SEED, INJECTIONS } from "./helpers/gen";
import { serveRoutes, type RouteServer } from "./helpers/http";
import { report } from "./helpers/leaks";
import { HARDENING_SECRETS } from "./helpers/setup";

/**
 * Fuzzing POST /api/ingest/events with 600 generated bad inputs (seeded:
 * HARDENING_SEED reproduces a run): wrong types, missing fields, huge strings
 * and numbers, deep nesting, invalid UTF-8, wrong content types, truncated
 * bodies, SQL and markdown injection in the validated fields, a bad event
 * among good ones, bad Idempotency-Keys, too many events, too many bytes.
 * Every answer must be a 4xx with a JSON `error`, the handler must never
 * throw, and no row may be written. Then: injection strings in the free-text
 * fields are valid data, stored as text and nothing else.
 */

const CASES = 600;
const NOW = Date.now();
let t: TestDatabase;
let server: RouteServer;

beforeAll(async () => {
  t = await createTestDatabase();
  await setEnv({ CLICKHOUSE_URL: t.config.url, CLICKHOUSE_DATABASE: t.config.database, MUSE_LOG_LEVEL: "info" });
  server = await serveRoutes({ "/api/ingest/events": postEvents });
});
afterAll(async () => {
  await server?.close();
  await setEnv({ CLICKHOUSE_URL: undefined, CLICKHOUSE_DATABASE: undefined });
  await t?.drop();
});

const rows = async () => {
  const [r] = await t.db.query<{ n: number }>("SELECT (SELECT count() FROM ui_events) + (SELECT count() FROM ingest_key_claims) AS n");
  return Number(r.n);
};

type Event = Record<string, unknown>;

function validEvent(g: Gen): Event {
  return {
    ts: g.chance(0.5) ? new Date(NOW - g.int(1_000, 86_400_000)).toISOString() : NOW - g.int(1_000, 86_400_000),
    session_id: g.uuid(),
    commit_sha: g.hex(40),
    event_type: g.pick(["ui.click", "query_submit", "query_result", "overlay.open"]),
    latency_ms: g.int(0, 10_000),
    ...(g.chance(0.5) ? { user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0.0.0 Safari/537.36" } : {}),
    ...(g.chance(0.5) ? { metadata: { k: g.word(), n: g.int(0, 9) } } : {}),
  };
}

/** A string containing at least one character a field's pattern forbids. */
const injection = (g: Gen) => g.pick(INJECTIONS);
const nested = (depth: number): unknown => {
  let v: unknown = { leaf: 1 };
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};

/** Values each field must refuse; DELETE removes the field. */
const DELETE = Symbol("delete");
const BAD_FIELDS: Record<string, ((g: Gen) => unknown)[]> = {
  ts: [
    () => DELETE,
    () => null,
    () => true,
    () => ({}),
    () => [],
    () => "",
    () => "yesterday",
    () => "2026-02-30T10:00:00Z",
    () => "2026-01-01T00:00:00",
    () => "2026-01-01 00:00:00",
    () => NOW + 3_600_000,
    () => new Date(NOW + 86_400_000).toISOString(),
    () => 1_700_000_000,
    () => 1.5,
    () => -1,
    () => 1e300,
    () => "NaN",
    () => "9".repeat(400),
    injection,
    (g) => g.unicode(1, 30),
  ],
  session_id: [
    () => DELETE,
    () => null,
    () => 42,
    () => "",
    () => "not-a-uuid",
    (g) => `${g.uuid()}0`,
    (g) => `{${g.uuid()}}`,
    (g) => g.uuid().replace(/-/g, ""),
    () => "x".repeat(100_000),
    injection,
    () => ["8d6f4c8e-4a4b-4f8a-9a43-1c2b3d4e5f60"],
  ],
  commit_sha: [
    () => DELETE,
    () => null,
    () => 123,
    (g) => g.hex(39),
    (g) => g.hex(41),
    () => "g".repeat(40),
    (g) => ` ${g.hex(39)}`,
    (g) => `${injection(g)}${"0".repeat(40)}`.slice(0, 40),
  ],
  event_type: [
    () => DELETE,
    () => null,
    () => 1,
    () => "",
    () => "Click",
    () => "a".repeat(65),
    () => "a b",
    () => "a-b",
    () => "a/b",
    () => "клик",
    () => "🎉",
    () => "ui.click\n",
    injection,
    () => ["ui.click"],
  ],
  latency_ms: [
    () => DELETE,
    () => null,
    () => -1,
    () => 3_600_001,
    () => 1.5,
    () => "100",
    () => true,
    () => [],
    () => ({}),
    () => 1e300,
    () => Number.MAX_SAFE_INTEGER + 2,
  ],
  user_agent: [() => 123, () => ({}), () => [], () => true, (g) => "x".repeat(g.int(2_049, 50_000))],
  metadata: [
    () => "string",
    () => 1,
    () => true,
    () => [],
    () => [1, 2],
    (g) => nested(g.int(40, 500)),
    (g) => ({ big: "x".repeat(g.int(16_500, 40_000)) }),
    (g) => Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`key_${i}`, g.word(8, 12)])),
  ],
};

function badEvent(g: Gen): { event: unknown; label: string } {
  if (g.chance(0.08)) {
    const event = g.pick([null, 1, "event", [], true, [validEvent(g)]]);
    return { event, label: `event is ${JSON.stringify(event)?.slice(0, 20)}` };
  }
  const event = validEvent(g);
  const field = g.pick(Object.keys(BAD_FIELDS));
  const value = g.pick(BAD_FIELDS[field])(g);
  if (value === DELETE) delete event[field];
  else event[field] = value;
  return { event, label: `${field} ${value === DELETE ? "missing" : JSON.stringify(value)?.slice(0, 40)}` };
}

function batchBody(g: Gen): { events: unknown[]; label: string } {
  const events: unknown[] = Array.from({ length: g.int(0, 12) }, () => validEvent(g));
  const bad = badEvent(g);
  events.splice(g.int(0, events.length), 0, bad.event);
  return { events, label: `${events.length} events, one with ${bad.label}` };
}

function generate(g: Gen): FuzzCase {
  const JSON_TYPE = "application/json";
  const NDJSON = "application/x-ndjson";
  const validBody = () => json({ events: Array.from({ length: g.int(1, 5) }, () => validEvent(g)) });
  const kind = g.pick([
    "field",
    "field",
    "field",
    "field",
    "field",
    "field",
    "ndjson-field",
    "shape",
    "not-json",
    "truncated",
    "utf8",
    "content-type",
    "idempotency-key",
    "ndjson-bad-line",
    "huge",
  ] as const);
  switch (kind) {
    case "field": {
      const { events, label } = batchBody(g);
      return { label, body: json({ events }), contentType: g.pick([JSON_TYPE, "application/json; charset=utf-8"]) };
    }
    case "ndjson-field": {
      const { events, label } = batchBody(g);
      return { label: `ndjson: ${label}`, body: utf8(events.map((e) => JSON.stringify(e)).join("\n")), contentType: NDJSON };
    }
    case "shape": {
      const body = g.pick<() => string>([
        () => JSON.stringify([validEvent(g)]),
        () => "null",
        () => "1",
        () => '"events"',
        () => "true",
        () => "{}",
        () => '{"events":{}}',
        () => '{"events":"x"}',
        () => '{"events":null}',
        () => `{"event":[${JSON.stringify(validEvent(g))}]}`,
        () => `{"events":${deepArrayText(g.int(100, 200_000))}}`,
        // Metadata nested far deeper than JSON.stringify could take (built as text).
        () => JSON.stringify({ events: [validEvent(g)] }).replace(/}]}$/, `,"metadata":${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}]}`),
        () => JSON.stringify({ events: Array.from({ length: 10_001 }, () => ({})) }),
        () => `{"events":[${JSON.stringify(validEvent(g)).replace(/"latency_ms":\d+/, '"latency_ms":1e999')}]}`,
      ])();
      return { label: `shape ${body.slice(0, 40)}`, body: utf8(body), contentType: JSON_TYPE };
    }
    case "not-json": {
      const body = g.pick<() => string>([
        () => "",
        () => "{",
        () => "events=1",
        () => `${JSON.stringify({ events: [validEvent(g)] })}}x`,
        () => `{"events":[NaN]}`,
        () => `{'events':[]}`,
        () => `{"events":[${JSON.stringify(validEvent(g))},]}`,
        () => g.unicode(1, 200),
        () => `{"events":[{"ts":"${new Date(NOW).toISOString()}"\u0000}]}`,
      ])();
      return { label: `not JSON ${JSON.stringify(body.slice(0, 30))}`, body: utf8(body), contentType: JSON_TYPE };
    }
    case "truncated": {
      const ndjson = g.chance(0.3);
      const events = Array.from({ length: g.int(1, 6) }, () => validEvent(g));
      const full = ndjson ? utf8(events.map((e) => JSON.stringify(e)).join("\n")) : json({ events });
      const body = truncated(g, full);
      return { label: `truncated to ${body.length} of ${full.length} bytes`, body, contentType: ndjson ? NDJSON : JSON_TYPE };
    }
    case "utf8":
      return { label: "invalid UTF-8", body: invalidUtf8(g, validBody()), contentType: g.pick([JSON_TYPE, NDJSON]) };
    case "content-type": {
      const contentType = g.pick(BAD_CONTENT_TYPES);
      return { label: `Content-Type ${contentType}`, body: validBody(), contentType };
    }
    case "idempotency-key": {
      const key = g.pick(["", "a".repeat(256), "has space", "tab\there", "caf\u00e9", "x".repeat(1_000)]);
      return { label: `Idempotency-Key ${JSON.stringify(key.slice(0, 20))}`, body: validBody(), contentType: JSON_TYPE, headers: { "idempotency-key": key } };
    }
    case "ndjson-bad-line": {
      const lines = Array.from({ length: g.int(1, 8) }, () => JSON.stringify(validEvent(g)));
      const bad = g.pick(["{", "[1,2]", "null", "not json", "{'a':1}", `${lines[0]}}`, "\u0000"]);
      lines.splice(g.int(0, lines.length), 0, bad);
      return { label: `ndjson line ${JSON.stringify(bad.slice(0, 20))}`, body: utf8(lines.join("\n")), contentType: NDJSON };
    }
    case "huge": {
      const body = g.pick<() => string>([
        () => `{"events":[{"metadata":{"s":"${"x".repeat(5 * 1024 * 1024)}"}}]}`,
        () => Array.from({ length: 10_001 }, () => JSON.stringify(validEvent(g))).join("\n"),
        // Blank lines are not JSON; as NDJSON they are an empty batch (202, nothing written), like {"events":[]}.
        () => "\n".repeat(g.int(1, 50)),
      ])();
      const ndjson = !body.startsWith("{") && body.trim() !== "";
      return { label: `huge/empty ${body.length} bytes`, body: utf8(body), contentType: ndjson ? NDJSON : JSON_TYPE };
    }
  }
}

describe(`fuzzing POST /api/ingest/events (${CASES} inputs, seed ${HARDENING_SEED})`, () => {
  it("answers every bad input with a 4xx JSON error, never throws, writes nothing", async () => {
    const g = new Gen(HARDENING_SEED);
    const cases = Array.from({ length: CASES }, () => generate(g));
    const { failures, statuses } = await fuzzRoute({ route: "/api/ingest/events", handler: postEvents, server, cases, rows, seed: HARDENING_SEED });
    report(`fuzz /api/ingest/events: ${cases.length} inputs, statuses ${JSON.stringify(statuses)}`);
    expect(failures.slice(0, 15)).toEqual([]);
  });

  it("stores SQL and markdown injection in the free-text fields as plain data, and nothing else happens", async () => {
    const g = new Gen(HARDENING_SEED + 7);
    const before = await rows();
    const events = INJECTIONS.map((text, i) => ({ ...validEvent(g), user_agent: text, metadata: { note: text, [text]: i, proto_key: { polluted: true } } }));
    const res = await postEvents(
      new Request("http://localhost/api/ingest/events", {
        method: "POST",
        headers: { authorization: `Bearer ${HARDENING_SECRETS.MUSE_INGEST_TOKEN}`, "content-type": "application/json" },
        // As JSON text, so "__proto__" arrives as an own key, the way an attacker sends it.
        body: JSON.stringify({ events }).replace(/"proto_key"/g, '"__proto__"'),
      }),
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: INJECTIONS.length });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The tables are all still there, with exactly the new rows.
    expect(await rows()).toBe(before + INJECTIONS.length);
    const stored = await t.db.query<{ note: string }>(
      "SELECT JSONExtractString(metadata, 'note') AS note FROM ui_events WHERE commit_sha IN {shas:Array(FixedString(40))}",
      { shas: events.map((e) => String((e as Event).commit_sha)) },
    );
    // Stored as text (the PII scrubber may redact parts of it, never execute it).
    expect(stored).toHaveLength(INJECTIONS.length);
    expect(stored.some((r) => r.note.includes("DROP TABLE ui_events"))).toBe(true);
  });
});
