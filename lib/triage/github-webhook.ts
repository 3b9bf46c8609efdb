import "server-only";
import { createHmac } from "node:crypto";
import { z } from "zod";
import type { Db } from "../clickhouse/client";
import type { Env } from "../env";
import { constantTimeEqual, unusableToken } from "../http/auth";
import { readBodyCapped } from "../http/body";
import { json, jsonError } from "../http/responses";
import type { Logger } from "../log";
import type { ContentRepo } from "../content";
import { handleReviewComment, handleReviewPullRequest } from "../review/github-webhook";
import { episodeOfBody } from "../review/episode";
import { serverContext, type Clock } from "../server-context";
import { createGitHubClient, parseRepoRef, statusOf } from "../upstream/github";
import { eventIdFromIssueBody, parseCommands } from "./commands";
import { actionsOfDelivery, applyTriage, deliveryActionId, type TriageActionRow } from "./store";
import { firstLineOf } from "../error-message";

/**
 * POST /api/webhooks/github: maintainers triage events with issue comments
 * (docs/triage.md).
 *
 * - Authentication: `X-Hub-Signature-256` must be `sha256=` + the hex
 *   HMAC-SHA256 of the raw body with GITHUB_WEBHOOK_SECRET, compared in
 *   constant time. Unset secret: 503 naming it; missing or wrong signature:
 *   401, nothing read past the body or written.
 * - `X-GitHub-Delivery` names the delivery: a redelivery records nothing new
 *   (each command's action id is derived from it) and answers what the first
 *   delivery applied.
 * - `issue_comment` with action `created`: each `/muse …` line of the comment
 *   is a command for the event whose id the issue body's hidden marker
 *   `<!-- muse-event:<id> -->` names. Other events (`ping` included) and
 *   actions are acknowledged and ignored; unknown commands are notes.
 * - Only people with write access count: the comment's author_association
 *   must be OWNER, MEMBER or COLLABORATOR, and with GitHub configured
 *   (GITHUB_TOKEN and BANTERHEARTS_REPO) the repository must be Banterhearts
 *   and GET /repos/{o}/{r}/collaborators/{user}/permission must say write,
 *   maintain or admin.
 * - Episode reviews (MUSE_PUBLISH_MODE=pull-request, lib/review/github-webhook.ts): a comment on a pull request whose
 *   body carries `<!-- muse-episode:<series>/ep-NNN -->` is read for `/muse reject <why>` (the repository must be
 *   MUSE_CONTENT_REPO, the permission checked there), and `pull_request` closed events of its branches publish
 *   (merged) or reject (closed) the episode.
 */

export const GITHUB_SIGNATURE_HEADER = "x-hub-signature-256";
export const GITHUB_DELIVERY_HEADER = "x-github-delivery";
export const GITHUB_EVENT_HEADER = "x-github-event";
const MAX_BODY_BYTES = 1024 * 1024;
const WRITE_ASSOCIATIONS = new Set(["OWNER", "MEMBER", "COLLABORATOR"]);
const WRITE_ROLES = new Set(["admin", "maintain", "write"]);

export const issueCommentPayload = z.looseObject({
  action: z.string().min(1).max(100),
  issue: z.looseObject({ number: z.number().int().positive(), body: z.string().nullish() }),
  comment: z.looseObject({
    id: z.number().int().nonnegative(),
    body: z.string().nullish(),
    author_association: z.string().max(100),
    user: z.looseObject({ login: z.string().min(1).max(100) }),
  }),
  repository: z.looseObject({ full_name: z.string().regex(/^[\w.-]+\/[\w.-]+$/, "expected owner/name") }),
});

export function githubSignature(secret: string, body: Uint8Array | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function verifyGitHubSignature(secret: string, body: Uint8Array, header: string | null): boolean {
  if (!header || header.length > 200) return false;
  return constantTimeEqual(header.trim(), githubSignature(secret, body));
}

export interface PermissionChecker {
  /** Whether `login` may write to the repository (`owner/name`). */
  canWrite(repository: string, login: string): Promise<boolean>;
}

/** GET /repos/{owner}/{repo}/collaborators/{username}/permission through Octokit: write, maintain or admin. */
export function githubPermissionChecker(options: {
  token: string;
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  retries?: number;
  log?: Logger;
}): PermissionChecker {
  const octokit = createGitHubClient({
    token: options.token,
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    retries: options.retries,
    userAgent: "muse-triage",
    log: options.log,
  });
  return {
    async canWrite(repository, login) {
      const { owner, repo } = parseRepoRef(repository);
      try {
        const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
        const role = (data as { role_name?: string }).role_name ?? "";
        return WRITE_ROLES.has(role) || WRITE_ROLES.has(data.permission);
      } catch (error) {
        // 404: not a collaborator (or no such user): no write access.
        if (statusOf(error) === 404) return false;
        throw error;
      }
    },
  };
}

export interface GitHubWebhookDeps {
  db: Db;
  env: Env;
  log: Logger;
  clock: Clock;
  /** Default: the permission API with GITHUB_TOKEN when GitHub is configured, else none (author_association alone). */
  permissions?: PermissionChecker;
  /** Episode reviews: the content repository whose pull requests are closed on `/muse reject` (default: from the environment). */
  contentRepo?: ContentRepo;
}

export function githubWebhookDeps(): GitHubWebhookDeps {
  return serverContext({ fields: { route: "/api/webhooks/github" } });
}

/** The permission checker the environment configures: GITHUB_TOKEN with BANTERHEARTS_REPO. */
export function permissionsFromEnv(env: Env, log?: Logger): PermissionChecker | undefined {
  if (!env.GITHUB_TOKEN || !env.BANTERHEARTS_REPO) return undefined;
  return githubPermissionChecker({ token: env.GITHUB_TOKEN, baseUrl: env.GITHUB_API_URL, log });
}

/** The permission checker of episode reviews: GITHUB_TOKEN with MUSE_CONTENT_REPO. */
export function contentPermissionsFromEnv(env: Env, log?: Logger): PermissionChecker | undefined {
  if (!env.GITHUB_TOKEN || !env.MUSE_CONTENT_REPO) return undefined;
  return githubPermissionChecker({ token: env.GITHUB_TOKEN, baseUrl: env.GITHUB_API_URL, log });
}

const summary = (a: TriageActionRow) => ({
  action_id: a.action_id,
  event_id: a.event_id,
  action: a.action,
  argument: a.argument,
  reason: a.reason,
  actor: a.actor,
  source: a.source,
  created_at: a.created_at,
});

export async function handleGitHubWebhook(request: Request, makeDeps: () => GitHubWebhookDeps = githubWebhookDeps): Promise<Response> {
  const deps = makeDeps();
  const secret = deps.env.GITHUB_WEBHOOK_SECRET;
  const closed = unusableToken("GITHUB_WEBHOOK_SECRET", secret);
  if (closed || !secret) return closed!;
  const signature = request.headers.get(GITHUB_SIGNATURE_HEADER);
  if (!signature) return jsonError(401, `missing ${GITHUB_SIGNATURE_HEADER} header`);
  const read = await readBodyCapped(request, MAX_BODY_BYTES);
  if (!read.ok) {
    return read.problem === "too_large"
      ? jsonError(413, `body too large: at most ${MAX_BODY_BYTES} bytes`)
      : jsonError(400, "the request body could not be read (the upload broke off)");
  }
  if (!verifyGitHubSignature(secret, read.bytes, signature))
    return jsonError(401, `invalid ${GITHUB_SIGNATURE_HEADER}: not sha256= and the HMAC-SHA256 of the body with GITHUB_WEBHOOK_SECRET`);

  const delivery = request.headers.get(GITHUB_DELIVERY_HEADER)?.trim() ?? "";
  if (!/^[\w-]{1,100}$/.test(delivery)) return jsonError(400, `missing or invalid ${GITHUB_DELIVERY_HEADER} header`, { field: GITHUB_DELIVERY_HEADER });
  const eventName = request.headers.get(GITHUB_EVENT_HEADER)?.trim() ?? "";
  if (eventName === "ping") return json({ received: true, applied: [], ignored: "ping" });
  if (eventName !== "issue_comment" && eventName !== "pull_request")
    return json({ received: true, applied: [], ignored: `event ${eventName || "(none)"} is not issue_comment or pull_request` });

  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(read.bytes).toString("utf8"));
  } catch {
    return jsonError(400, "body is not valid JSON");
  }
  if (eventName === "pull_request") return handleReviewPullRequest(deps, body, delivery);
  const parsed = issueCommentPayload.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join(".") || "(body)";
    return jsonError(400, `invalid issue_comment payload: ${field}: ${issue.message}`, { field });
  }
  const payload = parsed.data;
  const log = deps.log.child({ delivery, issue: payload.issue.number, comment: payload.comment.id });
  if (payload.action !== "created") return json({ received: true, applied: [], ignored: `comment action ${payload.action} (only created is read)` });
  if (episodeOfBody(payload.issue.body)) {
    // An episode's pull request: `/muse reject <why>`, authorised on MUSE_CONTENT_REPO.
    return handleReviewComment({ ...deps, permissions: deps.permissions ?? contentPermissionsFromEnv(deps.env, log) }, payload, delivery);
  }
  const { commands, notes } = parseCommands(payload.comment.body ?? "");
  if (commands.length === 0) return json({ received: true, applied: [], notes, ignored: "no /muse command in the comment" });
  const eventId = eventIdFromIssueBody(payload.issue.body);
  if (!eventId) return json({ received: true, applied: [], notes, ignored: "the issue is not a Muse event issue (no muse-event marker in its body)" });

  const login = payload.comment.user.login;
  const refuse = (why: string) => {
    log.info("triage comment not authorised", { login, why });
    return json({ received: true, applied: [], notes, ignored: `${login} ${why}` });
  };
  if (!WRITE_ASSOCIATIONS.has(payload.comment.author_association))
    return refuse(`has no write access (author_association ${payload.comment.author_association})`);

  try {
    const done = await actionsOfDelivery(deps.db, "github-comment", delivery);
    if (done.length >= commands.length) return json({ received: true, duplicate: true, applied: done.map(summary), notes });

    const permissions = deps.permissions ?? permissionsFromEnv(deps.env, log);
    if (deps.env.BANTERHEARTS_REPO) {
      const configured = parseRepoRef(deps.env.BANTERHEARTS_REPO);
      if (`${configured.owner}/${configured.repo}`.toLowerCase() !== payload.repository.full_name.toLowerCase())
        return json({ received: true, applied: [], notes, ignored: `repository ${payload.repository.full_name} is not BANTERHEARTS_REPO` });
    }
    if (permissions && !(await permissions.canWrite(payload.repository.full_name, login)))
      return refuse(`has no write access to ${payload.repository.full_name} (collaborator permission)`);

    const applied: ReturnType<typeof summary>[] = [];
    const now = deps.clock.now();
    for (const c of commands) {
      const outcome = await applyTriage(
        deps.db,
        {
          event_id: eventId,
          action: c.action,
          argument: c.argument,
          reason: c.reason,
          actor: login,
          source: "github-comment",
          delivery_id: delivery,
          action_id: deliveryActionId("github-comment", delivery, c.index),
        },
        { now: new Date(now.getTime() + c.index) },
      );
      if (!outcome.ok) {
        if (outcome.reason === "unknown_event") return json({ received: true, applied, notes, ignored: `no event ${eventId} in bench_events` });
        notes.push(`/muse ${c.action}: ${outcome.detail}`);
        continue;
      }
      applied.push(summary(outcome.action));
    }
    log.info("triage applied from an issue comment", { event_id: eventId, actions: applied.map((a) => a.action) });
    return json({ received: true, event_id: eventId, applied, notes }, applied.length > 0 ? 202 : 200);
  } catch (error) {
    log.error("could not apply the triage comment", { error: firstLineOf(error) });
    // Non-2xx: GitHub shows the failed delivery, and it can be redelivered (idempotent).
    return jsonError(503, "the triage could not be recorded (ClickHouse or GitHub unreachable); redeliver later");
  }
}
