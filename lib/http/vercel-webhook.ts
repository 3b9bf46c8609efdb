import "server-only";
import { createHmac } from "node:crypto";
import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { DEPLOYMENT_COLUMNS, deploymentError, deploymentRow, deploymentUrl, externalDeploymentRow, type DeploymentRow } from "../clickhouse/tables";
import type { Env } from "../env";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import { serverContext, type Clock } from "../server-context";
import { afterResponse } from "./after";
import { constantTimeEqual, unusableToken } from "./auth";
import { readBodyCapped } from "./body";
import { json, jsonError } from "./responses";
import { firstLineOf } from "../error-message";

/**
 * POST /api/webhooks/vercel: Vercel deployment events → the `deployments` row
 * of the content commit the deployment built (the publisher records it,
 * pending, when it commits).
 *
 * - Authentication: `x-vercel-signature` must be the hex HMAC-SHA1 of the raw
 *   body with VERCEL_WEBHOOK_SECRET (compared in constant time). Unset secret:
 *   503 naming it. Missing or wrong signature: 401, nothing read or written.
 * - Events (Vercel's webhook format: `{id, type, createdAt (ms), payload:
 *   {deployment: {id, url, meta: {githubCommitSha, ...}}}}`):
 *   deployment.created → building; deployment.succeeded (and the legacy
 *   deployment.ready) → ready, with the URL and duration_ms = its time − the
 *   created event's time; deployment.error → error, with the message;
 *   deployment.canceled → canceled. Other types: 200, ignored.
 * - Concurrency: each delivery appends its event to `deployment_events`
 *   (sql/010), then derives the row from all of the commit's events, folded
 *   in arrival order over the pending row (`foldDeploymentEvents`), and writes
 *   that as a newer version of the `deployments` row (ReplacingMergeTree on
 *   updated_at; a version is written only when the state changes, above the
 *   version it read). After writing, it reads the commit's events again and
 *   folds again if another delivery appended one meanwhile, so whichever
 *   delivery writes last has folded every event: concurrent deliveries cannot
 *   lose an `events_seen` entry or a duration, as a read-modify-write of the
 *   row could. updated_at is the event's time (kept increasing), so the
 *   building version's updated_at is when the build started. A delivered event
 *   id is a replay: it changes nothing. Deliveries may arrive out of order: an
 *   event older than the recorded state does not move it back (a late
 *   `created` only fills in a missing duration).
 * - An event for a commit without a row (a deployment Muse did not cause: a
 *   code push, a manual redeploy of another commit) starts one, origin
 *   `external` (sql/022), pending as of the event, and is folded like any
 *   other: the table holds every deployment of the project, and the
 *   deployment-success KPI counts Muse's own (`origin:muse`).
 */

export const VERCEL_SIGNATURE_HEADER = "x-vercel-signature";
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_EVENTS_SEEN = 100;

export const DEPLOYMENT_EVENT_STATUS = {
  "deployment.created": "building",
  "deployment.succeeded": "ready",
  "deployment.ready": "ready",
  "deployment.error": "error",
  "deployment.canceled": "canceled",
} as const satisfies Record<string, DeploymentRow["status"]>;
type DeploymentEventType = keyof typeof DEPLOYMENT_EVENT_STATUS;

const eventTime = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), "expected epoch milliseconds or an ISO 8601 time")
    .transform((s) => Date.parse(s)),
]);

export const vercelEvent = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(200),
  createdAt: eventTime,
  payload: z.unknown(),
});

export const deploymentPayload = z.looseObject({
  deployment: z.looseObject({
    id: z.string().min(1).max(200),
    url: z.string().max(2_000).nullish(),
    meta: z.record(z.string(), z.unknown()).nullish(),
    errorMessage: z.string().nullish(),
  }),
  errorMessage: z.string().nullish(),
});

export function vercelSignature(secret: string, body: Uint8Array | string): string {
  return createHmac("sha1", secret).update(body).digest("hex");
}

export function verifyVercelSignature(secret: string, body: Uint8Array, header: string | null): boolean {
  if (!header) return false;
  return constantTimeEqual(header.trim().toLowerCase(), vercelSignature(secret, body));
}

const SHA = /^[0-9a-f]{40}$/i;
/** The commit a Git-triggered deployment built (GitHub, GitLab or Bitbucket metadata). */
export function deploymentCommit(meta: Record<string, unknown> | null | undefined): string | undefined {
  for (const key of ["githubCommitSha", "gitlabCommitSha", "bitbucketCommitSha"]) {
    const value = meta?.[key];
    if (typeof value === "string" && SHA.test(value)) return value.toLowerCase();
  }
  return undefined;
}

const TERMINAL = new Set<DeploymentRow["status"]>(["ready", "error", "canceled"]);

export type WebhookOutcome = { recorded: true; row: DeploymentRow } | { recorded: false; reason: "duplicate" | "unknown_commit" | "stale"; detail: string };

/**
 * The next version of the deployment row for an event, or why there is none.
 * Pure: `current` is the row read FINAL (undefined: no row for the commit).
 */
export function applyDeploymentEvent(
  current: DeploymentRow | undefined,
  event: { id: string; type: DeploymentEventType; createdAtMs: number; deploymentId: string; url?: string | null; errorMessage?: string | null },
  commitSha: string,
): WebhookOutcome {
  if (!current) return { recorded: false, reason: "unknown_commit", detail: `no deployment recorded for commit ${commitSha}` };
  if (current.events_seen.includes(event.id)) return { recorded: false, reason: "duplicate", detail: `event ${event.id} was already recorded` };
  const status = DEPLOYMENT_EVENT_STATUS[event.type];
  const stateMs = Date.parse(current.updated_at);
  const seen = [...current.events_seen, event.id].slice(-MAX_EVENTS_SEEN);
  const sameBuild = current.vercel_deployment_id === event.deploymentId;

  // Older than the recorded state (out-of-order delivery). The pending row's time is ours, not Vercel's: never compared.
  if (current.status !== "pending" && event.createdAtMs < stateMs) {
    if (status === "building" && TERMINAL.has(current.status) && sameBuild && current.duration_ms === 0) {
      // The build's start arrived after its end: fill in the duration, keep the state.
      const row = {
        ...current,
        duration_ms: Math.min(stateMs - event.createdAtMs, 2 ** 32 - 1),
        events_seen: seen,
        updated_at: new Date(stateMs + 1).toISOString(),
      };
      return { recorded: true, row: deploymentRow.parse(row) };
    }
    return {
      recorded: false,
      reason: "stale",
      detail: `event ${event.id} (${new Date(event.createdAtMs).toISOString()}) is older than the recorded ${current.status} state`,
    };
  }

  const startedMs = current.status === "building" && sameBuild ? stateMs : undefined;
  const duration = status !== "building" && startedMs !== undefined ? Math.max(0, Math.min(event.createdAtMs - startedMs, 2 ** 32 - 1)) : 0;
  const row: DeploymentRow = {
    ...current,
    status,
    vercel_deployment_id: event.deploymentId,
    url: event.url ? deploymentUrl(event.url) : status === "building" && !sameBuild ? "" : current.url,
    duration_ms: duration,
    error_msg: status === "error" ? deploymentError(event.deploymentId, event.errorMessage) : "",
    events_seen: seen,
    updated_at: new Date(Math.max(event.createdAtMs, stateMs + 1)).toISOString(),
  };
  return { recorded: true, row: deploymentRow.parse(row) };
}

export interface WebhookDeps {
  db: Db;
  env: Env;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
}

export function webhookDeps(): WebhookDeps {
  return serverContext({ fields: { route: "/api/webhooks/vercel" } });
}

async function readDeployment(db: Db, commitSha: string): Promise<DeploymentRow | undefined> {
  return db.queryOne(
    `SELECT ${DEPLOYMENT_COLUMNS}
       FROM deployments FINAL
      WHERE commit_sha = {sha:FixedString(40)}
      LIMIT 1`,
    { sha: commitSha },
    deploymentRow,
  );
}

/** One delivered event as `deployment_events` keeps it (sql/010). */
export const storedDeploymentEvent = z.object({
  event_id: z.string(),
  type: z.enum(Object.keys(DEPLOYMENT_EVENT_STATUS) as [DeploymentEventType, ...DeploymentEventType[]]),
  created_at_ms: z.coerce.number(),
  deployment_id: z.string(),
  url: z.string(),
  error_msg: z.string(),
});
export type StoredDeploymentEvent = z.infer<typeof storedDeploymentEvent>;

/** The commit's events, each once (its first delivery), in arrival order. */
async function readEvents(db: Db, commitSha: string): Promise<StoredDeploymentEvent[]> {
  return db.query(
    `SELECT event_id, argMin(type, received_at) AS type, toUnixTimestamp64Milli(argMin(created_at, received_at)) AS created_at_ms,
            argMin(deployment_id, received_at) AS deployment_id, argMin(url, received_at) AS url,
            argMin(error_msg, received_at) AS error_msg, min(received_at) AS first_received
       FROM deployment_events
      WHERE commit_sha = {sha:FixedString(40)}
      GROUP BY event_id
      ORDER BY first_received, event_id`,
    { sha: commitSha },
    storedDeploymentEvent,
  );
}

/** The row as the publisher recorded it, before any event. */
export function pendingBase(row: DeploymentRow): DeploymentRow {
  return { ...row, status: "pending", vercel_deployment_id: "", url: "", duration_ms: 0, error_msg: "", events_seen: [], updated_at: row.ts };
}

/**
 * The deployment row after `events` (arrival order) applied one by one to the
 * pending row, and what became of each event. Pure and deterministic: every
 * delivery that reads the same events derives the same row.
 */
export function foldDeploymentEvents(
  pending: DeploymentRow,
  events: readonly StoredDeploymentEvent[],
): { row: DeploymentRow; outcomes: Map<string, WebhookOutcome> } {
  let row = pending;
  const outcomes = new Map<string, WebhookOutcome>();
  for (const e of events) {
    const outcome = applyDeploymentEvent(
      row,
      { id: e.event_id, type: e.type, createdAtMs: e.created_at_ms, deploymentId: e.deployment_id, url: e.url || null, errorMessage: e.error_msg || null },
      row.commit_sha,
    );
    outcomes.set(e.event_id, outcome);
    if (outcome.recorded) row = outcome.row;
  }
  return { row, outcomes };
}

const sameState = (a: DeploymentRow, b: DeploymentRow | undefined) =>
  b !== undefined &&
  a.status === b.status &&
  a.vercel_deployment_id === b.vercel_deployment_id &&
  a.url === b.url &&
  a.duration_ms === b.duration_ms &&
  a.error_msg === b.error_msg &&
  a.events_seen.join("\n") === b.events_seen.join("\n");

/** Folds the commit's events and writes the result when it changed; again while other deliveries keep appending. */
async function recordFromEvents(
  db: Db,
  current: DeploymentRow,
  commitSha: string,
): Promise<{ before: DeploymentRow; row: DeploymentRow; outcomes: Map<string, WebhookOutcome> }> {
  const base = pendingBase(current);
  let events = await readEvents(db, commitSha);
  for (let attempt = 0; ; attempt++) {
    const { row, outcomes } = foldDeploymentEvents(base, events);
    const latest = (await readDeployment(db, commitSha)) ?? current;
    if (!sameState(row, latest)) {
      // Above the version read, so this (more complete) fold replaces it.
      const version = Math.max(Date.parse(row.updated_at), Date.parse(latest.updated_at) + 1);
      await db.insert("deployments", [deploymentRow.parse({ ...row, updated_at: new Date(version).toISOString() })]);
    }
    const again = await readEvents(db, commitSha);
    if (again.length === events.length || attempt >= 4) return { before: current, row, outcomes };
    events = again;
  }
}

const MAX_SIGNATURE_LENGTH = 200;

export async function handleVercelWebhook(request: Request, makeDeps: () => WebhookDeps = webhookDeps): Promise<Response> {
  const deps = makeDeps();
  const secret = deps.env.VERCEL_WEBHOOK_SECRET;
  const closed = unusableToken("VERCEL_WEBHOOK_SECRET", secret);
  if (closed || !secret) return closed!;

  // Unsigned requests are refused before a byte of the body is read.
  const signature = request.headers.get(VERCEL_SIGNATURE_HEADER);
  if (!signature) return jsonError(401, `missing ${VERCEL_SIGNATURE_HEADER} header`);
  if (signature.length > MAX_SIGNATURE_LENGTH)
    return jsonError(401, `invalid ${VERCEL_SIGNATURE_HEADER}: not the HMAC-SHA1 of the body with VERCEL_WEBHOOK_SECRET`);
  // Content-Length first, then the bytes actually received: a chunked body is never buffered past the cap.
  const read = await readBodyCapped(request, MAX_BODY_BYTES);
  if (!read.ok) {
    return read.problem === "too_large"
      ? jsonError(413, `body too large: at most ${MAX_BODY_BYTES} bytes`)
      : jsonError(400, "the request body could not be read (the upload broke off)");
  }
  const raw = read.bytes;
  if (!verifyVercelSignature(secret, raw, signature))
    return jsonError(401, `invalid ${VERCEL_SIGNATURE_HEADER}: not the HMAC-SHA1 of the body with VERCEL_WEBHOOK_SECRET`);

  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(raw).toString("utf8"));
  } catch {
    return jsonError(400, "body is not valid JSON");
  }
  const envelope = vercelEvent.safeParse(body);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return jsonError(400, `invalid event: ${issue.path.join(".") || "(body)"}: ${issue.message}`);
  }
  const event = envelope.data;
  if (!Object.hasOwn(DEPLOYMENT_EVENT_STATUS, event.type)) {
    return json({ received: true, recorded: false, ignored: `event type ${event.type} is not tracked` });
  }
  const type = event.type as DeploymentEventType;
  const payload = deploymentPayload.safeParse(event.payload);
  if (!payload.success) {
    const issue = payload.error.issues[0];
    return jsonError(400, `invalid ${type} event: payload.${issue.path.join(".")}: ${issue.message}`);
  }
  const deployment = payload.data.deployment;
  const commitSha = deploymentCommit(deployment.meta);
  const log = deps.log.child({ event_id: event.id, type, deployment_id: deployment.id });
  if (!commitSha) {
    log.info("deployment event without a Git commit ignored");
    return json({ received: true, recorded: false, ignored: "the deployment names no Git commit (payload.deployment.meta.githubCommitSha)" });
  }

  try {
    let current = await readDeployment(deps.db, commitSha);
    const notRecorded = (outcome: Extract<WebhookOutcome, { recorded: false }>) => {
      log.info("deployment event not recorded", { commit_sha: commitSha, reason: outcome.reason, detail: outcome.detail });
      return json({ received: true, recorded: false, reason: outcome.reason, detail: outcome.detail, commit_sha: commitSha });
    };
    if (!current) {
      // A deployment Muse did not start: recorded too, as external, pending from the time of its first event.
      // Pending from just before its first event, so that event's time is the build's start.
      current = externalDeploymentRow({ at: new Date(event.createdAt - 1), deploymentId: deployment.id, commitSha });
      await deps.db.insert("deployments", [current]);
    }
    if ((await readEvents(deps.db, commitSha)).some((e) => e.event_id === event.id) || current.events_seen.includes(event.id)) {
      return notRecorded({ recorded: false, reason: "duplicate", detail: `event ${event.id} was already recorded` });
    }
    const errorMessage = deployment.errorMessage ?? payload.data.errorMessage ?? "";
    await deps.db.insert("deployment_events", [
      {
        commit_sha: commitSha,
        event_id: event.id,
        type,
        created_at: new Date(event.createdAt).toISOString(),
        deployment_id: deployment.id,
        url: deployment.url ?? "",
        error_msg: errorMessage.slice(0, 2_000),
      },
    ]);
    const { before, row, outcomes } = await recordFromEvents(deps.db, current, commitSha);
    const outcome = outcomes.get(event.id) ?? { recorded: false, reason: "duplicate", detail: `event ${event.id} was already recorded` };
    if (!outcome.recorded) return notRecorded(outcome);
    if (row.status !== before.status) deps.metrics.count("muse.publish.deployments", 1, { status: row.status, origin: row.origin });
    if (row.status === "ready" && row.duration_ms > 0 && row.duration_ms !== before.duration_ms)
      deps.metrics.gauge("muse.publish.deploy_duration_ms", row.duration_ms);
    log.info("deployment status recorded", { commit_sha: commitSha, status: row.status, duration_ms: row.duration_ms });
    return json({ received: true, recorded: true, commit_sha: commitSha, status: row.status, duration_ms: row.duration_ms, url: row.url });
  } catch (error) {
    log.error("could not record the deployment event", { error: firstLineOf(error) });
    // Non-2xx: Vercel delivers the event again later.
    return jsonError(503, "ClickHouse is unreachable; the event was not recorded");
  } finally {
    await afterResponse(() => deps.metrics.flush());
  }
}
