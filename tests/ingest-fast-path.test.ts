import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdempotencyConflictError, ingestEvents, PIPELINE_FROM, referenceUiEventId, uiEventId, validateEvents } from "../lib/ingest/events/ingest";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { eventSchema, fastValidEvent, MAX_FUTURE_SKEW_MS } from "../lib/ingest/events/schema";

/**
 * The ingest route's fast paths (issue 14, item 5) change nothing but speed:
 * fastValidEvent returns exactly what the schema returns, or nothing (then the
 * schema runs); uiEventId gives the ids uuid's v5 gives.
 */

const NOW = new Date("2026-11-20T12:00:00.000Z");
const LATEST = NOW.getTime() + MAX_FUTURE_SKEW_MS;
const schema = eventSchema(NOW);

const base = () => ({
  ts: "2026-11-20T11:59:00.123Z",
  session_id: randomUUID(),
  commit_sha: "AbC".padEnd(40, "0"),
  event_type: "overlay.open",
  latency_ms: 12,
});

const VALID: Record<string, unknown>[] = [
  base(),
  { ...base(), ts: NOW.getTime() - 1_000 },
  { ...base(), ts: "2026-11-20T13:04:00+01:00" },
  { ...base(), ts: "2026-11-20t11:00:00,5z" },
  { ...base(), ts: "2026-11-20T11:00Z" },
  { ...base(), ts: new Date(LATEST).toISOString() },
  { ...base(), session_id: randomUUID().toUpperCase() },
  { ...base(), user_agent: "Mozilla/5.0 Chrome/131.0.0.0", metadata: { a: [1, { b: "x" }], c: null } },
  { ...base(), user_agent: null, metadata: null },
  { ...base(), extra_field: "ignored", latency_ms: 0 },
  { ...base(), latency_ms: 3_600_000, metadata: {} },
];

const INVALID: Record<string, unknown>[] = [
  { ...base(), ts: LATEST + 1 },
  { ...base(), ts: "2026-11-20T11:00:00" },
  { ...base(), ts: "2026-02-30T11:00:00Z" },
  { ...base(), ts: 946684799999 },
  { ...base(), ts: 1.5 },
  { ...base(), ts: undefined },
  { ...base(), session_id: "not-a-uuid" },
  { ...base(), session_id: "00000000-0000-0000-0000-000000000000" },
  { ...base(), commit_sha: "g".repeat(40) },
  { ...base(), event_type: "Overlay.Open" },
  { ...base(), event_type: "" },
  { ...base(), latency_ms: -1 },
  { ...base(), latency_ms: 1.5 },
  { ...base(), latency_ms: "12" },
  { ...base(), user_agent: 42 },
  { ...base(), user_agent: "x".repeat(2049) },
  { ...base(), metadata: [] },
  { ...base(), metadata: "text" },
  { ...base(), metadata: { big: "x".repeat(17 * 1024) } },
  { ...base(), metadata: JSON.parse(`${'{"a":'.repeat(40)}1${"}".repeat(40)}`) },
  { ...base(), metadata: { at: new Date(NOW) } },
  { ...base(), metadata: { n: NaN } },
  { ...base(), metadata: { n: -0 } },
];

describe("fastValidEvent", () => {
  it.each(VALID.map((e, i) => [i, e] as const))("valid event %i: exactly the schema's output", (_i, event) => {
    expect(fastValidEvent(event, LATEST)).toStrictEqual(schema.parse(event));
  });

  // (The nil UUID is valid for the schema: the fast path leaves such rare shapes to the schema too.)
  it.each(INVALID.map((e, i) => [i, e] as const))("invalid or rare event %i: nothing (the schema decides and explains)", (_i, event) => {
    expect(fastValidEvent(event, LATEST)).toBeUndefined();
  });

  it("validateEvents gives the same events and the same problems as before", () => {
    const mixed = [...VALID, ...INVALID];
    const result = validateEvents(mixed, NOW);
    expect(result.ok).toBe(false);
    const expected = mixed.flatMap((item, index) => {
      const r = schema.safeParse(item);
      return r.success ? [] : r.error.issues.map((issue) => ({ index, path: issue.path.map(String).join("."), message: issue.message }));
    });
    if (!result.ok) expect(result.problems).toEqual(expected);
    const valid = validateEvents(VALID, NOW);
    expect(valid).toEqual({ ok: true, events: VALID.map((e) => schema.parse(e)) });
  });
});

describe("validated metadata", () => {
  it("is plain JSON, as it will be stored: Dates as their ISO text, NaN as null, undefined gone", () => {
    const result = validateEvents(
      [{ ...base(), metadata: { at: new Date(NOW), n: NaN, gone: undefined, list: [undefined, 1], deep: { at: new Date(NOW) } } }],
      NOW,
    );
    expect(result.ok && result.events[0].metadata).toStrictEqual({ at: NOW.toISOString(), n: null, list: [null, 1], deep: { at: NOW.toISOString() } });
  });

  it("canonical timestamps that name no instant are refused with the schema's message", () => {
    for (const ts of [
      "2026-02-29T10:00:00.000Z",
      "2026-04-31T10:00:00.000Z",
      "2026-11-20T24:00:00.000Z",
      "2026-11-20T10:60:00.000Z",
      "2026-13-01T10:00:00.000Z",
    ]) {
      const result = validateEvents([{ ...base(), ts }], NOW);
      expect(result, ts).toMatchObject({ ok: false, problems: [{ path: "ts", message: "ts is not a valid calendar date and time" }] });
    }
    const leap = validateEvents([{ ...base(), ts: "2024-02-29T23:59:59.999Z" }], NOW);
    expect(leap.ok && leap.events[0].ts).toBe("2024-02-29T23:59:59.999Z");
  });
});

describe("uiEventId", () => {
  it("is uuid's v5 in the event id namespace", () => {
    for (const identity of ["key:abc", `body:${"f".repeat(64)}`, "key:ünïcødé ✓"]) {
      for (const index of [0, 1, 99, 9_999]) expect(uiEventId(identity, index)).toBe(referenceUiEventId(identity, index));
    }
  });
});

describe("a batch large enough to be written in chunks", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });

  it("writes every row once, replays and refuses like one insert", async () => {
    const session = randomUUID();
    const n = PIPELINE_FROM + 2_345;
    const items = Array.from({ length: n }, (_, i) => ({ ...base(), session_id: session, ts: NOW.getTime() - 60_000 - i, latency_ms: i % 1000 }));
    const valid = validateEvents(items, NOW);
    if (!valid.ok) throw new Error("invalid");
    const key = `chunked-${randomUUID()}`;
    expect(await ingestEvents(t.db, valid.events, { idempotencyKey: key, bodySha256: "a".repeat(64), now: NOW })).toEqual({ accepted: n, replayed: false });
    const count = async () =>
      Number((await t.db.query<{ n: number }>("SELECT count() AS n FROM ui_events FINAL WHERE session_id = {s:UUID}", { s: session }))[0].n);
    expect(await count()).toBe(n);
    expect(await ingestEvents(t.db, valid.events, { idempotencyKey: key, bodySha256: "a".repeat(64), now: NOW })).toEqual({ accepted: n, replayed: true });
    await expect(ingestEvents(t.db, valid.events, { idempotencyKey: key, bodySha256: "b".repeat(64), now: NOW })).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
    // Without a key, the same body again collapses onto the same rows.
    await ingestEvents(t.db, valid.events, { bodySha256: "c".repeat(64), now: NOW });
    await ingestEvents(t.db, valid.events, { bodySha256: "c".repeat(64), now: NOW });
    expect(await count()).toBe(2 * n);
  });
});
