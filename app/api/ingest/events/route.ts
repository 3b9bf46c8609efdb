import { after } from "next/server";
import { getDb } from "@/lib/clickhouse";
import { DlqFullError, errorText, retryWrite, routeDlq } from "@/lib/dlq";
import { loadEnv, secretNames, type Env } from "@/lib/env";
import { requireToken } from "@/lib/http/auth";
import { readBodyCapped, UNREADABLE_BODY_MESSAGE } from "@/lib/http/body";
import { json, jsonError } from "@/lib/http/responses";
import {
  EVENTS_ROUTE,
  EventStoreError,
  IdempotencyConflictError,
  MAX_EVENTS_BODY_BYTES,
  eventsContentType,
  ingestEvents,
  isValidIdempotencyKey,
  parseEventsBody,
  sha256Hex,
  spoolEvents,
  validateEvents,
} from "@/lib/ingest/events/ingest";
import { createLogger, type Logger } from "@/lib/log";
import { metricsFromEnv, type Metrics } from "@/lib/metrics";

export const dynamic = "force-dynamic";
export const maxDuration = 60;

const ROUTE_TAG = "events";

/**
 * POST /api/ingest/events (docs/api.md): thin HTTP shell around lib/ingest/events.
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
export async function POST(request: Request): Promise<Response> {
  const env = loadEnv();
  const log = routeLogger(env);
  const metrics = metricsFromEnv(env, log);
  const respond = (response: Response, rejectedReason?: string): Response => {
    metrics.count("muse.ingest.requests", 1, { route: ROUTE_TAG, status: response.status });
    if (rejectedReason) metrics.count("muse.ingest.rejected", 1, { route: ROUTE_TAG, reason: rejectedReason });
    flushAfterResponse(metrics);
    return response;
  };

  const denied = requireToken(request, "MUSE_INGEST_TOKEN", env);
  if (denied) return respond(denied, denied.status === 503 ? "not_configured" : "unauthorized");

  const contentType = request.headers.get("content-type");
  if (!eventsContentType(contentType)) {
    return respond(jsonError(415, "Content-Type must be application/json or application/x-ndjson (UTF-8)"), "unsupported_media_type");
  }

  const idempotencyKey = request.headers.get("idempotency-key") ?? undefined;
  if (idempotencyKey !== undefined && !isValidIdempotencyKey(idempotencyKey)) {
    return respond(jsonError(400, "Idempotency-Key must be 1-255 visible ASCII characters"), "bad_idempotency_key");
  }

  const body = await readBodyCapped(request, MAX_EVENTS_BODY_BYTES);
  if (!body.ok) {
    return body.problem === "too_large"
      ? respond(jsonError(413, `body is larger than ${MAX_EVENTS_BODY_BYTES} bytes (5 MiB)`), "too_large")
      : respond(jsonError(400, UNREADABLE_BODY_MESSAGE), "unreadable_body");
  }

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body.bytes);
  } catch {
    return respond(jsonError(400, "body is not valid UTF-8"), "invalid_utf8");
  }

  const parsed = parseEventsBody(contentType!, text);
  if (!parsed.ok) {
    const details = parsed.problems ? { problems: parsed.problems, problem_count: parsed.problemCount ?? parsed.problems.length } : {};
    return respond(jsonError(parsed.status, parsed.error, details), parsed.reason);
  }

  const now = new Date();
  const validation = validateEvents(parsed.items, now);
  if (!validation.ok) {
    const error = `${validation.problemCount} problem(s) in the events; nothing was written`;
    return respond(jsonError(400, error, { problems: validation.problems, problem_count: validation.problemCount }), "invalid_events");
  }

  const ingestOptions = { idempotencyKey, bodySha256: sha256Hex(body.bytes), asyncInsert: env.CLICKHOUSE_ASYNC_INSERT, now };
  try {
    const result = await retryWrite(
      () => ingestEvents(getDb(), validation.events, ingestOptions),
      (error) => error instanceof EventStoreError && error.unreachable,
    );
    // A replay accepted nothing new: counting it again would double the metric.
    if (!result.replayed) metrics.count("muse.ingest.events_accepted", result.accepted);
    return respond(json({ accepted: result.accepted }, 202, result.replayed ? { "Idempotent-Replayed": "true" } : {}));
  } catch (error) {
    if (error instanceof IdempotencyConflictError) return respond(jsonError(422, error.message), "idempotency_conflict");
    if (error instanceof EventStoreError) {
      log.error("events not stored", { operation: error.operation, error: error.cause });
      metrics.count("muse.clickhouse.write_errors", 1, { table: "ui_events" });
      const store = routeDlq(env, { log, onDepth: (depth) => metrics.gauge("muse.dlq.depth", depth) });
      let why = "ClickHouse is unavailable; the events were not stored";
      if (store.dlq) {
        try {
          const queued = await spoolEvents(store.dlq, validation.events, ingestOptions, error);
          metrics.count("muse.ingest.events_accepted", queued.accepted);
          return respond(json({ accepted: queued.accepted, queued: true }, 202));
        } catch (spoolError) {
          log.error("events could not be queued either", { error: errorText(spoolError) });
          if (spoolError instanceof DlqFullError) {
            why = "ClickHouse is unavailable and the dead-letter store is full; the events were not stored";
            return respond(jsonError(503, `${why}: keep them and retry with the same Idempotency-Key`, {}, { "Retry-After": "30" }), "dlq_full");
          }
          why = "ClickHouse is unavailable; the events may not have been stored";
        }
      } else {
        log.warn("events not queued: no durable dead-letter store here", { reason: store.reason });
      }
      return respond(
        jsonError(503, `${why}: keep them and retry with the same Idempotency-Key`, {}, { "Retry-After": "5" }),
        "clickhouse_unavailable",
      );
    }
    log.error("events ingest failed", { error });
    return respond(jsonError(500, "internal error while ingesting events"), "internal");
  }
}

function routeLogger(env: Env): Logger {
  const secrets = secretNames()
    .map((name) => env[name])
    .filter((value): value is string => typeof value === "string" && value.length > 0);
  return createLogger({ level: env.MUSE_LOG_LEVEL, secrets, fields: { route: EVENTS_ROUTE } });
}

/** After the response inside Next; right away (not awaited) outside a request scope, e.g. in tests. */
function flushAfterResponse(metrics: Metrics): void {
  try {
    after(() => metrics.flush());
  } catch {
    void metrics.flush();
  }
}
