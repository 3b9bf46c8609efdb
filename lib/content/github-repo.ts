import { createHash } from "node:crypto";
import { z } from "zod";
import { createLogger } from "../log";
import { branchResolver, createGitHubClient, fileText, parseRepoRef, responseParser, statusOf, type GitHubClientOptions } from "../upstream/github";
import {
  branchName,
  ContentRepoError,
  contentPrefix,
  joinRepoPath,
  requestFiles,
  type ContentCommitRequest,
  type ContentCommitResult,
  type ContentRepo,
  type ContentReview,
  type ContentReviewRequest,
} from "./repo";
import { sleep } from "../retry";
import { messageOf } from "../error-message";

/**
 * The content repository on GitHub, written through the git data API:
 *
 *   GET ref → GET commit (its tree) → POST blobs → POST tree (base_tree = the
 *   head's tree) → same tree sha as the head's? no commit : POST commit
 *   (parent = head) → PATCH ref { sha, force: false }
 *
 * The ref update is never forced: when another writer moved the branch
 * between our read and our PATCH, GitHub answers 422 "Update is not a fast
 * forward", and the call starts over on the new head (bounded) — the tree is
 * rebuilt on top of the other writer's commit, so both writers' files end up
 * on the branch, and if the new head already holds our files no commit is
 * made. 5xx answers and dropped connections are retried (plugin-retry), rate
 * limits waited out within a bound (plugin-throttling), by the upstream
 * readers' client (createGitHubClient in lib/upstream/github.ts) with a
 * configurable pause between writes. The token travels in the Authorization
 * header only.
 *
 * With `branch` (MUSE_PUBLISH_MODE=pull-request) the commit goes to that branch: a missing branch is created at the new
 * commit (POST git/refs, parent = the content branch's head; "Reference already exists" from a racing instance starts
 * over on top of its commit), an existing one is moved as above. Its review is a pull request (`reviews`): found by
 * GET pulls?head=owner:branch&state=open, updated with PATCH pulls/{n}, opened with POST pulls (GitHub refuses a second
 * open one for the same head with 422 "A pull request already exists", which turns into an update), closed with PATCH
 * pulls/{n} {state: "closed"}.
 */

export interface GitHubContentRepoOptions extends Omit<GitHubClientOptions, "userAgent"> {
  /** Where the content directory is in the repository (default "content"; "" for the root). */
  prefix?: string;
  /** Tries when a concurrent writer moves the branch (default 5). */
  maxAttempts?: number;
  /** Commit author (default: the token's user, as GitHub fills it in). */
  author?: { name: string; email: string };
}

// ---------------------------------------------------------------- response shapes (only what is read)

const refInfo = z.object({ object: z.object({ sha: z.string(), type: z.string() }) });
const gitCommit = z.object({ sha: z.string(), tree: z.object({ sha: z.string() }) });
const created = z.object({ sha: z.string() });
const contentsEntry = z.object({ type: z.string(), sha: z.string(), encoding: z.string().optional(), content: z.string().optional() });
const commitList = z.array(z.object({ sha: z.string() }));
const pullInfo = z.object({
  number: z.number().int().positive(),
  html_url: z.string(),
  state: z.enum(["open", "closed"]),
  title: z.string(),
  body: z.string().nullable(),
  merged_at: z.string().nullable().optional(),
  head: z.object({ ref: z.string(), sha: z.string() }),
});
type PullInfo = z.infer<typeof pullInfo>;

/** Git's blob id of a text: what GitHub must answer for the blob we create. */
export function gitBlobSha(content: string): string {
  const bytes = Buffer.from(content, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

/** GitHub's answer to creating a ref that exists: a racing writer created the branch first. */
function isExistingRef(error: unknown): boolean {
  return statusOf(error) === 422 && /already exists/i.test(messageOf(error));
}

/** GitHub's answer to opening a second pull request for the same head and base. */
function isExistingPull(error: unknown): boolean {
  return statusOf(error) === 422 && /pull request already exists/i.test(messageOf(error));
}

/** A non-fast-forward answer to the ref PATCH: someone else moved the branch. */
function isConflict(error: unknown): boolean {
  const status = statusOf(error);
  if (status === 409) return true;
  if (status !== 422) return false;
  const message = messageOf(error);
  return /fast[ -]?forward|reference update failed|cannot be updated|reference cannot be updated/i.test(message);
}

export function createGitHubContentRepo(ref: string, options: GitHubContentRepoOptions): ContentRepo {
  if (!options.token) throw new ContentRepoError("a GitHub token is required to publish to a GitHub content repository (GITHUB_TOKEN)");
  const { owner, repo, branch: configuredBranch } = parseRepoRef(ref);
  const prefix = contentPrefix(options.prefix ?? "content");
  const token = options.token;
  const log = options.log ?? createLogger({ level: "warn", secrets: [token] });
  const octokit = createGitHubClient({ ...options, log, userAgent: "muse-publisher" });
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const fullName = `${owner}/${repo}`;
  const location = `github:${fullName}${configuredBranch ? `@${configuredBranch}` : ""}/${prefix}`;

  const fail = (error: unknown, doing: string): ContentRepoError => {
    if (error instanceof ContentRepoError) return error;
    const status = statusOf(error);
    const answer = (messageOf(error)).split(token).join("[redacted]");
    if (status === 401) return new ContentRepoError(`GitHub rejected the token while ${doing} in ${fullName} (401 ${answer}); check GITHUB_TOKEN`);
    if ((status === 403 || status === 429) && /rate limit/i.test(answer)) {
      return new ContentRepoError(`GitHub rate limit while ${doing} in ${fullName} (${status} ${answer}); retry later`, true);
    }
    if (status === 403) return new ContentRepoError(`GitHub refused ${doing} in ${fullName} (403 ${answer}); the token needs write access to the repository's contents`);
    if (status === 404) return new ContentRepoError(`not found on GitHub while ${doing} in ${fullName} (404 ${answer}); check MUSE_CONTENT_REPO and that the token can see it`);
    if (status === 409) return new ContentRepoError(`GitHub refused ${doing} in ${fullName} (409 ${answer}); an empty repository needs an initial commit first`);
    if (status === undefined || status >= 500) return new ContentRepoError(`GitHub unavailable while ${doing} in ${fullName} (${status ?? "no response"}: ${answer})`, true);
    return new ContentRepoError(`GitHub error while ${doing} in ${fullName} (${status} ${answer})`);
  };
  const parse = responseParser(fullName, (message) => new ContentRepoError(message));
  const branch = branchResolver(octokit, { owner, repo, branch: configuredBranch }, parse, fail);

  /** The branch head; undefined for an empty repository. */
  async function readHead(b: string): Promise<string | undefined> {
    try {
      const res = await octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", { owner, repo, ref: `heads/${b}` });
      return parse(refInfo, res.data, `ref heads/${b}`).object.sha;
    } catch (error) {
      if (statusOf(error) === 409) return undefined; // "Git Repository is empty."
      if (statusOf(error) !== 404) throw fail(error, `reading ref heads/${b}`);
    }
    // No such ref: an empty repository has none (409 on its commits); otherwise the branch is missing.
    try {
      await octokit.request("GET /repos/{owner}/{repo}/commits", { owner, repo, per_page: 1 });
    } catch (error) {
      if (statusOf(error) === 409) return undefined;
      throw fail(error, "reading the repository");
    }
    throw new ContentRepoError(`branch "${b}" not found in ${fullName}; create it (or name another in MUSE_CONTENT_REPO=owner/name@branch)`);
  }

  /** A review branch's head; undefined when the branch does not exist (yet). */
  async function readBranchHead(b: string): Promise<string | undefined> {
    try {
      const res = await octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", { owner, repo, ref: `heads/${b}` });
      return parse(refInfo, res.data, `ref heads/${b}`).object.sha;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw fail(error, `reading ref heads/${b}`);
    }
  }

  async function treeOf(commitSha: string): Promise<string> {
    try {
      const res = await octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", { owner, repo, commit_sha: commitSha });
      return parse(gitCommit, res.data, `commit ${commitSha}`).tree.sha;
    } catch (error) {
      throw fail(error, `reading commit ${commitSha}`);
    }
  }

  return {
    kind: "github",
    location,

    async head() {
      return readHead(await branch());
    },

    async readFile(filePath: string) {
      const b = await branch();
      const repoPath = joinRepoPath(prefix, filePath);
      let entry: z.infer<typeof contentsEntry>;
      try {
        const res = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", { owner, repo, path: repoPath, ref: b });
        if (Array.isArray(res.data)) return undefined; // a directory
        entry = parse(contentsEntry, res.data, repoPath);
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw fail(error, `reading ${repoPath}`);
      }
      if (entry.type !== "file") return undefined;
      try {
        return await fileText(octokit, { owner, repo }, entry, parse);
      } catch (error) {
        throw fail(error, `reading ${repoPath}`);
      }
    },

    async lastCommitOf(filePath: string) {
      const b = await branch();
      const repoPath = joinRepoPath(prefix, filePath);
      try {
        const res = await octokit.request("GET /repos/{owner}/{repo}/commits", { owner, repo, sha: b, path: repoPath, per_page: 1 });
        return parse(commitList, res.data, `the commits of ${repoPath}`)[0]?.sha;
      } catch (error) {
        if (statusOf(error) === 409) return undefined;
        throw fail(error, `listing the commits of ${repoPath}`);
      }
    },

    async commitFiles(request: ContentCommitRequest): Promise<ContentCommitResult> {
      const files = requestFiles(request).map(([filePath, content]) => ({ path: joinRepoPath(prefix, filePath), content }));
      const contentBranch = await branch();
      const b = request.branch ?? contentBranch;

      // Blobs are content-addressed: created once, valid for every attempt below.
      const blobs: { path: string; sha: string }[] = [];
      for (const f of files) {
        let sha: string;
        try {
          const res = await octokit.request("POST /repos/{owner}/{repo}/git/blobs", { owner, repo, content: f.content, encoding: "utf-8" });
          sha = parse(created, res.data, `the blob of ${f.path}`).sha;
        } catch (error) {
          throw fail(error, `creating the blob of ${f.path}`);
        }
        if (sha !== gitBlobSha(f.content)) throw new ContentRepoError(`GitHub stored ${f.path} as blob ${sha}, expected ${gitBlobSha(f.content)}: the content was altered`);
        blobs.push({ path: f.path, sha });
      }

      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        // A review branch that does not exist yet starts at the content branch's head (and is created below).
        const branchHead = request.branch === undefined ? undefined : await readBranchHead(b);
        const creating = request.branch !== undefined && branchHead === undefined;
        const head = branchHead ?? (await readHead(contentBranch));
        if (!head) throw new ContentRepoError(`${fullName} is empty: GitHub's git data API needs an initial commit on ${contentBranch} first`);
        const baseTree = await treeOf(head);

        let tree: string;
        try {
          const res = await octokit.request("POST /repos/{owner}/{repo}/git/trees", {
            owner,
            repo,
            base_tree: baseTree,
            tree: blobs.map((blob) => ({ path: blob.path, mode: "100644" as const, type: "blob" as const, sha: blob.sha })),
          });
          tree = parse(created, res.data, "the new tree").sha;
        } catch (error) {
          throw fail(error, "creating the tree");
        }
        // The head already holds these files (a retried or concurrent publish): nothing to commit. For a review
        // branch not created yet: the content branch holds them already, so there is nothing to review.
        if (tree === baseTree) return creating ? { sha: head, created: false, onContentBranch: true } : { sha: head, created: false };

        let commit: string;
        try {
          const res = await octokit.request("POST /repos/{owner}/{repo}/git/commits", {
            owner,
            repo,
            message: request.message,
            tree,
            parents: [head],
            ...(options.author ? { author: options.author, committer: options.author } : {}),
          });
          commit = parse(created, res.data, "the new commit").sha;
        } catch (error) {
          throw fail(error, "creating the commit");
        }

        if (creating) {
          try {
            await octokit.request("POST /repos/{owner}/{repo}/git/refs", { owner, repo, ref: `refs/heads/${b}`, sha: commit });
            return { sha: commit, created: true };
          } catch (error) {
            if (!isExistingRef(error)) throw fail(error, `creating heads/${b}`);
            log.warn("review branch created by another writer; retrying on its head", { repo: fullName, branch: b, attempt, abandoned_commit: commit });
            continue;
          }
        }
        try {
          await octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", { owner, repo, ref: `heads/${b}`, sha: commit, force: false });
          return { sha: commit, created: true };
        } catch (error) {
          if (!isConflict(error)) throw fail(error, `updating heads/${b}`);
          log.warn("content branch moved during the publish; retrying on the new head", { repo: fullName, branch: b, attempt, abandoned_commit: commit });
          await sleep(Math.min(1000, 50 * 2 ** (attempt - 1)) + Math.floor(Math.random() * 50));
        }
      }
      throw new ContentRepoError(`${fullName}@${b} kept moving during the publish: gave up after ${maxAttempts} attempts`, true);
    },

    reviews: {
      async find(b) {
        const pull = await findPull(branchName(b));
        return pull && reviewOf(pull);
      },

      async open(request: ContentReviewRequest): Promise<ContentReview> {
        const b = branchName(request.branch);
        const existing = await findPull(b);
        if (existing) return updatePull(existing, request);
        try {
          const res = await octokit.request("POST /repos/{owner}/{repo}/pulls", {
            owner,
            repo,
            title: request.title,
            head: b,
            base: await branch(),
            body: request.body,
          });
          return { ...reviewOf(parse(pullInfo, res.data, `the pull request of ${b}`)), created: true };
        } catch (error) {
          // Another instance opened it between our look and our POST: GitHub keeps one open per head; update that one.
          if (!isExistingPull(error)) throw fail(error, `opening the pull request of ${b}`);
          const raced = await findPull(b);
          if (!raced) throw fail(error, `opening the pull request of ${b}`);
          return updatePull(raced, request);
        }
      },

      async close(target) {
        const b = branchName(target.branch);
        const number = target.number ?? (await findPull(b))?.number;
        if (number === undefined) return undefined;
        try {
          const res = await octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", { owner, repo, pull_number: number, state: "closed" });
          return { ...reviewOf(parse(pullInfo, res.data, `pull request #${number}`)), created: false };
        } catch (error) {
          throw fail(error, `closing pull request #${number}`);
        }
      },

      async merge() {
        throw new ContentRepoError(`reviews of ${fullName} are pull requests: merge them on GitHub (the webhook marks the episode published)`);
      },
    },
  };

  function reviewOf(pull: PullInfo): ContentReview {
    return {
      number: pull.number,
      url: pull.html_url,
      branch: pull.head.ref,
      head: pull.head.sha,
      state: pull.merged_at ? "merged" : pull.state,
      created: false,
    };
  }

  /** The open pull request whose head is `b` in this repository (GitHub wants head as owner:branch). */
  async function findPull(b: string): Promise<PullInfo | undefined> {
    let pulls: PullInfo[];
    try {
      const res = await octokit.request("GET /repos/{owner}/{repo}/pulls", { owner, repo, head: `${owner}:${b}`, state: "open" });
      pulls = parse(z.array(pullInfo), res.data, `the pull requests of ${b}`);
    } catch (error) {
      throw fail(error, `listing the pull requests of ${b}`);
    }
    // The oldest, should a second one ever have been opened by hand.
    return pulls.filter((p) => p.head.ref === b).sort((x, y) => x.number - y.number)[0];
  }

  /** The pull request with the title and body asked for (no request when it has them already). */
  async function updatePull(current: PullInfo, request: ContentReviewRequest): Promise<ContentReview> {
    if (current.title === request.title && (current.body ?? "") === request.body) return reviewOf(current);
    try {
      const res = await octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
        owner,
        repo,
        pull_number: current.number,
        title: request.title,
        body: request.body,
      });
      return reviewOf(parse(pullInfo, res.data, `pull request #${current.number}`));
    } catch (error) {
      throw fail(error, `updating pull request #${current.number}`);
    }
  }
}
