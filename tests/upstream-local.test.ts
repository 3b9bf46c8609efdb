import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUpstreamRepos } from "../lib/upstream";
import { parseEnv } from "../lib/env";
import { createLocalGitRepo } from "../lib/upstream/local-git";
import { UpstreamError, type UpstreamCommit } from "../lib/upstream/types";
import { commitDates, git } from "./helpers/git";

function initRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, ["init", "-q", "-b", "main"]);
  git(dir, ["config", "user.name", "Muse Test"]);
  git(dir, ["config", "user.email", "muse-test@example.com"]);
}

function write(dir: string, file: string, content: string | Buffer): void {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), content);
}

function commitAll(dir: string, message: string, author: string, committerDate: string, authorDate?: string): string {
  git(dir, ["add", "-A"]);
  git(dir, ["commit", "-q", "-m", message, `--author=${author} <${author.split(" ")[0].toLowerCase()}@example.com>`], commitDates(committerDate, authorDate));
  return git(dir, ["rev-parse", "HEAD"]);
}

const T = {
  c1: "2024-03-01T10:00:00.000Z",
  c2: "2024-03-02T10:00:00.000Z",
  c3: "2024-03-03T10:00:00.000Z",
  f1: "2024-03-04T10:00:00.000Z",
  c4: "2024-03-05T10:00:00.000Z",
  merge: "2024-03-06T10:00:00.000Z",
};
const REPORT_V1 = '{\n  "benchmark_type": "compilation",\n  "mean_time_ms": 12.5\n}\n';
const REPORT_V2 = '{\n  "benchmark_type": "compilation",\n  "mean_time_ms": 11.9,\n  "p95_time_ms": 14.2\n}\n';

let root: string;
let repoDir: string;
const sha: Record<keyof typeof T, string> = { c1: "", c2: "", c3: "", f1: "", c4: "", merge: "" };

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "muse-upstream-local-"));
  repoDir = path.join(root, "banterhearts");
  initRepo(repoDir);

  write(repoDir, "reports/a.json", REPORT_V1);
  write(repoDir, "README.md", "# Banterhearts\n");
  write(repoDir, "logo.bin", Buffer.from([0x89, 0x50, 0x00, 0x01, 0x02]));
  write(repoDir, "docs/über notes.md", "one\ntwo\n");
  // Authored long before it was committed: ts must be the committer time.
  sha.c1 = commitAll(repoDir, "Add first report\n\nWith a body line.", "Ada Lovelace", T.c1, "2023-12-24T08:00:00Z");

  write(repoDir, "reports/a.json", REPORT_V2);
  rmSync(path.join(repoDir, "README.md"));
  write(repoDir, "logo.bin", Buffer.from([0x89, 0x50, 0x00, 0x09]));
  sha.c2 = commitAll(repoDir, "Update report, drop readme", "Grace Hopper", T.c2);

  git(repoDir, ["mv", "reports/a.json", "reports/b.json"]);
  write(repoDir, "c.txt", "c\n");
  sha.c3 = commitAll(repoDir, "Rename report", "Ada Lovelace", T.c3);

  git(repoDir, ["checkout", "-q", "-b", "feature"]);
  write(repoDir, "feature.txt", "f1\nf2\nf3\n");
  sha.f1 = commitAll(repoDir, "Feature work", "Linus Torvalds", T.f1);

  git(repoDir, ["checkout", "-q", "main"]);
  write(repoDir, "c.txt", "c\nc2\n");
  sha.c4 = commitAll(repoDir, "Extend c", "Grace Hopper", T.c4);

  git(repoDir, ["merge", "-q", "--no-ff", "feature", "-m", "Merge feature"], commitDates(T.merge));
  sha.merge = git(repoDir, ["rev-parse", "HEAD"]);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const shas = (commits: UpstreamCommit[]) => commits.map((c) => c.sha);

describe("local git upstream", () => {
  it("reports the branch head as the latest commit, with its committer time", async () => {
    const repo = createLocalGitRepo("banterhearts", repoDir);
    expect(await repo.latestCommit()).toEqual({ sha: sha.merge, ts: T.merge });
    expect(repo.name).toBe("banterhearts");
    expect(repo.location).toBe(repoDir);
  });

  it("lists every commit oldest first with author, full message and per-file line stats", async () => {
    const commits = await createLocalGitRepo("banterhearts", repoDir).listCommits();
    expect(shas(commits)).toEqual([sha.c1, sha.c2, sha.c3, sha.f1, sha.c4, sha.merge]);
    expect(commits.map((c) => c.ts)).toEqual([T.c1, T.c2, T.c3, T.f1, T.c4, T.merge]);
    expect(commits.map((c) => c.author)).toEqual(["Ada Lovelace", "Grace Hopper", "Ada Lovelace", "Linus Torvalds", "Grace Hopper", "Muse Test"]);
    expect(commits[0].message).toBe("Add first report\n\nWith a body line.");
    expect(commits[5].message).toBe("Merge feature");
    // Parents from %P, first parent first; the root has none.
    expect(commits.map((c) => c.parents)).toEqual([[], [sha.c1], [sha.c2], [sha.c3], [sha.c3], [sha.c4, sha.f1]]);

    const byPath = (c: UpstreamCommit) => Object.fromEntries(c.files.map((f) => [f.path, [f.status, f.additions, f.deletions]]));
    expect(byPath(commits[0])).toEqual({
      "README.md": ["added", 1, 0],
      "docs/über notes.md": ["added", 2, 0],
      "logo.bin": ["added", 0, 0], // binary: git says "-", counted as 0
      "reports/a.json": ["added", 4, 0],
    });
    expect(byPath(commits[1])).toEqual({
      "README.md": ["removed", 0, 1],
      "logo.bin": ["modified", 0, 0],
      "reports/a.json": ["modified", 2, 1],
    });
    expect(byPath(commits[2])).toEqual({ "c.txt": ["added", 1, 0], "reports/b.json": ["renamed", 0, 0] });
    expect(byPath(commits[3])).toEqual({ "feature.txt": ["added", 3, 0] });
    expect(byPath(commits[4])).toEqual({ "c.txt": ["modified", 1, 0] });
    // A merge shows what it brought to the branch: its diff against the first parent.
    expect(byPath(commits[5])).toEqual({ "feature.txt": ["added", 3, 0] });
  });

  it("lists only commits after afterSha, excluding it", async () => {
    const repo = createLocalGitRepo("banterhearts", repoDir);
    expect(shas(await repo.listCommits({ afterSha: sha.c2 }))).toEqual([sha.c3, sha.f1, sha.c4, sha.merge]);
    expect(await repo.listCommits({ afterSha: sha.merge })).toEqual([]);
    // `git log afterSha..branch`: f1 is older than c4 but reached the branch after it (with the merge).
    // An abbreviated sha names the commit too.
    expect(shas(await repo.listCommits({ afterSha: sha.c4.slice(0, 10) }))).toEqual([sha.f1, sha.merge]);
  });

  it("falls back to `since` when afterSha is unknown, and lets a known afterSha alone bound the list", async () => {
    const repo = createLocalGitRepo("banterhearts", repoDir);
    const unknown = "0123456789abcdef0123456789abcdef01234567";
    expect(shas(await repo.listCommits({ afterSha: unknown, since: new Date(T.c4) }))).toEqual([sha.c4, sha.merge]);
    expect(shas(await repo.listCommits({ afterSha: "not-a-sha", since: new Date(T.merge) }))).toEqual([sha.merge]);
    expect(shas(await repo.listCommits({ afterSha: sha.c3, since: new Date("2030-01-01T00:00:00Z") }))).toEqual([sha.f1, sha.c4, sha.merge]);
    // `until` still applies with afterSha.
    expect(shas(await repo.listCommits({ afterSha: sha.c1, until: new Date(T.c3) }))).toEqual([sha.c2, sha.c3]);
  });

  it("treats since and until as inclusive bounds on committer time", async () => {
    const repo = createLocalGitRepo("banterhearts", repoDir);
    const at = (iso: string, deltaMs = 0) => new Date(Date.parse(iso) + deltaMs);
    expect(shas(await repo.listCommits({ since: at(T.c2), until: at(T.c4) }))).toEqual([sha.c2, sha.c3, sha.f1, sha.c4]);
    expect(shas(await repo.listCommits({ since: at(T.c2, 1), until: at(T.c4, -1) }))).toEqual([sha.c3, sha.f1]);
    // c1 was authored in 2023 but committed in March 2024: the committer time counts.
    expect(shas(await repo.listCommits({ until: at("2024-01-01T00:00:00Z") }))).toEqual([]);
    expect(shas(await repo.listCommits({ since: at("2024-03-01T00:00:00Z"), until: at(T.c1) }))).toEqual([sha.c1]);
  });

  it("keeps the newest commits when a limit truncates", async () => {
    const repo = createLocalGitRepo("banterhearts", repoDir);
    expect(shas(await repo.listCommits({ limit: 2 }))).toEqual([sha.c4, sha.merge]);
    expect(shas(await repo.listCommits({ limit: 2, until: new Date(T.c3) }))).toEqual([sha.c2, sha.c3]);
    expect(shas(await repo.listCommits({ limit: 1, afterSha: sha.c1 }))).toEqual([sha.merge]);
    expect(await repo.listCommits({ limit: 0 })).toEqual([]);
  });

  it("reads a file as it was at an old commit", async () => {
    const repo = createLocalGitRepo("banterhearts", repoDir);
    expect(await repo.readFile(sha.c1, "reports/a.json")).toBe(REPORT_V1);
    expect(await repo.readFile(sha.c2, "reports/a.json")).toBe(REPORT_V2);
    expect(await repo.readFile(sha.c3, "reports/b.json")).toBe(REPORT_V2);
    expect(await repo.readFile(sha.c1, "docs/über notes.md")).toBe("one\ntwo\n");
    await expect(repo.readFile(sha.c3, "reports/a.json")).rejects.toThrow(/reports\/a\.json not found at/);
    await expect(repo.readFile(sha.c1, "docs")).rejects.toThrow(UpstreamError);
    await expect(repo.readFile("0123456789abcdef0123456789abcdef01234567", "c.txt")).rejects.toThrow(
      /commit 0123456789abcdef0123456789abcdef01234567 not found/,
    );
  });

  it("never passes caller input to git as an option", async () => {
    const repo = createLocalGitRepo("banterhearts", repoDir);
    const target = path.join(root, "written-by-git");
    await expect(repo.readFile(`--output=${target}`, "c.txt")).rejects.toThrow(/is not a commit sha/);
    expect(await repo.listCommits({ afterSha: `--output=${target}`, since: new Date(T.merge) })).toHaveLength(1);
    expect(existsSync(target)).toBe(false);
    expect(() => createLocalGitRepo("banterhearts", repoDir, "--all")).toThrow(/invalid branch name/);
  });

  it("reads the configured branch", async () => {
    const repo = createLocalGitRepo("banterhearts", repoDir, "feature");
    expect(await repo.latestCommit()).toEqual({ sha: sha.f1, ts: T.f1 });
    expect(shas(await repo.listCommits())).toEqual([sha.c1, sha.c2, sha.c3, sha.f1]);
    expect(repo.location).toBe(`${repoDir}@feature`);
    await expect(createLocalGitRepo("banterhearts", repoDir, "nope").latestCommit()).rejects.toThrow(/branch "nope" not found/);
  });

  it("has no latest commit and no commits when the repository is empty", async () => {
    const emptyDir = path.join(root, "empty");
    initRepo(emptyDir);
    const repo = createLocalGitRepo("banterpacks", emptyDir);
    expect(await repo.latestCommit()).toBeUndefined();
    expect(await repo.listCommits()).toEqual([]);
    expect(await repo.listCommits({ afterSha: sha.c1, since: new Date(0) })).toEqual([]);
  });

  it("names the directory and the seed command when the checkout is missing or not a repository", async () => {
    const missing = path.join(root, "does-not-exist");
    const error = await createLocalGitRepo("banterhearts", missing)
      .listCommits()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).message).toContain(missing);
    expect((error as UpstreamError).message).toContain("npm run muse -- seed");
    expect((error as UpstreamError).transient).toBe(false);

    // A plain directory inside another repository must not be read as that repository.
    const plain = path.join(repoDir, "reports");
    await expect(createLocalGitRepo("banterhearts", plain).latestCommit()).rejects.toThrow(
      `banterhearts directory ${plain} is not a git repository; create it with \`npm run muse -- seed\``,
    );
    await expect(createLocalGitRepo("banterhearts", plain).readFile(sha.c1, "c.txt")).rejects.toThrow(/not a git repository/);
  });

  it("picks up a checkout created after the first failed attempt", async () => {
    const later = path.join(root, "later");
    const repo = createLocalGitRepo("banterpacks", later);
    await expect(repo.latestCommit()).rejects.toThrow(/does not exist/);
    initRepo(later);
    write(later, "x.txt", "x\n");
    const head = commitAll(later, "first", "Ada Lovelace", T.c1);
    expect(await repo.latestCommit()).toEqual({ sha: head, ts: T.c1 });
  });

  it("is what createUpstreamRepos gives without a token, with relative directories resolved against the cwd", async () => {
    const env = parseEnv({ BANTERHEARTS_DIR: "banterhearts", BANTERPACKS_DIR: path.join(root, "empty"), BANTERHEARTS_REPO: "acme/hearts" });
    const repos = createUpstreamRepos(env, { cwd: root });
    expect(repos.hearts.location).toBe(repoDir);
    expect(repos.packs.location).toBe(path.join(root, "empty"));
    expect((await repos.hearts.latestCommit())?.sha).toBe(sha.merge);
    expect(await repos.packs.latestCommit()).toBeUndefined();
  });
});
