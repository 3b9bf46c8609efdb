import { execFile } from "node:child_process";
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { UpstreamError, type CommitFile, type ListCommitsOptions, type UpstreamCommit, type UpstreamName, type UpstreamRepo } from "./types";

/**
 * An upstream repository read from a local git checkout with the real `git`
 * CLI: no shell, argument arrays only, and every revision handed to git after
 * `--end-of-options` or validated first, so nothing from outside becomes an option.
 */

const execFileAsync = promisify(execFile);

export const DEFAULT_COMMIT_LIMIT = 500;
/** git log output for 500 commits with file lists stays far below this. */
const MAX_OUTPUT_BYTES = 512 * 1024 * 1024;
const SHA = /^[0-9a-f]{4,64}$/i;
const BRANCH = /^(?!-)[\w./-]+$/;

/** Config that would change the output we parse, pinned for this process. */
const GIT_CONFIG_ARGS = ["-c", "log.showSignature=false", "-c", "core.quotePath=false", "-c", "color.ui=false"];

export function createLocalGitRepo(name: UpstreamName, dir: string, branch?: string): UpstreamRepo {
  const absDir = path.resolve(dir);
  if (branch !== undefined && !BRANCH.test(branch)) {
    throw new UpstreamError(`invalid branch name "${branch}" for ${name} (${absDir})`);
  }
  const location = branch ? `${absDir}@${branch}` : absDir;
  const git = gitRunner(name, absDir);

  /** The commit the branch (or HEAD) points at; undefined when the repository has no commits. */
  async function head(): Promise<string | undefined> {
    await git.ensureRepo();
    const rev = branch ? `refs/heads/${branch}` : "HEAD";
    const sha = await git.tryRun(["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`]);
    if (sha !== undefined) return sha.trim();
    const anyCommit = await git.run(["rev-list", "-n", "1", "--all"]);
    if (anyCommit.trim() === "") return undefined;
    throw new UpstreamError(`branch "${branch ?? "HEAD"}" not found in ${name} repository ${absDir}`);
  }

  async function isKnownCommit(sha: string): Promise<boolean> {
    if (!SHA.test(sha)) return false;
    return (await git.tryRun(["cat-file", "-e", "--end-of-options", `${sha}^{commit}`])) !== undefined;
  }

  return {
    name,
    location,

    async latestCommit() {
      const sha = await head();
      if (sha === undefined) return undefined;
      const ct = await git.run(["log", "-n", "1", "--format=%ct", "--end-of-options", sha, "--"]);
      return { sha, ts: epochToIso(ct.trim()) };
    },

    async listCommits(options: ListCommitsOptions = {}) {
      const limit = options.limit ?? DEFAULT_COMMIT_LIMIT;
      if (limit <= 0) return [];
      const tip = await head();
      if (tip === undefined) return [];

      const filters: string[] = [];
      let range = tip;
      // `since` is the fallback lower bound: with a known afterSha the range alone bounds the list.
      if (options.afterSha !== undefined && (await isKnownCommit(options.afterSha))) {
        range = `${options.afterSha}..${tip}`;
      } else if (options.since) {
        // Commit times have whole seconds: ts >= since ⇔ ts >= ceil(since).
        filters.push(`--since=@${Math.ceil(options.since.getTime() / 1000)}`);
      }
      if (options.until) filters.push(`--until=@${Math.floor(options.until.getTime() / 1000)}`);

      const out = await git.run([
        "log",
        "-z",
        "--reverse", // applied after -n, so this keeps the newest `limit` commits, oldest first
        `-n`,
        String(Math.floor(limit)),
        ...filters,
        `--format=${RECORD_START}%H%x00%ct%x00%P%x00%an%x00%B%x00`,
        "--raw",
        "--numstat",
        "--root",
        "-M",
        // a merge's files are what it brought to the branch: its diff against the first parent
        "--diff-merges=first-parent",
        "--no-abbrev",
        "--no-ext-diff",
        "--no-textconv",
        "--no-relative",
        "--end-of-options",
        range,
        "--",
      ]);
      return parseLog(out);
    },

    async readFile(sha: string, filePath: string) {
      if (!SHA.test(sha)) throw new UpstreamError(`"${sha}" is not a commit sha (${name}, ${absDir})`);
      await git.ensureRepo();
      const relative = filePath.replace(/^\.?\/+/, "");
      // cat-file (rather than show) fails on a directory instead of listing it, and never converts content.
      const content = await git.tryRunBuffer(["cat-file", "blob", `${sha}:${relative}`]);
      if (content === undefined) {
        const what = (await isKnownCommit(sha)) ? `${filePath} not found at ${sha}` : `commit ${sha} not found`;
        throw new UpstreamError(`${what} in ${name} repository ${absDir}`);
      }
      return content.toString("utf8");
    },

    async mergeBase(headSha: string, base?: string) {
      if (!SHA.test(headSha) || (base !== undefined && !SHA.test(base) && !BRANCH.test(base))) return undefined;
      const baseRev = base ?? (await head());
      if (baseRev === undefined) return undefined;
      const out = await git.tryRun(["merge-base", "--end-of-options", baseRev, headSha]);
      const sha = out?.trim();
      return sha && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
    },
  };
}

function epochToIso(seconds: string): string {
  return new Date(Number(seconds) * 1000).toISOString();
}

const RECORD_START = "%x1e";
const RECORD_SEPARATOR = "\x1e";
const RAW_ENTRY = /^:\d{6} \d{6} [0-9a-f]+ [0-9a-f]+ ([A-Z])\d*$/;
const NUMSTAT_ENTRY = /^(\d+|-)\t(\d+|-)\t([\s\S]*)$/;

/** Parses `git log -z --raw --numstat` with the record format above. */
export function parseLog(out: string): UpstreamCommit[] {
  const commits: UpstreamCommit[] = [];
  for (const record of out.split(RECORD_SEPARATOR)) {
    if (record === "") continue;
    const fields = record.split("\0");
    const [sha, ct, parents, author, message] = fields;
    // After the header come -z's record terminator and a newline, then the diff tokens.
    const tokens = fields.slice(5);
    while (tokens.length > 0 && /^\n?$/.test(tokens[0])) tokens.shift();
    if (tokens.length > 0) tokens[0] = tokens[0].replace(/^\n/, "");
    commits.push({
      sha,
      ts: epochToIso(ct),
      author,
      message: message.replace(/\s+$/, ""),
      // %P: the parents' full shas, space-separated, first parent first (empty for a root commit).
      parents: parents.split(" ").filter(Boolean),
      files: parseDiffTokens(tokens, sha),
    });
  }
  return commits;
}

function parseDiffTokens(tokens: string[], sha: string): CommitFile[] {
  const files: CommitFile[] = [];
  let i = 0;
  // --raw entries come first: ":<modes> <shas> <status>" then one path (two for renames/copies).
  while (i < tokens.length && tokens[i].startsWith(":")) {
    const match = RAW_ENTRY.exec(tokens[i]);
    if (!match) throw new UpstreamError(`unexpected git log output for ${sha}: ${JSON.stringify(tokens[i])}`);
    const letter = match[1];
    const twoPaths = letter === "R" || letter === "C";
    const filePath = tokens[i + (twoPaths ? 2 : 1)];
    files.push({ path: filePath, status: rawStatus(letter), additions: 0, deletions: 0 });
    i += twoPaths ? 3 : 2;
  }
  // --numstat entries follow in the same order: "<add>\t<del>\t<path>", or "<add>\t<del>\t" + old + new for renames.
  let fileIndex = 0;
  while (i < tokens.length) {
    const match = NUMSTAT_ENTRY.exec(tokens[i]);
    if (!match) {
      if (tokens[i] === "") {
        i += 1;
        continue;
      }
      throw new UpstreamError(`unexpected git log output for ${sha}: ${JSON.stringify(tokens[i])}`);
    }
    const renamed = match[3] === "";
    const filePath = renamed ? tokens[i + 2] : match[3];
    const file = files[fileIndex];
    if (file === undefined || file.path !== filePath) {
      throw new UpstreamError(`git log stats for ${sha} do not match its file list at ${JSON.stringify(filePath)}`);
    }
    // Binary files have "-" for both counts: no lines to count.
    file.additions = match[1] === "-" ? 0 : Number(match[1]);
    file.deletions = match[2] === "-" ? 0 : Number(match[2]);
    fileIndex += 1;
    i += renamed ? 3 : 1;
  }
  return files;
}

function rawStatus(letter: string): CommitFile["status"] {
  switch (letter) {
    case "A":
      return "added";
    case "D":
      return "removed";
    case "R":
      return "renamed";
    default: // M, T (type change), C (copy, as GitHub's "copied" maps), U, X
      return "modified";
  }
}

/** git ran and exited non-zero: for lookups, "not found". */
class GitExitError extends UpstreamError {}

interface GitRunner {
  /** Fails with an UpstreamError naming the directory unless it is a git repository. */
  ensureRepo(): Promise<void>;
  run(args: string[]): Promise<string>;
  /** Undefined when git exits non-zero (a lookup that found nothing). */
  tryRun(args: string[]): Promise<string | undefined>;
  tryRunBuffer(args: string[]): Promise<Buffer | undefined>;
}

function gitRunner(name: UpstreamName, dir: string): GitRunner {
  const seedHint = "create it with `npm run muse -- seed`";
  let checked: Promise<void> | undefined;
  // Set by the repository check: git must never fall back to a repository above
  // the directory (e.g. the Muse checkout itself, when the directory is not one).
  let ceiling = path.dirname(dir);

  const gitEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", GIT_PAGER: "cat" };
    // Variables a git hook or the caller's shell may set would point git at another repository.
    for (const key of [
      "GIT_DIR",
      "GIT_WORK_TREE",
      "GIT_INDEX_FILE",
      "GIT_OBJECT_DIRECTORY",
      "GIT_ALTERNATE_OBJECT_DIRECTORIES",
      "GIT_COMMON_DIR",
      "GIT_NAMESPACE",
    ]) {
      delete env[key];
    }
    env.GIT_CEILING_DIRECTORIES = ceiling;
    return env;
  };

  async function exec(args: string[]): Promise<Buffer> {
    try {
      const { stdout } = await execFileAsync("git", [...GIT_CONFIG_ARGS, ...args], {
        cwd: dir,
        env: gitEnv(),
        encoding: "buffer",
        maxBuffer: MAX_OUTPUT_BYTES,
      });
      return stdout;
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: Buffer; code?: string | number };
      if (e.code === "ENOENT") {
        throw new UpstreamError("git is not installed or not on PATH (local upstream repositories are read with git)");
      }
      const stderr = e.stderr ? e.stderr.toString("utf8").trim() : "";
      const message = `git ${args[0]} failed in ${name} repository ${dir}: ${stderr || e.message}`;
      throw typeof e.code === "number" ? new GitExitError(message) : new UpstreamError(message);
    }
  }

  async function checkRepo(): Promise<void> {
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new UpstreamError(`${name} repository directory ${dir} does not exist; ${seedHint}`);
    }
    ceiling = path.dirname(await realpath(dir));
    try {
      await exec(["rev-parse", "--git-dir"]);
    } catch (error) {
      if (!(error instanceof GitExitError)) throw error;
      throw new UpstreamError(`${name} directory ${dir} is not a git repository; ${seedHint}`);
    }
  }

  function ensureRepo(): Promise<void> {
    // Only a success is kept: a directory created later (by seed) is picked up.
    checked ??= checkRepo().catch((error: unknown) => {
      checked = undefined;
      throw error;
    });
    return checked;
  }

  async function tryRunBuffer(args: string[]): Promise<Buffer | undefined> {
    await ensureRepo();
    try {
      return await exec(args);
    } catch (error) {
      if (error instanceof GitExitError) return undefined;
      throw error;
    }
  }

  return {
    ensureRepo,
    async run(args) {
      await ensureRepo();
      return (await exec(args)).toString("utf8");
    },
    async tryRun(args) {
      return (await tryRunBuffer(args))?.toString("utf8");
    },
    tryRunBuffer,
  };
}
