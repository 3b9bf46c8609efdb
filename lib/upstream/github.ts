import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { z } from "zod";
import { createLogger, type Logger } from "../log";
import { UpstreamError, type CommitFile, type ListCommitsOptions, type UpstreamCommit, type UpstreamName, type UpstreamRepo } from "./types";
import { sleep } from "../retry";
import { messageOf } from "../error-message";

/**
 * An upstream repository read through GitHub's REST API with Octokit, retrying
 * server errors (plugin-retry) and waiting out rate limits within a bound
 * (plugin-throttling). The token goes into the Authorization header only: never
 * into `location`, an error message or a log line.
 */

export const GITHUB_API_VERSION = "2022-11-28";
const DEFAULT_BASE_URL = "https://api.github.com";
const DEFAULT_COMMIT_LIMIT = 500;
const SHA = /^[0-9a-f]{4,64}$/i;

// ---------------------------------------------------------------- repository references

export interface RepoRef {
  owner: string;
  repo: string;
  /** Unset: the repository's default branch. */
  branch?: string;
}

const REPO_REF = /^([\w.-]+)\/([\w.-]+)(?:@([\w./-]+))?$/;

/** Parses "owner/name" or "owner/name@branch". */
export function parseRepoRef(ref: string): RepoRef {
  const match = REPO_REF.exec(ref.trim());
  if (!match || match[3]?.startsWith("-")) {
    throw new UpstreamError(`invalid repository reference "${ref}": expected owner/name[@branch]`);
  }
  return { owner: match[1], repo: match[2], ...(match[3] ? { branch: match[3] } : {}) };
}

// ---------------------------------------------------------------- the client

export interface GitHubClientOptions {
  token: string;
  /** REST API base URL (default https://api.github.com; GitHub Enterprise or a test server). */
  baseUrl?: string;
  /** fetch implementation (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /** Retries of a 5xx or network failure (default 3). */
  retries?: number;
  /** The n-th retry waits n² × this many ms (default 1000). */
  retryBaseMs?: number;
  /** Milliseconds per second of a rate limit's wait (default 1000; tests shrink it). */
  rateLimitSecondMs?: number;
  /** Longest rate-limit wait honoured, in seconds (default 120); a longer one fails as transient. */
  maxRateLimitWaitSeconds?: number;
  /** Rate-limit retries per request (default 2). */
  rateLimitRetries?: number;
  /**
   * Pause between write requests. Unset: plugin-throttling's process-wide write
   * queue (one write a second, GitHub's advice against secondary rate limits).
   * Tests set 0.
   */
  writeIntervalMs?: number;
  /** The User-Agent's product token (default "muse-upstream"). */
  userAgent?: string;
  log?: Logger;
}

const MuseOctokit = Octokit.plugin(retry, throttling);
export type GitHubClient = InstanceType<typeof MuseOctokit>;

/**
 * A write queue in the shape plugin-throttling schedules writes through
 * (`group.key(id).schedule(options, fn)`), with a configurable pause.
 */
function writePacer(intervalMs: number) {
  let queue: Promise<void> = Promise.resolve();
  let nextAt = 0;
  const limiter = {
    schedule(...args: unknown[]): Promise<unknown> {
      const fnIndex = typeof args[0] === "function" ? 0 : 1;
      const fn = args[fnIndex] as (...rest: unknown[]) => unknown;
      const turn = queue.then(async () => {
        const wait = nextAt - Date.now();
        if (wait > 0) await sleep(wait);
        nextAt = Date.now() + intervalMs;
      });
      queue = turn;
      return turn.then(() => fn(...args.slice(fnIndex + 1)));
    },
  };
  return { key: () => limiter };
}

/** An Octokit with Muse's retry, rate-limit and API-version settings (also for writers such as the publisher). */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  if (!options.token) throw new UpstreamError("a GitHub token is required (GITHUB_TOKEN)");
  const log = options.log ?? createLogger({ level: "warn", secrets: [options.token] });
  const maxWait = options.maxRateLimitWaitSeconds ?? 120;
  const rateLimitRetries = options.rateLimitRetries ?? 2;
  const onLimit =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      const retrying = retryCount < rateLimitRetries && retryAfter <= maxWait;
      log.warn(`GitHub ${kind} rate limit`, { method: request.method, route: request.url, retryAfterSeconds: retryAfter, retryCount, retrying });
      return retrying;
    };
  const octokit = new MuseOctokit({
    auth: options.token,
    baseUrl: (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ""),
    userAgent: options.userAgent ?? "muse-upstream",
    request: options.fetch ? { fetch: options.fetch } : {},
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => log.warn(String(message)),
      error: (message: string) => log.error(String(message)),
    },
    retry: {
      retries: options.retries ?? 3,
      retryAfterBaseValue: options.retryBaseMs ?? 1000,
      // 403/429 are the throttling plugin's (rate limits); 409 ("repository empty") and 422 (e.g. not a fast forward) are answers.
      doNotRetry: [400, 401, 403, 404, 409, 410, 422, 429, 451],
    },
    throttle: {
      retryAfterBaseValue: options.rateLimitSecondMs ?? 1000,
      fallbackSecondaryRateRetryAfter: 60,
      onRateLimit: onLimit("primary"),
      onSecondaryRateLimit: onLimit("secondary"),
      ...(options.writeIntervalMs !== undefined ? { write: writePacer(Math.max(0, options.writeIntervalMs)) as never } : {}),
    },
  });
  // Pin the REST API version so a future default cannot change the shapes parsed below.
  octokit.hook.before("request", (request) => {
    request.headers["x-github-api-version"] = GITHUB_API_VERSION;
  });
  return octokit;
}

// ---------------------------------------------------------------- answers and the branch (also for lib/content/github-repo.ts)

export type ResponseParser = <S extends z.ZodType>(schema: S, data: unknown, what: string) => z.output<S>;

/** Checks GitHub's answers against a schema; one that does not fit throws `error(message)`. */
export function responseParser(fullName: string, error: (message: string) => Error): ResponseParser {
  return (schema, data, what) => {
    const result = schema.safeParse(data);
    if (!result.success) throw error(`unexpected GitHub response for ${what} (${fullName}): ${result.error.issues[0]?.message ?? "invalid"}`);
    return result.data;
  };
}

const repoInfo = z.object({ default_branch: z.string() });

/**
 * The branch `ref` names, or else the repository's default branch, read once.
 * Only a success is kept, so a transient failure is retried on the next call;
 * `fail` turns a failure into the caller's error.
 */
export function branchResolver(
  octokit: GitHubClient,
  ref: RepoRef,
  parse: ResponseParser,
  fail: (error: unknown, doing: string) => Error,
): () => Promise<string> {
  const { owner, repo, branch: configured } = ref;
  let pending: Promise<string> | undefined;
  return () => {
    if (configured) return Promise.resolve(configured);
    pending ??= octokit
      .request("GET /repos/{owner}/{repo}", { owner, repo })
      .then((res) => parse(repoInfo, res.data, "the repository").default_branch)
      .catch((error: unknown) => {
        pending = undefined;
        throw fail(error, "reading the repository");
      });
    return pending;
  };
}

const blobResponse = z.object({ content: z.string(), encoding: z.string() });

/**
 * The text of a file from its contents-API entry: inline (base64) when GitHub
 * sent it; files over 1 MB come without content ("encoding": "none"), and the
 * blobs API serves them up to 100 MB.
 */
export async function fileText(
  octokit: GitHubClient,
  ref: { owner: string; repo: string },
  entry: { sha: string; encoding?: string; content?: string },
  parse: ResponseParser,
): Promise<string> {
  if (entry.encoding === "base64" && entry.content !== undefined) return Buffer.from(entry.content, "base64").toString("utf8");
  const res = await octokit.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", { owner: ref.owner, repo: ref.repo, file_sha: entry.sha });
  const blob = parse(blobResponse, res.data, `blob ${entry.sha}`);
  return Buffer.from(blob.content, blob.encoding === "base64" ? "base64" : "utf8").toString("utf8");
}

/** The HTTP status of an Octokit error; undefined for anything else. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

// ---------------------------------------------------------------- response shapes (only what is read)

const gitActor = z.object({ name: z.string().nullish(), date: z.string().nullish() }).nullish();
const commitSummary = z.object({
  sha: z.string(),
  commit: z.object({ author: gitActor, committer: gitActor, message: z.string() }),
});
/**
 * A commit as the commit list and the compare API give it: with its parents
 * (full shas, first parent first), which GitHub always sends. Required, not
 * defaulted: a missing list would read as a root commit and break the graph.
 */
const listedCommit = commitSummary.extend({ parents: z.array(z.object({ sha: z.string() })) });
const branchInfo = z.object({ commit: commitSummary });
const commitDetail = commitSummary.extend({
  files: z.array(z.object({ filename: z.string(), status: z.string(), additions: z.number(), deletions: z.number() })).optional(),
});
const contentsEntry = z.object({
  type: z.string(),
  sha: z.string(),
  encoding: z.string().optional(),
  content: z.string().optional(),
  target: z.string().optional(),
});
const contentsResponse = z.union([z.array(z.unknown()), contentsEntry]);
const compareResult = z.object({ total_commits: z.number(), commits: z.array(listedCommit) });
const mergeBaseResult = z.object({ merge_base_commit: z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/) }).nullish() });
const RANGE_PAGE_SIZE = 100;

type CommitSummary = z.infer<typeof commitSummary>;
type ListedCommitSummary = z.infer<typeof listedCommit>;

// ---------------------------------------------------------------- the repository

export interface GitHubRepoOptions extends GitHubClientOptions {
  /** Commit-detail requests in flight at once (default 4). */
  concurrency?: number;
}

export function createGitHubRepo(name: UpstreamName, ref: string, options: GitHubRepoOptions): UpstreamRepo {
  const { owner, repo, branch: configuredBranch } = parseRepoRef(ref);
  const octokit = createGitHubClient(options);
  const fullName = `${owner}/${repo}`;
  const location = `github:${fullName}${configuredBranch ? `@${configuredBranch}` : ""}${apiHostNote(options.baseUrl)}`;
  const token = options.token;
  const concurrency = Math.max(1, options.concurrency ?? 4);

  const fail = (error: unknown, doing: string) => toUpstreamError(error, `${doing} (${fullName})`, token);
  const parse = responseParser(fullName, (message) => new UpstreamError(message));
  const branch = branchResolver(octokit, { owner, repo, branch: configuredBranch }, parse, fail);

  type ListedCommit = Omit<UpstreamCommit, "files">;
  const listed = (item: ListedCommitSummary): ListedCommit => ({
    sha: item.sha,
    ts: commitTime(item),
    author: item.commit.author?.name ?? "",
    message: item.commit.message.replace(/\s+$/, ""),
    parents: item.parents.map((p) => p.sha),
  });

  /**
   * `git log afterSha..branch` through the compare API: the commits the branch has
   * that afterSha does not (side-branch commits merged later included), oldest
   * first; undefined when GitHub does not know afterSha.
   */
  async function listRange(afterSha: string, b: string, keep: (c: ListedCommit) => boolean, limit: number): Promise<ListedCommit[] | undefined> {
    const fetchPage = async (page: number) => {
      const res = await octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
        owner,
        repo,
        basehead: `${afterSha}...${b}`,
        per_page: RANGE_PAGE_SIZE,
        page,
      });
      return parse(compareResult, res.data, `the comparison ${afterSha}...${b}`);
    };
    let first: z.infer<typeof compareResult>;
    try {
      first = await fetchPage(1);
    } catch (error) {
      // 404 "Not Found" / 422 "No commit found": afterSha is unknown here.
      if (statusOf(error) === 404 || statusOf(error) === 422) return undefined;
      if (statusOf(error) === 409) return []; // "Git Repository is empty."
      throw fail(error, `comparing ${afterSha}...${b}`);
    }
    // Pages run oldest to newest; the newest `limit` are on the last pages.
    const pageCount = Math.max(1, Math.ceil(first.total_commits / RANGE_PAGE_SIZE));
    let kept: ListedCommit[] = [];
    try {
      for (let page = pageCount; page >= 1 && kept.length < limit; page--) {
        const data = page === 1 ? first : await fetchPage(page);
        kept = [...data.commits.map(listed).filter(keep), ...kept];
      }
    } catch (error) {
      throw fail(error, `comparing ${afterSha}...${b}`);
    }
    return kept.slice(-limit);
  }

  async function commitFiles(sha: string): Promise<CommitFile[]> {
    const files: CommitFile[] = [];
    try {
      let res: { data: unknown; headers: { link?: string } } = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", { owner, repo, ref: sha });
      // A commit's files come 300 a page; the rest follow its Link header.
      for (;;) {
        for (const f of parse(commitDetail, res.data, `commit ${sha}`).files ?? []) {
          files.push({ path: f.filename, status: fileStatus(f.status), additions: f.additions, deletions: f.deletions });
        }
        const next = nextLink(res.headers.link);
        if (!next) break;
        res = await octokit.request(`GET ${next}`);
      }
    } catch (error) {
      throw fail(error, `reading commit ${sha}`);
    }
    return files;
  }

  async function withFiles(oldestFirst: ListedCommit[]): Promise<UpstreamCommit[]> {
    const files = await mapWithConcurrency(oldestFirst, concurrency, (c) => commitFiles(c.sha));
    return oldestFirst.map((c, i) => ({ ...c, files: files[i] }));
  }

  return {
    name,
    location,

    async latestCommit() {
      const b = await branch();
      try {
        const res = await octokit.request("GET /repos/{owner}/{repo}/branches/{branch}", { owner, repo, branch: b });
        const commit = parse(branchInfo, res.data, `branch ${b}`).commit;
        return { sha: commit.sha, ts: commitTime(commit) };
      } catch (error) {
        if (statusOf(error) !== 404) throw fail(error, `reading branch ${b}`);
      }
      // No such branch: an empty repository has none; otherwise the configuration is wrong.
      try {
        await octokit.request("GET /repos/{owner}/{repo}/commits", { owner, repo, per_page: 1 });
      } catch (error) {
        if (statusOf(error) === 409) return undefined;
        throw fail(error, "reading the repository");
      }
      throw new UpstreamError(`branch "${b}" not found in ${fullName}`);
    },

    async listCommits(options: ListCommitsOptions = {}) {
      const limit = options.limit ?? DEFAULT_COMMIT_LIMIT;
      if (limit <= 0) return [];
      const b = await branch();

      // Commit times have whole seconds: ts >= since ⇔ ts >= ceil(since), ts <= until ⇔ ts <= floor(until).
      const sinceSeconds = options.since ? Math.ceil(options.since.getTime() / 1000) : undefined;
      const untilSeconds = options.until ? Math.floor(options.until.getTime() / 1000) : undefined;
      const notAfterUntil = (c: ListedCommit) => untilSeconds === undefined || Date.parse(c.ts) / 1000 <= untilSeconds;

      // `since` is the fallback lower bound: with a known afterSha the range alone bounds the list.
      const ranged = options.afterSha !== undefined && SHA.test(options.afterSha) ? await listRange(options.afterSha, b, notAfterUntil, limit) : undefined;
      if (ranged) return withFiles(ranged);

      const newestFirst: ListedCommit[] = [];
      try {
        const pages = octokit.paginate.iterator("GET /repos/{owner}/{repo}/commits", {
          owner,
          repo,
          sha: b,
          per_page: 100,
          ...(sinceSeconds !== undefined ? { since: isoSeconds(sinceSeconds) } : {}),
          ...(untilSeconds !== undefined ? { until: isoSeconds(untilSeconds) } : {}),
        });
        pages: for await (const page of pages) {
          for (const item of parse(z.array(listedCommit), page.data, "the commit list")) {
            const commit = listed(item);
            // The server filtered already; this keeps the bounds exact whatever it did.
            if ((sinceSeconds !== undefined && Date.parse(commit.ts) / 1000 < sinceSeconds) || !notAfterUntil(commit)) continue;
            newestFirst.push(commit);
            if (newestFirst.length >= limit) break pages;
          }
        }
      } catch (error) {
        if (statusOf(error) === 409) return []; // "Git Repository is empty."
        throw fail(error, `listing commits on ${b}`);
      }
      return withFiles(newestFirst.reverse());
    },
    async readFile(sha: string, filePath: string) {
      if (!SHA.test(sha)) throw new UpstreamError(`"${sha}" is not a commit sha (${fullName})`);
      const path = filePath.replace(/^\.?\/+/, "");
      let entry: z.infer<typeof contentsEntry>;
      try {
        const res = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", { owner, repo, path, ref: sha });
        const data = parse(contentsResponse, res.data, `${path} at ${sha}`);
        if (Array.isArray(data)) throw new UpstreamError(`${path} is a directory at ${sha} in ${fullName}, not a file`);
        entry = data;
      } catch (error) {
        if (statusOf(error) === 404) throw new UpstreamError(`${path} not found at ${sha} in ${fullName}`);
        throw fail(error, `reading ${path} at ${sha}`);
      }
      if (entry.type === "symlink" && entry.target !== undefined) return entry.target;
      if (entry.type !== "file") throw new UpstreamError(`${path} at ${sha} in ${fullName} is a ${entry.type}, not a file`);
      try {
        return await fileText(octokit, { owner, repo }, entry, parse);
      } catch (error) {
        throw fail(error, `reading ${path} at ${sha}`);
      }
    },

    async mergeBase(headSha: string, base?: string) {
      const b = base ?? (await branch());
      try {
        // One commit per page is enough: only merge_base_commit is read.
        const res = await octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", { owner, repo, basehead: `${b}...${headSha}`, per_page: 1 });
        return parse(mergeBaseResult, res.data, `the comparison ${b}...${headSha}`).merge_base_commit?.sha;
      } catch (error) {
        if (statusOf(error) === 404 || statusOf(error) === 422) return undefined;
        throw fail(error, `comparing ${b}...${headSha}`);
      }
    },
  };
}

// ---------------------------------------------------------------- helpers

function commitTime(commit: CommitSummary): string {
  const date = commit.commit.committer?.date ?? commit.commit.author?.date;
  if (!date) throw new UpstreamError(`commit ${commit.sha} has no date`);
  return new Date(date).toISOString();
}

const isoSeconds = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

function fileStatus(status: string): CommitFile["status"] {
  // GitHub also says "copied", "changed" and "unchanged": the path's content changed or stayed, it was not added.
  return status === "added" || status === "removed" || status === "renamed" ? status : "modified";
}

function nextLink(link: string | undefined): string | undefined {
  return link ? /<([^<>]+)>;\s*rel="next"/.exec(link)?.[1] : undefined;
}

function apiHostNote(baseUrl: string | undefined): string {
  if (!baseUrl || baseUrl.replace(/\/+$/, "") === DEFAULT_BASE_URL) return "";
  try {
    const url = new URL(baseUrl);
    // Only host and path: a base URL could carry credentials or a query.
    return ` via ${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return "";
  }
}

/** A GitHub failure as an UpstreamError: what was being done, GitHub's answer, whether a retry may help. */
export function toUpstreamError(error: unknown, doing: string, token: string): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const status = statusOf(error);
  const answer = messageOf(error);
  let message: string;
  let transient = false;
  if (status === 401) {
    message = `GitHub rejected the token while ${doing} (401 ${answer}); check GITHUB_TOKEN`;
  } else if ((status === 403 || status === 429) && /rate limit/i.test(answer)) {
    message = `GitHub rate limit while ${doing} (${status} ${answer}); retry later`;
    transient = true;
  } else if (status === 403) {
    message = `GitHub refused ${doing} (403 ${answer}); the token needs read access to the repository's contents`;
  } else if (status === 404) {
    message = `not found on GitHub while ${doing} (404 ${answer}); check the repository name and that the token can see it`;
  } else if (status === undefined || status >= 500) {
    // Octokit reports network failures as status 500 too.
    message = `GitHub unavailable while ${doing} (${status ?? "no response"}: ${answer})`;
    transient = true;
  } else {
    message = `GitHub error while ${doing} (${status} ${answer})`;
  }
  return new UpstreamError(token.length >= 4 ? message.split(token).join("[redacted]") : message, transient);
}

async function mapWithConcurrency<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]);
      } catch (error) {
        failed = true; // the others stop picking up work
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
