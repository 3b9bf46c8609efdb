import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { insertEpisodes } from "../clickhouse/queries/episodes";
import { episodeRow, pendingDeploymentRow, type EpisodeRow } from "../clickhouse/tables";

/**
 * The record of episode reviews (sql/021, docs/reach.md "Review before an episode goes live") and the two decisions a
 * review ends in, shared by the GitHub webhook (a merged pull request, `/muse reject <why>`) and the CLI
 * (`muse review merge|reject`, the local stand-ins):
 *
 * - published (merged): the episode's rows in review become "published" with the merge commit, and that commit's
 *   deployment is recorded pending (the Vercel webhook moves it on, as for a direct publish). A row marked in review
 *   after the merge (a translation pushed to the branch as it was merged) is not in the merge: it goes back to
 *   "publishable" and the next publish reviews it anew.
 * - rejected: the episode's rows in review or publishable become "rejected", the reason in their problems; they are
 *   never published.
 *
 * Rows are written first, the review's record last, so a decision that broke off is completed by a redelivery; a
 * decision already recorded is a duplicate (the same) or refused (the other one).
 */

export const REVIEW_STATES = ["pending_review", "published", "rejected"] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];
export const REVIEW_SOURCES = ["publisher", "github-webhook", "github-comment", "cli"] as const;
export type ReviewSource = (typeof REVIEW_SOURCES)[number];
export const MAX_REVIEW_REASON = 2_000;

const timestamp = z.string().transform((v) => new Date(v.includes("T") ? v : `${v.replace(" ", "T")}Z`).toISOString());

export const reviewRow = z.object({
  series: z.string(),
  episode_num: z.coerce.number().int().min(1).max(65535),
  pull_request: z.coerce.number().int().min(0),
  repo: z.string(),
  branch: z.string(),
  url: z.string(),
  title: z.string(),
  langs: z.array(z.string()),
  head_sha: z.string(),
  state: z.enum(REVIEW_STATES),
  commit_sha: z.string(),
  actor: z.string(),
  reason: z.string(),
  source: z.enum(REVIEW_SOURCES),
  delivery_id: z.string(),
  opened_at: timestamp,
  decided_at: timestamp.nullable(),
  updated_at: timestamp,
});
export type ReviewRow = z.infer<typeof reviewRow>;

/** A version newer than `previous` (ReplacingMergeTree keeps the greatest updated_at), never earlier than now. */
export function nextVersion(now: Date, previous: string | undefined): string {
  return new Date(Math.max(now.getTime(), previous ? Date.parse(previous) + 1 : 0)).toISOString();
}

export async function saveReview(db: Db, row: ReviewRow): Promise<void> {
  await db.insert("episode_reviews", [reviewRow.parse(row)]);
}

/** Every review of an episode, the newest first. */
export async function reviewsOf(db: Db, series: string, episode: number): Promise<ReviewRow[]> {
  return db.query(
    `SELECT * FROM episode_reviews FINAL WHERE series = {series:String} AND episode_num = {episode:UInt16} ORDER BY opened_at DESC, pull_request DESC`,
    { series, episode },
    reviewRow,
  );
}

/** The review a decision is about: the one of `pullRequest` when given, else the episode's pending one (the newest). */
export async function reviewFor(db: Db, series: string, episode: number, pullRequest?: number): Promise<ReviewRow | undefined> {
  const all = await reviewsOf(db, series, episode);
  if (pullRequest !== undefined) return all.find((r) => r.pull_request === pullRequest);
  return all.find((r) => r.state === "pending_review");
}

/** Reviews, the newest first (the CLI's `review list`). */
export async function listReviews(db: Db, options: { state?: ReviewState; limit?: number } = {}): Promise<ReviewRow[]> {
  return db.query(
    `SELECT * FROM episode_reviews FINAL
      WHERE {state:String} = '' OR state = {state:String}
      ORDER BY opened_at DESC, series, episode_num
      LIMIT {limit:UInt32}`,
    { state: options.state ?? "", limit: options.limit ?? 50 },
    reviewRow,
  );
}

/** The episode's rows (every language, read FINAL). */
export async function episodeRows(db: Db, series: string, episode: number): Promise<EpisodeRow[]> {
  return db.query(
    `SELECT * FROM episodes FINAL WHERE series = {series:String} AND episode_num = {episode:UInt16} ORDER BY lang, updated_at`,
    { series, episode },
    episodeRow,
  );
}

async function deploymentExists(db: Db, commitSha: string): Promise<boolean> {
  const rows = await db.query<{ n: number }>("SELECT count() AS n FROM deployments FINAL WHERE commit_sha = {sha:FixedString(40)}", { sha: commitSha });
  return Number(rows[0]?.n ?? 0) > 0;
}

export interface ReviewDecision {
  series: string;
  episode: number;
  decision: "published" | "rejected";
  actor: string;
  reason?: string;
  source: ReviewSource;
  delivery_id?: string;
  /** The pull request decided on (0 locally); default: the episode's pending review. */
  pull_request?: number;
  /** published: the commit that brought the files onto the content branch (the merge). */
  commit_sha?: string;
  /** When it was merged or rejected (GitHub's merged_at / closed_at); rows marked in review after it were not in it. */
  at: Date;
  now: Date;
  /**
   * published: whether a row in review is in the merge (default: it was marked in review no later than `at`). The
   * local merge knows exactly: the file the content branch now holds is the row's.
   */
  contains?: (row: EpisodeRow) => boolean;
  /** Recorded with the merge's pending deployment (default: a new id). */
  runId?: string;
  /** Fill in a record when none exists (a review whose record was lost). */
  fallback?: Partial<Pick<ReviewRow, "repo" | "branch" | "url" | "title" | "head_sha">>;
}

export type DecisionOutcome =
  | { ok: true; duplicate: boolean; review: ReviewRow; rows: { lang: string; status: string }[]; deployment?: string }
  | { ok: false; reason: "unknown_episode" | "decided" | "invalid"; detail: string };

export async function decideReview(db: Db, input: ReviewDecision): Promise<DecisionOutcome> {
  const actor = input.actor.trim();
  const reason = (input.reason ?? "").trim();
  if (!actor || actor.length > 100) return { ok: false, reason: "invalid", detail: "expected 1–100 characters naming who decides" };
  if (reason.length > MAX_REVIEW_REASON) return { ok: false, reason: "invalid", detail: `the reason is longer than ${MAX_REVIEW_REASON} characters` };
  if (input.decision === "rejected" && !reason) return { ok: false, reason: "invalid", detail: "a rejection needs its reason (/muse reject <why>)" };
  if (input.decision === "published" && !/^[0-9a-f]{40}$/.test(input.commit_sha ?? ""))
    return { ok: false, reason: "invalid", detail: "publishing needs the merge commit's sha" };

  const rows = await episodeRows(db, input.series, input.episode);
  if (rows.length === 0) return { ok: false, reason: "unknown_episode", detail: `no episode ${input.series} ${input.episode}` };
  const existing = await reviewFor(db, input.series, input.episode, input.pull_request);
  if (existing && existing.state !== "pending_review") {
    if (existing.state === input.decision) return { ok: true, duplicate: true, review: existing, rows: rows.map((r) => ({ lang: r.lang, status: r.status })) };
    return { ok: false, reason: "decided", detail: `the review of ${input.series} episode ${input.episode} is ${existing.state} already` };
  }

  const cutoff = input.at.getTime();
  const changed: EpisodeRow[] = [];
  for (const row of rows) {
    const version = nextVersion(input.now, row.updated_at);
    if (input.decision === "published") {
      if (row.status !== "in_review") continue;
      const inMerge = input.contains ? input.contains(row) : Date.parse(row.updated_at) <= cutoff;
      changed.push(
        episodeRow.parse(
          inMerge
            ? { ...row, status: "published", commit_sha: input.commit_sha, updated_at: version }
            : { ...row, status: "publishable", commit_sha: "", updated_at: version },
        ),
      );
    } else if (row.status === "in_review" || row.status === "publishable") {
      changed.push(
        episodeRow.parse({
          ...row,
          status: "rejected",
          commit_sha: "",
          problems: [...row.problems, `rejected in review by ${actor}: ${reason}`],
          updated_at: version,
        }),
      );
    }
  }
  if (changed.length > 0) await insertEpisodes(db, changed);

  let deployment: string | undefined;
  if (input.decision === "published" && input.commit_sha && changed.some((r) => r.status === "published")) {
    deployment = input.commit_sha;
    if (!(await deploymentExists(db, input.commit_sha))) {
      const original = rows.find((r) => r.lang === "en") ?? rows[0];
      await db.insert("deployments", [
        pendingDeploymentRow({ at: input.now, runId: input.runId ?? randomUUID(), episodeRunId: original.run_id, commitSha: input.commit_sha }),
      ]);
    }
  }

  const review = reviewRow.parse({
    series: input.series,
    episode_num: input.episode,
    pull_request: input.pull_request ?? existing?.pull_request ?? 0,
    repo: existing?.repo ?? input.fallback?.repo ?? "",
    branch: existing?.branch ?? input.fallback?.branch ?? "",
    url: existing?.url ?? input.fallback?.url ?? "",
    title: existing?.title ?? input.fallback?.title ?? rows.find((r) => r.lang === "en")?.title ?? "",
    langs: existing?.langs ?? rows.map((r) => r.lang),
    head_sha: input.fallback?.head_sha || existing?.head_sha || "",
    state: input.decision,
    commit_sha: input.decision === "published" ? input.commit_sha : "",
    actor,
    reason,
    source: input.source,
    delivery_id: input.delivery_id ?? "",
    opened_at: existing?.opened_at ?? input.at.toISOString(),
    decided_at: input.at.toISOString(),
    updated_at: nextVersion(input.now, existing?.updated_at),
  });
  await saveReview(db, review);
  const after = new Map(changed.map((r) => [r.lang, r.status]));
  return { ok: true, duplicate: false, review, rows: rows.map((r) => ({ lang: r.lang, status: after.get(r.lang) ?? r.status })), deployment };
}
