import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile, rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ContentRepoError, joinRepoPath, requestFiles, type ContentCommitRequest, type ContentCommitResult, type ContentRepo } from "./repo";
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

  return {
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
        for (let attempt = 1; attempt <= maxAttempts; attempt++) {
          const head = await headOf(root);
          const index = { GIT_INDEX_FILE: path.join(scratch, `index-${attempt}`) };
          await git(root, head ? ["read-tree", head] : ["read-tree", "--empty"], { env: index });
          await git(root, ["update-index", "--add", ...entries.flatMap((e) => ["--cacheinfo", `100644,${e.blob},${e.repoPath}`])], { env: index });
          const tree = (await git(root, ["write-tree"], { env: index })).trim();
          const headTree = head ? (await git(root, ["rev-parse", `${head}^{tree}`])).trim() : undefined;
          if (head && tree === headTree) {
            // Already committed (a retried or concurrent publish): make sure the site can read the files.
            await restoreMissingWorkingFiles(root, entries);
            return { sha: head, created: false };
          }

          const commit = (
            await git(root, ["commit-tree", tree, ...(head ? ["-p", head] : []), "--no-gpg-sign", "-F", "-"], { input: request.message, env: identity })
          ).trim();
          // Compare-and-swap: fails if HEAD is no longer `head` (another writer committed meanwhile).
          const moved = await runGit(root, ["update-ref", "-m", `muse publish: ${request.message.split("\n")[0]}`, "HEAD", commit, head ?? ZERO_SHA]);
          if (moved.code !== 0) {
            const now = await headOf(root);
            const lockBusy = /cannot lock ref|unable to create .*\.lock|File exists/i.test(moved.stderr);
            if (now !== head || lockBusy) {
              await sleep(Math.min(200, 10 * attempt) + Math.floor(Math.random() * 10));
              continue;
            }
            throw new ContentRepoError(`git update-ref failed in ${root}: ${moved.stderr}`);
          }
          for (const e of entries) await writeWorkingFile(root, e.repoPath, e.content);
          await syncIndex(root, entries);
          return { sha: commit, created: true };
        }
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
      throw new ContentRepoError(`the content repository's HEAD kept moving: gave up after ${maxAttempts} attempts (${root})`, true);
    },
  };

  /** After a crash between commit and file write: files missing on disk are written; changed ones are left alone. */
  async function restoreMissingWorkingFiles(root: string, entries: { repoPath: string; content: string }[]): Promise<void> {
    for (const e of entries) {
      const existing = await readFile(path.join(root, ...e.repoPath.split("/")), "utf8").catch(() => undefined);
      if (existing === undefined) await writeWorkingFile(root, e.repoPath, e.content);
    }
  }
}
