import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { episodeFilePathOf, publish, publishOptions, type PublishSummary } from "../lib/agents/publish";
import { episodeRow, type EpisodeRow } from "../lib/clickhouse/tables";
import { createContentRepo, type ContentRepo } from "../lib/content";
import { SECTIONS } from "../lib/episode/draft";
import { episodeFrontMatter, renderEpisode, type EpisodeFrontMatter } from "../lib/episode/file";
import { parseEnv, type Env } from "../lib/env";
import { memoryLogger } from "../lib/log";
import { episodeBranch, episodeOfBody, episodeOfBranch, parseEpisodeArg } from "../lib/review/episode";
import { parseReviewCommands } from "../lib/review/github-webhook";
import { reviewsOf } from "../lib/review/store";
import { githubSignature, handleGitHubWebhook, type GitHubWebhookDeps } from "../lib/triage/github-webhook";
import { runCliCaptured as cli } from "./helpers/cli";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { fixedClock, testDeps } from "./helpers/deps";
import { saveEnv, setEnv } from "./helpers/env";
import { FAKE_TOKEN, startFakeGitHub, type FakeGitHub, type RecordedRequest } from "./helpers/fake-github";

/**
 * Review before an episode goes live (MUSE_PUBLISH_MODE=pull-request, docs/reach.md) on real ClickHouse: against the
 * GitHub double (real git objects; the pulls API checked for GitHub's request shapes), one pull request per episode
 * with its translations — updated, never duplicated, on a second publish, a retry or across two instances —, a merge
 * publishes it (rows, the merge's pending deployment, the review's record), `/muse reject <why>` by someone with write
 * access rejects and closes it; and the same mode on a branch of a local content repository (real git) with
 * `muse review merge|reject` standing in for GitHub.
 */

const REPO = "acme/site";
const SECRET = "github-webhook-secret-for-review-1";
const SITE = "https://muse.example";
const EVENT_ID = "3b2a1c0d-9e8f-5a7b-8c6d-5e4f3a2b1c0d";
const NOW = "2026-11-20T14:00:00.000Z";
const created = "2026-11-20T12:00:00.000Z";

let t: TestDatabase;
let gh: FakeGitHub;
let initial = "";
const temps: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  gh = await startFakeGitHub();
});
afterAll(async () => {
  await gh.close();
  await t.drop();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  for (const table of ["episodes", "deployments", "episode_reviews"]) await t.db.command(`TRUNCATE TABLE ${table}`);
  gh.clearFaults();
  // A fresh repository per test: the site's code and an empty content directory; two people with roles.
  const repo = gh.createRepo(REPO);
  repo.collaborators.set("maintainer", "maintain");
  repo.collaborators.set("reader", "read");
  initial = gh.commit(REPO, { message: "site", files: { "README.md": "# site\n", "content/.gitkeep": "", "app/page.tsx": "export default 1;\n" } });
  gh.clearRequests();
});

// ---------------------------------------------------------------- fixtures

function frontMatter(series: string, episode: number, lang: EpisodeFrontMatter["lang"], runId: string): EpisodeFrontMatter {
  return episodeFrontMatter.parse({
    title: lang === "en" ? `Latency story ${episode}` : `Latenzgeschichte ${episode} (${lang})`,
    summary: "p95 latency rose by a fifth after the int8 kernel change.",
    series,
    episode,
    lang,
    date: created,
    run_id: runId,
    window: { from: "2026-11-13T12:00:00.000Z", to: created },
    commits: { hearts: ["a".repeat(40)], packs: [] },
    models: ["llama3-8b"],
    metrics: {
      latency_p95_ms: 120.5,
      tokens_per_sec: 41.2,
      cost_per_1k: 0.012,
      user_latency_ms: 310,
      error_rate: 0.01,
      abandonment_rate: 0.02,
      correlation: 0.82,
      confidence: { value: 0.8, completeness: 1, correlation: 0.82, recency: 1, volume: 0.8, limiting: "volume" },
      regressions: 1,
      improvements: 0,
      changes: [],
      days: 7,
      joined_days: 7,
      bench_rows: 120,
      events: 5000,
      sessions: 80,
    },
    daily: [],
    claims: [],
    writer: { kind: "offline" },
    ...(lang === "en" ? {} : { translation_of: episodeFilePathOf(series, episode, "en") }),
  });
}

const FACTS = JSON.stringify({
  events: [
    {
      event_id: EVENT_ID,
      kind: "regression",
      status: "open",
      commit_sha: "c".repeat(40),
      new: true,
      lead: { label: "quantization llama3-8b int8 p95 latency", change_pct: 21.4 },
    },
    { event_id: "fixed-one", kind: "regression", status: "fixed", commit_sha: "d".repeat(40), lead: { label: "fixed series", change_pct: 9 } },
  ],
  open_regressions: [{ label: "older open regression", commit_sha: "e".repeat(40), change_pct: 7.5, metric: "latency_p95_ms" }],
});

function row(series: string, episode: number, lang: EpisodeFrontMatter["lang"], runId: string, fields: Partial<EpisodeRow> = {}): EpisodeRow {
  const sections = SECTIONS.map((s) => ({ heading: lang === "en" ? s.heading : `${s.heading} (${lang})`, markdown: `Text of ${s.key} in ${lang}.` }));
  return episodeRow.parse({
    ts: created,
    updated_at: created,
    run_id: runId,
    series,
    episode_num: episode,
    lang,
    title: lang === "en" ? `Latency story ${episode}` : `Latenzgeschichte ${episode}`,
    summary: "p95 latency rose by a fifth after the int8 kernel change.",
    confidence_score: 0.8,
    correlation_strength: 0.82,
    tokens_total: 0,
    cost_total: 0,
    status: "publishable",
    file_path: lang === "en" ? episodeFilePathOf(series, episode, "en") : "",
    commit_sha: "",
    markdown: renderEpisode(frontMatter(series, episode, lang, runId), sections),
    facts: FACTS,
    claims: "[]",
    problems: [],
    writer: "{}",
    translation_of: lang === "en" ? "" : episodeFilePathOf(series, episode, "en"),
    ...fields,
  });
}

async function insert(...rows: EpisodeRow[]) {
  await t.db.insert("episodes", rows);
}

async function statuses(series: string, episode: number) {
  const rows = (await t.db.query(
    "SELECT lang, status, commit_sha, problems FROM episodes FINAL WHERE series = {s:String} AND episode_num = {n:UInt16} ORDER BY lang",
    { s: series, n: episode },
  )) as { lang: string; status: string; commit_sha: string; problems: string[] }[];
  return Object.fromEntries(rows.map((r) => [r.lang, r]));
}

const githubEnv = {
  GITHUB_TOKEN: FAKE_TOKEN,
  MUSE_CONTENT_REPO: REPO,
  MUSE_PUBLISH_MODE: "pull-request",
  MUSE_SITE_URL: SITE,
  GITHUB_WEBHOOK_SECRET: SECRET,
};

function githubRepo(env: Env): ContentRepo {
  return createContentRepo(env, { log: memoryLogger(), github: { baseUrl: gh.url, writeIntervalMs: 0, retryBaseMs: 5, rateLimitSecondMs: 5 } });
}

async function runPublish(vars: Record<string, string> = githubEnv, clock = fixedClock(NOW)): Promise<PublishSummary> {
  const deps = testDeps(t.db, { clock, envVars: { ...vars, GITHUB_API_URL: vars.GITHUB_TOKEN ? gh.url : "https://api.github.com" } });
  const result = await publish(
    publishOptions.parse({}),
    deps,
    { runId: randomUUID(), progress: () => {} },
    { translationsExpected: false, contentRepo: githubRepo },
  );
  return result.summary;
}

/** Octokit sends ref paths URL-encoded; compared decoded, without the repository prefix. */
const pathOf = (r: RecordedRequest) => decodeURIComponent(r.path).replace(`/repos/${REPO}`, "");
const writes = () => gh.requests.filter((r) => r.method !== "GET").map((r) => `${r.status} ${r.method} ${pathOf(r)}`);

function webhookDeps(): () => GitHubWebhookDeps {
  const env = parseEnv({ ...githubEnv, GITHUB_API_URL: gh.url });
  return () => ({ db: t.db, env, log: memoryLogger(), clock: { now: () => new Date("2026-11-21T09:00:00.000Z") }, contentRepo: githubRepo(env) });
}

async function deliver(event: string, body: unknown, delivery: string = randomUUID()) {
  const text = JSON.stringify(body);
  const response = await handleGitHubWebhook(
    new Request("http://localhost/api/webhooks/github", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery,
        "x-hub-signature-256": githubSignature(SECRET, text),
      },
      body: text,
    }),
    webhookDeps(),
  );
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const closedEvent = (number: number) => ({
  action: "closed",
  number,
  pull_request: gh.pullJson(REPO, number),
  repository: { full_name: REPO },
  sender: { login: "maintainer" },
});

const comment = (number: number, body: string, login = "maintainer", association = "MEMBER") => {
  const pull = gh.pullJson(REPO, number);
  return {
    action: "created",
    issue: { number, title: pull.title, body: pull.body, pull_request: { url: pull.url } },
    comment: { id: 77, body, author_association: association, user: { login } },
    repository: { full_name: REPO },
    sender: { login },
  };
};

// ---------------------------------------------------------------- naming

describe("review branches and markers", () => {
  it("name the episode deterministically and read it back", () => {
    expect(episodeBranch("chimera", 1)).toBe("muse/episode/chimera/ep-001");
    expect(episodeOfBranch("muse/episode/chimera/ep-001")).toEqual({ series: "chimera", episode: 1 });
    expect(episodeOfBranch("feature/ep-001")).toBeUndefined();
    expect(episodeOfBody("text\n<!-- muse-episode:banterpacks/ep-012 -->")).toEqual({ series: "banterpacks", episode: 12 });
    expect(parseEpisodeArg("chimera/ep-003")).toEqual({ series: "chimera", episode: 3 });
    expect(parseEpisodeArg("chimera/3")).toEqual({ series: "chimera", episode: 3 });
    expect(parseEpisodeArg("../x")).toBeUndefined();
    expect(parseReviewCommands("LGTM?\n> /muse reject quoted\n/muse reject the chart contradicts the text\n/muse ack\n/muse reject")).toEqual({
      rejects: ["the chart contradicts the text"],
      notes: ['"/muse ack" ignored: on an episode\'s pull request the command is /muse reject <why>', '"/muse reject" needs a reason: /muse reject <why>'],
    });
  });
});

// ---------------------------------------------------------------- GitHub

describe("pull-request publishing against the GitHub double", () => {
  it("opens one pull request per episode with its translations, on its own branch, and leaves main alone", async () => {
    const runId = randomUUID();
    await insert(row("chimera", 1, "en", runId), row("chimera", 1, "de", runId));
    const summary = await runPublish();
    expect(summary).toMatchObject({ mode: "github", publish_mode: "pull-request", published: [], failed: [], revalidation: "not_needed" });
    const branch = "muse/episode/chimera/ep-001";
    const head = gh.branchHead(REPO, branch)!;
    expect(summary.in_review).toEqual([
      {
        series: "chimera",
        episode: 1,
        langs: ["en", "de"],
        files: ["episodes/chimera/ep-001.md", "episodes/chimera/ep-001.de.md"],
        branch,
        commit: head,
        pull_request: 1,
        url: `https://github.com/${REPO}/pull/1`,
        opened: true,
      },
    ]);
    // main is untouched; the branch holds the files on top of it.
    expect(gh.branchHead(REPO)).toBe(initial);
    expect(gh.repo(REPO).store.commit(head)!.parents).toEqual([initial]);
    expect(gh.fileAt(REPO, head, "content/episodes/chimera/ep-001.de.md")?.toString("utf8")).toContain("Latenzgeschichte");

    // The real API shapes: the branch created by POST git/refs, the pull request looked up by owner:branch, then opened.
    expect(writes()).toEqual([
      "201 POST /git/blobs",
      "201 POST /git/blobs",
      "201 POST /git/trees",
      "201 POST /git/commits",
      "201 POST /git/refs",
      "201 POST /pulls",
    ]);
    const request = (method: string, p: string) => gh.requests.find((r) => r.method === method && pathOf(r) === p)!;
    expect(request("POST", "/git/refs").body).toEqual({ ref: `refs/heads/${branch}`, sha: head });
    expect(request("GET", "/pulls").query).toEqual({ head: `acme:${branch}`, state: "open" });
    const opened = request("POST", "/pulls").body as Record<string, string>;
    expect(Object.keys(opened).sort()).toEqual(["base", "body", "head", "title"]);
    expect(opened).toMatchObject({ head: branch, base: "main", title: "Publish chimera episode 001: Latency story 1" });

    // The body: title, summary, open events with their charts, links to the evidence, the hidden marker.
    const pulls = gh.pulls(REPO);
    expect(pulls).toHaveLength(1);
    const body = pulls[0].body;
    expect(body).toContain("## Latency story 1");
    expect(body).toContain("> p95 latency rose by a fifth after the int8 kernel change.");
    expect(body).toContain("languages: en, de");
    expect(body).toContain(
      `- Regression: quantization llama3-8b int8 p95 latency +21.4 % at \`ccccccc\` (open, new) · [chart](${SITE}/api/events/${EVENT_ID}/chart.svg)`,
    );
    expect(body).toContain("- Regression (known, still open): older open regression +7.5 % at `eeeeeee`");
    expect(body).not.toContain("fixed series");
    expect(body).toContain(`[Status page](${SITE}/en/status)`);
    expect(body).toContain(`${SITE}/en/episodes/chimera/ep-001`);
    expect(body).toContain("`/muse reject <why>`");
    expect(body.trimEnd().endsWith("<!-- muse-episode:chimera/ep-001 -->")).toBe(true);

    // The episode says "in review" until merged, and the review is recorded.
    expect(await statuses("chimera", 1)).toMatchObject({ en: { status: "in_review", commit_sha: head }, de: { status: "in_review", commit_sha: head } });
    expect(await t.db.query("SELECT count() AS n FROM deployments")).toEqual([{ n: 0 }]);
    expect(await reviewsOf(t.db, "chimera", 1)).toMatchObject([
      { pull_request: 1, branch, state: "pending_review", langs: ["en", "de"], head_sha: head, url: `https://github.com/${REPO}/pull/1`, source: "publisher" },
    ]);
  });

  it("updates the same pull request when a translation follows, and a retried publish neither commits nor opens again", async () => {
    const runId = randomUUID();
    await insert(row("chimera", 1, "en", runId), row("chimera", 1, "de", runId));
    await runPublish();
    const first = gh.branchHead(REPO, "muse/episode/chimera/ep-001")!;

    // A translation finished while the episode is in review joins the same pull request.
    await insert(row("chimera", 1, "zh", runId));
    gh.clearRequests();
    const later = await runPublish(githubEnv, fixedClock("2026-11-20T15:00:00.000Z"));
    const second = gh.branchHead(REPO, "muse/episode/chimera/ep-001")!;
    expect(later.in_review).toMatchObject([{ langs: ["zh"], pull_request: 1, opened: false, commit: second }]);
    expect(gh.repo(REPO).store.commit(second)!.parents).toEqual([first]);
    expect(writes()).toEqual([
      "201 POST /git/blobs",
      "201 POST /git/trees",
      "201 POST /git/commits",
      "200 PATCH /git/refs/heads/muse/episode/chimera/ep-001",
      "200 PATCH /pulls/1",
    ]);
    expect(gh.requests.find((r) => r.method === "PATCH" && pathOf(r) === "/pulls/1")!.body).toMatchObject({
      title: "Publish chimera episode 001: Latency story 1",
    });
    expect(gh.pulls(REPO)).toHaveLength(1);
    expect(gh.pulls(REPO)[0].body).toContain("languages: en, de, zh");
    expect(await reviewsOf(t.db, "chimera", 1)).toMatchObject([{ pull_request: 1, langs: ["en", "de", "zh"], head_sha: second, state: "pending_review" }]);
    expect(await statuses("chimera", 1)).toMatchObject({
      en: { status: "in_review" },
      de: { status: "in_review" },
      zh: { status: "in_review", commit_sha: second },
    });

    // A crash after the pull request but before the rows were marked: the retry finds the branch and the pull request.
    await insert(row("chimera", 1, "zh", runId, { updated_at: "2026-11-20T15:30:00.000Z" }));
    gh.clearRequests();
    const retried = await runPublish(githubEnv, fixedClock("2026-11-20T16:00:00.000Z"));
    expect(retried.in_review).toMatchObject([{ langs: ["zh"], pull_request: 1, opened: false, commit: second }]);
    expect(writes()).toEqual(["201 POST /git/blobs", "201 POST /git/trees"]); // no commit, no ref move, no pull request change
    expect(gh.pulls(REPO)).toHaveLength(1);
  });

  it("two instances publishing the same episode at once end with one branch commit and one pull request", async () => {
    const runId = randomUUID();
    await insert(row("banterpacks", 4, "en", runId), row("banterpacks", 4, "hi", runId));
    const branch = "muse/episode/banterpacks/ep-004";
    // The other instance runs its whole publish just before this one creates the branch, then just before it opens
    // the pull request: GitHub refuses the second branch ("Reference already exists") and the second pull request
    // ("A pull request already exists"), and each refusal becomes the other instance's branch and pull request.
    let other: PublishSummary | undefined;
    gh.beforeRequest(
      async () => {
        other = await runPublish();
      },
      { match: (r) => r.method === "POST" && r.path.endsWith("/git/refs") },
    );
    const mine = await runPublish();
    expect(other!.in_review).toMatchObject([{ pull_request: 1, opened: true }]);
    expect(mine.in_review).toMatchObject([{ pull_request: 1, opened: false, commit: other!.in_review[0].commit }]);
    expect(gh.requests.filter((r) => r.method === "POST" && r.path.endsWith("/git/refs")).map((r) => r.status)).toEqual([422, 201]);
    expect(gh.repo(REPO).store.walk(gh.branchHead(REPO, branch)!)).toHaveLength(2);

    // And racing on the pull request alone (the branch exists): the loser updates the winner's.
    await insert(row("banterpacks", 5, "en", randomUUID()));
    gh.clearRequests();
    gh.beforeRequest(
      async () => {
        other = await runPublish();
      },
      { match: (r) => r.method === "POST" && r.path.endsWith("/pulls") },
    );
    const again = await runPublish();
    expect(gh.requests.filter((r) => r.method === "POST" && r.path.endsWith("/pulls")).map((r) => r.status)).toEqual([422, 201]);
    expect(again.in_review).toMatchObject([{ series: "banterpacks", episode: 5, pull_request: 2, opened: false }]);
    expect(gh.pulls(REPO).map((p) => [p.number, p.head, p.state])).toEqual([
      [1, branch, "open"],
      [2, "muse/episode/banterpacks/ep-005", "open"],
    ]);
  });

  it("a merged pull request publishes the episode: rows, the merge's pending deployment, the review's record", async () => {
    const runId = randomUUID();
    await insert(row("chimera", 1, "en", runId), row("chimera", 1, "de", runId));
    await runPublish();
    const merge = gh.mergePull(REPO, 1, { by: "maintainer", date: new Date("2026-11-21T08:00:00.000Z") });
    expect(gh.fileAt(REPO, merge, "content/episodes/chimera/ep-001.md")).toBeDefined();

    const answer = await deliver("pull_request", closedEvent(1), "delivery-merge");
    expect(answer.status).toBe(202);
    expect(answer.json).toMatchObject({
      episode: "chimera/ep-001",
      duplicate: false,
      applied: [{ state: "published", actor: "maintainer", commit_sha: merge }],
    });
    expect(await statuses("chimera", 1)).toMatchObject({ en: { status: "published", commit_sha: merge }, de: { status: "published", commit_sha: merge } });
    // The Vercel webhook moves this row on when the merge deploys, as after a direct publish.
    expect(await t.db.query("SELECT commit_sha, status, toString(episode_run_id) AS episode_run_id FROM deployments FINAL")).toEqual([
      { commit_sha: merge, status: "pending", episode_run_id: runId },
    ]);
    expect(await reviewsOf(t.db, "chimera", 1)).toMatchObject([
      { pull_request: 1, state: "published", actor: "maintainer", commit_sha: merge, source: "github-webhook", decided_at: "2026-11-21T08:00:00.000Z" },
    ]);

    // Redelivered: nothing new.
    const again = await deliver("pull_request", closedEvent(1), "delivery-merge");
    expect(again).toMatchObject({ status: 200, json: { duplicate: true } });
    expect(await t.db.query("SELECT count() AS n FROM deployments FINAL")).toEqual([{ n: 1 }]);

    // A translation finished after the merge gets a review of its own (the published original is not reviewed again).
    await insert(row("chimera", 1, "zh", runId));
    const late = await runPublish(githubEnv, fixedClock("2026-11-21T10:00:00.000Z"));
    expect(late.in_review).toMatchObject([{ langs: ["zh"], pull_request: 2, opened: true }]);
    expect(gh.pulls(REPO)[1]).toMatchObject({ title: "Publish translations of chimera episode 001: Latency story 1", state: "open" });
    expect(await statuses("chimera", 1)).toMatchObject({ en: { status: "published" }, zh: { status: "in_review" } });
  });

  it("a row marked in review after the merge was not in it: it goes back to publishable", async () => {
    const runId = randomUUID();
    await insert(row("chimera", 2, "en", runId));
    await runPublish();
    gh.mergePull(REPO, 1, { by: "maintainer", date: new Date("2026-11-20T14:30:00.000Z") });
    // A translation pushed to the branch just after the merge (its in-review version is later than merged_at).
    await insert(row("chimera", 2, "de", runId, { status: "in_review", updated_at: "2026-11-20T14:31:00.000Z" }));
    expect((await deliver("pull_request", closedEvent(1))).status).toBe(202);
    expect(await statuses("chimera", 2)).toMatchObject({ en: { status: "published" }, de: { status: "publishable" } });
  });

  it("/muse reject <why> by someone with write access rejects the episode, records who and why, and closes the pull request", async () => {
    const runId = randomUUID();
    await insert(row("chimera", 3, "en", runId), row("chimera", 3, "de", runId));
    await runPublish();

    // Without write access: nothing happens.
    const reader = await deliver("issue_comment", comment(1, "/muse reject I do not like it", "reader", "CONTRIBUTOR"));
    expect(reader).toMatchObject({ status: 200, json: { applied: [] } });
    expect(String(reader.json.ignored)).toContain("has no write access");
    const collaboratorWithoutWrite = await deliver("issue_comment", comment(1, "/muse reject nope", "reader", "COLLABORATOR"));
    expect(String(collaboratorWithoutWrite.json.ignored)).toContain("collaborator permission");
    expect(gh.pulls(REPO)[0].state).toBe("open");

    gh.clearRequests();
    const answer = await deliver("issue_comment", comment(1, "Thanks.\n/muse reject the chart contradicts the second section"), "delivery-reject");
    expect(answer.status).toBe(202);
    expect(answer.json).toMatchObject({
      episode: "chimera/ep-003",
      applied: [{ state: "rejected", actor: "maintainer", reason: "the chart contradicts the second section" }],
    });
    // The permission asked of the content repository, then the pull request closed with PATCH pulls/{n}.
    expect(gh.requests.map((r) => `${r.method} ${pathOf(r)}`)).toEqual(["GET /collaborators/maintainer/permission", "PATCH /pulls/1"]);
    expect(gh.requests[1].body).toEqual({ state: "closed" });
    expect(gh.pulls(REPO)[0]).toMatchObject({ state: "closed", merged: false });
    expect(gh.branchHead(REPO)).toBe(initial);

    const rows = await statuses("chimera", 3);
    expect(rows).toMatchObject({ en: { status: "rejected", commit_sha: "" }, de: { status: "rejected" } });
    expect(rows.en.problems).toContain("rejected in review by maintainer: the chart contradicts the second section");
    expect(await reviewsOf(t.db, "chimera", 3)).toMatchObject([
      {
        pull_request: 1,
        state: "rejected",
        actor: "maintainer",
        reason: "the chart contradicts the second section",
        source: "github-comment",
        delivery_id: "delivery-reject",
        decided_at: "2026-11-21T09:00:00.000Z",
      },
    ]);

    // GitHub then sends pull_request closed for the close: already rejected, nothing new. A redelivered comment neither.
    expect((await deliver("pull_request", closedEvent(1))).json).toMatchObject({ duplicate: true });
    expect((await deliver("issue_comment", comment(1, "/muse reject the chart contradicts the second section"), "delivery-reject")).json).toMatchObject({
      duplicate: true,
    });
    // A rejected episode is never published again.
    const next = await runPublish();
    expect(next.in_review).toEqual([]);
    expect(gh.pulls(REPO)).toHaveLength(1);
  });

  it("a pull request closed by hand rejects the episode; a fork's branch of the same name decides nothing", async () => {
    await insert(row("chimera", 6, "en", randomUUID()));
    await runPublish();
    const forked = {
      ...closedEvent(1),
      pull_request: { ...gh.pullJson(REPO, 1), merged: true, head: { ...gh.pullJson(REPO, 1).head, repo: { full_name: "mallory/site" } } },
    };
    expect(String((await deliver("pull_request", forked)).json.ignored)).toContain("mallory/site");
    gh.closePull(REPO, 1);
    const answer = await deliver("pull_request", closedEvent(1));
    expect(answer.json).toMatchObject({ applied: [{ state: "rejected", reason: "pull request closed without merging" }] });
    expect(await statuses("chimera", 6)).toMatchObject({ en: { status: "rejected" } });
  });

  it("the default mode still commits to the content branch and opens no pull request", async () => {
    await insert(row("chimera", 1, "en", randomUUID()));
    const summary = await runPublish({ GITHUB_TOKEN: FAKE_TOKEN, MUSE_CONTENT_REPO: REPO, MUSE_SITE_URL: SITE });
    expect(summary).toMatchObject({ publish_mode: "commit", in_review: [], published: [{ series: "chimera", episode: 1, created: true }] });
    expect(gh.branchHead(REPO)).not.toBe(initial);
    expect(gh.requests.some((r) => pathOf(r).startsWith("/pulls"))).toBe(false);
    expect(await statuses("chimera", 1)).toMatchObject({ en: { status: "published" } });
  });
});

// ---------------------------------------------------------------- local

describe("pull-request mode on a local content repository (real git)", () => {
  const ENV_KEYS = ["CLICKHOUSE_URL", "CLICKHOUSE_DATABASE", "MUSE_CONTENT_DIR", "MUSE_PUBLISH_MODE", "MUSE_ADMIN_TOKEN", "GITHUB_TOKEN", "MUSE_CONTENT_REPO"];
  let saved: Record<string, string | undefined>;
  let dir = "";
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: dir, encoding: "utf8", env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } }).trim();

  beforeAll(() => {
    saved = saveEnv(ENV_KEYS);
  });
  afterAll(async () => {
    await setEnv(saved);
  });
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "muse-review-local-"));
    temps.push(dir);
    git("init", "--quiet", "--initial-branch=main");
    writeFileSync(path.join(dir, "README.md"), "# content\n");
    git("add", "README.md");
    git("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "initial");
    await setEnv({
      CLICKHOUSE_URL: t.config.url,
      CLICKHOUSE_DATABASE: t.config.database,
      MUSE_CONTENT_DIR: dir,
      MUSE_PUBLISH_MODE: "pull-request",
      MUSE_ADMIN_TOKEN: undefined,
      GITHUB_TOKEN: undefined,
      MUSE_CONTENT_REPO: undefined,
    });
  });

  const localPublish = (clock = fixedClock(NOW)) =>
    publish(publishOptions.parse({}), testDeps(t.db, { clock, envVars: { MUSE_CONTENT_DIR: dir, MUSE_PUBLISH_MODE: "pull-request", MUSE_SITE_URL: SITE } }), {
      runId: randomUUID(),
      progress: () => {},
    }).then((r) => r.summary);

  it("commits to the episode's branch, not the checked-out one; `muse review merge` publishes it", async () => {
    const main = git("rev-parse", "HEAD");
    const runId = randomUUID();
    await insert(row("chimera", 1, "en", runId));
    const first = await localPublish();
    const branch = "muse/episode/chimera/ep-001";
    expect(first).toMatchObject({
      mode: "local",
      published: [],
      in_review: [{ branch, pull_request: 0, opened: true, url: `${git("rev-parse", "--show-toplevel")}#${branch}` }],
    });
    expect(git("rev-parse", "HEAD")).toBe(main);
    expect(git("ls-tree", "-r", "--name-only", branch).split("\n")).toEqual(["README.md", "episodes/chimera/ep-001.md"]);
    expect(existsSync(path.join(dir, "episodes"))).toBe(false);
    expect(git("status", "--porcelain")).toBe("");

    // The translation joins the same branch (the same review).
    await insert(row("chimera", 1, "de", runId));
    const second = await localPublish(fixedClock("2026-11-20T15:00:00.000Z"));
    expect(second.in_review).toMatchObject([{ langs: ["de"], pull_request: 0, opened: false }]);
    expect(git("rev-list", "--count", branch)).toBe("3");
    expect(await reviewsOf(t.db, "chimera", 1)).toMatchObject([{ pull_request: 0, state: "pending_review", langs: ["en", "de"] }]);
    expect(await statuses("chimera", 1)).toMatchObject({ en: { status: "in_review" }, de: { status: "in_review" } });

    const merged = await cli(["review", "merge", "chimera/ep-001", "--actor", "local-reviewer"]);
    expect(merged.code, merged.output).toBe(0);
    expect(merged.output).toContain("chimera/ep-001 merged by local-reviewer and published");
    const head = git("rev-parse", "HEAD");
    expect(git("rev-parse", "HEAD^")).toBe(main);
    expect(git("show", "--name-only", "--format=%s", "HEAD").split("\n").filter(Boolean)).toEqual([
      `Merge ${branch}: Latency story 1`,
      "episodes/chimera/ep-001.de.md",
      "episodes/chimera/ep-001.md",
    ]);
    expect(existsSync(path.join(dir, "episodes/chimera/ep-001.de.md"))).toBe(true);
    expect(git("status", "--porcelain")).toBe("");
    expect(git("branch", "--list", branch)).toBe("");
    expect(await statuses("chimera", 1)).toMatchObject({ en: { status: "published", commit_sha: head }, de: { status: "published", commit_sha: head } });
    expect(await t.db.query("SELECT commit_sha, status FROM deployments FINAL")).toEqual([{ commit_sha: head, status: "pending" }]);
    expect(await reviewsOf(t.db, "chimera", 1)).toMatchObject([{ state: "published", actor: "local-reviewer", source: "cli", commit_sha: head }]);
  });

  it("`muse review reject <episode> --why …` rejects it and deletes the branch; the content branch never sees it", async () => {
    const main = git("rev-parse", "HEAD");
    await insert(row("chimera", 2, "en", randomUUID()));
    await localPublish();
    expect((await cli(["review", "reject", "chimera/ep-002"])).code).toBe(2); // the reason is required

    const rejected = await cli(["review", "reject", "chimera/ep-002", "--why", "wrong baseline", "--actor", "local-reviewer"]);
    expect(rejected.code, rejected.output).toBe(0);
    expect(rejected.output).toContain("chimera/ep-002 rejected by local-reviewer: wrong baseline (branch muse/episode/chimera/ep-002 deleted)");
    expect(git("rev-parse", "HEAD")).toBe(main);
    expect(git("branch", "--list", "muse/*")).toBe("");
    expect(await statuses("chimera", 2)).toMatchObject({ en: { status: "rejected" } });
    expect(await reviewsOf(t.db, "chimera", 2)).toMatchObject([{ state: "rejected", actor: "local-reviewer", reason: "wrong baseline", source: "cli" }]);

    // Merging a rejected episode is refused; the list shows the decision.
    expect((await cli(["review", "merge", "chimera/ep-002"])).code).toBe(1);
    const listed = await cli(["review", "list", "--json"]);
    expect(JSON.parse(listed.output)).toMatchObject([{ series: "chimera", episode_num: 2, state: "rejected", reason: "wrong baseline" }]);
  });
});
