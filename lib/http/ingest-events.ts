import {
  EVENTS_ROUTE,
  EventStoreError,
  IdempotencyConflictError,
  MAX_EVENTS_PER_REQUEST,
  ingestEvents,
  isValidIdempotencyKey,
  sha256Hex,
  spoolEvents,
  validateEvents,
  type IngestOptions,
  type IngestResult,
  type ValidEvent,
} from "../ingest/events/ingest";
import { MAX_PROBLEMS, type ItemProblem } from "../ingest/problems";
import { acceptedMediaType, readBodyCapped, UNREADABLE_BODY_MESSAGE } from "./body";
import { answer, type Accepted, type IngestSpec } from "./ingest-route";
import { json, jsonError } from "./responses";

/**
 * POST /api/ingest/events (docs/api.md) over HTTP: Content-Type, the
 * Idempotency-Key header, the capped UTF-8 body and its JSON or NDJSON; the
 * write is lib/ingest/events.
 *
 * When ClickHouse cannot take the events after quick retries, the validated
 * rows go to the dead-letter store and the answer is 202
 * `{"accepted":N,"queued":true}`: the queued rows carry their final event_ids
 * and `muse dlq replay` writes them exactly once. That answer is only given
 * where the store is durable (lib/dlq.ts `dlqDurability`): on a serverless
 * instance, whose files are per-instance and temporary, a 202 would lose the
 * events silently, so the answer is 503 with Retry-After and the sender keeps
 * its batch (the overlay keeps it in its retry buffer). So is it when the
 * store is full (its cap is named) or cannot be written.
 */

export const MAX_EVENTS_BODY_BYTES = 5 * 1024 * 1024;

export type EventsContentType = "application/json" | "application/x-ndjson";

export type ParseResult =
  | { ok: true; items: unknown[] }
  | {
      ok: false;
      status: 400 | 413 | 415;
      reason: "not_json" | "bad_shape" | "too_many_events" | "unsupported_media_type";
      error: string;
      problems?: ItemProblem[];
      problemCount?: number;
    };

/** The media type of a Content-Type header when it is one this route accepts (UTF-8 only). */
export function eventsContentType(header: string | null): EventsContentType | undefined {
  return acceptedMediaType<EventsContentType>(header, ["application/json", "application/x-ndjson"]);
}

/**
 * `{"events":[...]}` for application/json, one event per non-empty line for
 * application/x-ndjson. NDJSON problems carry the event's index (the same
 * index validation and event_id use) and name the line number in the message.
 */
export function parseEventsBody(contentType: string, bodyText: string): ParseResult {
  const type = eventsContentType(contentType);
  if (!type) {
    return { ok: false, status: 415, reason: "unsupported_media_type", error: "Content-Type must be application/json or application/x-ndjson (UTF-8)" };
  }
  if (type === "application/json") {
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      // JSON.parse's message quotes the body; ours does not echo it back.
      return { ok: false, status: 400, reason: "not_json", error: "body is not valid JSON" };
    }
    const events = body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>).events : undefined;
    if (!Array.isArray(events)) {
      return { ok: false, status: 400, reason: "bad_shape", error: 'events: body must be a JSON object {"events": [...]}' };
    }
    if (events.length > MAX_EVENTS_PER_REQUEST) return tooManyEvents(events.length);
    return { ok: true, items: events };
  }

  const lines = bodyText.split("\n");
  const nonEmpty = lines.reduce((n, line) => (line.trim() ? n + 1 : n), 0);
  if (nonEmpty > MAX_EVENTS_PER_REQUEST) return tooManyEvents(nonEmpty);
  const items: unknown[] = [];
  const problems: ItemProblem[] = [];
  lines.forEach((line, lineIndex) => {
    if (!line.trim()) return;
    const index = items.length;
    try {
      items.push(JSON.parse(line));
    } catch {
      items.push(undefined);
      problems.push({ index, path: "", message: `line ${lineIndex + 1} is not valid JSON` });
    }
  });
  if (problems.length > 0) {
    return {
      ok: false,
      status: 400,
      reason: "not_json",
      error: `${problems.length} NDJSON line(s) are not valid JSON; nothing was written`,
      problems: problems.slice(0, MAX_PROBLEMS),
      problemCount: problems.length,
    };
  }
  // An empty body is an empty batch, as `{"events":[]}` is: accepted, nothing written.
  return { ok: true, items };
}

function tooManyEvents(count: number): ParseResult {
  return { ok: false, status: 413, reason: "too_many_events", error: `events: ${count} events in one request, at most ${MAX_EVENTS_PER_REQUEST}` };
}

/** The Idempotency-Key header: absent, or 1-255 visible ASCII characters. */
export function idempotencyKeyHeader(request: Request): { ok: true; key: string | undefined } | { ok: false } {
  const key = request.headers.get("idempotency-key") ?? undefined;
  return key === undefined || isValidIdempotencyKey(key) ? { ok: true, key } : { ok: false };
}

export interface EventsRequest {
  events: ValidEvent[];
  options: IngestOptions;
}

const refuse = (status: number, error: string, rejected: string, details: Record<string, unknown> = {}): Accepted<EventsRequest> => ({
  ok: false,
  answer: answer(jsonError(status, error, details), rejected),
});

export const eventsIngest: IngestSpec<EventsRequest, IngestResult, IngestResult> = {
  route: EVENTS_ROUTE,
  tag: "events",
  tokens: ["MUSE_INGEST_TOKEN_BANTERPACKS", "MUSE_INGEST_TOKEN"],
  noun: "events",

  async accept(request, { env, clock }) {
    const contentType = request.headers.get("content-type");
    if (!eventsContentType(contentType)) {
      return refuse(415, "Content-Type must be application/json or application/x-ndjson (UTF-8)", "unsupported_media_type");
    }
    const idempotency = idempotencyKeyHeader(request);
    if (!idempotency.ok) return refuse(400, "Idempotency-Key must be 1-255 visible ASCII characters", "bad_idempotency_key");

    const body = await readBodyCapped(request, MAX_EVENTS_BODY_BYTES);
    if (!body.ok) {
      return body.problem === "too_large"
        ? refuse(413, `body is larger than ${MAX_EVENTS_BODY_BYTES} bytes (5 MiB)`, "too_large")
        : refuse(400, UNREADABLE_BODY_MESSAGE, "unreadable_body");
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(body.bytes);
    } catch {
      return refuse(400, "body is not valid UTF-8", "invalid_utf8");
    }

    const parsed = parseEventsBody(contentType!, text);
    if (!parsed.ok) {
      const details = parsed.problems ? { problems: parsed.problems, problem_count: parsed.problemCount ?? parsed.problems.length } : {};
      return refuse(parsed.status, parsed.error, parsed.reason, details);
    }

    const now = clock.now();
    const validation = validateEvents(parsed.items, now);
    if (!validation.ok) {
      const error = `${validation.problemCount} problem(s) in the events; nothing was written`;
      return refuse(400, error, "invalid_events", { problems: validation.problems, problem_count: validation.problemCount });
    }
    const options = { idempotencyKey: idempotency.key, bodySha256: sha256Hex(body.bytes), asyncInsert: env.CLICKHOUSE_ASYNC_INSERT, now };
    return { ok: true, input: { events: validation.events, options } };
  },

  write: (db, { events, options }) => ingestEvents(db, events, options),

  storeFailure: (error) =>
    error instanceof EventStoreError
      ? { unreachable: error.unreachable, table: "ui_events", fields: { operation: error.operation, error: error.cause } }
      : undefined,

  refusal: (error) => (error instanceof IdempotencyConflictError ? answer(jsonError(422, error.message), "idempotency_conflict") : undefined),

  stored(_input, result, metrics) {
    // A replay accepted nothing new: counting it again would double the metric.
    if (!result.replayed) metrics.count("muse.ingest.events_accepted", result.accepted);
    return answer(json({ accepted: result.accepted }, 202, result.replayed ? { "Idempotent-Replayed": "true" } : {}));
  },

  spool: (dlq, { events, options }, error) => spoolEvents(dlq, events, options, error),

  unstored(outcome, _failure, metrics) {
    if (outcome.queued) {
      metrics.count("muse.ingest.events_accepted", outcome.spooled.accepted);
      return answer(json({ accepted: outcome.spooled.accepted, queued: true }, 202));
    }
    const retry = "keep them and retry with the same Idempotency-Key";
    if (outcome.why === "full") {
      const why = "ClickHouse is unavailable and the dead-letter store is full; the events were not stored";
      return answer(jsonError(503, `${why}: ${retry}`, {}, { "Retry-After": "30" }), "dlq_full");
    }
    const why =
      outcome.why === "failed" ? "ClickHouse is unavailable; the events may not have been stored" : "ClickHouse is unavailable; the events were not stored";
    return answer(jsonError(503, `${why}: ${retry}`, {}, { "Retry-After": "5" }), "clickhouse_unavailable");
  },
};
