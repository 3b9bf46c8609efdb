/**
 * An upstream repository (Banterhearts, Banterpacks) behind one interface:
 * Octokit against GitHub when GITHUB_TOKEN and the repo name are set,
 * otherwise a local git checkout read with real git.
 */

export type UpstreamName = "banterhearts" | "banterpacks";

export interface CommitFile {
  path: string;
  status: "added" | "modified" | "removed" | "renamed";
  additions: number;
  deletions: number;
}

export interface UpstreamCommit {
  sha: string;
  /** Commit (committer) time, ISO 8601 UTC. */
  ts: string;
  author: string;
  message: string;
  /**
   * Full shas of the commit's parents, first parent first; [] for a root commit.
   * Commit times can run backwards (rebases, clock skew), so "which commits came
   * between two runs" is answered from these, not from `ts` (lib/attribution/graph.ts).
   */
  parents: string[];
  files: CommitFile[];
}

export interface ListCommitsOptions {
  /** Commits strictly after this one (exclusive). If it is unknown upstream, `since` applies. */
  afterSha?: string;
  /** Commit time lower bound (inclusive). */
  since?: Date;
  /** Commit time upper bound (inclusive). */
  until?: Date;
  /** At most this many (the newest ones when truncating). Default 500. */
  limit?: number;
}

export interface UpstreamRepo {
  readonly name: UpstreamName;
  /** Where it reads from, for logs and run summaries (never contains a token). */
  readonly location: string;
  /** The head commit of the configured branch; undefined for an empty repository. */
  latestCommit(): Promise<{ sha: string; ts: string } | undefined>;
  /** Commits on the branch, oldest first, each with its changed files and line stats. */
  listCommits(options?: ListCommitsOptions): Promise<UpstreamCommit[]>;
  /** A file's text at a commit. */
  readFile(sha: string, path: string): Promise<string>;
  /**
   * The merge base of `head` with `base` (default: the configured branch), `git merge-base base head`; undefined
   * when either is unknown or they share no history. For pull-request checks (lib/pull-requests/).
   */
  mergeBase?(head: string, base?: string): Promise<string | undefined>;
}

export interface UpstreamRepos {
  hearts: UpstreamRepo;
  packs: UpstreamRepo;
}

/** Something upstream could not be reached or read (network, git failure). */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly transient = false,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}
