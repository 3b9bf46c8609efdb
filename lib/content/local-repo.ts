import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile, rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  branchName,
  ContentRepoError,
  joinRepoPath,
  requestFiles,
  type ContentCommitRequest,
  type ContentCommitResult,
  type ContentRepo,
  type ContentReview,
} from "./repo";
import { sleep } from "../retry";

/**
 * The content repository as a real git repository on disk, written with the
 * `git` CLI (argument arrays, no shell).
 *
 * The directory may be (a) inside a repository — `content/` of this checkout,
 * the default — in which case commits go to that repository, limited to the
 * content paths; (b) a repository of its own; or (c) in no repository, in
 * which case it is `git init`ed.
 *
 * A commit is built with plumbing on a private index (read-tree of HEAD, the
 * files added, write-tree), so whatever else is staged or modified in the
 * checkout is neither committed nor disturbed. An unchanged tree makes no
 * commit. HEAD moves with `git update-ref HEAD <new> <old>`, a compare-and-swap:
 * if another writer moved it in between, the call starts over on the new head
 * (where the files may already be, and then no commit is made). Afterwards
 * the files are written to the working tree and the checkout's index entries
 * for those paths are set to the committed blobs (as `git commit -- <paths>`
 * would leave them), so `git status` stays clean for them.
 *
 * With `branch` (MUSE_PUBLISH_MODE=pull-request) the commit goes to `refs/heads/<branch>` the same way (created from
 * HEAD when missing, compare-and-swap on the ref), and neither the working tree nor the index is touched: the branch
 * is not checked out. The branch is its own review (`reviews`): `merge` puts its files onto HEAD as one commit (the
 * working tree and index as above) and deletes the branch, `close` deletes it; `muse review merge|reject` stand in
 * for a person merging or closing the pull request on GitHub.
 */

export interface LocalContentRepoOptions {
  /** Author and committer of the commits (default "Muse <muse@localhost>"). */
  author?: { name: string; email: string };
  /** Tries when another writer moves HEAD between read and update (default 10). */
  maxAttempts?: number;
}

const ZERO_SHA = "0000000000000000000000000000000000000000";
/** Config that would change what we read or write, pinned for these commands. */
const GIT_CONFIG_ARGS = ["-c", "core.quotePath=false", "-c", "color.ui=false", "-c", "log.showSignature=false", "-c", "core.autocrlf=false"];

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface Layout {
  /** The repository's working tree root (realpath). */
  root: string;
  /** The content directory relative to root, posix, "" when it is the root. */
  prefix: string;
}

function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", GIT_PAGER: "cat", GIT_OPTIONAL_LOCKS: "0" };
  // Variables a git hook or the caller's shell may set would point git at another repository or index.
  for (const key of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES"]) {
    delete env[key];
  }
  return { ...env, ...extra };
}

function runGit(cwd: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", [...GIT_CONFIG_ARGS, ...args], { cwd, env: gitEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "ENOENT"
          ? new ContentRepoError("git is not installed or not on PATH (the local content repository is written with git)")
          : new ContentRepoError(`git ${args[0]} could not start in ${cwd}: ${error.message}`),
      );
    });
    child.on("close", (code) => {
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8").trim() });
    });
    child.stdin.on("error", () => {}); // git may exit before reading all input; its exit code says what happened
    child.stdin.end(options.input ?? "");
  });
}

export function createLocalContentRepo(dir: string, options: LocalContentRepoOptions = {}): ContentRepo {
  const absDir = path.resolve(dir);
  const author = options.author ?? { name: "Muse", email: "muse@localhost" };
  const maxAttempts = Math.max(1, options.maxAttempts ?? 10);
  const identity = {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };

  async function git(root: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<string> {
    const result = await runGit(root, args, opts);
    if (result.code !== 0) throw new ContentRepoError(`git ${args[0]} failed in ${root}: ${result.stderr || `exit code ${result.code}`}`);
    return result.stdout;
  }

  let layoutPromise: Promise<Layout> | undefined;
  /** Finds (or creates) the repository holding the directory. Only a success is kept. */
  function layout(): Promise<Layout> {
    layoutPromise ??= (async () => {
      await mkdir(absDir, { recursive: true });
      const real = await realpath(absDir);
      let top = await runGit(real, ["rev-parse", "--show-toplevel"]);
      // A directory the enclosing repository ignores (e.g. .muse/content) gets a repository of its
      // own: committing ignored paths onto the checkout's branch is never what anyone wants.
      const ignored = top.code === 0 && (await runGit(top.stdout.trim(), ["check-ignore", "-q", "--", real])).code === 0;
      if (top.code !== 0 || ignored) {
        if (!ignored && !/not a git repository/i.test(top.stderr)) throw new ContentRepoError(`git rev-parse failed in ${real}: ${top.stderr}`);
        // Two writers may initialize the same new directory at once (copying the templates collides);
        // `git init` on an existing repository is harmless, so try again.
        for (let attempt = 1; ; attempt++) {
          const init = await runGit(real, ["init", "--quiet", "--initial-branch=main", "--", real]);
          if (init.code === 0) break;
          if (attempt >= 5) throw new ContentRepoError(`git init failed in ${real}: ${init.stderr}`);
          await sleep(20 * attempt);
        }
        top = await runGit(real, ["rev-parse", "--show-toplevel"]);
      }
      const rootText = top.stdout.trim();
      if (top.code !== 0 || rootText === "") {
        throw new ContentRepoError(`content directory ${real} is not inside a git working tree (${top.stderr || "bare repository?"})`);
      }
      const root = await realpath(rootText);
      const relative = path.relative(root, real);
      if (relative.startsWith("..") || path.isAbsolute(relative)) throw new ContentRepoError(`content directory ${real} is outside its repository ${root}`);
      return { root, prefix: relative.split(path.sep).join("/") };
    })().catch((error: unknown) => {
      layoutPromise = undefined;
      throw error;
    });
    return layoutPromise;
  }

  async function headOf(root: string): Promise<string | undefined> {
    const result = await runGit(root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
    if (result.code === 0) return result.stdout.trim();
    return undefined;
  }

  /** The commit a branch points at; undefined when there is no such branch. */
  async function branchHeadOf(root: string, branch: string): Promise<string | undefined> {
    const result = await runGit(root, ["rev-parse", "--verify", "--quiet", `refs/heads/${branchName(branch)}^{commit}`]);
    if (result.code === 0) return result.stdout.trim();
    return undefined;
  }

  function localReview(root: string, branch: string, head: string, state: ContentReview["state"]): ContentReview {
    return { number: 0, url: `${root}#${branch}`, branch, head, state, created: false };
  }

  async function blobAt(root: string, rev: string, repoPath: string): Promise<string | undefined> {
    const result = await runGit(root, ["cat-file", "blob", `${rev}:${repoPath}`]);
    return result.code === 0 ? result.stdout : undefined;
  }

  /** Writes a file atomically (temp file + rename) so the site never reads half a file. */
  async function writeWorkingFile(root: string, repoPath: string, content: string): Promise<void> {
    const target = path.join(root, ...repoPath.split("/"));
    await mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(temp, content, "utf8");
    await rename(temp, target);
  }

  /** The checkout's index entries for the committed paths, as `git commit -- <paths>` leaves them. */
  async function syncIndex(root: string, entries: { repoPath: string; blob: string }[]): Promise<void> {
    const args = ["update-index", "--add", ...entries.flatMap((e) => ["--cacheinfo", `100644,${e.blob},${e.repoPath}`])];
    for (let attempt = 1; ; attempt++) {
      const result = await runGit(root, args);
      if (result.code === 0) return;
      // Another git command (a concurrent publish, the developer's editor) holds index.lock: wait and retry.
      if (!/index\.lock/.test(result.stderr) || attempt >= 20) {
        throw new ContentRepoError(`git update-index failed in ${root} after the commit was made: ${result.stderr}`);
      }
      await sleep(25 * attempt);
    }
  }

  const repo: ContentRepo = {
    kind: "local",
    location: absDir,

    async head() {
      const { root } = await layout();
      return headOf(root);
    },

    async readFile(filePath: string) {
      const { root, prefix } = await layout();
      const head = await headOf(root);
      return head ? blobAt(root, head, joinRepoPath(prefix, filePath)) : undefined;
    },

    async lastCommitOf(filePath: string) {
      const { root, prefix } = await layout();
      const head = await headOf(root);
      if (!head) return undefined;
      const sha = (await git(root, ["log", "-n", "1", "--format=%H", head, "--", joinRepoPath(prefix, filePath)])).trim();
      return sha === "" ? undefined : sha;
    },

    async commitFiles(request: ContentCommitRequest): Promise<ContentCommitResult> {
      const files = requestFiles(request);
      const { root, prefix } = await layout();
      const entries: { repoPath: string; content: string; blob: string }[] = [];
      for (const [filePath, content] of files) {
        // --no-filters: the bytes given are the bytes stored, whatever .gitattributes says.
        const blob = (await git(root, ["hash-object", "-w", "--no-filters", "--stdin"], { input: content })).trim();
        entries.push({ repoPath: joinRepoPath(prefix, filePath), content, blob });
      }

      const scratch = await mkdtemp(path.join(tmpdir(), "muse-content-index-"));
      try {
        const branch = request.branch;
        const ref = branch === undefined ? "HEAD" : `refs/heads/${branch}`;
        for (let attempt = 1; attempt <= maxAttempts; attempt++) {
          // A review branch that does not exist yet starts at HEAD (and is created below, create-only).
          const branchHead = branch === undefined ? undefined : await branchHeadOf(root, branch);
          const head = branchHead ?? (await headOf(root));
          const expected = branch === undefined ? head : branchHead;
          const index = { GIT_INDEX_FILE: path.join(scratch, `index-${attempt}`) };
          await git(root, head ? ["read-tree", head] : ["read-tree", "--empty"], { env: index });
          await git(root, ["update-index", "--add", ...entries.flatMap((e) => ["--cacheinfo", `100644,${e.blob},${e.repoPath}`])], { env: index });
          const tree = (await git(root, ["write-tree"], { env: index })).trim();
          const headTree = head ? (await git(root, ["rev-parse", `${head}^{tree}`])).trim() : undefined;
          if (head && tree === headTree) {
            // Already committed (a retried or concurrent publish): make sure the site can read the files. For a
            // review branch not created yet: HEAD holds them already, so there is nothing to review.
            if (branch === undefined) await restoreMissingWorkingFiles(root, entries);
            return branch !== undefined && branchHead === undefined ? { sha: head, created: false, onContentBranch: true } : { sha: head, created: false };
          }

          const commit = (
            await git(root, ["commit-tree", tree, ...(head ? ["-p", head] : []), "--no-gpg-sign", "-F", "-"], { input: request.message, env: identity })
          ).trim();
          // Compare-and-swap: fails if HEAD (or the branch) moved since it was read (another writer committed meanwhile).
          const moved = await runGit(root, ["update-ref", "-m", `muse publish: ${request.message.split("\n")[0]}`, ref, commit, expected ?? ZERO_SHA]);
          if (moved.code !== 0) {
            const now = branch === undefined ? await headOf(root) : await branchHeadOf(root, branch);
            const lockBusy = /cannot lock ref|unable to create .*\.lock|File exists/i.test(moved.stderr);
            if (now !== expected || lockBusy) {
              await sleep(Math.min(200, 10 * attempt) + Math.floor(Math.random() * 10));
              continue;
            }
            throw new ContentRepoError(`git update-ref failed in ${root}: ${moved.stderr}`);
          }
          if (branch === undefined) {
            for (const e of entries) await writeWorkingFile(root, e.repoPath, e.content);
            await syncIndex(root, entries);
          }
          return { sha: commit, created: true };
        }
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      throw new ContentRepoError(`the content repository's ${request.branch ?? "HEAD"} kept moving: gave up after ${maxAttempts} attempts (${root})`, true);
    },

    reviews: {
      async find(branch) {
        const { root } = await layout();
        const head = await branchHeadOf(root, branch);
        return head ? localReview(root, branch, head, "open") : undefined;
      },

      async open(request) {
        const { root } = await layout();
        const head = await branchHeadOf(root, request.branch);
        if (!head) throw new ContentRepoError(`no branch ${request.branch} in ${root} to review: commit to it first`);
        return localReview(root, request.branch, head, "open");
      },

      async close(target) {
        const { root } = await layout();
        const head = await branchHeadOf(root, target.branch);
        if (!head) return undefined;
        await git(root, ["update-ref", "-m", "muse review: rejected", "-d", `refs/heads/${target.branch}`, head]);
        return localReview(root, target.branch, head, "closed");
      },

      async merge(branch, message) {
        const { root, prefix } = await layout();
        const head = await branchHeadOf(root, branch);
        if (!head) throw new ContentRepoError(`no branch ${branch} in ${root} to merge`);
        const base = await headOf(root);
        const mergeBase = base ? (await runGit(root, ["merge-base", base, head])).stdout.trim() : "";
        // The files the branch added or changed since it left HEAD's history.
        const listed = mergeBase
          ? await git(root, ["diff-tree", "-r", "-z", "--name-only", "--no-renames", "--diff-filter=AMT", mergeBase, head])
          : await git(root, ["ls-tree", "-r", "-z", "--name-only", head]);
        const files: Record<string, string> = {};
        for (const repoPath of listed.split("\0").filter(Boolean)) {
          if (prefix !== "" && !repoPath.startsWith(`${prefix}/`)) continue;
          const text = await blobAt(root, head, repoPath);
          if (text !== undefined) files[prefix === "" ? repoPath : repoPath.slice(prefix.length + 1)] = text;
        }
        const result = Object.keys(files).length === 0 ? { sha: base ?? head, created: false } : await repo.commitFiles({ files, message });
        await runGit(root, ["update-ref", "-m", "muse review: merged", "-d", `refs/heads/${branch}`, head]);
        return result;
      },
    },
  };
  return repo;

  /** After a crash between commit and file write: files missing on disk are written; changed ones are left alone. */
  async function restoreMissingWorkingFiles(root: string, entries: { repoPath: string; content: string }[]): Promise<void> {
    for (const e of entries) {
      const existing = await readFile(path.join(root, ...e.repoPath.split("/")), "utf8").catch(() => undefined);
      if (existing === undefined) await writeWorkingFile(root, e.repoPath, e.content);
    }
  }
}
