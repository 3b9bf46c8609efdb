import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { publishableRows, syntheticEpisode } from "../../bench/episodes";
import { createPublishAgent } from "../../lib/agents/publish";
import { runAgent } from "../../lib/agents/runner";
import type { EpisodeRow } from "../../lib/clickhouse/tables";
import { createGitHubContentRepo, type ContentRepo } from "../../lib/content";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { testDeps } from "../helpers/deps";
import { FAKE_TOKEN, startFakeGitHub, type FakeGitHub } from "../helpers/fake-github";
import { registerSecret, scanForSecrets } from "./helpers/leaks";

/**
 * The publish agent (through the runner, as cron runs it) against the fake
 * GitHub answering with faults: 5xx, dropped connections, secondary and
 * primary rate limits, 409 and 422 on the ref update (another writer), 422
 * refusing the tree, and 5xx outlasting every retry. After each: either the
 * run is ok with exactly ONE new commit holding exactly the rows' files, the
 * rows marked published with that commit and one pending deployment; or the
 * run is an error and nothing at all was published (no commit, rows still
 * publishable, no deployment) — and the next run publishes exactly once.
 */

const REPO = "muse/site";
const HOUR = 3_600_000;
let t: TestDatabase;
let gh: FakeGitHub;
let initial: string;

beforeAll(async () => {
  t = await createTestDatabase();
  gh = await startFakeGitHub();
  registerSecret("GITHUB_TOKEN (fake GitHub)", FAKE_TOKEN);
});
afterAll(async () => {
  await gh?.close();
  await t?.drop();
});
beforeEach(async () => {
  gh.clearFaults();
  gh.createRepo(REPO);
  initial = gh.commit(REPO, { message: "site", files: { "README.md": "# site\n", "content/.gitkeep": "" } });
  gh.clearRequests();
  await t.db.command("TRUNCATE TABLE episodes");
  await t.db.command("TRUNCATE TABLE deployments");
});

let episodeNo = 0;
/** A publishable original and its German translation, as rows. */
async function publishableEpisode(): Promise<{ rows: EpisodeRow[]; files: Record<string, string> }> {
  const n = ++episodeNo;
  const episode = syntheticEpisode("chimera", n, { langs: ["en", "de"] });
  const created = new Date(Date.now() - 2 * HOUR).toISOString();
  const rows = publishableRows(episode, created);
  await t.db.insert("episodes", rows);
  return { rows, files: Object.fromEntries([...episode.files.values()].map((f) => [`content/${f.path}`, f.markdown])) };
}

type FetchRule = { method: string; path: RegExp; status: number; body: unknown; times: number };

/** fetch that answers matching requests itself (a status the fake has no fault for), else passes through. */
function faultyFetch(rules: FetchRule[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const rule = rules.find((r) => r.times > 0 && r.method === method && r.path.test(decodeURIComponent(url.pathname)));
    if (rule) {
      rule.times -= 1;
      return new Response(JSON.stringify(rule.body), { status: rule.status, headers: { "content-type": "application/json; charset=utf-8" } });
    }
    return fetch(input, init);
  };
}

function contentRepo(options: { fetch?: typeof fetch; retries?: number } = {}): ContentRepo {
  return createGitHubContentRepo(`${REPO}@main`, {
    token: FAKE_TOKEN,
    baseUrl: gh.url,
    writeIntervalMs: 0,
    retryBaseMs: 5,
    rateLimitSecondMs: 5,
    maxRateLimitWaitSeconds: 60,
    ...options,
  });
}

async function runPublish(repo: ContentRepo, attempts = 2) {
  const deps = testDeps(t.db);
  const record = await runAgent(createPublishAgent({ contentRepo: () => repo }), deps, { trigger: "cron", attempts, retryDelayMs: 10 });
  scanForSecrets("publish agent log", deps.log.lines.join("\n"));
  return record;
}

const commitsOnMain = () => gh.repo(REPO).store.walk(gh.branchHead(REPO)!);
const ours = () => commitsOnMain().filter((sha) => gh.repo(REPO).store.commit(sha)!.message.startsWith("Publish"));

async function state() {
  const rows = await t.db.query<{ lang: string; status: string; commit_sha: string }>("SELECT lang, status, commit_sha FROM episodes FINAL ORDER BY lang");
  const deployments = await t.db.query<{ commit_sha: string; status: string }>("SELECT commit_sha, status FROM deployments FINAL");
  return { rows, deployments };
}

/** Exactly one commit of ours with exactly these files, the rows published with it, one pending deployment. */
async function expectPublishedOnce(files: Record<string, string>) {
  const mine = ours();
  expect(mine).toHaveLength(1);
  const [commit] = mine;
  for (const [file, text] of Object.entries(files)) expect(gh.fileAt(REPO, commit, file)?.toString("utf8")).toBe(text);
  const { rows, deployments } = await state();
  expect(rows.map((r) => [r.status, r.commit_sha])).toEqual(rows.map(() => ["published", commit]));
  expect(deployments).toEqual([{ commit_sha: commit, status: "pending" }]);
}

/** Nothing of the episode went out: no commit of ours, rows still publishable, no deployment. */
async function expectNothingPublished() {
  expect(ours()).toEqual([]);
  const { rows, deployments } = await state();
  expect(rows.every((r) => r.status === "publishable" && r.commit_sha === "")).toBe(true);
  expect(deployments).toEqual([]);
}

describe("publish under GitHub faults", () => {
  it("5xx answers, a dropped connection and a secondary rate limit on the way: one commit", async () => {
    const { files } = await publishableEpisode();
    gh.injectFault({ kind: "server-error", status: 502 }, { times: 2, match: (r) => r.path.endsWith("/git/trees") });
    gh.injectFault({ kind: "connection-reset" }, { match: (r) => r.path.endsWith("/git/blobs") });
    gh.injectFault({ kind: "server-error", status: 503 }, { match: (r) => r.method === "POST" && r.path.endsWith("/git/commits") });
    gh.injectFault({ kind: "secondary-rate-limit", retryAfterSeconds: 2 }, { match: (r) => r.method === "PATCH" });
    gh.injectFault({ kind: "rate-limit", resetInSeconds: 1 }, { match: (r) => r.path.includes("/git/ref/") });
    const record = await runPublish(contentRepo());
    expect(record).toMatchObject({ status: "ok", summary: { published: [expect.objectContaining({ created: true, langs: ["en", "de"] })] } });
    await expectPublishedOnce(files);
    expect(gh.requests.some((r) => r.status === 502)).toBe(true);
    expect(gh.requests.some((r) => r.status === 403)).toBe(true);
  });

  it("422 'not a fast forward' (another writer moved the branch twice): one commit of ours on top, theirs kept", async () => {
    const { files } = await publishableEpisode();
    let k = 0;
    gh.beforeRequest(() => void gh.commit(REPO, { message: `other writer ${++k}`, files: { [`content/other-${k}.md`]: "theirs\n" } }), {
      match: (r) => r.method === "PATCH",
      times: 2,
    });
    const record = await runPublish(contentRepo());
    expect(record.status).toBe("ok");
    await expectPublishedOnce(files);
    expect(gh.requests.filter((r) => r.method === "PATCH").map((r) => r.status)).toEqual([422, 422, 200]);
    const head = gh.branchHead(REPO)!;
    expect(gh.fileAt(REPO, head, "content/other-1.md")?.toString()).toBe("theirs\n");
    expect(gh.fileAt(REPO, head, "content/other-2.md")?.toString()).toBe("theirs\n");
  });

  it("409 on the ref update: treated as a moved branch and retried, one commit", async () => {
    const { files } = await publishableEpisode();
    const rules: FetchRule[] = [{ method: "PATCH", path: /\/git\/refs\/heads\/main$/, status: 409, body: { message: "Reference update failed" }, times: 1 }];
    const record = await runPublish(contentRepo({ fetch: faultyFetch(rules) }));
    expect(record.status).toBe("ok");
    expect(rules[0].times).toBe(0);
    await expectPublishedOnce(files);
  });

  it("422 refusing the tree (not a conflict): the run fails, nothing is published; the next run publishes once", async () => {
    const { files } = await publishableEpisode();
    const rules: FetchRule[] = [
      {
        method: "POST",
        path: /\/git\/trees$/,
        status: 422,
        body: { message: "Validation Failed", errors: [{ resource: "Tree", field: "tree", code: "invalid" }] },
        times: 5,
      },
    ];
    const failed = await runPublish(contentRepo({ fetch: faultyFetch(rules) }));
    expect(failed.status).toBe("error");
    expect(failed.error).toMatch(/422/);
    // Not transient: no retry by the runner.
    expect(failed.attempts).toBe(1);
    await expectNothingPublished();
    expect(gh.branchHead(REPO)).toBe(initial);

    expect((await runPublish(contentRepo())).status).toBe("ok");
    await expectPublishedOnce(files);
  });

  it("5xx outlasting every retry: the run fails as transient after the runner's attempts, nothing is published; the next run publishes once", async () => {
    const { files } = await publishableEpisode();
    gh.injectFault({ kind: "server-error", status: 500 }, { times: 1_000, match: (r) => r.method === "POST" && r.path.endsWith("/git/commits") });
    const failed = await runPublish(contentRepo({ retries: 1 }), 2);
    expect(failed).toMatchObject({ status: "error", attempts: 2 });
    await expectNothingPublished();
    gh.clearFaults();
    expect((await runPublish(contentRepo())).status).toBe("ok");
    await expectPublishedOnce(files);
  });

  it("a secondary rate limit asking for longer than the publisher waits: fails, nothing is published", async () => {
    await publishableEpisode();
    gh.injectFault({ kind: "secondary-rate-limit", retryAfterSeconds: 3_600 }, { times: 100, match: (r) => r.path.endsWith("/git/blobs") });
    const failed = await runPublish(contentRepo(), 1);
    expect(failed.status).toBe("error");
    expect(failed.error).toMatch(/rate limit/i);
    await expectNothingPublished();
  });

  it("a retry after the commit landed but before the rows were marked (a crash): no second commit", async () => {
    const { files } = await publishableEpisode();
    // The commit goes through, then ClickHouse refuses the deployment row once: the run fails after committing.
    const repo = contentRepo();
    const deps = testDeps(t.db);
    const flaky = { ...deps, db: Object.assign(Object.create(Object.getPrototypeOf(t.db)) as typeof t.db, t.db) };
    let refused = false;
    flaky.db.insert = async (table: string, rows: readonly object[], options) => {
      if (table === "deployments" && !refused) {
        refused = true;
        throw new Error("ClickHouse refused the write (test)");
      }
      return t.db.insert(table, rows, options);
    };
    const first = await runAgent(createPublishAgent({ contentRepo: () => repo }), flaky, { trigger: "cron", attempts: 1 });
    expect(first.status).toBe("error");
    expect(ours()).toHaveLength(1);
    expect((await runPublish(contentRepo())).status).toBe("ok");
    await expectPublishedOnce(files);
  });
});
