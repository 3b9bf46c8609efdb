import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseEnv } from "../lib/env";
import { createContentRepo, createLocalContentRepo, ContentRepoError } from "../lib/content";

/**
 * The local content repository against real git repositories in temp
 * directories: one commit per call holding every file, no commit when the tree
 * would not change, commits limited to the content paths when the directory is
 * inside a bigger checkout, and racing writers that end with one commit.
 */

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "muse-content-local-"));
  temps.push(dir);
  return dir;
}

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: "T", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "T", GIT_COMMITTER_EMAIL: "t@example.com" };
function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" }).trim();
}
const commitCount = (dir: string) => Number(git(dir, "rev-list", "--count", "HEAD"));
const changedFiles = (dir: string, rev = "HEAD") => git(dir, "show", "--name-only", "--format=", rev).split("\n").filter(Boolean).sort();

const EP = "---\ntitle: One\n---\n\n## What changed\n\nText.\n";
const EP_DE = "---\ntitle: Eins\n---\n\n## What changed\n\nText (de).\n";

describe("local content repository", () => {
  it("initializes a directory that is in no repository and commits all files of a call in one commit", async () => {
    const dir = path.join(tempDir(), "content");
    const repo = createLocalContentRepo(dir);
    expect(repo.kind).toBe("local");
    expect(await repo.head()).toBeUndefined();
    expect(existsSync(path.join(dir, ".git"))).toBe(true);

    const first = await repo.commitFiles({
      files: { "episodes/chimera/ep-001.md": EP, "episodes/chimera/ep-001.de.md": EP_DE },
      message: "Publish chimera episode 001",
    });
    expect(first.created).toBe(true);
    expect(first.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await repo.head()).toBe(first.sha);
    expect(commitCount(dir)).toBe(1);
    expect(changedFiles(dir)).toEqual(["episodes/chimera/ep-001.de.md", "episodes/chimera/ep-001.md"]);
    expect(git(dir, "log", "-1", "--format=%s%n%an <%ae>")).toBe("Publish chimera episode 001\nMuse <muse@localhost>");
    // The working tree has the files and git sees nothing to commit.
    expect(readFileSync(path.join(dir, "episodes/chimera/ep-001.md"), "utf8")).toBe(EP);
    expect(git(dir, "status", "--porcelain")).toBe("");
    expect(await repo.readFile("episodes/chimera/ep-001.de.md")).toBe(EP_DE);
    expect(await repo.readFile("episodes/chimera/ep-002.md")).toBeUndefined();
    expect(await repo.lastCommitOf("episodes/chimera/ep-001.md")).toBe(first.sha);
    expect(await repo.lastCommitOf("episodes/chimera/ep-009.md")).toBeUndefined();
  });

  it("makes no commit when the tree would not change, and a retried publish leaves one commit and one file", async () => {
    const dir = tempDir();
    const repo = createLocalContentRepo(dir);
    const request = { files: { "episodes/banterpacks/ep-001.md": EP }, message: "Publish banterpacks episode 001" };
    const first = await repo.commitFiles(request);
    const again = await repo.commitFiles(request);
    const third = await createLocalContentRepo(dir).commitFiles(request); // a new process, same directory
    expect(again).toEqual({ sha: first.sha, created: false });
    expect(third).toEqual({ sha: first.sha, created: false });
    expect(commitCount(dir)).toBe(1);
    expect(readdirSync(path.join(dir, "episodes/banterpacks"))).toEqual(["ep-001.md"]);

    // A change is a new commit holding only what changed.
    const changed = await repo.commitFiles({
      files: { "episodes/banterpacks/ep-001.md": `${EP}More.\n`, "episodes/banterpacks/ep-002.md": EP },
      message: "Update",
    });
    expect(changed.created).toBe(true);
    expect(commitCount(dir)).toBe(2);
    expect(git(dir, "rev-parse", "HEAD^")).toBe(first.sha);
    expect(changedFiles(dir)).toEqual(["episodes/banterpacks/ep-001.md", "episodes/banterpacks/ep-002.md"]);
  });

  it("writes the file back when a crash left the commit without its working file", async () => {
    const dir = tempDir();
    const repo = createLocalContentRepo(dir);
    const request = { files: { "episodes/chimera/ep-003.md": EP }, message: "Publish" };
    const first = await repo.commitFiles(request);
    rmSync(path.join(dir, "episodes/chimera/ep-003.md"));
    expect(await repo.commitFiles(request)).toEqual({ sha: first.sha, created: false });
    expect(readFileSync(path.join(dir, "episodes/chimera/ep-003.md"), "utf8")).toBe(EP);
  });

  it("inside a bigger checkout, commits only the content paths and leaves other staged and unstaged work alone", async () => {
    const project = tempDir();
    git(project, "init", "--quiet", "--initial-branch=main");
    writeFileSync(path.join(project, "README.md"), "readme\n");
    mkdirSync(path.join(project, "content"));
    writeFileSync(path.join(project, "content/.gitkeep"), "");
    git(project, "add", "-A");
    git(project, "commit", "--quiet", "-m", "initial");
    const base = git(project, "rev-parse", "HEAD");
    // Someone's work in progress: one change staged, one not, one untracked file.
    writeFileSync(path.join(project, "README.md"), "readme, staged edit\n");
    git(project, "add", "README.md");
    writeFileSync(path.join(project, "notes.txt"), "untracked\n");
    writeFileSync(path.join(project, "content/.gitkeep"), "unstaged edit\n");

    const repo = createContentRepo(parseEnv({ MUSE_CONTENT_DIR: "content" }), { cwd: project });
    expect(repo.location).toBe(path.join(project, "content"));
    const result = await repo.commitFiles({ files: { "episodes/chimera/ep-001.md": EP }, message: "Publish chimera episode 001" });
    expect(result.created).toBe(true);
    expect(git(project, "rev-parse", "HEAD^")).toBe(base);
    expect(changedFiles(project)).toEqual(["content/episodes/chimera/ep-001.md"]);
    // The staged edit is still staged (and not committed), the rest untouched.
    expect(git(project, "show", "HEAD:README.md")).toBe("readme");
    expect(git(project, "diff", "--cached", "--name-only")).toBe("README.md");
    expect(git(project, "status", "--porcelain").split("\n").sort()).toEqual([" M content/.gitkeep", "?? notes.txt", "M  README.md"]);
    expect(await repo.readFile("episodes/chimera/ep-001.md")).toBe(EP);
  });

  it("commits into a content directory that is a repository of its own", async () => {
    const dir = tempDir();
    git(dir, "init", "--quiet", "--initial-branch=trunk");
    writeFileSync(path.join(dir, "index.md"), "home\n");
    git(dir, "add", "-A");
    git(dir, "commit", "--quiet", "-m", "initial");
    const repo = createLocalContentRepo(dir);
    const result = await repo.commitFiles({ files: { "episodes/chimera/ep-001.md": EP }, message: "Publish" });
    expect(result.created).toBe(true);
    expect(git(dir, "rev-parse", "--abbrev-ref", "HEAD")).toBe("trunk");
    expect(git(dir, "rev-parse", "refs/heads/trunk")).toBe(result.sha);
    expect(git(dir, "ls-tree", "-r", "--name-only", "HEAD").split("\n")).toEqual(["episodes/chimera/ep-001.md", "index.md"]);
  });

  it("two writers racing on the same files end with one commit; on different files, both land", async () => {
    const dir = tempDir();
    const files = { "episodes/chimera/ep-001.md": EP, "episodes/chimera/ep-001.de.md": EP_DE };
    const results = await Promise.all(
      Array.from({ length: 4 }, () => createLocalContentRepo(dir).commitFiles({ files, message: "Publish chimera episode 001" })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.sha)).size).toBe(1);
    expect(commitCount(dir)).toBe(1);

    const [a, b] = await Promise.all([
      createLocalContentRepo(dir).commitFiles({ files: { "episodes/chimera/ep-002.md": EP }, message: "two" }),
      createLocalContentRepo(dir).commitFiles({ files: { "episodes/banterpacks/ep-001.md": EP }, message: "one" }),
    ]);
    expect(a.created && b.created).toBe(true);
    expect(commitCount(dir)).toBe(3);
    expect(git(dir, "ls-tree", "-r", "--name-only", "HEAD").split("\n").sort()).toEqual([
      "episodes/banterpacks/ep-001.md",
      "episodes/chimera/ep-001.de.md",
      "episodes/chimera/ep-001.md",
      "episodes/chimera/ep-002.md",
    ]);
    expect(git(dir, "status", "--porcelain")).toBe("");
  });

  it("refuses paths that would leave the content directory", async () => {
    const repo = createLocalContentRepo(tempDir());
    for (const bad of ["../escape.md", "/etc/passwd", "episodes//x.md", ".git/config", "episodes/./x.md", "-rf", "a\\b.md", ""]) {
      await expect(repo.commitFiles({ files: { [bad]: "x" }, message: "bad" }), bad).rejects.toBeInstanceOf(ContentRepoError);
    }
    await expect(repo.commitFiles({ files: {}, message: "empty" })).rejects.toThrow(/at least one file/);
    expect(await repo.head()).toBeUndefined();
  });
});

describe("local content repository inside an ignored directory", () => {
  it("gets a repository of its own instead of committing ignored paths to the enclosing checkout", async () => {
    const checkout = tempDir();
    git(checkout, "init", "--quiet", "--initial-branch=main");
    writeFileSync(path.join(checkout, ".gitignore"), ".muse/\n");
    git(checkout, "add", ".gitignore");
    git(checkout, "commit", "--quiet", "-m", "init");
    const before = git(checkout, "rev-parse", "HEAD");
    const contentDir = path.join(checkout, ".muse", "content");
    mkdirSync(contentDir, { recursive: true });
    const repo = createLocalContentRepo(contentDir);
    const result = await repo.commitFiles({ files: { "episodes/chimera/ep-001.md": "# one\n" }, message: "Publish chimera episode 001" });
    expect(result.created).toBe(true);
    expect(git(checkout, "rev-parse", "HEAD")).toBe(before);
    expect(git(contentDir, "rev-parse", "--show-toplevel")).toBe(realpathSync(contentDir));
    expect(git(contentDir, "log", "--format=%s")).toBe("Publish chimera episode 001");
  });
});
