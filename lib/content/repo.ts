import { UpstreamError } from "../upstream/types";

/**
 * The content repository episodes are published to, behind one interface:
 * GitHub's git data API (Octokit) when GITHUB_TOKEN and MUSE_CONTENT_REPO are
 * set, otherwise a real git repository at MUSE_CONTENT_DIR.
 *
 * Paths are relative to the content directory (`episodes/<series>/ep-NNN.md`);
 * each implementation maps them to where the content lives in its repository
 * (e.g. `content/episodes/...`).
 *
 * `commitFiles` is the publisher's one write: one commit holding every file
 * of the call, made against the current head without force (a concurrent
 * writer wins the race and the call retries on top of its commit), and no
 * commit at all when the tree would not change, so a retried publish never
 * makes a second commit or a second file. With `branch` the commit goes to
 * that branch instead (MUSE_PUBLISH_MODE=pull-request), and `reviews` opens,
 * finds, closes or (locally) merges the branch's review.
 */

export interface ContentCommitRequest {
  /** Content-relative path → full text of the file (UTF-8). */
  files: Record<string, string>;
  message: string;
  /**
   * Commit to this branch instead of the content branch (MUSE_PUBLISH_MODE=pull-request): created from the content
   * branch's head when missing. Without it, the content branch.
   */
  branch?: string;
}

export interface ContentCommitResult {
  /** The new commit, or the current head when nothing changed. */
  sha: string;
  /** False when the tree already held these files (no commit was made). */
  created: boolean;
  /**
   * With `branch`: true when the branch did not exist and the content branch holds these files already (nothing to
   * review: `sha` is the content branch's head and no branch was created).
   */
  onContentBranch?: boolean;
}

/** A review of a branch before it reaches the content branch: a pull request on GitHub, the branch itself locally. */
export interface ContentReview {
  /** The pull request's number; 0 locally (the branch is the review). */
  number: number;
  /** Where a person reviews it: the pull request's page, or `<repository>#<branch>` locally. */
  url: string;
  branch: string;
  /** The branch's head commit ("" when unknown). */
  head: string;
  state: "open" | "closed" | "merged";
  /** False when an open review of the branch already existed (it was updated). */
  created: boolean;
}

export interface ContentReviewRequest {
  branch: string;
  title: string;
  /** Markdown (the pull request's description). */
  body: string;
}

/**
 * Reviews of branches (MUSE_PUBLISH_MODE=pull-request, docs/reach.md "Review before an episode goes live"). One open
 * review per branch: `open` finds the open one by its head branch and updates it, and a racing instance's duplicate is
 * refused by GitHub and turned into an update.
 */
export interface ContentReviews {
  /** Opens the review of `branch` against the content branch, or updates the open one. */
  open(request: ContentReviewRequest): Promise<ContentReview>;
  /** The open review of a branch; undefined when none is open. */
  find(branch: string): Promise<ContentReview | undefined>;
  /** Closes a review without merging it (a rejection): `number` names the pull request, else the branch's open one. */
  close(target: { branch: string; number?: number }): Promise<ContentReview | undefined>;
  /**
   * Locally only (on GitHub a person merges the pull request): the branch's files onto the content branch as one
   * commit (no commit when they are there already), then the branch is deleted.
   */
  merge(branch: string, message: string): Promise<ContentCommitResult>;
}

export interface ContentRepo {
  /** Where it writes, for logs and run summaries (never contains a token). */
  readonly location: string;
  /** "github" (a push triggers the site's deployment) or "local" (the site reads the directory). */
  readonly kind: "github" | "local";
  /** The head commit of the content branch; undefined when the repository has no commits. */
  head(): Promise<string | undefined>;
  /** A file's text at the head; undefined when it does not exist. */
  readFile(path: string): Promise<string | undefined>;
  /** The newest commit on the branch that changed the file; undefined when none did. */
  lastCommitOf(path: string): Promise<string | undefined>;
  /** One commit with all `files` (see above). */
  commitFiles(request: ContentCommitRequest): Promise<ContentCommitResult>;
  /** Reviews of branches (pull requests on GitHub). */
  readonly reviews: ContentReviews;
}

/**
 * A content operation failed: bad input, a git failure, GitHub refusing.
 * `transient`: a retry may help. An UpstreamError, so the agent runner retries
 * the transient ones like any other repository failure.
 */
export class ContentRepoError extends UpstreamError {
  constructor(message: string, transient = false) {
    super(message, transient);
    this.name = "ContentRepoError";
  }
}

const SEGMENT = /^[\w.@+-]+$/;

/**
 * A content-relative path, checked: forward slashes, no empty, "." or ".."
 * segments, no `.git`, nothing that could leave the content directory or be
 * read as an option.
 */
export function contentPath(path: string): string {
  const segments = path.split("/");
  const bad =
    path.length === 0 ||
    path.length > 400 ||
    segments.some((s) => s === "" || s === "." || s === ".." || s.toLowerCase() === ".git" || !SEGMENT.test(s)) ||
    segments[0].startsWith("-");
  if (bad) throw new ContentRepoError(`invalid content path "${path}": expected a relative path like episodes/<series>/ep-001.md`);
  return path;
}

/** A repository prefix ("content", "site/content", "" for the root), normalized without slashes at either end. */
export function contentPrefix(prefix: string): string {
  const trimmed = prefix.replace(/\\/g, "/").replace(/^\.?\/+/, "").replace(/\/+$/, "");
  if (trimmed === "" || trimmed === ".") return "";
  return contentPath(trimmed);
}

export function joinRepoPath(prefix: string, path: string): string {
  return prefix === "" ? contentPath(path) : `${prefix}/${contentPath(path)}`;
}

/**
 * A branch name Muse may create (`muse/episode/<series>/ep-NNN`): slash-separated segments of letters, digits, `.`,
 * `_` and `-`, none starting with `.` or `-` nor ending in `.lock`, no `..`: what git and GitHub accept as a ref name.
 */
export function branchName(name: string): string {
  const segments = name.split("/");
  const bad =
    name.length === 0 ||
    name.length > 200 ||
    name.includes("..") ||
    segments.some((s) => !/^[A-Za-z0-9_][\w.-]*$/.test(s) || s.endsWith(".lock") || s.endsWith("."));
  if (bad) throw new ContentRepoError(`invalid branch name "${name}": expected segments like muse/episode/<series>/ep-001`);
  return name;
}

/** Files of a request, validated, in a stable order (paths sorted). */
export function requestFiles(request: ContentCommitRequest): [string, string][] {
  const entries = Object.entries(request.files);
  if (entries.length === 0) throw new ContentRepoError("commitFiles needs at least one file");
  if (request.message.trim() === "") throw new ContentRepoError("commitFiles needs a commit message");
  if (request.branch !== undefined) branchName(request.branch);
  for (const [path, content] of entries) {
    contentPath(path);
    if (typeof content !== "string") throw new ContentRepoError(`content of ${path} must be a string`);
  }
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
