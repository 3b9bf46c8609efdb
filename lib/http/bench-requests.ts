import "server-only";
import { ClickHouseError } from "@clickhouse/client-web";
import { z } from "zod";
import { answerCannotRun, claimRequest, MAX_PENDING_LIMIT, pendingRequests, type BenchRequestRow, type ClaimOutcome } from "../bisection/requests";
import { errorText } from "../dlq";
import { REQUEST_ID_PATTERN } from "../ingest/reports/schemas";
import { serverContext, type ServerContext } from "../server-context";
import { requireToken } from "./auth";
import { acceptedMediaType, readBodyCapped, UNREADABLE_BODY_MESSAGE } from "./body";
import { readQuery } from "./query";
import { json, jsonError } from "./responses";

/**
 * The runner API (docs/api.md): benchmark runners fetch pending bisection
 * requests, claim one, and answer it with a report (POST /api/ingest/bench
 * with X-Muse-Request-Id) or with "cannot run". Every route takes
 * `Authorization: Bearer $MUSE_RUNNER_TOKEN` and no other token; the logic is
 * lib/bisection/requests.ts.
 */

export const RUNNER_ROUTE = "/api/bench/requests";
export const MAX_RUNNER_BODY_BYTES = 16 * 1024;
export const DEFAULT_LEASE_SECONDS = 3_600;
export const MIN_LEASE_SECONDS = 10;
export const MAX_LEASE_SECONDS_API = 86_400;

type MakeContext = () => ServerContext;
const defaultContext: MakeContext = () => serverContext({ fields: { route: RUNNER_ROUTE } });

/** A request as runners see it. */
export function runnerView(row: BenchRequestRow) {
  return {
    id: row.request_id,
    commit_sha: row.commit_sha,
    benchmark_type: row.benchmark_type,
    model: row.model,
    quant: row.quant,
    variant: row.variant,
    dataset: row.dataset,
    device: row.device,
    repeats: row.repeats,
    reason: row.reason,
    requested_at: row.requested_at,
    expires_at: row.expires_at,
  };
}

/** A claimed or answered request: the runner view plus its state. */
function answeredView(row: BenchRequestRow) {
  return { ...runnerView(row), status: row.status, claimed_by: row.claimed_by, lease_until: row.lease_until, answer: row.answer };
}

const runner = z
  .string({ error: "expected a string naming the runner" })
  .trim()
  .min(1, "must not be empty")
  .max(200, "at most 200 characters")
  .regex(/^[^\p{Cc}]+$/u, "must not contain control characters");

export const claimBody = z.strictObject({
  runner,
  lease_seconds: z
    .int({ error: "expected whole seconds" })
    .min(MIN_LEASE_SECONDS, `at least ${MIN_LEASE_SECONDS}`)
    .max(MAX_LEASE_SECONDS_API, `at most ${MAX_LEASE_SECONDS_API} (a day)`)
    .default(DEFAULT_LEASE_SECONDS),
});

export const cannotRunBody = z.strictObject({
  runner,
  reason: z.string({ error: "expected a string saying why the run cannot be made" }).trim().min(1, "must not be empty").max(2_000, "at most 2,000 characters"),
});

const pendingQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PENDING_LIMIT).default(50),
});

/** The path's request id, or the 400 naming it. */
function checkId(id: string): Response | undefined {
  return REQUEST_ID_PATTERN.test(id)
    ? undefined
    : jsonError(400, "invalid request id in the path: expected 1–100 characters of A–Z, a–z, 0–9, _ and -", { parameter: "id" });
}

/** A JSON object body validated by `schema`, or the 4xx naming what is wrong. */
async function readJsonBody<S extends z.ZodType>(request: Request, schema: S): Promise<{ ok: true; data: z.output<S> } | { ok: false; response: Response }> {
  const refuse = (status: number, error: string, details: Record<string, unknown> = {}) => ({
    ok: false as const,
    response: jsonError(status, error, details),
  });
  const type = request.headers.get("content-type");
  if (type !== null && !acceptedMediaType(type, ["application/json"])) return refuse(415, "Content-Type must be application/json (UTF-8)");
  const read = await readBodyCapped(request, MAX_RUNNER_BODY_BYTES);
  if (!read.ok) return read.problem === "too_large" ? refuse(413, `body is larger than ${MAX_RUNNER_BODY_BYTES} bytes`) : refuse(400, UNREADABLE_BODY_MESSAGE);
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(read.bytes));
  } catch {
    return refuse(400, "body is not valid JSON (expected an object with runner)");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return refuse(400, "body must be a JSON object (with runner)");
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue.code === "unrecognized_keys") return refuse(400, `unknown body field ${issue.keys.join(", ")}`, { field: issue.keys[0] });
    const field = issue.path.map(String).join(".");
    return refuse(400, `invalid body field ${field}: ${issue.message}`, { field });
  }
  return { ok: true, data: parsed.data };
}

/** Token first; ClickHouse failures become 503 (never their text). */
async function guarded(request: Request, makeContext: MakeContext, handle: (context: ServerContext) => Promise<Response>): Promise<Response> {
  const context = makeContext();
  const denied = requireToken(request, "MUSE_RUNNER_TOKEN", context.env);
  if (denied) return denied;
  try {
    return await handle(context);
  } catch (error) {
    context.log.error("runner request failed", { error: errorText(error) });
    return jsonError(
      503,
      error instanceof ClickHouseError ? "ClickHouse refused the query; retry later" : "ClickHouse is unreachable; retry later",
      {},
      {
        "Retry-After": "30",
      },
    );
  }
}

function refusal(id: string, outcome: Exclude<ClaimOutcome, { ok: true }>): Response {
  switch (outcome.reason) {
    case "not_found":
      return jsonError(404, `no bench request ${JSON.stringify(id)}`);
    case "taken":
      return jsonError(409, `bench request ${JSON.stringify(id)} is claimed by another runner whose lease is live`);
    case "closed":
      return jsonError(410, `bench request ${JSON.stringify(id)} is closed: done, answered cannot-run, or expired`);
  }
}

/** GET /api/bench/requests?limit= — pending requests, oldest first. */
export function handlePendingRequests(request: Request, makeContext: MakeContext = defaultContext): Promise<Response> {
  return guarded(request, makeContext, async ({ db, clock }) => {
    const query = readQuery(request, pendingQuery);
    if (!query.ok) return query.response;
    const rows = await pendingRequests(db, clock.now(), query.data.limit);
    return json({ requests: rows.map(runnerView) });
  });
}

/** POST /api/bench/requests/{id}/claim — `{runner, lease_seconds?}`: 200 with the request, 409 taken, 404 unknown, 410 closed. */
export function handleClaim(request: Request, id: string, makeContext: MakeContext = defaultContext): Promise<Response> {
  return guarded(request, makeContext, async ({ db, clock }) => {
    const bad = checkId(id);
    if (bad) return bad;
    const body = await readJsonBody(request, claimBody);
    if (!body.ok) return body.response;
    const outcome = await claimRequest(db, id, body.data.runner, clock.now(), body.data.lease_seconds);
    return outcome.ok ? json({ request: answeredView(outcome.request) }) : refusal(id, outcome);
  });
}

/** POST /api/bench/requests/{id}/cannot-run — `{runner, reason}`: 200, like `git bisect skip`. */
export function handleCannotRun(request: Request, id: string, makeContext: MakeContext = defaultContext): Promise<Response> {
  return guarded(request, makeContext, async ({ db, clock }) => {
    const bad = checkId(id);
    if (bad) return bad;
    const body = await readJsonBody(request, cannotRunBody);
    if (!body.ok) return body.response;
    const outcome = await answerCannotRun(db, id, body.data.runner, body.data.reason, clock.now());
    return outcome.ok ? json({ request: answeredView(outcome.request) }) : refusal(id, outcome);
  });
}
