import "server-only";
import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { createContentRepo, type ContentRepo } from "../content";
import type { Env } from "../env";
import { json, jsonError } from "../http/responses";
import type { Logger } from "../log";
import type { Clock } from "../server-context";
import { museCommandLines } from "../triage/commands";
import { parseRepoRef } from "../upstream/github";
import { episodeBranch, episodeName, episodeOfBody, episodeOfBranch } from "./episode";
import { decideReview, MAX_REVIEW_REASON, reviewFor, type DecisionOutcome } from "./store";
import { firstLineOf } from "../error-message";

/**
 * The GitHub side of episode reviews (MUSE_PUBLISH_MODE=pull-request, docs/reach.md "Review before an episode goes
 * live"), called by POST /api/webhooks/github (lib/triage/github-webhook.ts, which checks the signature first):
 *
 * - `pull_request` closed: for a branch `muse/episode/<series>/ep-NNN` of MUSE_CONTENT_REPO (not a fork's) whose body
 *   carries the episode's marker: merged → the episode is published (its merge commit's deployment recorded pending,
 *   the Vercel webhook moves it on); closed without merging → rejected ("closed without merging", by whoever closed
 *   it), only for the pull request the publisher opened (its review record).
 * - `issue_comment` created on an episode's pull request (the marker in its body): `/muse reject <why>` by someone
 *   with write access to MUSE_CONTENT_REPO (author_association OWNER, MEMBER or COLLABORATOR and, with GITHUB_TOKEN,
 *   the collaborator permission write, maintain or admin) rejects the episode, records who, when and why, and closes
 *   the pull request (PATCH pulls/{n} state closed).
 *
 * Each decision is idempotent (lib/review/store.ts): a redelivery finds it recorded and changes nothing.
 */

const WRITE_ASSOCIATIONS = new Set(["OWNER", "MEMBER", "COLLABORATOR"]);
const REPO_NAME = /^[\w.-]+\/[\w.-]+$/;

export interface ReviewWebhookDeps {
  db: Db;
  env: Env;
  log: Logger;
  clock: Clock;
  /** Who may write to the content repository (default: the collaborator permission API with GITHUB_TOKEN). */
  permissions?: { canWrite(repository: string, login: string): Promise<boolean> };
  /** The content repository, to close a rejected pull request (default: from the environment). */
  contentRepo?: ContentRepo;
}

const login = z.looseObject({ login: z.string().min(1).max(100) });
export const pullRequestPayload = z.looseObject({
  action: z.string().min(1).max(100),
  pull_request: z.looseObject({
    number: z.number().int().positive(),
    html_url: z.string().max(2_000).nullish(),
    title: z.string().max(1_000).nullish(),
    body: z.string().nullish(),
    merged: z.boolean().nullish(),
    merge_commit_sha: z.string().nullish(),
    merged_at: z.string().nullish(),
    closed_at: z.string().nullish(),
    merged_by: login.nullish(),
    head: z.looseObject({
      ref: z.string().max(300),
      sha: z.string().max(100),
      repo: z.looseObject({ full_name: z.string() }).nullish(),
    }),
  }),
  repository: z.looseObject({ full_name: z.string().regex(REPO_NAME, "expected owner/name") }),
  sender: login.nullish(),
});

/** The issue_comment payload the review reads (lib/triage/github-webhook.ts has parsed it already). */
export interface ReviewComment {
  issue: { number: number; body?: string | null };
  comment: { body?: string | null; author_association: string; user: { login: string } };
  repository: { full_name: string };
}

/** MUSE_CONTENT_REPO as owner/name (lower case); undefined when it is unset. */
function contentRepoName(env: Env): string | undefined {
  if (!env.MUSE_CONTENT_REPO) return undefined;
  const { owner, repo } = parseRepoRef(env.MUSE_CONTENT_REPO);
  return `${owner}/${repo}`.toLowerCase();
}

/** `/muse reject <why>` lines of a comment on an episode's pull request (quoted lines and code blocks are not commands). */
export function parseReviewCommands(body: string): { rejects: string[]; notes: string[] } {
  const rejects: string[] = [];
  const notes: string[] = [];
  for (const { name, rest: why } of museCommandLines(body)) {
    if (name !== "reject") notes.push(`"/muse ${name}" ignored: on an episode's pull request the command is /muse reject <why>`);
    else if (!why) notes.push(`"/muse reject" needs a reason: /muse reject <why>`);
    else if (why.length > MAX_REVIEW_REASON) notes.push(`"/muse reject" reason is longer than ${MAX_REVIEW_REASON} characters; ignored`);
    else rejects.push(why);
  }
  return { rejects, notes };
}

function contentRepoOf(deps: ReviewWebhookDeps): ContentRepo | undefined {
  if (deps.contentRepo) return deps.contentRepo;
  if (!deps.env.GITHUB_TOKEN || !deps.env.MUSE_CONTENT_REPO) return undefined;
  return createContentRepo(deps.env, { log: deps.log });
}

const outcomeSummary = (o: Extract<DecisionOutcome, { ok: true }>) => ({
  state: o.review.state,
  pull_request: o.review.pull_request,
  actor: o.review.actor,
  reason: o.review.reason,
  decided_at: o.review.decided_at,
  commit_sha: o.review.commit_sha,
  rows: o.rows,
});

/** `pull_request` events: a merged episode pull request publishes the episode, a closed one rejects it. */
export async function handleReviewPullRequest(deps: ReviewWebhookDeps, body: unknown, delivery: string): Promise<Response> {
  const parsed = pullRequestPayload.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join(".") || "(body)";
    return jsonError(400, `invalid pull_request payload: ${field}: ${issue.message}`, { field });
  }
  const { action, pull_request: pr, repository, sender } = parsed.data;
  if (action !== "closed") return json({ received: true, applied: [], ignored: `pull_request action ${action} (only closed is read)` });
  const episode = episodeOfBranch(pr.head.ref);
  if (!episode) return json({ received: true, applied: [], ignored: `branch ${pr.head.ref} is not an episode's review branch` });
  const configured = contentRepoName(deps.env);
  if (!configured || configured !== repository.full_name.toLowerCase())
    return json({ received: true, applied: [], ignored: `repository ${repository.full_name} is not MUSE_CONTENT_REPO` });
  // A fork's branch of the same name, or a pull request whose body is not the publisher's, decides nothing.
  if (pr.head.repo && pr.head.repo.full_name.toLowerCase() !== configured)
    return json({ received: true, applied: [], ignored: `the head branch is in ${pr.head.repo.full_name}, not in MUSE_CONTENT_REPO` });
  const marked = episodeOfBody(pr.body);
  if (!marked || marked.series !== episode.series || marked.episode !== episode.episode)
    return json({ received: true, applied: [], ignored: "the pull request's body carries no marker of this episode" });

  const log = deps.log.child({ delivery, pull_request: pr.number, episode: episodeName(episode.series, episode.episode) });
  const now = deps.clock.now();
  try {
    let outcome: DecisionOutcome;
    if (pr.merged) {
      outcome = await decideReview(deps.db, {
        series: episode.series,
        episode: episode.episode,
        decision: "published",
        actor: pr.merged_by?.login ?? sender?.login ?? "github",
        source: "github-webhook",
        delivery_id: delivery,
        pull_request: pr.number,
        commit_sha: pr.merge_commit_sha ?? "",
        at: pr.merged_at ? new Date(pr.merged_at) : now,
        now,
        fallback: { repo: `github:${repository.full_name}`, branch: pr.head.ref, url: pr.html_url ?? "", title: pr.title ?? "", head_sha: pr.head.sha },
      });
    } else {
      // Closed by hand without merging: a rejection, but only of the review the publisher opened.
      const review = await reviewFor(deps.db, episode.series, episode.episode, pr.number);
      if (!review) return json({ received: true, applied: [], ignored: `pull request #${pr.number} is not the review Muse opened for this episode` });
      outcome = await decideReview(deps.db, {
        series: episode.series,
        episode: episode.episode,
        decision: "rejected",
        actor: sender?.login ?? "github",
        reason: "pull request closed without merging",
        source: "github-webhook",
        delivery_id: delivery,
        pull_request: pr.number,
        at: pr.closed_at ? new Date(pr.closed_at) : now,
        now,
      });
    }
    if (!outcome.ok) {
      log.info("review decision not applied", { reason: outcome.reason, detail: outcome.detail });
      return json({ received: true, applied: [], ignored: outcome.detail });
    }
    log.info(`episode ${outcome.review.state} by its review`, { duplicate: outcome.duplicate, commit_sha: outcome.review.commit_sha });
    return json(
      { received: true, episode: episodeName(episode.series, episode.episode), duplicate: outcome.duplicate, applied: [outcomeSummary(outcome)] },
      outcome.duplicate ? 200 : 202,
    );
  } catch (error) {
    log.error("could not record the review decision", { error: firstLineOf(error) });
    return jsonError(503, "the review decision could not be recorded (ClickHouse unreachable); redeliver later");
  }
}

/** A comment on an episode's pull request: `/muse reject <why>`. */
export async function handleReviewComment(deps: ReviewWebhookDeps, payload: ReviewComment, delivery: string): Promise<Response> {
  const episode = episodeOfBody(payload.issue.body);
  if (!episode) return json({ received: true, applied: [], ignored: "not an episode's pull request" });
  const { rejects, notes } = parseReviewCommands(payload.comment.body ?? "");
  if (rejects.length === 0) return json({ received: true, applied: [], notes, ignored: "no /muse reject in the comment" });
  if (rejects.length > 1) notes.push("only the first /muse reject of a comment is applied");
  const name = episodeName(episode.series, episode.episode);
  const who = payload.comment.user.login;
  const log = deps.log.child({ delivery, pull_request: payload.issue.number, episode: name });
  const refuse = (why: string) => {
    log.info("review command not authorised", { login: who, why });
    return json({ received: true, applied: [], notes, ignored: `${who} ${why}` });
  };
  const configured = contentRepoName(deps.env);
  if (!configured || configured !== payload.repository.full_name.toLowerCase())
    return json({ received: true, applied: [], notes, ignored: `repository ${payload.repository.full_name} is not MUSE_CONTENT_REPO` });
  if (!WRITE_ASSOCIATIONS.has(payload.comment.author_association))
    return refuse(`has no write access (author_association ${payload.comment.author_association})`);

  try {
    if (deps.permissions && !(await deps.permissions.canWrite(payload.repository.full_name, who)))
      return refuse(`has no write access to ${payload.repository.full_name} (collaborator permission)`);
    const now = deps.clock.now();
    const outcome = await decideReview(deps.db, {
      series: episode.series,
      episode: episode.episode,
      decision: "rejected",
      actor: who,
      reason: rejects[0],
      source: "github-comment",
      delivery_id: delivery,
      pull_request: payload.issue.number,
      at: now,
      now,
    });
    if (!outcome.ok) {
      notes.push(`/muse reject: ${outcome.detail}`);
      return json({ received: true, episode: name, applied: [], notes });
    }
    // Recorded first: a failed close answers 503, and the redelivery (a duplicate decision) closes it again.
    const repo = contentRepoOf(deps);
    if (repo) await repo.reviews.close({ branch: episodeBranch(episode.series, episode.episode), number: payload.issue.number });
    else notes.push("the pull request was not closed: GITHUB_TOKEN or MUSE_CONTENT_REPO is not set");
    log.info("episode rejected in review", { actor: who, duplicate: outcome.duplicate });
    return json({ received: true, episode: name, duplicate: outcome.duplicate, applied: [outcomeSummary(outcome)], notes }, outcome.duplicate ? 200 : 202);
  } catch (error) {
    log.error("could not apply the review command", { error: firstLineOf(error) });
    return jsonError(503, "the rejection could not be recorded or the pull request not closed (ClickHouse or GitHub unreachable); redeliver later");
  }
}
