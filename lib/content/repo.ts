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
 * makes a second commit or a second file.
 */

export interface ContentCommitRequest {
  /** Content-relative path → full text of the file (UTF-8). */
  files: Record<string, string>;
  message: string;
}

export interface ContentCommitResult {
  /** The new commit, or the current head when nothing changed. */
  sha: string;
  /** False when the tree already held these files (no commit was made). */
  created: boolean;
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

/** Files of a request, validated, in a stable order (paths sorted). */
export function requestFiles(request: ContentCommitRequest): [string, string][] {
  const entries = Object.entries(request.files);
  if (entries.length === 0) throw new ContentRepoError("commitFiles needs at least one file");
  if (request.message.trim() === "") throw new ContentRepoError("commitFiles needs a commit message");
  for (const [path, content] of entries) {
    contentPath(path);
    if (typeof content !== "string") throw new ContentRepoError(`content of ${path} must be a string`);
  }
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
