import { createHash, hash } from "node:crypto";
import { ClickHouseError, TupleParam } from "@clickhouse/client-web";
import { v5 as uuidv5 } from "uuid";
import { z } from "zod";
import { dateTime64Param, type Db } from "../../clickhouse/client";
import type { IngestKeyClaimRow, UiEventRow } from "../../clickhouse/tables";
import { dlqKey, type DeadLetterQueue } from "../../dlq";
import { MAX_PROBLEMS, type ItemProblem } from "../problems";
import { reduceUserAgent, scrubMetadata } from "./pii";
import { eventSchema, fastValidEvent, MAX_FUTURE_SKEW_MS, type ValidEvent } from "./schema";

export type { ValidEvent } from "./schema";

/**
 * The write path of POST /api/ingest/events, free of HTTP (the seeder sends
 * sample events through validateEvents + ingestEvents; lib/http/ingest-events.ts
 * reads the request): validate all (nothing written on any problem) → scrub →
 * one insert.
 */

export const EVENTS_ROUTE = "/api/ingest/events";
export const MAX_EVENTS_PER_REQUEST = 10_000;
export type ValidationResult = { ok: true; events: ValidEvent[] } | { ok: false; problems: ItemProblem[]; problemCount: number };

/** All or nothing: every item valid, or up to 100 problems (and how many there were). */
export function validateEvents(items: unknown[], now: Date): ValidationResult {
  if (items.length > MAX_EVENTS_PER_REQUEST) {
    return {
      ok: false,
      problems: [{ index: MAX_EVENTS_PER_REQUEST, path: "", message: `at most ${MAX_EVENTS_PER_REQUEST} events per request` }],
      problemCount: 1,
    };
  }
  let schema: ReturnType<typeof eventSchema> | undefined;
  const latestMs = now.getTime() + MAX_FUTURE_SKEW_MS;
  const events: ValidEvent[] = [];
  const problems: ItemProblem[] = [];
  let problemCount = 0;
  items.forEach((item, index) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      problemCount += 1;
      if (problems.length < MAX_PROBLEMS) problems.push({ index, path: "", message: "each event must be a JSON object" });
      return;
    }
    // Valid events take the fast path; the schema decides (and explains) everything else.
    const fast = fastValidEvent(item as Record<string, unknown>, latestMs);
    if (fast) {
      events.push(fast);
      return;
    }
    schema ??= eventSchema(now);
    const result = schema.safeParse(item);
    if (result.success) {
      events.push(result.data);
      return;
    }
    for (const issue of result.error.issues) {
      problemCount += 1;
      if (problems.length < MAX_PROBLEMS) problems.push({ index, path: issue.path.map(String).join("."), message: issue.message });
    }
  });
  return problemCount === 0 ? { ok: true, events } : { ok: false, problems, problemCount };
}

// ---------------------------------------------------------------------------
// Writing

/** Namespace of event_id (uuid v5): fixed forever, or retries stop collapsing onto old rows. */
export const UI_EVENT_ID_NAMESPACE = "0b6f2d4e-6a43-5c1e-9f3a-7d2b8e5c4a10";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** An Idempotency-Key is 1-255 visible ASCII characters (it is stored and compared as given). */
export function isValidIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY.test(key);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * The same request always maps to the same ids: from the Idempotency-Key when
 * given, else from the body's hash. ui_events is a ReplacingMergeTree keyed on
 * (event_type, ts, session_id, event_id), so a retry rewrites its own rows.
 */
export function uiEventId(requestIdentity: string, index: number): string {
  return uuidV5(`${requestIdentity}#${index}`);
}

const NAMESPACE_BYTES = Buffer.from(UI_EVENT_ID_NAMESPACE.replace(/-/g, ""), "hex");

/**
 * RFC 4122 version 5 (SHA-1) in the UI_EVENT_ID_NAMESPACE: the very ids
 * `uuid`'s v5 gives (a test compares them), with node:crypto's native SHA-1,
 * ~5× faster on a batch of 10,000 events.
 */
let nameBuffer = Buffer.alloc(1024);
NAMESPACE_BYTES.copy(nameBuffer);

function uuidV5(name: string): string {
  const length = 16 + Buffer.byteLength(name, "utf8");
  if (length > nameBuffer.length) {
    nameBuffer = Buffer.alloc(length * 2);
    NAMESPACE_BYTES.copy(nameBuffer);
  }
  nameBuffer.write(name, 16, "utf8");
  // One-shot SHA-1 of namespace + name; version 5 and the RFC 4122 variant set in the hex.
  const hex = hash("sha1", nameBuffer.subarray(0, length), "hex");
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The reference implementation, for the test that pins uiEventId to it. */
export const referenceUiEventId = (requestIdentity: string, index: number): string => uuidv5(`${requestIdentity}#${index}`, UI_EVENT_ID_NAMESPACE);

function requestIdentity(opts: { idempotencyKey?: string; bodySha256: string }): string {
  return opts.idempotencyKey !== undefined ? `key:${opts.idempotencyKey}` : `body:${opts.bodySha256}`;
}

/** The only way a ui_events row is built: every row passes the PII scrubber here. */
export function toUiEventRow(event: ValidEvent, eventId: string): UiEventRow & { schema_version: number } {
  // A validated event's metadata is plain JSON already (validateEvents: what JSON.stringify would make of it).
  const metadata = event.metadata === undefined ? {} : scrubMetadata(event.metadata);
  return {
    ts: event.ts,
    event_id: eventId,
    session_id: event.session_id,
    commit_sha: event.commit_sha,
    event_type: event.event_type,
    latency_ms: event.latency_ms,
    // Absent stays empty (the column default); present but unrecognized is "unknown".
    user_agent: event.user_agent === undefined ? "" : reduceUserAgent(event.user_agent),
    metadata: JSON.stringify(metadata),
    schema_version: 1,
  };
}

export class IdempotencyConflictError extends Error {
  readonly status = 422;
  constructor(key: string) {
    super(`Idempotency-Key ${JSON.stringify(key)} was already used with a different body`);
    this.name = "IdempotencyConflictError";
  }
}

/** ClickHouse failed (unreachable, timeout, refused the write): retrying with the same key is safe. */
export class EventStoreError extends Error {
  constructor(
    readonly operation: string,
    options: { cause: unknown },
  ) {
    super(`ClickHouse ${operation} failed`, options);
    this.name = "EventStoreError";
  }

  /** No answer came back at all (worth a quick retry), as opposed to ClickHouse refusing. */
  get unreachable(): boolean {
    return !(this.cause instanceof ClickHouseError);
  }
}

export interface IngestOptions {
  idempotencyKey?: string;
  /** sha256 (hex) of the request body as received. */
  bodySha256: string;
  /**
   * async_insert=1 + wait_for_async_insert=1 (env CLICKHOUSE_ASYNC_INSERT).
   * Enable against a real server that receives many small event requests
   * (each overlay flush is one insert, and each synchronous insert makes a new
   * part): the server then batches them, while waiting keeps the 202 honest.
   * Leave off for few, large batches and for the local chDB server.
   */
  asyncInsert?: boolean;
  now: Date;
}

export interface IngestResult {
  accepted: number;
  replayed: boolean;
}

/**
 * Writes validated events exactly once per request: ONE insert of all rows.
 *
 * With an Idempotency-Key, the request first claims the key
 * (ingest_key_claims, sql/005) and reads the key's claims back in one query:
 * a key whose earliest claim is another body's is refused
 * (IdempotencyConflictError, 422) before anything is written. A key claimed
 * before with this very body is a retry: when its rows are all stored already
 * (`rowsStored`) the stored answer is repeated and nothing is written; when
 * not (the first attempt failed before or during its insert), the rows are
 * written, onto the same event_ids. So a keyed request costs three statements
 * (claim, read, insert) and only a retry a fourth; the rows themselves are
 * the record that a request was written — there is no separate record to
 * lose in a crash between the two.
 *
 * The claim's two round trips run while the rows are built (scrubbing yields
 * to the event loop every few hundred events), so a large batch hides them.
 *
 * Every batch is one insert, however large. (Batches above PIPELINE_FROM used
 * to be sent as inserts of 2,500 rows each, to overlap building with writing;
 * measured, that cost more than it hid: the local server writes one statement
 * at a time, each chunk is a part of its own, and a 10,000-event request took
 * ~270 ms in its four inserts against ~130 ms for one — bench/ingest.ts.)
 */
export async function ingestEvents(db: Db, events: ValidEvent[], opts: IngestOptions): Promise<IngestResult> {
  const key = opts.idempotencyKey;
  if (key !== undefined && !isValidIdempotencyKey(key)) throw new Error("Idempotency-Key must be 1-255 visible ASCII characters");

  const claim = key === undefined ? undefined : storage("idempotency claim", () => claimIdempotencyKey(db, key, opts.bodySha256));
  // Settled either way before the rows are built: a rejection is handled below, never left unhandled.
  claim?.catch(() => {});

  const { rows, deduplicationToken } = await eventsWriteYielding(events, opts);
  if (key !== undefined && claim) {
    const state = await claim;
    // undefined: not even this request's own claim is visible (a lagging replica): not a conflict, a storage failure.
    if (state.firstBody === undefined)
      throw new EventStoreError("idempotency claim", {
        cause: new Error("the claim is not visible after its insert (a lagging replica: set CLICKHOUSE_DEPLOYMENT)"),
      });
    if (state.firstBody !== opts.bodySha256) throw new IdempotencyConflictError(key);
    if (state.sameBodyClaims > 1 && (await storage("idempotency replay check", () => rowsStored(db, rows)))) {
      return { accepted: rows.length, replayed: true };
    }
  }
  await storage("insert into ui_events", () => db.insert("ui_events", rows, { deduplicationToken, asyncInsert: opts.asyncInsert ?? false }));
  return { accepted: rows.length, replayed: false };
}

/**
 * The size from which a batch was once written in chunks (see ingestEvents);
 * every batch is one insert now. Kept as the size of "a large batch" that
 * tests/ingest-fast-path.test.ts writes, replays and refuses.
 */
export const PIPELINE_FROM = 4_000;

/**
 * Claims `key` for a body (ingest_key_claims, sql/005) and reads the key's
 * claims: the body of the earliest one and how many are this body's (this
 * request's own included). Claims are stamped by the server's clock in the
 * INSERT itself, and (as for the agent lock and episode numbers) a claim is
 * visible once its INSERT returns — on replicated ClickHouse because the
 * client reads with select_sequential_consistency (`consistencySettings`) —
 * so of two racing requests the later one always reads the earlier one's claim.
 */
async function claimIdempotencyKey(db: Db, key: string, bodySha256: string): Promise<{ firstBody?: string; sameBodyClaims: number }> {
  await db.command(
    `INSERT INTO ingest_key_claims (route, idempotency_key, body_sha256, claimed_at)
     SELECT {route:String}, {key:String}, {body:String}, now64(3)`,
    { route: EVENTS_ROUTE, key, body: bodySha256 },
  );
  const [state] = await db.query(
    `SELECT count() AS claims,
            toString(argMin(body_sha256, (claimed_at, body_sha256))) AS first_body,
            countIf(body_sha256 = {body:String}) AS same_body
       FROM ingest_key_claims
      WHERE route = {route:String} AND idempotency_key = {key:String}`,
    { route: EVENTS_ROUTE, key, body: bodySha256 },
    keyClaims,
  );
  return { ...(state && state.claims > 0 ? { firstBody: state.first_body } : {}), sameBodyClaims: state?.same_body ?? 0 };
}

const keyClaims = z.object({ claims: z.coerce.number().int(), first_body: z.string(), same_body: z.coerce.number().int() });

/**
 * Retries beyond this many days in one batch are written again instead of
 * checked (a same-rows rewrite, answered as new): the check is one looked-up
 * row per day.
 */
export const REPLAY_CHECK_MAX_DAYS = 64;

/**
 * Whether every row of a request is stored already. ui_events is partitioned
 * by day and an insert writes one part per day, each part whole or not at
 * all: so the last row of each day stands for its day's rows. Looked up by
 * the full sorting key (event_type, ts, session_id, event_id), which the
 * primary index answers without a scan.
 */
async function rowsStored(db: Db, rows: ReturnType<typeof toUiEventRow>[]): Promise<boolean> {
  const lastOfDay = new Map<string, ReturnType<typeof toUiEventRow>>();
  for (const row of rows) lastOfDay.set(row.ts.slice(0, 10), row);
  if (lastOfDay.size > REPLAY_CHECK_MAX_DAYS) return false;
  const probes = [...lastOfDay.values()].map((row) => new TupleParam([row.event_type, dateTime64Param(row.ts), row.session_id, row.event_id]));
  const [found] = await db.query(
    `SELECT uniqExact(event_id) AS n FROM ui_events
      WHERE (event_type, ts, session_id, event_id) IN {probes:Array(Tuple(String, DateTime64(3, 'UTC'), UUID, UUID))}`,
    { probes },
    storedCount,
  );
  return found?.n === probes.length;
}

const storedCount = z.object({ n: z.coerce.number().int() });

/** What ingestEvents writes for a request, as data: the ui_events rows and, with a key, the key's claim. */
export function eventsWrite(events: ValidEvent[], opts: IngestOptions) {
  const identity = requestIdentity(opts);
  return writeOf(
    identity,
    events.map((event, index) => toUiEventRow(event, uiEventId(identity, index))),
    opts,
  );
}

function writeOf(identity: string, rows: ReturnType<typeof toUiEventRow>[], opts: IngestOptions) {
  // Hashed: a token is a setting in the URL, and keys are client-chosen text.
  const deduplicationToken = `ui_events:${sha256Hex(identity)}`;
  const claim: IngestKeyClaimRow | undefined =
    opts.idempotencyKey === undefined
      ? undefined
      : { route: EVENTS_ROUTE, idempotency_key: opts.idempotencyKey, body_sha256: opts.bodySha256, claimed_at: opts.now.toISOString() };
  return { identity, rows, deduplicationToken, claim };
}

const YIELD_EVERY = 500;

/** eventsWrite, giving the event loop a turn every YIELD_EVERY events (so the claim's requests progress meanwhile). */
async function eventsWriteYielding(events: ValidEvent[], opts: IngestOptions): Promise<ReturnType<typeof eventsWrite>> {
  if (events.length <= YIELD_EVERY) return eventsWrite(events, opts);
  const identity = requestIdentity(opts);
  const rows: ReturnType<typeof toUiEventRow>[] = [];
  for (let start = 0; start < events.length; start += YIELD_EVERY) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const end = Math.min(events.length, start + YIELD_EVERY);
    for (let i = start; i < end; i++) rows.push(toUiEventRow(events[i], uiEventId(identity, i)));
  }
  return writeOf(identity, rows, opts);
}

/**
 * When ClickHouse cannot take a request: exactly what ingestEvents would have
 * written (same event_ids, same key claim) goes to the dead-letter store,
 * keyed by the request's identity and body, for `muse dlq replay`. Throws when the
 * store cannot be written either.
 */
export async function spoolEvents(dlq: DeadLetterQueue, events: ValidEvent[], opts: IngestOptions, error: unknown): Promise<IngestResult> {
  const { identity, rows, deduplicationToken, claim } = eventsWrite(events, opts);
  await dlq.add({
    kind: "clickhouse.insert",
    // With the body's hash: a key reused with another body (a 422 when ClickHouse is up) must not overwrite the first.
    key: dlqKey("events", `${identity}#${opts.bodySha256}`),
    source: EVENTS_ROUTE,
    error,
    payload: {
      // The key's claim first, as ingestEvents does: once replayed, another body with this key is refused.
      inserts: [...(claim ? [{ table: "ingest_key_claims", rows: [claim] }] : []), { table: "ui_events", rows, deduplication_token: deduplicationToken }],
    },
  });
  return { accepted: rows.length, replayed: false };
}

async function storage<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    throw new EventStoreError(operation, { cause });
  }
}
