import { z } from "zod";
import type { GraphCommit } from "../../attribution/graph";
import type { UpstreamCommit } from "../../upstream/types";
import type { Db } from "../client";
import type { UpstreamCommitRow } from "../tables";

/**
 * Every query Muse runs on `upstream_commits` (rows: `upstreamCommitRow` in
 * ../tables.ts): the commits of Banterhearts (the ingest agent) and
 * Banterpacks (the collect agent). ReplacingMergeTree: reads use FINAL.
 * (The analysis reads a window of them itself: lib/analysis/queries.ts
 * `commitsInWindow`, lib/analysis/series.ts.)
 */

export type UpstreamRepoName = UpstreamCommitRow["repo"];

/** Rows of the table for commits read from `repo`. */
export function commitRows(repo: UpstreamRepoName, commits: readonly UpstreamCommit[]): UpstreamCommitRow[] {
  return commits.map((c) => ({
    repo,
    sha: c.sha,
    ts: c.ts,
    author: c.author,
    message: c.message,
    parents: c.parents,
    files: c.files.map((f) => f.path),
    files_changed: c.files.length,
    additions: c.files.reduce((n, f) => n + f.additions, 0),
    deletions: c.files.reduce((n, f) => n + f.deletions, 0),
  }));
}

export async function insertUpstreamCommits(db: Db, repo: UpstreamRepoName, commits: readonly UpstreamCommit[]): Promise<void> {
  if (commits.length > 0) await db.insert("upstream_commits", commitRows(repo, commits));
}

const graphRow = z.object({
  sha: z.string(),
  ts: z.string(),
  parents: z.array(z.string()),
  files: z.array(z.string()),
  message: z.string(),
  author: z.string(),
});

/**
 * The recorded commits of `repo` from `from` on (inclusive), oldest first by
 * time, as nodes of a CommitGraph (lib/attribution/graph.ts). The caller picks
 * `from` with room to spare: the graph's walks stop at commits older than it.
 * Time orders the rows only; the graph orders the commits. Rows stored before
 * sql/012 have `parents = []`, which the graph reads as "no graph".
 */
export async function loadCommitGraph(db: Db, repo: UpstreamRepoName, from: Date): Promise<GraphCommit[]> {
  const rows = await db.query(
    `SELECT toString(sha) AS sha, ts, parents, files, message, author
       FROM upstream_commits FINAL
      WHERE repo = {repo:String} AND ts >= {from:DateTime64(3, 'UTC')}
      ORDER BY ts, sha`,
    { repo, from },
    graphRow,
  );
  return rows.map((r) => ({ ...r, ts: new Date(r.ts).toISOString() }));
}

const shaRow = z.object({ sha: z.string() });

/** The sha of the newest recorded commit of `repo` (newest collected on a tie), if any. */
export async function latestCommitSha(db: Db, repo: UpstreamRepoName): Promise<string | undefined> {
  const row = await db.queryOne(
    `SELECT sha FROM upstream_commits FINAL WHERE repo = {repo:String} ORDER BY ts DESC, collected_at DESC LIMIT 1`,
    { repo },
    shaRow,
  );
  return row?.sha;
}

const tsRow = z.object({ ts: z.string() });

/** The timestamp of the newest recorded commit of `repo`, if any. */
export async function newestCommitTs(db: Db, repo: UpstreamRepoName): Promise<string | undefined> {
  const row = await db.queryOne(`SELECT max(ts) AS ts FROM upstream_commits FINAL WHERE repo = {repo:String} HAVING count() > 0`, { repo }, tsRow);
  return row?.ts;
}

const countRow = z.object({ commits: z.coerce.number() });

/** Commits of either repository dated after `since`. */
export async function commitsSince(db: Db, since: Date): Promise<number> {
  const [{ commits }] = await db.query(`SELECT count() AS commits FROM upstream_commits FINAL WHERE ts > {since:DateTime64(3, 'UTC')}`, { since }, countRow);
  return commits;
}
