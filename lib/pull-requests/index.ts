import { randomUUID } from "node:crypto";
import { acquireAgentLock, releaseAgentLock } from "../agents/lock";
import type { Db } from "../clickhouse/client";
import type { Env } from "../env";
import type { NormalizedReport } from "../ingest/reports/normalize";
import type { Logger } from "../log";
import type { ServerContext } from "../server-context";
import { createUpstreamRepos } from "../upstream";
import { comparePullRequest, type PrCheckOptions, type PrComparison } from "./compare";
import { createPrGitHubClient, reportPullRequestCheck, type PrGitHubClient, type ReportOutcome } from "./report";
import { messageOf } from "../error-message";

export { comparePullRequest, judge, welchTest, DEFAULT_PR_CHECK_OPTIONS, type PrComparison, type PrCheckOptions } from "./compare";
export { createPrGitHubClient, reportPullRequestCheck, reportView, CHECK_NAME, STATUS_CONTEXT, COMMENT_MARKER, type PrGitHubClient } from "./report";

/**
 * A pull request's check against the merge base, end to end (docs/reach.md "Pull requests"): find the merge base,
 * compare (compare.ts), report and store (report.ts). Run after POST /api/ingest/bench accepted runs of a pull
 * request (after the answer, lib/http/after.ts) and by `npm run muse -- pr-check --pr <n> --head <sha>`.
 */

export function prCheckOptions(env: Env): PrCheckOptions {
  return { baselineRuns: env.MUSE_PR_BASELINE_RUNS, alpha: env.MUSE_PR_ALPHA, failPct: env.MUSE_PR_FAIL_PCT, minRuns: env.MUSE_PR_MIN_RUNS };
}

/** GitHub for pull-request checks: BANTERHEARTS_REPO with App credentials (check runs) or GITHUB_TOKEN (commit statuses); else undefined. */
export function prClientFromEnv(env: Env, options: { fetch?: typeof globalThis.fetch; log?: Logger } = {}): PrGitHubClient | undefined {
  if (!env.BANTERHEARTS_REPO) return undefined;
  const app =
    env.GITHUB_APP_ID && env.GITHUB_APP_PRIVATE_KEY && env.GITHUB_APP_INSTALLATION_ID
      ? { appId: env.GITHUB_APP_ID, privateKey: env.GITHUB_APP_PRIVATE_KEY, installationId: env.GITHUB_APP_INSTALLATION_ID }
      : undefined;
  if (!app && !env.GITHUB_TOKEN) return undefined;
  return createPrGitHubClient({
    repo: env.BANTERHEARTS_REPO,
    app,
    token: env.GITHUB_TOKEN,
    baseUrl: env.GITHUB_API_URL,
    fetch: options.fetch,
    log: options.log,
  });
}

export interface PrCheckDeps {
  db: Db;
  env: Env;
  log: Logger;
  now: Date;
  /** unset: from the environment; null: store only, post nothing. */
  github?: PrGitHubClient | null;
  /** Waits between tries for another instance's lease on this pull request; default a timer (tests pass their own). */
  sleep?: (ms: number) => Promise<void>;
  /** The merge base of a head with main; unset: GitHub's compare API when GitHub is configured, else the local checkout (git merge-base). */
  mergeBase?: (headSha: string) => Promise<string | undefined>;
}

export interface PrCheckResult {
  comparison: PrComparison;
  outcome: ReportOutcome;
}

/** How long a pull request's check holds its lease (a crashed check's lease lapses after this). */
export const PR_CHECK_LEASE_SECONDS = 120;
/** Waits for another instance's check of the same pull request: 1, 2, 4 … s, about a minute in all. */
const LEASE_WAITS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

export class PrCheckBusyError extends Error {
  constructor(pullRequest: number) {
    super(
      `another instance has been checking pull request #${pullRequest} for over a minute; this check was not run (the next ingest or \`muse pr-check\` runs it)`,
    );
    this.name = "PrCheckBusyError";
  }
}

/**
 * One pull request's check at a time, across instances: two ingests of one head arriving together would otherwise
 * both find no check run and no comment, and both create one. The later waits for the earlier's lease (agent_locks,
 * as agents do) and then runs, so its comparison holds both reports' runs and it updates what the earlier posted.
 */
export async function runPrCheck(deps: PrCheckDeps, input: { pullRequest: number; headSha: string }): Promise<PrCheckResult> {
  const lease = `pr-check:${deps.env.BANTERHEARTS_REPO?.replace(/@.*$/, "") ?? ""}#${input.pullRequest}`;
  const holder = randomUUID();
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 0; ; attempt++) {
    const lock = await acquireAgentLock(deps.db, lease, holder, PR_CHECK_LEASE_SECONDS);
    if (lock.acquired) break;
    if (attempt >= LEASE_WAITS_MS.length) throw new PrCheckBusyError(input.pullRequest);
    deps.log.info("pr-check: waiting for another instance's check of this pull request", { pull_request: input.pullRequest, holder_run_id: lock.holderRunId });
    await sleep(LEASE_WAITS_MS[attempt]);
  }
  try {
    return await checkPullRequest(deps, input);
  } finally {
    await releaseAgentLock(deps.db, lease, holder).catch((error: unknown) =>
      deps.log.warn("pr-check: could not release the lease (it lapses)", { error: messageOf(error) }),
    );
  }
}

async function checkPullRequest(deps: PrCheckDeps, input: { pullRequest: number; headSha: string }): Promise<PrCheckResult> {
  const github = deps.github === null ? undefined : (deps.github ?? prClientFromEnv(deps.env, { log: deps.log }));
  const headSha = input.headSha.toLowerCase();
  let mergeBase: string | undefined;
  try {
    mergeBase = deps.mergeBase
      ? await deps.mergeBase(headSha)
      : github
        ? await github.mergeBase(headSha)
        : await createUpstreamRepos(deps.env).hearts.mergeBase?.(headSha);
  } catch (error) {
    // The comparison still runs, against main's runs before the pull request's (and says so).
    deps.log.warn("pr-check: merge base not found", { head_sha: headSha, error: messageOf(error) });
  }
  const comparison = await comparePullRequest(deps.db, { pullRequest: input.pullRequest, headSha, mergeBase, options: prCheckOptions(deps.env) });
  const outcome = await reportPullRequestCheck(deps.db, github, comparison, { now: deps.now, repo: deps.env.BANTERHEARTS_REPO?.replace(/@.*$/, "") });
  deps.log.info("pr-check", {
    pull_request: input.pullRequest,
    head_sha: headSha,
    merge_base: comparison.merge_base_sha,
    baseline: comparison.baseline_method,
    conclusion: comparison.conclusion,
    series: comparison.series.length,
    check: outcome.check,
    comment: outcome.comment,
  });
  return { comparison, outcome };
}

/** The (pull request, head) pairs of a batch of accepted reports. */
export function pullRequestHeads(reports: readonly Pick<NormalizedReport, "pull_request" | "commit_sha">[]): { pullRequest: number; headSha: string }[] {
  const seen = new Map<string, { pullRequest: number; headSha: string }>();
  for (const r of reports) if (r.pull_request > 0) seen.set(`${r.pull_request}|${r.commit_sha}`, { pullRequest: r.pull_request, headSha: r.commit_sha });
  return [...seen.values()];
}

/** After POST /api/ingest/bench accepted pull-request runs: check each head. Never throws (logged and counted). */
export async function checkPullRequestsAfterIngest(context: ServerContext, reports: readonly NormalizedReport[]): Promise<void> {
  for (const head of pullRequestHeads(reports)) {
    try {
      await runPrCheck({ db: context.db, env: context.env, log: context.log, now: context.clock.now() }, head);
    } catch (error) {
      context.metrics.count("muse.reach.failures", 1, { channel: "pr_check" });
      context.log.warn("pr-check failed", {
        pull_request: head.pullRequest,
        head_sha: head.headSha,
        error: messageOf(error),
      });
    }
  }
}
