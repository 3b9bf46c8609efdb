import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseEnv } from "../lib/env";
import { memoryLogger } from "../lib/log";
import { ContentRepoError, createContentRepo, createGitHubContentRepo, gitBlobSha, type GitHubContentRepoOptions } from "../lib/content";
import { FAKE_TOKEN, startFakeGitHub, type FakeGitHub, type RecordedRequest } from "./helpers/fake-github";

/**
 * The GitHub content repository against the fake GitHub (whose git objects
 * hash exactly as git's): one commit per publish through blobs → tree with
 * base_tree → commit → ref PATCH without force; a concurrent writer's commit
 * is kept and the publish retried on top of it; 5xx and secondary rate limits
 * are retried; an unchanged tree makes no commit.
 */

const REPO = "muse/site";
let gh: FakeGitHub;
let initial: string;

const EP = "---\ntitle: One\n---\n\n## What changed\n\nText.\n";
const EP_DE = "---\ntitle: Eins\n---\n\n## What changed\n\nText (de).\n";
const FILES = { "episodes/chimera/ep-001.md": EP, "episodes/chimera/ep-001.de.md": EP_DE };

function open(options: Partial<GitHubContentRepoOptions> = {}, ref = REPO) {
  return createGitHubContentRepo(ref, {
    token: FAKE_TOKEN,
    baseUrl: gh.url,
    writeIntervalMs: 0,
    retryBaseMs: 5,
    rateLimitSecondMs: 5,
    log: memoryLogger(),
    ...options,
  });
}

/** Octokit sends `heads/main` in a path URL-encoded (heads%2Fmain), as GitHub accepts; compared decoded. */
const pathOf = (r: RecordedRequest) => decodeURIComponent(r.path);
const calls = (requests: RecordedRequest[]) => requests.map((r) => `${r.status} ${r.method} ${pathOf(r).replace(`/repos/${REPO}`, "")}`);
const commitsOnMain = () => gh.repo(REPO).store.walk(gh.branchHead(REPO)!);

beforeAll(async () => {
  gh = await startFakeGitHub();
});
afterAll(async () => {
  await gh.close();
});
beforeEach(() => {
  gh.clearFaults();
  // A fresh repository per test: the site's code plus an empty content directory.
  gh.createRepo(REPO);
  initial = gh.commit(REPO, { message: "site", files: { "README.md": "# site\n", "content/.gitkeep": "", "app/page.tsx": "export default 1;\n" } });
  gh.clearRequests();
});

describe("GitHub content repository", () => {
  it("publishes one commit holding every file, through the git data API with the real request shapes", async () => {
    const repo = open();
    expect(repo.kind).toBe("github");
    expect(repo.location).toBe("github:muse/site/content");
    const result = await repo.commitFiles({ files: FILES, message: "Publish chimera episode 001" });
    expect(result.created).toBe(true);
    expect(gh.branchHead(REPO)).toBe(result.sha);

    const store = gh.repo(REPO).store;
    const commit = store.commit(result.sha)!;
    expect(commit.parents).toEqual([initial]);
    expect(commit.message).toBe("Publish chimera episode 001");
    expect([...store.flatten(commit.tree).keys()].sort()).toEqual([
      "README.md",
      "app/page.tsx",
      "content/.gitkeep",
      "content/episodes/chimera/ep-001.de.md",
      "content/episodes/chimera/ep-001.md",
    ]);
    expect(gh.fileAt(REPO, result.sha, "content/episodes/chimera/ep-001.md")?.toString("utf8")).toBe(EP);
    expect(commitsOnMain()).toHaveLength(2);

    expect(calls(gh.requests)).toEqual([
      "200 GET ", // default branch
      "201 POST /git/blobs",
      "201 POST /git/blobs",
      "200 GET /git/ref/heads/main",
      `200 GET /git/commits/${initial}`,
      "201 POST /git/trees",
      "201 POST /git/commits",
      "200 PATCH /git/refs/heads/main",
    ]);
    const body = (method: string, path: string) => gh.requests.find((r) => r.method === method && pathOf(r).endsWith(path))!.body;
    expect(body("POST", "/git/trees")).toEqual({
      base_tree: store.commit(initial)!.tree,
      tree: [
        { path: "content/episodes/chimera/ep-001.de.md", mode: "100644", type: "blob", sha: gitBlobSha(EP_DE) },
        { path: "content/episodes/chimera/ep-001.md", mode: "100644", type: "blob", sha: gitBlobSha(EP) },
      ],
    });
    expect(body("POST", "/git/commits")).toEqual({ message: "Publish chimera episode 001", tree: commit.tree, parents: [initial] });
    expect(body("PATCH", "/git/refs/heads/main")).toEqual({ sha: result.sha, force: false });
    for (const r of gh.requests) {
      expect(r.headers.authorization).toBe(`token ${FAKE_TOKEN}`);
      expect(r.headers["x-github-api-version"]).toBe("2022-11-28");
    }

    // Reading back.
    expect(await repo.head()).toBe(result.sha);
    expect(await repo.readFile("episodes/chimera/ep-001.de.md")).toBe(EP_DE);
    expect(await repo.readFile("episodes/chimera/ep-404.md")).toBeUndefined();
    expect(await repo.lastCommitOf("episodes/chimera/ep-001.md")).toBe(result.sha);
    expect(await repo.lastCommitOf("episodes/chimera/ep-404.md")).toBeUndefined();
  });

  it("makes no commit when the tree would not change (a retried publish)", async () => {
    const repo = open({}, `${REPO}@main`);
    const first = await repo.commitFiles({ files: FILES, message: "Publish" });
    gh.clearRequests();
    const again = await open({}, `${REPO}@main`).commitFiles({ files: FILES, message: "Publish" });
    expect(again).toEqual({ sha: first.sha, created: false });
    expect(commitsOnMain()).toHaveLength(2);
    expect(calls(gh.requests)).toEqual([
      "201 POST /git/blobs",
      "201 POST /git/blobs",
      "200 GET /git/ref/heads/main",
      `200 GET /git/commits/${first.sha}`,
      "201 POST /git/trees",
    ]);
  });

  it("retries on the new head when another writer moves the branch before the ref update, keeping both writers' files", async () => {
    let other = "";
    gh.beforeRequest(
      () => {
        other = gh.commit(REPO, {
          message: "another writer",
          files: { "content/episodes/banterpacks/ep-001.md": "other\n", "app/page.tsx": "export default 2;\n" },
        });
      },
      { match: (r) => r.method === "PATCH" },
    );
    const repo = open();
    const result = await repo.commitFiles({ files: FILES, message: "Publish chimera episode 001" });
    expect(result.created).toBe(true);

    const patches = gh.requests.filter((r) => r.method === "PATCH");
    expect(patches.map((p) => p.status)).toEqual([422, 200]);
    expect(patches.map((p) => p.body)).toEqual([
      { sha: expect.stringMatching(/^[0-9a-f]{40}$/), force: false },
      { sha: result.sha, force: false },
    ]);
    // The second attempt was built on the other writer's commit (fast forward), and its tree on the other's tree.
    const store = gh.repo(REPO).store;
    expect(store.commit(result.sha)!.parents).toEqual([other]);
    const trees = gh.requests.filter((r) => r.method === "POST" && r.path.endsWith("/git/trees")).map((r) => (r.body as { base_tree: string }).base_tree);
    expect(trees).toEqual([store.commit(initial)!.tree, store.commit(other)!.tree]);
    expect(commitsOnMain()).toEqual([result.sha, other, initial]);
    expect(gh.fileAt(REPO, result.sha, "content/episodes/banterpacks/ep-001.md")?.toString()).toBe("other\n");
    expect(gh.fileAt(REPO, result.sha, "app/page.tsx")?.toString()).toBe("export default 2;\n");
    expect(gh.fileAt(REPO, result.sha, "content/episodes/chimera/ep-001.md")?.toString()).toBe(EP);
    // Blobs were not created twice.
    expect(gh.requests.filter((r) => r.path.endsWith("/git/blobs"))).toHaveLength(2);
  });

  it("makes no commit when the writer that moved the branch already committed the same files", async () => {
    let other = "";
    gh.beforeRequest(
      () => {
        other = gh.commit(REPO, {
          message: "a racing publisher",
          files: { "content/episodes/chimera/ep-001.md": EP, "content/episodes/chimera/ep-001.de.md": EP_DE },
        });
      },
      { match: (r) => r.method === "PATCH" },
    );
    const result = await open().commitFiles({ files: FILES, message: "Publish chimera episode 001" });
    expect(result).toEqual({ sha: other, created: false });
    expect(commitsOnMain()).toEqual([other, initial]);
  });

  it("gives up (transient) when the branch keeps moving", async () => {
    gh.beforeRequest(() => void gh.commit(REPO, { message: "busy", files: { [`x-${Math.random()}`]: "x" } }), {
      match: (r) => r.method === "PATCH",
      times: 10,
    });
    const error = await open({ maxAttempts: 3 })
      .commitFiles({ files: FILES, message: "Publish" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContentRepoError);
    expect((error as ContentRepoError).transient).toBe(true);
    expect((error as Error).message).toMatch(/kept moving.*3 attempts/);
    expect(gh.requests.filter((r) => r.method === "PATCH").map((r) => r.status)).toEqual([422, 422, 422]);
  });

  it("retries 5xx answers, dropped connections and secondary rate limits", async () => {
    gh.injectFault({ kind: "server-error", status: 502 }, { times: 2, match: (r) => r.path.endsWith("/git/trees") });
    gh.injectFault({ kind: "connection-reset" }, { match: (r) => r.path.endsWith("/git/blobs") });
    gh.injectFault({ kind: "secondary-rate-limit", retryAfterSeconds: 1 }, { match: (r) => r.method === "PATCH" });
    gh.injectFault({ kind: "server-error", status: 503 }, { match: (r) => r.path.endsWith("/git/commits") && r.method === "POST" });
    const log = memoryLogger();
    const result = await open({ log }).commitFiles({ files: FILES, message: "Publish" });
    expect(result.created).toBe(true);
    expect(commitsOnMain()).toHaveLength(2);
    const statuses = (suffix: string, method = "POST") => gh.requests.filter((r) => r.method === method && pathOf(r).endsWith(suffix)).map((r) => r.status);
    expect(statuses("/git/trees")).toEqual([502, 502, 201]);
    expect(statuses("/git/blobs")).toEqual([0, 201, 201]);
    expect(statuses("/git/commits")).toEqual([503, 201]);
    expect(statuses("/git/refs/heads/main", "PATCH")).toEqual([403, 200]);
    expect(JSON.stringify(log.lines)).toMatch(/secondary rate limit/);
    expect(JSON.stringify(log.lines)).not.toContain(FAKE_TOKEN);
  });

  it("fails as transient when 5xx answers outlast the retries, and clearly on an empty repository", async () => {
    gh.injectFault({ kind: "server-error", status: 500 }, { times: 10, match: (r) => r.path.endsWith("/git/trees") });
    const error = await open({ retries: 2 })
      .commitFiles({ files: FILES, message: "Publish" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContentRepoError);
    expect((error as ContentRepoError).transient).toBe(true);
    expect(commitsOnMain()).toHaveLength(1);
    gh.clearFaults();

    gh.createRepo("muse/empty");
    const empty = open({}, "muse/empty");
    expect(await empty.head()).toBeUndefined();
    await expect(empty.commitFiles({ files: FILES, message: "Publish" })).rejects.toThrow(/empty/);
    await expect(open({}, `${REPO}@nope`).commitFiles({ files: FILES, message: "Publish" })).rejects.toThrow(/branch "nope" not found/);
  });

  it("is what createContentRepo picks with GITHUB_TOKEN and MUSE_CONTENT_REPO, under MUSE_CONTENT_DIR", async () => {
    const env = parseEnv({ GITHUB_TOKEN: FAKE_TOKEN, GITHUB_API_URL: gh.url, MUSE_CONTENT_REPO: `${REPO}@main`, MUSE_CONTENT_DIR: "./site/content/" });
    const repo = createContentRepo(env, { github: { writeIntervalMs: 0 } });
    expect(repo.kind).toBe("github");
    expect(repo.location).toBe("github:muse/site@main/site/content");
    const result = await repo.commitFiles({ files: { "episodes/chimera/ep-001.md": EP }, message: "Publish" });
    expect(gh.fileAt(REPO, result.sha, "site/content/episodes/chimera/ep-001.md")?.toString()).toBe(EP);
    // Without a token (or a repository), the local repository.
    expect(createContentRepo(parseEnv({ MUSE_CONTENT_REPO: REPO })).kind).toBe("local");
    expect(createContentRepo(parseEnv({ GITHUB_TOKEN: FAKE_TOKEN })).kind).toBe("local");
  });
});
