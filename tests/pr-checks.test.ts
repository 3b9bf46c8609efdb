import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { v5 as uuidv5 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { dailyHearts, dataVolume } from "../lib/analysis/queries";
import { loadSeries } from "../lib/analysis/series";
import { bisectionRuns } from "../lib/bisection/advance";
import { parseEnv } from "../lib/env";
import { benchIngest, readBenchRequest } from "../lib/http/ingest-bench";
import { handleIngest } from "../lib/http/ingest-route";
import { serverContext } from "../lib/server-context";
import { validateReports } from "../lib/ingest/reports/ingest";
import { benchEventRow } from "../lib/lifecycle/events";
import { createLogger } from "../lib/log";
import { judge, runPrCheck, welchTest, type PrGitHubClient } from "../lib/pull-requests";
import { loadPrCheck, createPrGitHubClient, COMMENT_MARKER, CHECK_NAME, STATUS_CONTEXT } from "../lib/pull-requests/report";
import { createGitHubRepo, createLocalGitRepo } from "../lib/upstream";
import { FAKE_TOKEN } from "./helpers/fake-github";
import { git } from "./helpers/git";
import { FakeGitHubChecks, INSTALLATION_TOKEN } from "./helpers/fake-github-checks";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * Pull-request checks against the merge base (docs/reach.md "Pull requests"), against a local double of GitHub
 * that checks the real request shapes (App JWT → installation token, check runs only for the App, commit statuses,
 * issue comments, the compare API's merge_base_commit):
 *
 * main's p95 latency of one configuration is ~100 ms up to the merge base m5 and ~130 ms after it (a regression
 * that landed on main after the branch point, m7's clock skewed into the past so that only the commit graph
 * keeps it out of the baseline). A head at ~120 ms is a regression against the merge base (it would look like an
 * improvement against main's tip); a head at ~100 ms is clean.
 */

const NS = "0f5b7a52-7d0c-4a8e-9a4f-2b1c3d4e5f60";
const id = (name: string) => uuidv5(name, NS);
const sha = (name: string) => uuidv5(name, NS).replace(/-/g, "").padEnd(40, "0").slice(0, 40);
const REPO = "banter/banterhearts";
const T0 = Date.parse("2026-11-01T00:00:00.000Z");
const day = (d: number, minutes = 0) => new Date(T0 + d * 86_400_000 + minutes * 60_000).toISOString();
const NOISE = [-1, 0.5, 1, -0.5, 0, 0.8, -0.8, 0.3, -0.3, 0.6];

const CONFIG_A = { benchmark_type: "quantization", model: "llama-3.1-8b", quant: "q4_k_m", variant: "q4_k_m", dataset: "wikitext-2", device: "cuda" };
const CONFIG_B = { benchmark_type: "quantization", model: "llama-3.1-8b", quant: "int8", variant: "int8", dataset: "wikitext-2", device: "cuda" };

const main = Array.from({ length: 10 }, (_, i) => sha(`m${i}`));
const MERGE_BASE = main[5];

let runCounter = 0;
function run(config: typeof CONFIG_A, commit: string, ts: string, p95: number, options: { pr?: number; request_id?: string; tps?: number } = {}) {
  const k = runCounter++;
  const noise = NOISE[k % NOISE.length];
  return {
    ts,
    run_id: id(`run-${k}`),
    commit_sha: commit,
    ...config,
    latency_mean_ms: p95 * 0.8 * (1 + 0.01 * noise),
    latency_p50_ms: null,
    latency_p95_ms: p95 * (1 + 0.01 * noise),
    latency_p99_ms: null,
    tokens_per_sec: (options.tps ?? 50) * (1 - 0.01 * noise),
    cost_per_1k: null,
    memory_peak_mb: null,
    extra: "{}",
    source_path: "",
    request_id: options.request_id ?? "",
    pull_request: options.pr ?? 0,
  };
}

const env = (overrides: Record<string, string> = {}) => parseEnv({ MUSE_LOG_LEVEL: "error", ...overrides });
const log = createLogger({ level: "error" });

let t: TestDatabase;
let gh: FakeGitHubChecks;
let privateKey: string;

const appClient = (): PrGitHubClient =>
  createPrGitHubClient({ repo: REPO, app: { appId: "4242", privateKey, installationId: "77" }, baseUrl: gh.url, retries: 0, writeIntervalMs: 0, log });
const tokenClient = (): PrGitHubClient => createPrGitHubClient({ repo: REPO, token: FAKE_TOKEN, baseUrl: gh.url, retries: 0, writeIntervalMs: 0, log });

/** Runs of a pull request's head: config A at `p95`, config B unchanged. */
async function headRuns(pr: number, head: string, p95: number, n: number, at = 20) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    rows.push(run(CONFIG_A, head, day(at, i), p95, { pr }));
    rows.push(run(CONFIG_B, head, day(at, i), 200, { pr }));
  }
  await t.db.insert("bench_runs", rows);
}

beforeAll(async () => {
  t = await createTestDatabase();
  const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  privateKey = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  gh = await FakeGitHubChecks.start({
    repo: REPO,
    pat: FAKE_TOKEN,
    app: { id: "4242", installationId: "77", publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }).toString() },
  });

  // main: m0 … m9, linear; m7's clock runs behind (its time is before m5's).
  await t.db.insert(
    "upstream_commits",
    main.map((s, i) => ({
      repo: "banterhearts",
      sha: s,
      ts: i === 7 ? day(4, 30) : day(i),
      author: "dev",
      message: `commit ${i}`,
      parents: i === 0 ? [] : [main[i - 1]],
      files: ["src/engine.py"],
      files_changed: 1,
      additions: 1,
      deletions: 1,
    })),
  );
  const rows = [];
  for (let i = 0; i < 10; i++) {
    const level = i <= 5 ? 100 : 130;
    for (let r = 0; r < 3; r++) {
      rows.push(run(CONFIG_A, main[i], day(i, 60 + r), level));
      rows.push(run(CONFIG_B, main[i], day(i, 60 + r), 200));
    }
  }
  await t.db.insert("bench_runs", rows);
  for (const pr of [7, 8, 9, 10, 11, 12, 13, 14]) gh.pullRequests.add(pr);
});

afterAll(async () => {
  await gh?.close();
  await t?.drop();
});

describe("statistics", () => {
  it("Welch's t-test and the verdict rule", () => {
    const base = [100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.1];
    const w = welchTest(base, [120, 121, 119, 120.5]);
    expect(w.p).toBeLessThan(1e-6);
    expect(w.ci[0]).toBeGreaterThan(18);
    expect(w.ci[1]).toBeLessThan(22);
    expect(welchTest(base, [100, 100.4, 99.6]).p).toBeGreaterThan(0.05);

    const key = { ...CONFIG_A, metric: "latency_p95_ms" as const };
    expect(judge([{ key, base, head: [120, 121, 119] }]).conclusion).toBe("failure");
    // Significant but under MUSE_PR_FAIL_PCT (5 %): not a failure.
    expect(judge([{ key, base, head: [102, 102.1, 101.9, 102] }]).series[0].verdict).toBe("unchanged");
    expect(judge([{ key, base, head: [120, 121] }]).conclusion).toBe("neutral");
    // Higher throughput is better: +20 % tokens/s is an improvement.
    expect(judge([{ key: { ...key, metric: "tokens_per_sec" }, base, head: [120, 121, 119] }]).series[0].verdict).toBe("improved");
  });
});

describe("pull-request checks as a GitHub App", () => {
  const HEAD_BAD = sha("pr7-head");
  const HEAD_CLEAN = sha("pr8-head");
  const HEAD_FEW = sha("pr9-head");

  it("fails on a regression against the merge base (not main's tip), with one check run and one comment", async () => {
    gh.mergeBases.set(HEAD_BAD, MERGE_BASE);
    await headRuns(7, HEAD_BAD, 120, 4);
    const before = gh.requests.length;
    const { comparison, outcome } = await runPrCheck(
      { db: t.db, env: env(), log, now: new Date(day(21)), github: appClient() },
      { pullRequest: 7, headSha: HEAD_BAD },
    );

    expect(comparison.merge_base_sha).toBe(MERGE_BASE);
    expect(comparison.baseline_method).toBe("graph");
    expect(comparison.conclusion).toBe("failure");
    const p95 = comparison.series.find((s) => s.key.quant === "q4_k_m" && s.key.metric === "latency_p95_ms")!;
    expect(p95.verdict).toBe("regressed");
    expect(p95.n_base).toBe(10);
    expect(p95.mean_base).toBeCloseTo(100, 0); // m7 (130, clock in the past) is not at or before the merge base
    expect(p95.change_pct).toBeGreaterThan(18);
    expect(comparison.series.filter((s) => s.key.quant === "int8").every((s) => s.verdict === "unchanged")).toBe(true);

    // The App's JWT was exchanged for an installation token, which made the check run.
    const token = gh.requests.slice(before).find((r) => r.path === "/app/installations/77/access_tokens")!;
    expect(token.method).toBe("POST");
    expect(token.headers.authorization).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/i);
    const create = gh.requests.slice(before).find((r) => r.method === "POST" && r.path === `/repos/${REPO}/check-runs`)!;
    expect(create.headers.authorization).toBe(`token ${INSTALLATION_TOKEN}`);
    expect(create.body).toMatchObject({ name: CHECK_NAME, head_sha: HEAD_BAD, status: "completed", conclusion: "failure" });
    expect(gh.checkRuns).toHaveLength(1);
    // p95 and mean latency of q4_k_m regressed; the title leads with the larger.
    expect(gh.checkRuns[0].output.title).toMatch(/^2 regressions: quantization llama-3\.1-8b q4_k_m \(wikitext-2, cuda\) · /);
    expect(gh.checkRuns[0].output.text).toMatch(/\| series \| base mean \| head mean \| change \| 95 % interval \| q \|/);

    expect(gh.comments.filter((c) => c.issue === 7)).toHaveLength(1);
    const comment = gh.comments.find((c) => c.issue === 7)!;
    expect(comment.body.startsWith(COMMENT_MARKER)).toBe(true);
    expect(comment.body).toMatch(
      /\| 🔴 quantization llama-3\.1-8b q4_k_m \(wikitext-2, cuda\) · p95 latency \| 99\.\d+ \| 119\.\d+ \| \+20\.0 % \| \+1\d\.\d % … \+2\d\.\d % \| < 0\.0001 \|/,
    );
    expect(outcome).toMatchObject({ check: "created", comment: "created" });

    const stored = await loadPrCheck(t.db, { repo: REPO, pull_request: 7, head_sha: HEAD_BAD });
    expect(stored).toMatchObject({ conclusion: "failure", check_id: gh.checkRuns[0].id, comment_id: comment.id, posted: true, merge_base_sha: MERGE_BASE });
  });

  it("updates the same check run and comment on a rerun, never duplicating them", async () => {
    await headRuns(7, HEAD_BAD, 121, 2, 22);
    const before = gh.requests.length;
    const { outcome } = await runPrCheck({ db: t.db, env: env(), log, now: new Date(day(23)), github: appClient() }, { pullRequest: 7, headSha: HEAD_BAD });
    expect(outcome).toMatchObject({ check: "updated", comment: "updated" });
    expect(gh.checkRuns).toHaveLength(1);
    expect(gh.comments.filter((c) => c.issue === 7)).toHaveLength(1);
    const writes = gh.writes(before).map((r) => `${r.method} ${r.path}`);
    expect(writes).toContain(`PATCH /repos/${REPO}/check-runs/${gh.checkRuns[0].id}`);
    expect(writes).toContain(`PATCH /repos/${REPO}/issues/comments/${gh.comments.find((c) => c.issue === 7)!.id}`);
    expect(writes.filter((w) => w.startsWith("POST /repos"))).toEqual([]);
    expect(gh.requests.slice(before).find((r) => r.method === "PATCH" && r.path.includes("check-runs"))!.body).toMatchObject({
      status: "completed",
      conclusion: "failure",
    });
    expect(gh.comments.find((c) => c.issue === 7)!.body).toMatch(/6 head|Head [0-9a-f]{40}/);

    // A second instance that lost pr_checks' row still finds its check by name and its comment by the marker.
    await t.db.command("TRUNCATE TABLE pr_checks");
    const again = await runPrCheck({ db: t.db, env: env(), log, now: new Date(day(24)), github: appClient() }, { pullRequest: 7, headSha: HEAD_BAD });
    expect(again.outcome.check).toBe("updated");
    expect(gh.checkRuns).toHaveLength(1);
    expect(gh.comments.filter((c) => c.issue === 7)).toHaveLength(1);
  });

  it("two instances checking one head at once post one check run and one comment (a lease per pull request)", async () => {
    const head = sha("pr13-head");
    gh.mergeBases.set(head, MERGE_BASE);
    await headRuns(13, head, 120, 4);
    const slept: number[] = [];
    const runs: Promise<unknown>[] = [];
    // The waiting instance's "sleep" lasts until the other instance is done (no wall clock in the test).
    const sleep = async (ms: number) => {
      slept.push(ms);
      await Promise.race(runs.map((r) => r.catch(() => undefined)));
    };
    const deps = (instance: number) => ({ db: t.db, env: env(), log, now: new Date(day(21, instance)), github: appClient(), sleep });
    const checksBefore = gh.checkRuns.length;
    runs.push(runPrCheck(deps(1), { pullRequest: 13, headSha: head }), runPrCheck(deps(2), { pullRequest: 13, headSha: head }));
    const [a, b] = (await Promise.all(runs)) as Awaited<ReturnType<typeof runPrCheck>>[];
    expect(gh.checkRuns.length - checksBefore).toBe(1);
    expect(gh.comments.filter((c) => c.issue === 13)).toHaveLength(1);
    // One created them; the other waited for its lease, then updated (or found them unchanged).
    expect([a.outcome.check, b.outcome.check].sort()).toEqual(["created", "updated"]);
    expect(slept.length).toBeGreaterThan(0);
  });

  it("gives up with a clear error while another instance holds the pull request's lease", async () => {
    const head = sha("pr14-head");
    gh.mergeBases.set(head, MERGE_BASE);
    await headRuns(14, head, 120, 4);
    const { acquireAgentLock, releaseAgentLock } = await import("../lib/agents/lock");
    const holder = uuidv5("pr14-holder", uuidv5.URL);
    // The lease is named after BANTERHEARTS_REPO (unset here) and the pull request.
    expect(await acquireAgentLock(t.db, "pr-check:#14", holder, 600)).toEqual({ acquired: true });
    const slept: number[] = [];
    const sleep = async (ms: number) => void slept.push(ms);
    const e = env();
    await expect(runPrCheck({ db: t.db, env: e, log, now: new Date(day(21)), github: appClient(), sleep }, { pullRequest: 14, headSha: head })).rejects.toThrow(
      /another instance has been checking pull request #14/,
    );
    expect(slept).toEqual([1_000, 2_000, 4_000, 8_000, 15_000, 30_000]);
    expect(gh.comments.filter((c) => c.issue === 14)).toHaveLength(0);
    await releaseAgentLock(t.db, "pr-check:#14", holder);
    await runPrCheck({ db: t.db, env: e, log, now: new Date(day(21)), github: appClient(), sleep }, { pullRequest: 14, headSha: head });
    expect(gh.comments.filter((c) => c.issue === 14)).toHaveLength(1);
  });

  it("succeeds on a clean head", async () => {
    gh.mergeBases.set(HEAD_CLEAN, MERGE_BASE);
    await headRuns(8, HEAD_CLEAN, 100, 4);
    const { comparison } = await runPrCheck(
      { db: t.db, env: env(), log, now: new Date(day(21)), github: appClient() },
      { pullRequest: 8, headSha: HEAD_CLEAN },
    );
    expect(comparison.conclusion).toBe("success");
    // Against main's tip (130 ms) it would have "improved"; against the merge base nothing moved.
    expect(comparison.series.every((s) => s.verdict === "unchanged")).toBe(true);
    const check = gh.checkRuns.find((c) => c.head_sha === HEAD_CLEAN)!;
    expect(check.conclusion).toBe("success");
    expect(gh.comments.find((c) => c.issue === 8)!.body).toMatch(/No series moved/);
  });

  it("is neutral with too few runs at the head", async () => {
    gh.mergeBases.set(HEAD_FEW, MERGE_BASE);
    await headRuns(9, HEAD_FEW, 100, 2);
    const { comparison } = await runPrCheck({ db: t.db, env: env(), log, now: new Date(day(21)), github: appClient() }, { pullRequest: 9, headSha: HEAD_FEW });
    expect(comparison.conclusion).toBe("neutral");
    expect(comparison.series.every((s) => s.verdict === "too_few_runs")).toBe(true);
    const check = gh.checkRuns.find((c) => c.head_sha === HEAD_FEW)!;
    expect(check.conclusion).toBe("neutral");
    expect(check.output.title).toMatch(/Too few runs/);
  });
});

describe("pull-request checks with a token", () => {
  it("sets a commit status instead of a check run (only Apps may create check runs)", async () => {
    const head = sha("pr10-head");
    gh.mergeBases.set(head, MERGE_BASE);
    await headRuns(10, head, 120, 4);
    const checks = gh.checkRuns.length;
    const { comparison, outcome } = await runPrCheck(
      { db: t.db, env: env(), log, now: new Date(day(21)), github: tokenClient() },
      { pullRequest: 10, headSha: head },
    );
    expect(comparison.conclusion).toBe("failure");
    expect(outcome.check).toBe("status");
    expect(gh.checkRuns).toHaveLength(checks);
    const status = gh.statuses.find((s) => s.sha === head)!;
    expect(status).toMatchObject({ state: "failure", context: STATUS_CONTEXT });
    expect(status.description.length).toBeLessThanOrEqual(140);
    expect(gh.comments.filter((c) => c.issue === 10)).toHaveLength(1);

    // Neutral → state success, description "neutral: …".
    const few = sha("pr11-head");
    gh.mergeBases.set(few, MERGE_BASE);
    await headRuns(11, few, 100, 2);
    await runPrCheck({ db: t.db, env: env(), log, now: new Date(day(21)), github: tokenClient() }, { pullRequest: 11, headSha: few });
    expect(gh.statuses.find((s) => s.sha === few)).toMatchObject({
      state: "success",
      context: STATUS_CONTEXT,
      description: expect.stringMatching(/^neutral: Too few runs/),
    });

    // The token cannot create a check run: GitHub says so.
    await expect(tokenClient().createCheck(head, "success", { title: "t", summary: "s", text: "" })).rejects.toMatchObject({ status: 403 });
  });

  it("without GitHub configured computes and stores the verdict, posting nothing", async () => {
    const head = sha("pr12-head");
    await headRuns(12, head, 120, 4);
    const before = gh.requests.length;
    const { comparison, outcome } = await runPrCheck(
      { db: t.db, env: env(), log, now: new Date(day(21)), mergeBase: async () => MERGE_BASE },
      { pullRequest: 12, headSha: head },
    );
    expect(comparison.conclusion).toBe("failure");
    expect(outcome).toMatchObject({ check: "skipped", comment: "skipped" });
    expect(gh.requests.length).toBe(before);
    expect(await loadPrCheck(t.db, { repo: "", pull_request: 12, head_sha: head })).toMatchObject({ conclusion: "failure", posted: false, check_id: 0 });
  });
});

describe("pull-request runs stay out of main", () => {
  it("are absent from main's series and from bisection", async () => {
    const series = await loadSeries(t.db, { from: new Date(day(-1)), to: new Date(day(40)) });
    const p95 = series.find((s) => s.key.quant === "q4_k_m" && s.key.metric === "latency_p95_ms")!;
    expect(p95.points).toHaveLength(30);
    expect(p95.points.every((p) => main.includes(p.commit_sha))).toBe(true);

    // A pull request's run that carries a bisection request id is not an answer to it.
    await t.db.insert("bench_runs", [
      run(CONFIG_A, main[6], day(30), 130, { request_id: "req-1" }),
      run(CONFIG_A, sha("pr7-head"), day(30, 1), 500, { request_id: "req-1", pr: 7 }),
    ]);
    const event = benchEventRow.parse({
      event_id: id("event"),
      first_detected_at: day(10),
      updated_at: day(10),
      run_id: id("council"),
      kind: "regression",
      state: "open",
      range_from_sha: main[5],
      range_to_sha: main[9],
      range_method: "graph",
      code_commits: main.slice(6),
      commit_ts: day(6),
      blamed_sha: "",
      bisection_status: "bisecting",
      bisection_steps: 0,
      bisection_steps_left: 2,
      bisection_extra_runs: 0,
      bisection_note: "",
      ...CONFIG_A,
      metric: "latency_p95_ms",
      label: "quantization llama-3.1-8b q4_k_m (wikitext-2, cuda)",
      change_pct: 30,
      ci_low_pct: 25,
      ci_high_pct: 35,
      q_value: 0.0001,
      mean_before: 100,
      mean_after: 130,
      stdev_before: 1,
      stdev_after: 1,
      n_before: 10,
      n_after: 10,
      series_changed: 1,
      fixed_by_event_id: "",
      fixed_by_sha: "",
      recovered_pct: null,
      recovered_ci_low: null,
      recovered_ci_high: null,
      returns_of: "",
    });
    const runs = await bisectionRuns(t.db, event, ["req-1"]);
    expect(runs.map((r) => r.commit_sha)).toEqual([main[6]]);
  });
});

describe("pull-request runs stay out of the episode's days", () => {
  it("are left out of the daily aggregates and the window's volume", async () => {
    const window = { from: new Date(day(-1)), to: new Date(day(40)) };
    const volume = await dataVolume(t.db, window);
    expect(volume.hearts_commits.length).toBeGreaterThan(0);
    expect(volume.hearts_commits.every((c) => main.includes(c))).toBe(true);
    const [{ total, mainOnly }] = await t.db.query(
      "SELECT count() AS total, countIf(pull_request = 0) AS mainOnly FROM bench_runs FINAL WHERE benchmark_type = 'quantization'",
      {},
      z.object({ total: z.coerce.number(), mainOnly: z.coerce.number() }),
    );
    expect(total).toBeGreaterThan(mainOnly);
    const days = await dailyHearts(t.db, window);
    expect(days.reduce((sum, d) => sum + d.bench_rows, 0)).toBe(mainOnly);
    expect(volume.bench_rows).toBe(mainOnly);
  });
});

describe("the merge base", () => {
  it("is git merge-base with the branch in a local checkout, and the compare API's merge_base_commit on GitHub", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "muse-pr-"));
    try {
      const who = { GIT_AUTHOR_NAME: "dev", GIT_AUTHOR_EMAIL: "dev@example.org", GIT_COMMITTER_NAME: "dev", GIT_COMMITTER_EMAIL: "dev@example.org" };
      git(dir, ["init", "-q", "-b", "main"]);
      const commit = (message: string) => {
        git(dir, ["commit", "-q", "--allow-empty", "-m", message], who);
        return git(dir, ["rev-parse", "HEAD"]);
      };
      commit("one");
      const base = commit("two");
      git(dir, ["checkout", "-q", "-b", "feature"]);
      const head = commit("feature work");
      git(dir, ["checkout", "-q", "main"]);
      commit("main moves on");
      const repo = createLocalGitRepo("banterhearts", dir);
      expect(await repo.mergeBase!(head)).toBe(base);
      expect(await repo.mergeBase!("f".repeat(40))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const head = sha("gh-head");
    gh.mergeBases.set(head, MERGE_BASE);
    const hub = createGitHubRepo("banterhearts", `${REPO}@main`, { token: FAKE_TOKEN, baseUrl: gh.url, retries: 0 });
    expect(await hub.mergeBase!(head)).toBe(MERGE_BASE);
    expect(await hub.mergeBase!(sha("unknown"))).toBeUndefined();
    expect(await appClient().mergeBase(head)).toBe(MERGE_BASE);
  });
});

describe("the ingest contract", () => {
  const report = {
    ...(JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "reports", "compilation.json"), "utf8")) as object),
    commit_sha: undefined,
  };
  const post = (body: unknown, headers: Record<string, string>) =>
    readBenchRequest(
      new Request("http://muse.test/api/ingest/bench", {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body: JSON.stringify(body),
      }),
    );

  it("takes X-Muse-Pull-Request or a report's pull_request, refusing a malformed or disagreeing one", async () => {
    for (const bad of ["abc", "0", "-3", "1.5", "99999999999"]) {
      const res = await post(report, { "X-Muse-Pull-Request": bad });
      expect(res).toMatchObject({ ok: false, status: 400, error: expect.stringContaining("X-Muse-Pull-Request") });
    }
    const mismatch = await post({ ...report, pull_request: 8 }, { "X-Muse-Pull-Request": "7" });
    expect(mismatch).toMatchObject({ ok: false, status: 400, reason: "pull_request_mismatch" });
    const ok = await post(report, { "X-Muse-Pull-Request": "7" });
    expect(ok.ok && ok.inputs[0].pullRequest).toBe(7);

    const sha40 = "a".repeat(40);
    const fromField = validateReports([{ report: { ...report, pull_request: 7 }, commitSha: sha40 }], {});
    const fromHeader = validateReports([{ report, commitSha: sha40, pullRequest: 7 }], {});
    const invalid = validateReports([{ report: { ...report, pull_request: 0 }, commitSha: sha40 }]);
    expect(invalid.ok).toBe(false);
    if (!fromField.ok || !fromHeader.ok) throw new Error("expected valid reports");
    expect(fromField.reports[0].pull_request).toBe(7);
    expect(fromField.reports[0].bench_runs.every((r) => r.pull_request === 7)).toBe(true);
    // Header or field: the same run id.
    expect(fromHeader.reports[0].run_id).toBe(fromField.reports[0].run_id);
  });

  it("stores the pull request on every row and checks the head after the answer (stored only without GitHub)", async () => {
    const token = "ingest-token-0123456789abcdef";
    const head = "b".repeat(40);
    const context = serverContext({
      env: env({ MUSE_INGEST_TOKEN: token, BANTERHEARTS_DIR: path.join(os.tmpdir(), "muse-pr-no-such-checkout") }),
      db: t.db,
      log,
    });
    const res = await handleIngest(
      new Request("http://muse.test/api/ingest/bench", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "X-Commit-Sha": head, "X-Muse-Pull-Request": "12345" },
        body: JSON.stringify({ ...report, generated_at: "2026-11-20T10:00:00" }),
      }),
      benchIngest,
      () => context,
    );
    expect(res.status).toBe(202);
    const rows = await t.db.query<{ pull_request: number }>("SELECT pull_request FROM bench_runs FINAL WHERE commit_sha = {head:String}", { head });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => Number(r.pull_request) === 12345)).toBe(true);
    // The check runs after the answer: wait for its row.
    let stored;
    for (let i = 0; i < 100 && !stored; i++) {
      stored = await loadPrCheck(t.db, { repo: "", pull_request: 12345, head_sha: head });
      if (!stored) await new Promise((r) => setTimeout(r, 100));
    }
    expect(stored).toMatchObject({ posted: false, pull_request: 12345, head_sha: head });
  });
});
