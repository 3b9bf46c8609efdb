import { createHash } from "node:crypto";
import { z } from "zod";
import type { Db } from "../clickhouse/client";
import type { Logger } from "../log";
import { createGitHubClient, parseRepoRef, statusOf, type GitHubClient } from "../upstream/github";
import type { PrComparison, SeriesComparison } from "./compare";
import { installationTokens, type GitHubAppCredentials } from "./github-app";

/**
 * Reporting a pull request's comparison on its head commit (docs/reach.md "Pull requests"):
 *
 * - a check run "Muse benchmarks" when Muse runs as a GitHub App (only Apps may create check runs): conclusion
 *   success, neutral or failure, the output's text the table of series;
 * - a commit status `muse/benchmarks` otherwise (a token): state success or failure; a neutral verdict is state
 *   `success` with a description starting `neutral:` (a status has no neutral state, and a pending one would
 *   block merging on a required check forever);
 * - one comment on the pull request, with the table of the series that moved, found again by its hidden marker
 *   and edited rather than repeated.
 *
 * Idempotent per head commit: `pr_checks` (sql/019) remembers the check run and the comment, so a rerun (more runs
 * of the benchmark at the same head) updates the same check and the same comment. Without GitHub configured the
 * verdict is computed and stored, nothing is posted.
 */

export const CHECK_NAME = "Muse benchmarks";
export const STATUS_CONTEXT = "muse/benchmarks";
export const COMMENT_MARKER = "<!-- muse-pr-check -->";
/** GitHub's limit on a check run's output summary and text. */
const OUTPUT_LIMIT = 65_535;

// ---------------------------------------------------------------- the client

export interface CheckOutput {
  title: string;
  summary: string;
  text: string;
}

export type Conclusion = PrComparison["conclusion"];

/** The GitHub operations a pull-request check needs, on one repository. */
export interface PrGitHubClient {
  readonly repo: string;
  /** "check": a GitHub App (check runs); "status": a token (commit statuses). */
  readonly mode: "check" | "status";
  /** The id of an existing "Muse benchmarks" check run on the commit, if any. */
  findCheck(headSha: string): Promise<number | undefined>;
  createCheck(headSha: string, conclusion: Conclusion, output: CheckOutput): Promise<number>;
  updateCheck(id: number, conclusion: Conclusion, output: CheckOutput): Promise<void>;
  setStatus(headSha: string, state: "success" | "failure", description: string): Promise<void>;
  listComments(pullRequest: number): Promise<{ id: number; body: string }[]>;
  createComment(pullRequest: number, body: string): Promise<number>;
  updateComment(id: number, body: string): Promise<void>;
  /** `git merge-base <branch> <head>` through the compare API (undefined when GitHub does not know the head). */
  mergeBase(headSha: string): Promise<string | undefined>;
}

export interface PrGitHubOptions {
  /** owner/name[@branch] (the branch is main's; unset: the repository's default branch). */
  repo: string;
  /** A token (commit statuses), or */
  token?: string;
  /** App credentials (check runs); they win over a token. */
  app?: GitHubAppCredentials;
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
  retries?: number;
  writeIntervalMs?: number;
  log?: Logger;
}

const idResponse = z.object({ id: z.number().int() });
const checkRunsResponse = z.object({ check_runs: z.array(z.object({ id: z.number().int(), name: z.string() })) });
const commentsResponse = z.array(z.object({ id: z.number().int(), body: z.string().nullish() }));
const repoResponse = z.object({ default_branch: z.string() });
const compareResponse = z.object({ merge_base_commit: z.object({ sha: z.string() }).nullish() });

/** The Octokit implementation: an App's installation token or a personal/fine-grained token. */
export function createPrGitHubClient(options: PrGitHubOptions): PrGitHubClient {
  const { owner, repo, branch } = parseRepoRef(options.repo);
  if (!options.app && !options.token) throw new Error("a pull-request check needs GitHub App credentials or a token");
  const tokens = options.app ? installationTokens(options.app, { baseUrl: options.baseUrl, fetch: options.fetch, retries: options.retries }) : undefined;
  let client: { token: string; octokit: GitHubClient } | undefined;
  const octokit = async (): Promise<GitHubClient> => {
    const token = tokens ? await tokens() : options.token!;
    if (client?.token !== token) {
      client = {
        token,
        octokit: createGitHubClient({
          token,
          baseUrl: options.baseUrl,
          fetch: options.fetch,
          retries: options.retries,
          writeIntervalMs: options.writeIntervalMs,
          userAgent: "muse-pr-check",
          log: options.log,
        }),
      };
    }
    return client.octokit;
  };
  const completed = (conclusion: Conclusion, output: CheckOutput) => ({
    status: "completed" as const,
    conclusion,
    completed_at: new Date().toISOString(),
    output: { title: output.title, summary: output.summary.slice(0, OUTPUT_LIMIT), text: output.text.slice(0, OUTPUT_LIMIT) },
  });
  return {
    repo: `${owner}/${repo}`,
    mode: options.app ? "check" : "status",
    async findCheck(headSha) {
      const res = await (
        await octokit()
      ).request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", { owner, repo, ref: headSha, check_name: CHECK_NAME, filter: "latest", per_page: 100 });
      return checkRunsResponse.parse(res.data).check_runs.find((c) => c.name === CHECK_NAME)?.id;
    },
    async createCheck(headSha, conclusion, output) {
      const res = await (
        await octokit()
      ).request("POST /repos/{owner}/{repo}/check-runs", { owner, repo, name: CHECK_NAME, head_sha: headSha, ...completed(conclusion, output) });
      return idResponse.parse(res.data).id;
    },
    async updateCheck(id, conclusion, output) {
      await (
        await octokit()
      ).request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", { owner, repo, check_run_id: id, name: CHECK_NAME, ...completed(conclusion, output) });
    },
    async setStatus(headSha, state, description) {
      await (
        await octokit()
      ).request("POST /repos/{owner}/{repo}/statuses/{sha}", {
        owner,
        repo,
        sha: headSha,
        state,
        description: description.slice(0, 140),
        context: STATUS_CONTEXT,
      });
    },
    async listComments(pullRequest) {
      const items = await (
        await octokit()
      ).paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { owner, repo, issue_number: pullRequest, per_page: 100 });
      return commentsResponse.parse(items).map((c) => ({ id: c.id, body: c.body ?? "" }));
    },
    async createComment(pullRequest, body) {
      const res = await (
        await octokit()
      ).request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { owner, repo, issue_number: pullRequest, body });
      return idResponse.parse(res.data).id;
    },
    async updateComment(id, body) {
      await (await octokit()).request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", { owner, repo, comment_id: id, body });
    },
    async mergeBase(headSha) {
      const gh = await octokit();
      const base = branch ?? repoResponse.parse((await gh.request("GET /repos/{owner}/{repo}", { owner, repo })).data).default_branch;
      try {
        const res = await gh.request("GET /repos/{owner}/{repo}/compare/{basehead}", { owner, repo, basehead: `${base}...${headSha}`, per_page: 1 });
        return compareResponse.parse(res.data).merge_base_commit?.sha;
      } catch (error) {
        if (statusOf(error) === 404 || statusOf(error) === 422) return undefined;
        throw error;
      }
    },
  };
}

// ---------------------------------------------------------------- what it says

const METRIC_NAMES: Record<string, string> = {
  latency_p95_ms: "p95 latency",
  latency_mean_ms: "mean latency",
  tokens_per_sec: "throughput",
  memory_peak_mb: "peak memory",
  latency_p99_ms: "p99 latency",
  accuracy: "accuracy",
  loss: "loss",
};

const fmt = (v: number | null, digits = 2) => (v === null ? "–" : Number(v.toFixed(digits)).toString());
const signedPct = (v: number | null) => (v === null ? "–" : `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v).toFixed(1)} %`);
const interval = (s: SeriesComparison) => (s.ci_low_pct === null || s.ci_high_pct === null ? "–" : `${signedPct(s.ci_low_pct)} … ${signedPct(s.ci_high_pct)}`);
const qText = (q: number | null) => (q === null ? "–" : q < 0.0001 ? "< 0.0001" : q.toFixed(4));
const short = (sha: string) => sha.slice(0, 7);
const seriesName = (s: SeriesComparison) => `${s.label} · ${METRIC_NAMES[s.key.metric] ?? s.key.metric}`;

/** The series shown in the table: those that moved (significant, at least the threshold either way). */
export const movedSeries = (c: PrComparison) => c.series.filter((s) => s.verdict === "regressed" || s.verdict === "improved");

export interface PrReportView {
  conclusion: Conclusion;
  title: string;
  summary: string;
  /** The table of moved series (markdown), also the check run's text. */
  table: string;
  /** The pull-request comment, with its marker. */
  comment: string;
  /** The commit status's description (≤ 140 characters). */
  statusDescription: string;
}

function baselineText(c: PrComparison): string {
  const n = c.options.baselineRuns;
  if (c.baseline_method === "graph") return `main's last ${n} runs of each series at or before the merge base ${short(c.merge_base_sha)} (commit graph)`;
  if (c.baseline_method === "time") return `main's last ${n} runs of each series at commits no newer than the merge base ${short(c.merge_base_sha)}`;
  return `main's last ${n} runs of each series before this pull request's first run (merge base unknown)`;
}

export function reportView(c: PrComparison): PrReportView {
  const moved = movedSeries(c);
  const regressed = c.series.filter((s) => s.verdict === "regressed");
  const improved = c.series.filter((s) => s.verdict === "improved");
  const fewRuns = c.series.filter((s) => s.verdict === "too_few_runs");
  const noBase = c.series.filter((s) => s.verdict === "no_baseline");
  const worst = [...regressed].sort((a, b) => (b.worse_pct ?? 0) - (a.worse_pct ?? 0))[0];

  const title =
    c.conclusion === "failure"
      ? `${regressed.length} regression${regressed.length === 1 ? "" : "s"}: ${seriesName(worst)} ${signedPct(worst.change_pct)}`
      : c.conclusion === "neutral"
        ? c.series.length === 0
          ? "No benchmark runs at this commit"
          : fewRuns.length > 0
            ? `Too few runs: ${fewRuns.length} series with fewer than ${c.options.minRuns} runs`
            : `No main runs to compare ${noBase.length} series with`
        : improved.length > 0
          ? `No regression; ${improved.length} series improved`
          : `No regression in ${c.series.length} series`;

  const rule = `A series fails the check when it is at least ${c.options.failPct} % worse than main at the merge base and significant after the Benjamini–Hochberg correction across this pull request's series (Welch's t-test, q ≤ ${c.options.alpha}); a series with fewer than ${c.options.minRuns} runs at the head is not judged (neutral).`;
  const summary = [
    `**${title}** — ${c.series.length} series compared at ${short(c.head_sha)} against ${baselineText(c)}.`,
    "",
    [
      `${regressed.length} regressed`,
      `${improved.length} improved`,
      `${c.series.length - regressed.length - improved.length - fewRuns.length - noBase.length} unchanged`,
      fewRuns.length ? `${fewRuns.length} with too few runs` : "",
      noBase.length ? `${noBase.length} without main runs` : "",
    ]
      .filter(Boolean)
      .join(", ") + ".",
    "",
    rule,
  ].join("\n");

  const table = moved.length
    ? [
        "| series | base mean | head mean | change | 95 % interval | q |",
        "|---|---:|---:|---:|---|---:|",
        ...[...moved]
          .sort((a, b) => (b.worse_pct ?? 0) - (a.worse_pct ?? 0))
          .map(
            (s) =>
              `| ${s.verdict === "regressed" ? "🔴" : "🟢"} ${seriesName(s).replace(/\|/g, "\\|")} | ${fmt(s.mean_base)} | ${fmt(s.mean_head)} | ${signedPct(s.change_pct)} | ${interval(s)} | ${qText(s.q_value)} |`,
          ),
      ].join("\n")
    : "No series moved.";
  const few = fewRuns.length
    ? `\n\nToo few runs at the head (fewer than ${c.options.minRuns}): ${fewRuns.map((s) => `${seriesName(s)} (${s.n_head})`).join(", ")}.`
    : "";

  const badge = c.conclusion === "failure" ? "❌" : c.conclusion === "neutral" ? "⚪" : "✅";
  const comment = [
    COMMENT_MARKER,
    `### ${badge} Muse benchmarks: ${title}`,
    "",
    `Head ${c.head_sha}, compared with ${baselineText(c)}.`,
    "",
    table + few,
    "",
    `<sub>${rule} This comment is edited as new runs arrive.</sub>`,
  ].join("\n");

  const statusDescription = (c.conclusion === "neutral" ? `neutral: ${title}` : title).slice(0, 140);
  return { conclusion: c.conclusion, title, summary, table: table + few, comment, statusDescription };
}

// ---------------------------------------------------------------- what was posted (sql/019)

const timestamp = z.string().transform((v) => new Date(v.includes("T") ? v : `${v.replace(" ", "T")}Z`).toISOString());
export const prCheckRow = z.object({
  repo: z.string(),
  pull_request: z.number().int(),
  head_sha: z.string(),
  merge_base_sha: z.string(),
  check_id: z.coerce.number().int(),
  status_context: z.string(),
  comment_id: z.coerce.number().int(),
  conclusion: z.enum(["success", "neutral", "failure"]),
  summary: z.string(),
  body_sha256: z.string(),
  posted: z.union([z.boolean(), z.number()]).transform((v) => Boolean(v)),
  updated_at: timestamp,
});
export type PrCheckRow = z.infer<typeof prCheckRow>;

export async function loadPrCheck(db: Db, key: { repo: string; pull_request: number; head_sha: string }): Promise<PrCheckRow | undefined> {
  return db.queryOne(
    `SELECT repo, pull_request, head_sha, merge_base_sha, check_id, status_context, comment_id, conclusion, summary, body_sha256, posted, updated_at
       FROM pr_checks FINAL WHERE repo = {repo:String} AND pull_request = {pr:UInt32} AND head_sha = {head:String}`,
    { repo: key.repo, pr: key.pull_request, head: key.head_sha },
    prCheckRow,
  );
}

/** The comment id last recorded for a pull request (any head), so a new head edits the same comment. */
async function lastCommentId(db: Db, repo: string, pullRequest: number): Promise<number> {
  const row = await db.queryOne(
    `SELECT comment_id FROM pr_checks FINAL WHERE repo = {repo:String} AND pull_request = {pr:UInt32} AND comment_id > 0 ORDER BY updated_at DESC LIMIT 1`,
    { repo, pr: pullRequest },
    z.object({ comment_id: z.coerce.number().int() }),
  );
  return row?.comment_id ?? 0;
}

export async function savePrCheck(db: Db, row: Omit<PrCheckRow, "updated_at"> & { updated_at: Date }): Promise<void> {
  await db.insert("pr_checks", [{ ...row, updated_at: row.updated_at.toISOString() }]);
}

// ---------------------------------------------------------------- posting

export interface ReportOutcome {
  row: PrCheckRow;
  /** What was done on GitHub: created / updated / unchanged / skipped per target. */
  check: "created" | "updated" | "status" | "skipped";
  comment: "created" | "updated" | "unchanged" | "skipped";
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * Reports one comparison: the check run (or commit status) on the head commit and the pull request's comment,
 * updating what `pr_checks` (or, for a lost row, GitHub itself: the check by name on the commit, the comment by its
 * marker) says was posted before. `client` undefined: stored only.
 */
export async function reportPullRequestCheck(
  db: Db,
  client: PrGitHubClient | undefined,
  comparison: PrComparison,
  context: { now: Date; repo?: string },
): Promise<ReportOutcome> {
  const repo = client?.repo ?? context.repo ?? "";
  const view = reportView(comparison);
  const bodySha = sha256(view.comment);
  const key = { repo, pull_request: comparison.pull_request, head_sha: comparison.head_sha };
  const stored = await loadPrCheck(db, key);
  const row: PrCheckRow = {
    ...key,
    merge_base_sha: comparison.merge_base_sha,
    check_id: stored?.check_id ?? 0,
    status_context: stored?.status_context ?? "",
    comment_id: stored?.comment_id ?? 0,
    conclusion: comparison.conclusion,
    summary: view.title,
    body_sha256: stored?.body_sha256 ?? "",
    posted: stored?.posted ?? false,
    updated_at: context.now.toISOString(),
  };
  let check: ReportOutcome["check"] = "skipped";
  let comment: ReportOutcome["comment"] = "skipped";

  if (client) {
    const output: CheckOutput = { title: view.title, summary: view.summary, text: view.table };
    if (client.mode === "check") {
      let id = row.check_id || (await client.findCheck(comparison.head_sha)) || 0;
      if (id) {
        try {
          await client.updateCheck(id, comparison.conclusion, output);
          check = "updated";
        } catch (error) {
          if (statusOf(error) !== 404) throw error;
          id = 0;
        }
      }
      if (!id) {
        id = await client.createCheck(comparison.head_sha, comparison.conclusion, output);
        check = "created";
      }
      row.check_id = id;
    } else {
      await client.setStatus(comparison.head_sha, comparison.conclusion === "failure" ? "failure" : "success", view.statusDescription);
      row.status_context = STATUS_CONTEXT;
      check = "status";
    }

    let commentId = row.comment_id || (await lastCommentId(db, repo, comparison.pull_request));
    if (!commentId) commentId = (await client.listComments(comparison.pull_request)).find((c) => c.body.includes(COMMENT_MARKER))?.id ?? 0;
    if (commentId && commentId === row.comment_id && row.body_sha256 === bodySha) {
      comment = "unchanged";
    } else if (commentId) {
      try {
        await client.updateComment(commentId, view.comment);
        comment = "updated";
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
        commentId = 0;
      }
    }
    if (!commentId) {
      commentId = await client.createComment(comparison.pull_request, view.comment);
      comment = "created";
    }
    row.comment_id = commentId;
    row.body_sha256 = bodySha;
    row.posted = true;
  }
  await savePrCheck(db, { ...row, updated_at: context.now });
  return { row, check, comment };
}
