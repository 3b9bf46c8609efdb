import "server-only";
import type { Db } from "../clickhouse/client";
import { DlqFullError, errorText, routeDlq, type DeadLetterQueue } from "../dlq";
import type { Metrics } from "../metrics";
import { retryWrite } from "../retry";
import { serverContext, type ServerContext } from "../server-context";
import { afterResponseInBackground } from "./after";
import { requireAnyToken, type TokenVariable } from "./auth";
import { clientAddress, limited, rateLimiterFromEnv, tokenKey, type RateLimiter } from "./rate-limit";
import { jsonError } from "./responses";

/**
 * The HTTP face of both ingest routes (POST /api/ingest/events and
 * /api/ingest/bench), as lib/http/agent-route.ts is the agents': token check,
 * reading the request (the route's `accept`), the write with quick retries,
 * the dead-letter fallback when ClickHouse does not take it, the
 * `muse.ingest.*` metrics of every answer, and their flush after the
 * response. What is written and how it is answered is the route's spec
 * (lib/http/ingest-events.ts, lib/http/ingest-bench.ts); the write itself is
 * lib/ingest, which knows nothing of HTTP.
 */

/** A response and, when it refuses the request, why (the `reason` tag of muse.ingest.rejected). */
export interface Answer {
  response: Response;
  rejected?: string;
}

export const answer = (response: Response, rejected?: string): Answer => ({ response, rejected });

export type Accepted<T> = { ok: true; input: T } | { ok: false; answer: Answer };

/** How ClickHouse failed to take a write: `unreachable` (no answer: worth a quick retry) or refused. */
export interface StoreFailure {
  unreachable: boolean;
  /** The `table` tag of muse.clickhouse.write_errors. */
  table: string;
  /** Fields of the error's log line. */
  fields: Record<string, unknown>;
}

/** What became of a write ClickHouse did not take. */
export type Unstored<Q> =
  | { queued: true; spooled: Q }
  /** `not_durable`: no durable dead-letter store here; `full`: the store is at its cap; `failed`: it could not be written. */
  | { queued: false; why: "not_durable" | "full" | "failed" };

export interface IngestSpec<In, Out, Q> {
  /** The route's path (log field and dead-letter source). */
  route: string;
  /** The `route` tag of the metrics. */
  tag: string;
  /** What is ingested, in log messages ("events", "bench rows"). */
  noun: string;
  /** The tokens that open the route: the upstream's own first, then the shared MUSE_INGEST_TOKEN. */
  tokens: readonly TokenVariable[];
  /** Reads and validates the request, after the token check. */
  accept(request: Request, context: ServerContext): Promise<Accepted<In>>;
  write(db: Db, input: In): Promise<Out>;
  /** The store failure an error of `write` is, or undefined for any other error. */
  storeFailure(error: unknown): StoreFailure | undefined;
  /** An answer to another error of `write` (e.g. a conflict), or undefined for an internal error. */
  refusal?(error: unknown): Answer | undefined;
  /** The answer (and metrics) when the write was stored. */
  stored(input: In, output: Out, metrics: Metrics): Answer;
  /** Queues what `write` would have written in the dead-letter store (throws when it cannot). */
  spool(dlq: DeadLetterQueue, input: In, error: unknown): Promise<Q>;
  /** The answer (and metrics) when it was not stored, queued or not. */
  unstored(outcome: Unstored<Q>, failure: StoreFailure, metrics: Metrics): Answer;
}

export async function handleIngest<In, Out, Q>(
  request: Request,
  spec: IngestSpec<In, Out, Q>,
  makeContext: () => ServerContext = () => serverContext({ fields: { route: spec.route } }),
  rateLimiter?: RateLimiter,
): Promise<Response> {
  const context = makeContext();
  const limiter = rateLimiter ?? rateLimiterFromEnv(context.env);
  const { env, log, metrics } = context;
  const respond = ({ response, rejected }: Answer): Response => {
    metrics.count("muse.ingest.requests", 1, { route: spec.tag, status: response.status });
    if (rejected) metrics.count("muse.ingest.rejected", 1, { route: spec.tag, reason: rejected });
    return response;
  };

  try {
    // Per client address before the token is even looked at (guessing tokens is limited too), then per token.
    const onLimitError = (error: unknown) => log.warn("rate limit not checked", { error: errorText(error) });
    const byAddress = await limited(limiter, "muse-ingest-address", clientAddress(request), request, onLimitError);
    if (byAddress) return respond(answer(byAddress, "rate_limited"));
    const { denied, variable } = requireAnyToken(request, spec.tokens, env);
    if (denied) return respond(answer(denied, denied.status === 503 ? "not_configured" : "unauthorized"));
    const byToken = await limited(limiter, "muse-ingest-token", tokenKey(env[variable]!), request, onLimitError);
    if (byToken) return respond(answer(byToken, "rate_limited"));

    const accepted = await spec.accept(request, context);
    if (!accepted.ok) return respond(accepted.answer);
    const { input } = accepted;

    try {
      const output = await retryWrite(
        () => spec.write(context.db, input),
        (error) => spec.storeFailure(error)?.unreachable === true,
      );
      return respond(spec.stored(input, output, metrics));
    } catch (error) {
      const failure = spec.storeFailure(error);
      if (!failure) {
        const refused = spec.refusal?.(error);
        if (refused) return respond(refused);
        throw error;
      }
      log.error(`${spec.noun} not stored`, failure.fields);
      metrics.count("muse.clickhouse.write_errors", 1, { table: failure.table });
      return respond(spec.unstored(await deadLetter(spec, context, input, error), failure, metrics));
    }
  } catch (error) {
    log.error(`${spec.noun} ingest failed`, { error: errorText(error) });
    return respond(answer(jsonError(500, `internal error while ingesting ${spec.noun}`), "internal"));
  } finally {
    afterResponseInBackground(() => metrics.flush());
  }
}

/**
 * Queues the write in the dead-letter store, only where that store is durable
 * (lib/dlq.ts `dlqDurability`): on a serverless instance the copy would vanish
 * with it.
 */
async function deadLetter<In, Q>(spec: IngestSpec<In, unknown, Q>, context: ServerContext, input: In, error: unknown): Promise<Unstored<Q>> {
  const { env, log, metrics } = context;
  try {
    const store = routeDlq(env, { log, onDepth: (depth) => metrics.gauge("muse.dlq.depth", depth) });
    if (!store.dlq) {
      log.warn(`${spec.noun} not queued: no durable dead-letter store here`, { reason: store.reason });
      return { queued: false, why: "not_durable" };
    }
    return { queued: true, spooled: await spec.spool(store.dlq, input, error) };
  } catch (spoolError) {
    log.error(`${spec.noun} could not be queued either`, { error: errorText(spoolError) });
    return { queued: false, why: spoolError instanceof DlqFullError ? "full" : "failed" };
  }
}
