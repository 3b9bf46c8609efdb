import { VercelCore } from "@vercel/sdk/core.js";
import { deploymentsGetDeployments } from "@vercel/sdk/funcs/deploymentsGetDeployments.js";
import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { DEPLOYMENT_COLUMNS, deploymentError, deploymentRow, deploymentUrl, type DeploymentRow } from "../clickhouse/tables";
import type { Env } from "../env";
import type { Logger } from "../log";
import type { Metrics } from "../metrics";
import { messageOf } from "../error-message";

/**
 * Deployments that settle (docs/operations.md "Deployments"). The publisher records a deployment pending when it
 * commits, and Vercel's webhook moves it on (lib/http/vercel-webhook.ts). When the webhook never comes — not
 * configured, a delivery lost, the endpoint down — the row would stay pending forever and the deployment KPI would
 * count nothing. The publish agent settles them first, each run:
 *
 * - With VERCEL_TOKEN and VERCEL_PROJECT_ID: Vercel's REST API (the official SDK, `GET /v7/deployments` filtered by
 *   the project and the commit sha) says what became of each deployment still pending or building after
 *   SETTLE_AFTER_MINUTES; its state is written as the webhook would have (ready with its URL and build time, error
 *   with the message, canceled, building).
 * - Whatever is still pending or building MUSE_DEPLOY_SETTLE_MINUTES after it started — no token, or Vercel has no
 *   deployment of that commit — becomes `unknown`, with the reason: counted apart from ready and error
 *   (`muse.publish.deployments{status:unknown}`), never as a success or a failure.
 *
 * Idempotent: a settled row is no longer pending, and a newer version is written only when the state changes.
 */

/** Younger rows are left to the webhook, which normally answers within a minute. */
export const SETTLE_AFTER_MINUTES = 5;
/** Rows looked at per run (oldest first); the rest wait for the next run. */
const BATCH = 50;

export interface SettleDeps {
  db: Db;
  env: Pick<Env, "VERCEL_TOKEN" | "VERCEL_PROJECT_ID" | "VERCEL_TEAM_ID" | "VERCEL_API_URL" | "MUSE_DEPLOY_SETTLE_MINUTES">;
  log: Logger;
  metrics: Metrics;
  now: Date;
}

export interface SettledDeployment {
  commit_sha: string;
  from: DeploymentRow["status"];
  to: DeploymentRow["status"];
  via: "vercel_api" | "timeout";
}

export interface SettleResult {
  /** Rows still pending or building that were looked at. */
  looked_at: number;
  settled: SettledDeployment[];
  /** Whether Vercel's API was asked (a token and a project id are configured). */
  asked_vercel: boolean;
}

/** Vercel's readyState → the row's status; states still in progress map to building. */
const STATE: Record<string, DeploymentRow["status"]> = {
  READY: "ready",
  ERROR: "error",
  CANCELED: "canceled",
  DELETED: "canceled",
  BUILDING: "building",
  INITIALIZING: "building",
  QUEUED: "building",
  BLOCKED: "building",
};

export async function settleDeployments(deps: SettleDeps): Promise<SettleResult> {
  const { db, env, now } = deps;
  const open = await db.query(
    `SELECT ${DEPLOYMENT_COLUMNS}
       FROM deployments FINAL
      WHERE status IN ('pending', 'building') AND ts <= {before:DateTime64(3, 'UTC')}
      ORDER BY ts
      LIMIT {batch:UInt32}`,
    { before: new Date(now.getTime() - SETTLE_AFTER_MINUTES * 60_000), batch: BATCH },
    deploymentRow,
  );
  const askVercel = Boolean(env.VERCEL_TOKEN && env.VERCEL_PROJECT_ID);
  const client = askVercel ? new VercelCore({ bearerToken: env.VERCEL_TOKEN!, serverURL: env.VERCEL_API_URL, retryConfig: { strategy: "none" } }) : undefined;
  const settled: SettledDeployment[] = [];
  for (const row of open) {
    let next: DeploymentRow | undefined;
    let via: SettledDeployment["via"] = "vercel_api";
    if (client) {
      try {
        next = await fromVercel(client, env, row);
      } catch (error) {
        // Vercel unreachable or refusing: the row waits for the next run (or its timeout below).
        deps.log.warn("settle: Vercel's API did not answer", { commit_sha: row.commit_sha, error: messageOf(error) });
      }
    }
    const ageMinutes = (now.getTime() - Date.parse(row.ts)) / 60_000;
    if ((!next || next.status === "pending" || next.status === "building") && ageMinutes >= env.MUSE_DEPLOY_SETTLE_MINUTES) {
      via = "timeout";
      next = {
        ...(next ?? row),
        status: "unknown",
        error_msg: `no news of this deployment ${Math.round(ageMinutes)} min after it started (${
          askVercel ? "Vercel's API has no finished deployment of this commit" : "no webhook event, and no VERCEL_TOKEN to ask Vercel"
        })`,
      };
    }
    if (!next || (next.status === row.status && next.url === row.url && next.vercel_deployment_id === row.vercel_deployment_id)) continue;
    const version = Math.max(now.getTime(), Date.parse(row.updated_at) + 1);
    await db.insert("deployments", [deploymentRow.parse({ ...next, updated_at: new Date(version).toISOString() })]);
    deps.metrics.count("muse.publish.deployments", 1, { status: next.status, origin: next.origin });
    if (next.status === "ready" && next.duration_ms > 0) deps.metrics.gauge("muse.publish.deploy_duration_ms", next.duration_ms);
    deps.log.info("deployment settled", { commit_sha: row.commit_sha, from: row.status, to: next.status, via });
    settled.push({ commit_sha: row.commit_sha, from: row.status, to: next.status, via });
  }
  return { looked_at: open.length, settled, asked_vercel: askVercel };
}

const deploymentMeta = z.record(z.string(), z.unknown()).nullish();

/** The row as Vercel's list of the project's deployments of this commit says it is (the newest of them), or undefined. */
async function fromVercel(client: VercelCore, env: SettleDeps["env"], row: DeploymentRow): Promise<DeploymentRow | undefined> {
  const result = await deploymentsGetDeployments(client, {
    projectId: env.VERCEL_PROJECT_ID!,
    ...(env.VERCEL_TEAM_ID ? { teamId: env.VERCEL_TEAM_ID } : {}),
    sha: row.commit_sha,
    limit: 20,
  });
  if (!result.ok) throw result.error;
  const ofCommit = result.value.deployments
    .filter((d) => {
      const meta = deploymentMeta.parse(d.meta);
      return d.uid === row.vercel_deployment_id || String(meta?.githubCommitSha ?? "").toLowerCase() === row.commit_sha;
    })
    .sort((a, b) => b.created - a.created);
  const d = ofCommit.find((x) => x.uid === row.vercel_deployment_id) ?? ofCommit[0];
  if (!d) return undefined;
  const status = STATE[d.readyState] ?? "building";
  const started = d.buildingAt ?? d.created;
  return {
    ...row,
    status,
    vercel_deployment_id: d.uid,
    url: d.url ? deploymentUrl(d.url) : row.url,
    duration_ms: status === "ready" && d.ready && d.ready >= started ? Math.min(d.ready - started, 2 ** 32 - 1) : row.duration_ms,
    error_msg: status === "error" ? deploymentError(d.uid, d.errorMessage) : "",
  };
}
