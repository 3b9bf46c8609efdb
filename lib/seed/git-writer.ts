import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Writes a real git repository with backdated commits (the sample upstream
 * repositories of `npm run muse -- seed`). Argument arrays only, never a shell.
 */
export class GitWriter {
  private constructor(readonly dir: string) {}

  /** A fresh repository at `dir` (an existing one is replaced). */
  static async create(dir: string, branch = "main"): Promise<GitWriter> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const writer = new GitWriter(dir);
    await writer.git(["init", "--quiet", `--initial-branch=${branch}`]);
    await writer.git(["config", "user.name", "Muse sample data"]);
    await writer.git(["config", "user.email", "sample-data@muse.invalid"]);
    await writer.git(["config", "commit.gpgsign", "false"]);
    return writer;
  }

  /** An existing repository (e.g. to keep adding sample commits). */
  static open(dir: string): GitWriter {
    return new GitWriter(dir);
  }

  private async git(args: string[], env: Record<string, string> = {}): Promise<string> {
    const { stdout } = await run("git", args, { cwd: this.dir, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  }

  /**
   * Creates branch `name` at `fromSha` (default: the current commit) without
   * switching to it, as `git branch` does; `checkout` switches. Branches and
   * `merge` let tests and the sample world build real merge histories.
   */
  async branch(name: string, fromSha?: string): Promise<void> {
    await this.git(["branch", "--quiet", "--end-of-options", checkedRef(name), ...(fromSha === undefined ? [] : [checkedRef(fromSha)])]);
  }

  /** Switches to branch `name`: the next `commit` or `merge` lands on it. */
  async checkout(name: string): Promise<void> {
    await this.git(["checkout", "--quiet", checkedRef(name), "--"]);
  }

  /**
   * A real `git merge --no-ff` of `branchName` into the current branch at
   * `date`: always a merge commit (first parent: the current branch), as a
   * pull-request merge makes. Returns its sha; a conflict fails.
   */
  async merge(branchName: string, message: string, date: Date, author = DEFAULT_AUTHOR): Promise<string> {
    await this.git(["merge", "--quiet", "--no-ff", "--no-edit", "-m", message, "--end-of-options", checkedRef(branchName)], identity(date, author));
    return this.git(["rev-parse", "HEAD"]);
  }

  /** Writes (or deletes, with null) files and commits them at `date`; returns the commit sha. */
  async commit(message: string, date: Date, files: Record<string, string | null>, author = DEFAULT_AUTHOR): Promise<string> {
    for (const [file, content] of Object.entries(files)) {
      const full = path.join(this.dir, file);
      if (content === null) {
        await rm(full, { force: true });
      } else {
        await mkdir(path.dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    }
    await this.git(["add", "--all"]);
    await this.git(["commit", "--quiet", "--allow-empty", "-m", message], identity(date, author));
    return this.git(["rev-parse", "HEAD"]);
  }
}

const DEFAULT_AUTHOR = "Muse sample data <sample-data@muse.invalid>";

/** The variables that date a commit and name its author and committer ("Name <email>"). */
function identity(date: Date, author: string): Record<string, string> {
  const iso = date.toISOString();
  const [name, email] = /^(.*) <(.*)>$/.exec(author)!.slice(1);
  return {
    GIT_AUTHOR_DATE: iso,
    GIT_COMMITTER_DATE: iso,
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: email,
    GIT_COMMITTER_NAME: name,
    GIT_COMMITTER_EMAIL: email,
  };
}

/** A branch name or sha, refused when git could read it as an option. */
function checkedRef(ref: string): string {
  if (!/^(?!-)[\w./-]+$/.test(ref)) throw new Error(`invalid branch or commit name ${JSON.stringify(ref)}`);
  return ref;
}
