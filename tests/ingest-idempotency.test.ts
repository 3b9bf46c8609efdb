import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Db, type InsertOptions, type InsertResult } from "../lib/clickhouse/client";
import { DEFAULT_MIGRATIONS_DIR, loadMigrations } from "../lib/clickhouse/migrations";
import {
  EventStoreError,
  EVENTS_ROUTE,
  eventsWrite,
  IdempotencyConflictError,
  ingestEvents,
  REPLAY_CHECK_MAX_DAYS,
  validateEvents,
  type ValidEvent,
} from "../lib/ingest/events/ingest";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * A keyed retry after a first attempt that did not finish: the key was
 * claimed, but its rows were not (all) written. The retry must write them —
 * and a retry after a finished attempt must write nothing. The rows
 * themselves tell which is which (ingestEvents' `rowsStored`).
 */

const NOW = new Date("2026-11-20T12:00:00.000Z");
const DAY = 86_400_000;

/** The real database, whose ui_events inserts fail the first `failures` times (a connection lost mid-request). */
class FailingInserts extends Db {
  constructor(
    real: Db,
    private failures: number,
  ) {
    super(real.client, real.config);
  }

  override async insert<T extends object>(table: string, rows: readonly T[], options?: InsertOptions): Promise<InsertResult> {
    if (table === "ui_events" && this.failures > 0) {
      this.failures -= 1;
      throw new TypeError("fetch failed: socket hang up");
    }
    return super.insert(table, rows, options);
  }
}

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

/** A valid batch of one session, its events `days` apart from each other (one ui_events partition per day). */
function batch(n: number, days: number): { session: string; events: ValidEvent[] } {
  const session = randomUUID();
  const items = Array.from({ length: n }, (_, i) => ({
    ts: NOW.getTime() - 60_000 - (i % days) * DAY - i,
    session_id: session,
    commit_sha: "c".repeat(40),
    event_type: "overlay.open",
    latency_ms: i,
  }));
  const valid = validateEvents(items, NOW);
  if (!valid.ok) throw new Error(JSON.stringify(valid.problems));
  return { session, events: valid.events };
}

const stored = async (session: string) =>
  (
    await t.db.query<{ n: number; copies: number; written_at: string }>(
      "SELECT uniqExact(event_id) AS n, count() AS copies, toString(max(ingested_at)) AS written_at FROM ui_events WHERE session_id = {s:UUID}",
      { s: session },
    )
  ).map((r) => ({ n: Number(r.n), copies: Number(r.copies), writtenAt: r.written_at }))[0];

describe("a keyed retry after an attempt that did not finish", () => {
  it("writes the rows the first attempt lost, and a retry after that writes nothing", async () => {
    const { session, events } = batch(300, 3);
    const opts = { idempotencyKey: `lost-${randomUUID()}`, bodySha256: "a".repeat(64), now: NOW };

    // The first attempt claims the key, then loses its insert: a storage failure (503), nothing stored.
    await expect(ingestEvents(new FailingInserts(t.db, 1), events, opts)).rejects.toBeInstanceOf(EventStoreError);
    expect((await stored(session)).n).toBe(0);

    // The client's retry: the key is claimed with this body already, but its rows are not there: written now.
    expect(await ingestEvents(t.db, events, opts)).toEqual({ accepted: 300, replayed: false });
    const afterRetry = await stored(session);
    expect(afterRetry.n).toBe(300);

    // Another retry: everything is stored, so the answer is repeated and nothing is written (not even rewritten).
    expect(await ingestEvents(t.db, events, opts)).toEqual({ accepted: 300, replayed: true });
    expect(await stored(session)).toEqual(afterRetry);
  });

  it("writes the whole batch again when only some of its days were stored", async () => {
    const { session, events } = batch(90, 3);
    const opts = { idempotencyKey: `partial-${randomUUID()}`, bodySha256: "b".repeat(64), now: NOW };
    await expect(ingestEvents(new FailingInserts(t.db, 1), events, opts)).rejects.toBeInstanceOf(EventStoreError);
    // As if the first attempt's insert had written the part of one day and failed before the others.
    const { rows } = eventsWrite(events, opts);
    const firstDay = rows[0].ts.slice(0, 10);
    await t.db.insert(
      "ui_events",
      rows.filter((r) => r.ts.startsWith(firstDay)),
    );
    expect((await stored(session)).n).toBe(30);

    expect(await ingestEvents(t.db, events, opts)).toEqual({ accepted: 90, replayed: false });
    expect((await stored(session)).n).toBe(90);
    expect(await ingestEvents(t.db, events, opts)).toEqual({ accepted: 90, replayed: true });
  });

  it(`a batch spanning more than ${REPLAY_CHECK_MAX_DAYS} days is written again on a retry, onto the same rows`, async () => {
    const days = REPLAY_CHECK_MAX_DAYS + 1;
    const { session, events } = batch(days * 2, days);
    const opts = { idempotencyKey: `wide-${randomUUID()}`, bodySha256: "c".repeat(64), now: NOW };
    expect(await ingestEvents(t.db, events, opts)).toEqual({ accepted: days * 2, replayed: false });
    expect(await ingestEvents(t.db, events, opts)).toEqual({ accepted: days * 2, replayed: false });
    const [final] = await t.db.query<{ n: number }>("SELECT count() AS n FROM ui_events FINAL WHERE session_id = {s:UUID}", { s: session });
    expect(Number(final.n)).toBe(days * 2);
  });
});

describe("keys recorded before migration 011 (ingest_requests)", () => {
  it("keep refusing another body once the migration made them claims", async () => {
    const { session, events } = batch(10, 1);
    const key = `recorded-${randomUUID()}`;
    // A key an earlier version accepted and recorded (it wrote no claim then).
    await t.db.insert("ingest_requests", [
      { idempotency_key: key, route: EVENTS_ROUTE, body_sha256: "d".repeat(64), accepted: 10, response: '{"accepted":10}', received_at: NOW.toISOString() },
    ]);
    const migration = (await loadMigrations(DEFAULT_MIGRATIONS_DIR)).find((m) => m.version === 11)!;
    for (const statement of migration.statements) await t.db.command(statement);

    await expect(ingestEvents(t.db, events, { idempotencyKey: key, bodySha256: "e".repeat(64), now: NOW })).rejects.toBeInstanceOf(IdempotencyConflictError);
    expect((await stored(session)).n).toBe(0);
    // Its own body is a retry: its rows are written (again, onto the same ids) unless stored.
    expect(await ingestEvents(t.db, events, { idempotencyKey: key, bodySha256: "d".repeat(64), now: NOW })).toEqual({ accepted: 10, replayed: false });
    expect(await ingestEvents(t.db, events, { idempotencyKey: key, bodySha256: "d".repeat(64), now: NOW })).toEqual({ accepted: 10, replayed: true });
  });
});
