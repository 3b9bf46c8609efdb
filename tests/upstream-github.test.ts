import http from "node:http";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Octokit } from "@octokit/rest";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseEnv } from "../lib/env";
import { memoryLogger } from "../lib/log";
import { createGitHubRepo, parseRepoRef, type GitHubRepoOptions } from "../lib/upstream/github";
import { createUpstreamRepos } from "../lib/upstream";
import { createLocalGitRepo } from "../lib/upstream/local-git";
import { UpstreamError, type ListCommitsOptions, type UpstreamCommit } from "../lib/upstream/types";
import { FAKE_TOKEN, startFakeGitHub, type FakeGitHub, type RecordedRequest } from "./helpers/fake-github";
import { commitDates, git } from "./helpers/git";

/**
 * The Octokit implementation against the fake GitHub. The same history is built
 * in a real git repository and in the fake (whose objects hash exactly as git's,
 * so the shas are the same), and the GitHub implementation must answer exactly as
 * the local git one does.
 */

const T = {
  c1: "2024-03-01T10:00:00.000Z",
  c2: "2024-03-02T10:00:00.000Z",
  c3: "2024-03-03T10:00:00.000Z",
  f1: "2024-03-04T10:00:00.000Z",
  c4: "2024-03-05T10:00:00.000Z",
  merge: "2024-03-06T10:00:00.000Z",
};
type StepId = keyof typeof T;
const REPORT_V1 = '{\n  "benchmark_type": "compilation",\n  "mean_time_ms": 12.5\n}\n';
const REPORT_V2 = '{\n  "benchmark_type": "compilation",\n  "mean_time_ms": 11.9,\n  "p95_time_ms": 14.2\n}\n';
/** Above the fake's contents inline limit below: read through the blobs API. */
const BIG_REPORT = `${JSON.stringify({ runs: Array.from({ length: 200 }, (_, i) => ({ i, mean_time_ms: i / 7 })) }, null, 2)}\n`;
const FEATURE = "f1\nf2\nf3\n";
const COMMITTER = { name: "Muse Test", email: "muse-test@example.com" };
const person = (name: string) => ({ name, email: `${name.split(" ")[0].toLowerCase()}@example.com` });

interface Step {
  id: StepId;
  branch: "main" | "feature";
  message: string;
  author: { name: string; email: string };
  authorDate?: string;
  files?: Record<string, string | Buffer | null>;
  renames?: Record<string, string>;
  /** Branch off this commit (a new branch). */
  from?: StepId;
  /** A --no-ff merge of this branch; `files` is what it brings to the first parent's tree. */
  merge?: "feature";
}

const STEPS: Step[] = [
  {
    id: "c1",
    branch: "main",
    message: "Add first report\n\nWith a body line.",
    author: person("Ada Lovelace"),
    // Authored long before it was committed: ts must be the committer time.
    authorDate: "2023-12-24T08:00:00Z",
    files: {
      "reports/a.json": REPORT_V1,
      "reports/big.json": BIG_REPORT,
      "README.md": "# Banterhearts\n",
      "logo.bin": Buffer.from([0x89, 0x50, 0x00, 0x01, 0x02]),
      "docs/über notes.md": "one\ntwo\n",
    },
  },
  {
    id: "c2",
    branch: "main",
    message: "Update report, drop readme",
    author: person("Grace Hopper"),
    files: { "reports/a.json": REPORT_V2, "README.md": null, "logo.bin": Buffer.from([0x89, 0x50, 0x00, 0x09]) },
  },
  {
    id: "c3",
    branch: "main",
    message: "Rename report",
    author: person("Ada Lovelace"),
    renames: { "reports/a.json": "reports/b.json" },
    files: { "c.txt": "c\n" },
  },
  { id: "f1", branch: "feature", from: "c3", message: "Feature work", author: person("Linus Torvalds"), files: { "feature.txt": FEATURE } },
  { id: "c4", branch: "main", message: "Extend c", author: person("Grace Hopper"), files: { "c.txt": "c\nc2\n" } },
  { id: "merge", branch: "main", merge: "feature", message: "Merge feature", author: COMMITTER, files: { "feature.txt": FEATURE } },
];

/** Builds the steps with real git; returns each step's sha. */
function buildGitRepo(dir: string): Record<StepId, string> {
  mkdirSync(dir, { recursive: true });
  git(dir, ["init", "-q", "-b", "main"]);
  git(dir, ["config", "user.name", COMMITTER.name]);
  git(dir, ["config", "user.email", COMMITTER.email]);
  const shas = {} as Record<StepId, string>;
  for (const step of STEPS) {
    const dates = commitDates(T[step.id], step.authorDate);
    if (step.from) git(dir, ["checkout", "-q", "-b", step.branch, shas[step.from]]);
    else if (step.id !== "c1") git(dir, ["checkout", "-q", step.branch]);
    if (step.merge) {
      git(dir, ["merge", "-q", "--no-ff", step.merge, "-m", step.message], dates);
    } else {
      for (const [from, to] of Object.entries(step.renames ?? {})) git(dir, ["mv", from, to]);
      for (const [file, content] of Object.entries(step.files ?? {})) {
        const target = path.join(dir, file);
        if (content === null) rmSync(target);
        else {
          mkdirSync(path.dirname(target), { recursive: true });
          writeFileSync(target, content);
        }
      }
      git(dir, ["add", "-A"]);
      git(dir, ["commit", "-q", "-m", step.message, `--author=${step.author.name} <${step.author.email}>`], dates);
    }
    shas[step.id] = git(dir, ["rev-parse", "HEAD"]);
  }
  return shas;
}

/** Builds the same steps in the fake; returns each step's sha. */
function buildFakeRepo(gh: FakeGitHub, fullName: string): Record<StepId, string> {
  gh.createRepo(fullName);
  const shas = {} as Record<StepId, string>;
  for (const step of STEPS) {
    const head = gh.branchHead(fullName, step.branch);
    shas[step.id] = gh.commit(fullName, {
      branch: step.branch,
      // git stores a message with its final newline
      message: `${step.message}\n`,
      author: step.author,
      committer: COMMITTER,
      date: step.authorDate ?? T[step.id],
      committerDate: T[step.id],
      files: step.files,
      renames: step.renames,
      parents: step.from ? [shas[step.from]] : step.merge ? [head!, gh.branchHead(fullName, step.merge)!] : undefined,
    });
  }
  return shas;
}

let gh: FakeGitHub;
let root: string;
let gitDir: string;
let sha: Record<StepId, string>;
let gitSha: Record<StepId, string>;
let log: ReturnType<typeof memoryLogger>;
const REPO = "acme/banterhearts";

const options = (extra: Partial<GitHubRepoOptions> = {}): GitHubRepoOptions => ({
  token: FAKE_TOKEN,
  baseUrl: gh.url,
  retryBaseMs: 1,
  rateLimitSecondMs: 20,
  log,
  ...extra,
});
const hearts = (extra: Partial<GitHubRepoOptions> = {}, ref = REPO) => createGitHubRepo("banterhearts", ref, options(extra));
const shas = (commits: UpstreamCommit[]) => commits.map((c) => c.sha);
const requestsTo = (pattern: RegExp) => gh.requests.filter((r) => pattern.test(r.path));

beforeAll(async () => {
  gh = await startFakeGitHub({ contentsInlineLimit: 1024 });
  root = mkdtempSync(path.join(tmpdir(), "muse-upstream-github-"));
  gitDir = path.join(root, "banterhearts");
  gitSha = buildGitRepo(gitDir);
  sha = buildFakeRepo(gh, REPO);
});

afterAll(async () => {
  await gh?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  gh.clearRequests();
  gh.clearFaults();
  log = memoryLogger();
});

describe("fake GitHub's git model", () => {
  it("hashes blobs, trees and commits exactly as git does", () => {
    expect(sha).toEqual(gitSha);
    const repo = gh.repo(REPO);
    expect(repo.store.commit(sha.merge)!.tree).toBe(git(gitDir, ["rev-parse", "HEAD^{tree}"]));
  });
});

describe("GitHub upstream", () => {
  it("lists the same commits, files and stats as local git for the same history", async () => {
    const local = createLocalGitRepo("banterhearts", gitDir);
    const remote = hearts();
    const unknown = "0123456789abcdef0123456789abcdef01234567";
    const at = (iso: string, deltaMs = 0) => new Date(Date.parse(iso) + deltaMs);
    const cases: ListCommitsOptions[] = [
      {},
      { afterSha: sha.c2 },
      { afterSha: sha.c4 }, // f1 is older than c4 but reached main after it
      { afterSha: sha.merge },
      { afterSha: sha.c1, until: at(T.c3) },
      { afterSha: unknown, since: at(T.c4) },
      { afterSha: sha.c3, since: at("2030-01-01T00:00:00Z") },
      { since: at(T.c2), until: at(T.c4) },
      { since: at(T.c2, 1), until: at(T.c4, -1) },
      { until: at("2024-01-01T00:00:00Z") },
      { limit: 2 },
      { limit: 2, until: at(T.c3) },
      { limit: 1, afterSha: sha.c1 },
    ];
    for (const c of cases) {
      expect(await remote.listCommits(c), JSON.stringify(c)).toEqual(await local.listCommits(c));
    }
  });

  it("maps each commit's files, with statuses and line stats, oldest commit first", async () => {
    const commits = await hearts().listCommits();
    expect(shas(commits)).toEqual([sha.c1, sha.c2, sha.c3, sha.f1, sha.c4, sha.merge]);
    expect(commits.map((c) => c.ts)).toEqual([T.c1, T.c2, T.c3, T.f1, T.c4, T.merge]);
    expect(commits[0]).toMatchObject({ author: "Ada Lovelace", message: "Add first report\n\nWith a body line." });
    const byPath = (c: UpstreamCommit) => Object.fromEntries(c.files.map((f) => [f.path, [f.status, f.additions, f.deletions]]));
    expect(byPath(commits[1])).toEqual({
      "README.md": ["removed", 0, 1],
      "logo.bin": ["modified", 0, 0],
      "reports/a.json": ["modified", 2, 1],
    });
    expect(byPath(commits[2])).toEqual({ "c.txt": ["added", 1, 0], "reports/b.json": ["renamed", 0, 0] });
    expect(byPath(commits[5])).toEqual({ "feature.txt": ["added", 3, 0] });
    // Parents from the API's `parents[].sha`, first parent first; the root has none.
    expect(commits.map((c) => c.parents)).toEqual([[], [sha.c1], [sha.c2], [sha.c3], [sha.c3], [sha.c4, sha.f1]]);
  });

  it("sends requests shaped like GitHub's API wants them", async () => {
    await hearts().listCommits({ since: new Date("2024-03-02T10:00:00.400Z"), until: new Date("2024-03-05T10:00:00.900Z") });
    const [repoRequest, list, ...details] = gh.requests;
    expect(repoRequest).toMatchObject({ method: "GET", path: `/repos/${REPO}`, query: {} });
    // since is rounded up and until down to whole seconds: commit times have no fractions.
    expect(list).toMatchObject({
      method: "GET",
      path: `/repos/${REPO}/commits`,
      query: { sha: "main", per_page: "100", since: "2024-03-02T10:00:01Z", until: "2024-03-05T10:00:00Z" },
    });
    expect(details.map((r) => r.path).sort()).toEqual([sha.c3, sha.f1, sha.c4].map((s) => `/repos/${REPO}/commits/${s}`).sort());
    for (const r of gh.requests) {
      expect(r.status).toBe(200);
      expect(r.headers.authorization).toBe(`token ${FAKE_TOKEN}`);
      expect(r.headers.accept).toBe("application/vnd.github.v3+json");
      expect(r.headers["user-agent"]).toMatch(/^muse-upstream octokit-rest\.js\/\d+\S* octokit-core\.js\//);
      expect(r.headers["x-github-api-version"]).toBe("2022-11-28");
    }
    gh.clearRequests();
    await hearts().listCommits({ afterSha: sha.c3 });
    expect(gh.requests[1]).toMatchObject({ path: `/repos/${REPO}/compare/${sha.c3}...main`, query: { per_page: "100", page: "1" } });
  });

  it("reports the head of the default branch, or of the configured one", async () => {
    expect(await hearts().latestCommit()).toEqual({ sha: sha.merge, ts: T.merge });
    expect(gh.requests.map((r) => r.path)).toEqual([`/repos/${REPO}`, `/repos/${REPO}/branches/main`]);

    gh.clearRequests();
    const feature = hearts({}, `${REPO}@feature`);
    expect(await feature.latestCommit()).toEqual({ sha: sha.f1, ts: T.f1 });
    expect(shas(await feature.listCommits())).toEqual([sha.c1, sha.c2, sha.c3, sha.f1]);
    expect(gh.requests.some((r) => r.path === `/repos/${REPO}`)).toBe(false);
    expect(feature.location).toBe(`github:${REPO}@feature via ${gh.url}`);
    await expect(hearts({}, `${REPO}@nope`).latestCommit()).rejects.toThrow(/branch "nope" not found in acme\/banterhearts/);
  });

  it("reads files at old commits, large ones through the blobs API", async () => {
    const repo = hearts();
    expect(await repo.readFile(sha.c1, "reports/a.json")).toBe(REPORT_V1);
    expect(await repo.readFile(sha.c3, "reports/b.json")).toBe(REPORT_V2);
    expect(await repo.readFile(sha.c1, "docs/über notes.md")).toBe("one\ntwo\n");
    const contents = requestsTo(/\/contents\//);
    expect(contents).toHaveLength(3);
    expect(contents[0].query).toEqual({ ref: sha.c1 });
    expect(decodeURIComponent(contents[2].path)).toBe(`/repos/${REPO}/contents/docs/über notes.md`);

    gh.clearRequests();
    expect(await repo.readFile(sha.c1, "reports/big.json")).toBe(BIG_REPORT);
    expect(gh.requests.map((r) => r.path)).toEqual([
      expect.stringMatching(/\/contents\/reports(%2F|\/)big\.json$/),
      expect.stringMatching(new RegExp(`^/repos/${REPO}/git/blobs/[0-9a-f]{40}$`)),
    ]);

    await expect(repo.readFile(sha.c3, "reports/a.json")).rejects.toThrow(`reports/a.json not found at ${sha.c3} in ${REPO}`);
    await expect(repo.readFile(sha.c1, "docs")).rejects.toThrow(/is a directory/);
    await expect(repo.readFile("main", "c.txt")).rejects.toThrow(/is not a commit sha/);
  });

  it("pages through more than 100 commits following the Link header", async () => {
    const many = "acme/many";
    gh.createRepo(many);
    const start = Date.parse("2024-01-01T00:00:00Z");
    const made: string[] = [];
    for (let i = 0; i < 250; i++) {
      made.push(gh.commit(many, { message: `commit ${i}`, date: new Date(start + i * 60_000), files: { [`runs/${i % 7}.txt`]: `run ${i}\n` } }));
    }
    const repo = createGitHubRepo("banterpacks", many, options());

    const all = await repo.listCommits({ limit: 1000 });
    expect(shas(all)).toEqual(made);
    expect(all[249].files).toEqual([{ path: "runs/4.txt", status: "modified", additions: 1, deletions: 1 }]);
    const listPages = requestsTo(/\/commits$/);
    const repoId = gh.repo(many).id;
    expect(listPages.map((r) => [r.path, r.query.page, r.query.per_page])).toEqual([
      [`/repos/${many}/commits`, undefined, "100"],
      [`/repositories/${repoId}/commits`, "2", "100"],
      [`/repositories/${repoId}/commits`, "3", "100"],
    ]);
    expect(requestsTo(/\/commits\/[0-9a-f]{40}$/)).toHaveLength(250);

    // The default limit is 500; a smaller one stops paging early and keeps the newest.
    gh.clearRequests();
    const newest = await repo.listCommits({ limit: 150 });
    expect(shas(newest)).toEqual(made.slice(100));
    expect(requestsTo(/\/commits$/)).toHaveLength(2);

    // A range through the compare API is paged from its newest end.
    gh.clearRequests();
    expect(shas(await repo.listCommits({ afterSha: made[9], limit: 120 }))).toEqual(made.slice(130));
    const comparePages = requestsTo(/\/compare\//).map((r) => r.query.page);
    expect(comparePages).toEqual(["1", "3", "2"]);
  });

  it("follows paginated commit files", async () => {
    const wide = "acme/wide";
    gh.createRepo(wide);
    const files = Object.fromEntries(Array.from({ length: 305 }, (_, i) => [`f/${String(i).padStart(3, "0")}.txt`, `${i}\n`]));
    const commit = gh.commit(wide, { message: "many files", date: T.c1, files });
    const [listed] = await createGitHubRepo("banterpacks", wide, options()).listCommits();
    expect(listed.sha).toBe(commit);
    expect(listed.files).toHaveLength(305);
    expect(listed.files[304]).toEqual({ path: "f/304.txt", status: "added", additions: 1, deletions: 0 });
    expect(requestsTo(/\/commits\/[0-9a-f]{40}$/).map((r) => r.query.page)).toEqual([undefined, "2"]);
  });

  it("answers an empty repository with no latest commit and no commits", async () => {
    gh.createRepo("acme/empty");
    const repo = createGitHubRepo("banterpacks", "acme/empty", options());
    expect(await repo.latestCommit()).toBeUndefined();
    expect(await repo.listCommits()).toEqual([]);
    expect(await repo.listCommits({ afterSha: sha.c1, since: new Date(0) })).toEqual([]);
  });

  it("fails clearly, without the token, when the token is wrong", async () => {
    const wrong = "ghp_wrongTokenValue0123456789";
    const repo = hearts({ token: wrong });
    const error = await repo.latestCommit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    const { message, transient } = error as UpstreamError;
    expect(message).toMatch(/GitHub rejected the token .*401 Bad credentials.*check GITHUB_TOKEN/);
    expect(transient).toBe(false);
    expect(message).not.toContain(wrong);
    expect(repo.location).not.toContain(wrong);
    expect(log.lines.join("\n")).not.toContain(wrong);
    expect(gh.requests).toHaveLength(1); // a 401 is not retried
    expect(gh.requests[0].headers.authorization).toBe(`token ${wrong}`);
  });

  it("names a repository GitHub does not know", async () => {
    const error = await hearts({}, "acme/nope")
      .listCommits()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).message).toMatch(/not found on GitHub while reading the repository \(acme\/nope\) \(404 Not Found/);
  });

  it("retries server errors and dropped connections", async () => {
    gh.injectFault({ kind: "server-error", status: 502 }, { times: 2, match: (r) => r.path.endsWith("/branches/main") });
    gh.injectFault({ kind: "connection-reset" }, { match: (r) => r.path === `/repos/${REPO}` });
    expect(await hearts().latestCommit()).toEqual({ sha: sha.merge, ts: T.merge });
    expect(requestsTo(/\/branches\/main$/).map((r) => r.status)).toEqual([502, 502, 200]);
    expect(requestsTo(new RegExp(`^/repos/${REPO}$`)).map((r) => r.fault ?? r.status)).toEqual(["connection-reset", 200]);
  });

  it("gives up after the configured retries with a transient error", async () => {
    gh.injectFault({ kind: "server-error", status: 503 }, { times: 10, match: (r) => r.path.endsWith("/commits") });
    const error = await hearts({ retries: 2 })
      .listCommits()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).transient).toBe(true);
    expect((error as UpstreamError).message).toMatch(/GitHub unavailable while listing commits on main .*503/);
    expect(requestsTo(/\/commits$/)).toHaveLength(3);
  });

  it("waits out a secondary rate limit for as long as retry-after says", async () => {
    gh.injectFault({ kind: "secondary-rate-limit", retryAfterSeconds: 3 }, { match: (r) => r.path.endsWith("/branches/main") });
    expect(await hearts({ rateLimitSecondMs: 40 }).latestCommit()).toEqual({ sha: sha.merge, ts: T.merge });
    const [limited, retried] = requestsTo(/\/branches\/main$/);
    expect(limited).toMatchObject({ status: 403, fault: "secondary-rate-limit" });
    expect(retried.status).toBe(200);
    expect(retried.at - limited.at).toBeGreaterThanOrEqual(3 * 40 - 5);
    const warning = JSON.parse(log.lines.find((l) => l.includes("secondary rate limit"))!);
    expect(warning).toMatchObject({ level: "warn", retryAfterSeconds: 3, retrying: true });
  });

  it("does not wait longer than the bound, failing as transient instead", async () => {
    gh.injectFault({ kind: "secondary-rate-limit", retryAfterSeconds: 3600 }, { match: (r) => r.path.endsWith("/branches/main") });
    const started = Date.now();
    const error = await hearts({ rateLimitSecondMs: 1000, maxRateLimitWaitSeconds: 60 })
      .latestCommit()
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).transient).toBe(true);
    expect((error as UpstreamError).message).toMatch(/GitHub rate limit while reading branch main.*403 You have exceeded a secondary rate limit/);
    expect(requestsTo(/\/branches\/main$/)).toHaveLength(1);
  });

  it("waits for a primary rate limit to reset", async () => {
    gh.injectFault({ kind: "rate-limit", resetInSeconds: 1 }, { match: (r) => r.path.endsWith("/branches/main") });
    expect(await hearts({ rateLimitSecondMs: 20 }).latestCommit()).toEqual({ sha: sha.merge, ts: T.merge });
    expect(requestsTo(/\/branches\/main$/).map((r) => r.status)).toEqual([403, 200]);
  });
});

describe("createUpstreamRepos and parseRepoRef", () => {
  it("parses owner/name[@branch]", () => {
    expect(parseRepoRef("acme/banterhearts")).toEqual({ owner: "acme", repo: "banterhearts" });
    expect(parseRepoRef("acme/banter.packs@release/v1")).toEqual({ owner: "acme", repo: "banter.packs", branch: "release/v1" });
    expect(() => parseRepoRef("acme")).toThrow(/expected owner\/name\[@branch\]/);
    expect(() => parseRepoRef("acme/x@-bad")).toThrow(UpstreamError);
  });

  it("uses GitHub for a repository with a token and a repo name, local git otherwise", async () => {
    const env = parseEnv({
      GITHUB_TOKEN: FAKE_TOKEN,
      GITHUB_API_URL: gh.url,
      BANTERHEARTS_REPO: `${REPO}@feature`,
      BANTERPACKS_DIR: gitDir,
    });
    const repos = createUpstreamRepos(env, { log });
    expect(repos.hearts.location).toBe(`github:${REPO}@feature via ${gh.url}`);
    expect(repos.packs.location).toBe(gitDir);
    expect(await repos.hearts.latestCommit()).toEqual({ sha: sha.f1, ts: T.f1 });
    expect(await repos.packs.latestCommit()).toEqual({ sha: sha.merge, ts: T.merge });
    expect(repos.hearts.location + repos.packs.location).not.toContain(FAKE_TOKEN);

    const withoutToken = createUpstreamRepos(parseEnv({ BANTERHEARTS_REPO: REPO, BANTERHEARTS_DIR: gitDir }));
    expect(withoutToken.hearts.location).toBe(gitDir);
  });
});

// ---------------------------------------------------------------- the fake itself

function rawRequest(method: string, urlPath: string, headers: Record<string, string>, body?: unknown) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; json: { message?: string } & Record<string, unknown> }>((resolve, reject) => {
    const req = http.request(`${gh.url}${urlPath}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString() || "{}") }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe("fake GitHub's request checks", () => {
  const good = { "user-agent": "test", accept: "application/vnd.github+json", authorization: `Bearer ${FAKE_TOKEN}` };

  it("requires a User-Agent, a correct token and an Accept header", async () => {
    const without = (name: keyof typeof good) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== name));
    expect((await rawRequest("GET", `/repos/${REPO}`, without("user-agent"))).status).toBe(403);
    expect(await rawRequest("GET", `/repos/${REPO}`, without("authorization"))).toMatchObject({ status: 401, json: { message: "Requires authentication" } });
    expect(await rawRequest("GET", `/repos/${REPO}`, { ...good, authorization: "token nope" })).toMatchObject({
      status: 401,
      json: { message: "Bad credentials" },
    });
    expect((await rawRequest("GET", `/repos/${REPO}`, without("accept"))).status).toBe(400);
    expect(await rawRequest("GET", `/repos/${REPO}`, good)).toMatchObject({ status: 200, json: { default_branch: "main", full_name: REPO } });
    expect((await rawRequest("GET", `/repos/${REPO}`, { ...good, "x-github-api-version": "1999-01-01" })).status).toBe(400);
  });

  it("refuses unknown query parameters and answers unknown things like GitHub", async () => {
    const typo = await rawRequest("GET", `/repos/${REPO}/commits?per-page=5`, good);
    expect(typo.status).toBe(400);
    expect(typo.json.message).toContain("per-page");
    expect(await rawRequest("GET", "/repos/acme/nope", good)).toMatchObject({ status: 404, json: { message: "Not Found" } });
    expect(await rawRequest("GET", `/repos/${REPO}/commits/${"f".repeat(40)}`, good)).toMatchObject({
      status: 422,
      json: { message: `No commit found for SHA: ${"f".repeat(40)}` },
    });
    expect(await rawRequest("GET", `/repos/${REPO}/contents/nope.txt?ref=${sha.c1}`, good)).toMatchObject({ status: 404, json: { message: "Not Found" } });
    expect((await rawRequest("GET", `/repos/${REPO}/commits?since=yesterday`, good)).status).toBe(422);
  });

  it("paginates with a Link header", async () => {
    const res = await rawRequest("GET", `/repos/${REPO}/commits?per_page=2&page=2`, good);
    const id = gh.repo(REPO).id;
    expect(res.headers.link).toBe(
      [
        `<${gh.url}/repositories/${id}/commits?per_page=2&page=1>; rel="prev"`,
        `<${gh.url}/repositories/${id}/commits?per_page=2&page=3>; rel="next"`,
        `<${gh.url}/repositories/${id}/commits?per_page=2&page=3>; rel="last"`,
        `<${gh.url}/repositories/${id}/commits?per_page=2&page=1>; rel="first"`,
      ].join(", "),
    );
  });
});

describe("fake GitHub's git data API (what a publisher needs)", () => {
  it("creates blobs, trees and commits, and moves a branch only forward unless forced", async () => {
    const content = "acme/content";
    gh.createRepo(content);
    const base = gh.commit(content, { message: "init\n", date: T.c1, files: { "content/episodes/001.md": "# One\n" } });
    // A plain Octokit: the fake is under test here, not Muse's client (whose throttling spaces writes 1 s apart).
    const quiet = () => {};
    const octokit = new Octokit({
      auth: FAKE_TOKEN,
      baseUrl: gh.url,
      userAgent: "fake-github-test",
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    const [owner, repo] = content.split("/");

    const ref = await octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", { owner, repo, ref: "heads/main" });
    expect(ref.data.object.sha).toBe(base);
    const baseTree = (await octokit.request("GET /repos/{owner}/{repo}/git/commits/{commit_sha}", { owner, repo, commit_sha: base })).data.tree.sha;

    const blob = await octokit.request("POST /repos/{owner}/{repo}/git/blobs", { owner, repo, content: "hello\n", encoding: "utf-8" });
    expect(blob.status).toBe(201);
    expect(blob.data.sha).toBe("ce013625030ba8dba906f756967f9e9ca394464a"); // git hash-object of "hello\n"

    // Writing what is already there gives the same tree: nothing to commit.
    const same = await octokit.request("POST /repos/{owner}/{repo}/git/trees", {
      owner,
      repo,
      base_tree: baseTree,
      tree: [{ path: "content/episodes/001.md", mode: "100644", type: "blob", content: "# One\n" }],
    });
    expect(same.data.sha).toBe(baseTree);

    const tree = await octokit.request("POST /repos/{owner}/{repo}/git/trees", {
      owner,
      repo,
      base_tree: baseTree,
      tree: [{ path: "content/episodes/002.md", mode: "100644", type: "blob", sha: blob.data.sha }],
    });
    const commit = await octokit.request("POST /repos/{owner}/{repo}/git/commits", {
      owner,
      repo,
      message: "Publish episode 2",
      tree: tree.data.sha,
      parents: [base],
      author: { name: "Muse", email: "muse@example.com", date: "2024-03-07T00:00:00Z" },
    });
    expect(commit.data.author).toMatchObject({ name: "Muse", date: "2024-03-07T00:00:00Z" });
    const updated = await octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", { owner, repo, ref: "heads/main", sha: commit.data.sha });
    expect(updated.data.object.sha).toBe(commit.data.sha);
    expect(gh.fileAt(content, commit.data.sha, "content/episodes/002.md")?.toString()).toBe("hello\n");
    const listed = await octokit.request("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", { owner, repo, tree_sha: tree.data.sha, recursive: "1" });
    expect(listed.data.tree.map((e) => e.path)).toEqual(["content", "content/episodes", "content/episodes/001.md", "content/episodes/002.md"]);

    // A concurrent writer built on the old head: not a fast-forward any more.
    const stale = await octokit.request("POST /repos/{owner}/{repo}/git/commits", { owner, repo, message: "stale", tree: baseTree, parents: [base] });
    const refused = await octokit
      .request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", { owner, repo, ref: "heads/main", sha: stale.data.sha })
      .catch((e: { status: number; message: string }) => e);
    expect(refused).toMatchObject({ status: 422, message: expect.stringContaining("Update is not a fast forward") });
    expect(gh.branchHead(content)).toBe(commit.data.sha);
    await octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", { owner, repo, ref: "heads/main", sha: stale.data.sha, force: true });
    expect(gh.branchHead(content)).toBe(stale.data.sha);

    await octokit.request("POST /repos/{owner}/{repo}/git/refs", { owner, repo, ref: "refs/heads/drafts", sha: base });
    await expect(octokit.request("POST /repos/{owner}/{repo}/git/refs", { owner, repo, ref: "refs/heads/drafts", sha: base })).rejects.toMatchObject({
      status: 422,
    });
    const writes: RecordedRequest[] = gh.requests.filter((r) => r.method !== "GET");
    expect(writes.every((r) => r.headers["content-type"]?.startsWith("application/json"))).toBe(true);
  });
});
