import { createHmac } from "node:crypto";
import { z } from "zod";
import { appLogger } from "../agents/deps";
import { systemClock, type Clock } from "../agents/types";
import { getDb } from "../clickhouse";
import type { Db } from "../clickhouse/client";
import { deploymentRow, type DeploymentRow } from "../clickhouse/tables";
import { loadEnv, type Env } from "../env";
import type { Logger } from "../log";
import { metricsFromEnv, type Metrics } from "../metrics";
import { afterResponse } from "./after";
import { constantTimeEqual } from "./auth";
import { json, jsonError } from "./responses";

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
 * - Each change is a newer version of the row (ReplacingMergeTree on
 *   updated_at); updated_at is the event's time (kept increasing), so the
 *   building version's updated_at is when the build started. The event id goes
 *   into `events_seen`: a replayed delivery changes nothing. Deliveries may
 *   arrive out of order: an event older than the recorded state does not move
 *   it back (a late `created` only fills in a missing duration).
 * - An event for a commit without a row (a deployment Muse did not cause: a
 *   code push, a manual redeploy of another commit) is acknowledged with 200
 *   and records nothing: the table holds the deployments publishing triggered.
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

const withScheme = (url: string) => (/^https?:\/\//i.test(url) ? url : `https://${url}`);
const TERMINAL = new Set<DeploymentRow["status"]>(["ready", "error", "canceled"]);

export type WebhookOutcome =
  | { recorded: true; row: DeploymentRow }
  | { recorded: false; reason: "duplicate" | "unknown_commit" | "stale"; detail: string };

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
      const row = { ...current, duration_ms: Math.min(stateMs - event.createdAtMs, 2 ** 32 - 1), events_seen: seen, updated_at: new Date(stateMs + 1).toISOString() };
      return { recorded: true, row: deploymentRow.parse(row) };
    }
    return { recorded: false, reason: "stale", detail: `event ${event.id} (${new Date(event.createdAtMs).toISOString()}) is older than the recorded ${current.status} state` };
  }

  const startedMs = current.status === "building" && sameBuild ? stateMs : undefined;
  const duration = status !== "building" && startedMs !== undefined ? Math.max(0, Math.min(event.createdAtMs - startedMs, 2 ** 32 - 1)) : 0;
  const errorDetail = event.errorMessage?.trim();
  const row: DeploymentRow = {
    ...current,
    status,
    vercel_deployment_id: event.deploymentId,
    url: event.url ? withScheme(event.url) : status === "building" && !sameBuild ? "" : current.url,
    duration_ms: duration,
    error_msg: status === "error" ? `Vercel deployment ${event.deploymentId} failed${errorDetail ? `: ${errorDetail}` : ""}`.slice(0, 2_000) : "",
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
  const env = loadEnv();
  const log = appLogger(env, { route: "/api/webhooks/vercel" });
  return { db: getDb(), env, log, metrics: metricsFromEnv(env, log), clock: systemClock };
}

async function readDeployment(db: Db, commitSha: string): Promise<DeploymentRow | undefined> {
  return db.queryOne(
    `SELECT ts, updated_at, toString(run_id) AS run_id, toString(episode_run_id) AS episode_run_id, commit_sha, status,
            vercel_deployment_id, url, duration_ms, error_msg, events_seen
       FROM deployments FINAL
      WHERE commit_sha = {sha:FixedString(40)}
      LIMIT 1`,
    { sha: commitSha },
    deploymentRow,
  );
}

export async function handleVercelWebhook(request: Request, makeDeps: () => WebhookDeps = webhookDeps): Promise<Response> {
  const deps = makeDeps();
  const secret = deps.env.VERCEL_WEBHOOK_SECRET;
  if (!secret) return jsonError(503, "VERCEL_WEBHOOK_SECRET is not configured on this deployment, so this route is closed");

  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return jsonError(413, `body too large: at most ${MAX_BODY_BYTES} bytes`);
  const raw = new Uint8Array(await request.arrayBuffer());
  if (raw.byteLength > MAX_BODY_BYTES) return jsonError(413, `body too large: at most ${MAX_BODY_BYTES} bytes`);
  const signature = request.headers.get(VERCEL_SIGNATURE_HEADER);
  if (!signature) return jsonError(401, `missing ${VERCEL_SIGNATURE_HEADER} header`);
  if (!verifyVercelSignature(secret, raw, signature)) return jsonError(401, `invalid ${VERCEL_SIGNATURE_HEADER}: not the HMAC-SHA1 of the body with VERCEL_WEBHOOK_SECRET`);

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
    const current = await readDeployment(deps.db, commitSha);
    const outcome = applyDeploymentEvent(
      current,
      { id: event.id, type, createdAtMs: event.createdAt, deploymentId: deployment.id, url: deployment.url, errorMessage: deployment.errorMessage ?? payload.data.errorMessage },
      commitSha,
    );
    if (!outcome.recorded) {
      log.info("deployment event not recorded", { commit_sha: commitSha, reason: outcome.reason, detail: outcome.detail });
      return json({ received: true, recorded: false, reason: outcome.reason, detail: outcome.detail, commit_sha: commitSha });
    }
    await deps.db.insert("deployments", [outcome.row]);
    const changed = outcome.row.status !== current?.status;
    if (changed) deps.metrics.count("muse.publish.deployments", 1, { status: outcome.row.status });
    if (outcome.row.status === "ready" && outcome.row.duration_ms > 0) deps.metrics.gauge("muse.publish.deploy_duration_ms", outcome.row.duration_ms);
    log.info("deployment status recorded", { commit_sha: commitSha, status: outcome.row.status, duration_ms: outcome.row.duration_ms });
    return json({ received: true, recorded: true, commit_sha: commitSha, status: outcome.row.status, duration_ms: outcome.row.duration_ms, url: outcome.row.url });
  } catch (error) {
    log.error("could not record the deployment event", { error: error instanceof Error ? error.message.split("\n")[0] : String(error) });
    // Non-2xx: Vercel delivers the event again later.
    return jsonError(503, "ClickHouse is unreachable; the event was not recorded");
  } finally {
    await afterResponse(() => deps.metrics.flush());
  }
}
