import { v5 as uuidv5 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { benchEventRow, type BenchEventRow } from "../lib/lifecycle/events";
import { createIssueClient, eventMarker, issueView, looksLikeLogin, syncRegressionIssues, type IssueClient } from "../lib/reach/github-issues";
import { loadEventIssues } from "../lib/reach/store";
import { FAKE_TOKEN } from "./helpers/fake-github";
import { FakeGitHubIssues } from "./helpers/fake-github-issues";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * One GitHub issue per regression event, against a local double of GitHub's Issues API that checks the real
 * request shapes: three council runs and two instances (two client objects, one database) leave one issue per event,
 * edit its body when bisection narrows it, comment and close it when it is fixed, and keep its labels in step.
 */

const NS = "5d1e0c4b-8a2f-4e61-9b7d-3c2a1f0e9d8c";
const id = (name: string) => uuidv5(name, NS);
const sha = (c: string) => c.repeat(40);
const REPO = "banter/banterhearts";
const SITE = "https://muse.example.org";
const T0 = new Date("2026-11-20T10:00:00.000Z");
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);

const event = (name: string, overrides: Partial<BenchEventRow> = {}): BenchEventRow =>
  benchEventRow.parse({
    event_id: id(name),
    first_detected_at: "2026-11-19T12:00:00.000Z",
    updated_at: "2026-11-19T12:00:00.000Z",
    run_id: id("run"),
    kind: "regression",
    state: "open",
    range_from_sha: sha("0"),
    range_to_sha: sha("4"),
    range_method: "graph",
    code_commits: [sha("1"), sha("2"), sha("3"), sha("4")],
    commit_ts: "2026-11-18T09:00:00.000Z",
    blamed_sha: "",
    bisection_status: "bisecting",
    bisection_steps: 1,
    bisection_steps_left: 1,
    bisection_extra_runs: 3,
    bisection_note: "",
    benchmark_type: "quantization",
    model: "llama-3.1-8b",
    quant: "q4_k_m",
    variant: "q4_k_m",
    dataset: "wikitext-2",
    device: "cuda",
    metric: "latency_p95_ms",
    label: "quantization llama-3.1-8b q4_k_m (wikitext-2, cuda)",
    change_pct: 18.3,
    ci_low_pct: 12.25,
    ci_high_pct: 24.5,
    q_value: 0.0003,
    mean_before: 186,
    mean_after: 220,
    stdev_before: 4,
    stdev_after: 5,
    n_before: 9,
    n_after: 12,
    series_changed: 3,
    fixed_by_event_id: "",
    fixed_by_sha: "",
    recovered_pct: null,
    recovered_ci_low: null,
    recovered_ci_high: null,
    returns_of: "",
    ...overrides,
  });

let t: TestDatabase;
let gh: FakeGitHubIssues;
const client = (): IssueClient => createIssueClient({ token: FAKE_TOKEN, repo: REPO, baseUrl: gh.url, retries: 0, writeIntervalMs: 0 });

beforeAll(async () => {
  t = await createTestDatabase();
  gh = await FakeGitHubIssues.start(REPO);
  const commit = (c: string, author: string, message: string) => ({
    repo: "banterhearts",
    sha: sha(c),
    ts: "2026-11-18T08:00:00.000Z",
    author,
    message,
    parents: [],
    files: ["src/engine.py"],
    files_changed: 1,
    additions: 1,
    deletions: 1,
  });
  await t.db.insert("upstream_commits", [
    commit("1", "Ada Lovelace", "Tune the scheduler"),
    commit("2", "grace-h", "Batch the KV cache writes\n\nLonger body."),
    commit("3", "Linus T.", "Refactor the loader"),
    commit("4", "octo-cat", "Update kernels"),
    commit("9", "hopper", "Restore the KV cache layout"),
    commit("5", "ada", "Blamed outright"),
  ]);
});
afterAll(async () => {
  await gh.close();
  await t.drop();
});

describe("the issue text", () => {
  it("mentions a login-looking author with @ and names anyone else", () => {
    expect(looksLikeLogin("grace-h")).toBe(true);
    expect(looksLikeLogin("Ada Lovelace")).toBe(false);
    expect(looksLikeLogin("Linus T.")).toBe(false);
    expect(looksLikeLogin("-bad")).toBe(false);
    const commits = new Map([[sha("2"), { author: "grace-h", subject: "Batch the KV cache writes" }]]);
    const blamed = issueView(event("x", { blamed_sha: sha("2"), bisection_status: "bisected", bisection_steps: 2, bisection_steps_left: 0 }), {
      siteUrl: SITE,
      repo: REPO,
      commits,
      extras: { users: { felt: true, latency_change_pct: 4.2 }, episodeUrl: `${SITE}/en/episodes/chimera/ep-007` },
    });
    expect(blamed.body).toContain(eventMarker(id("x")));
    expect(blamed.body).toContain(`[\`2222222\`](https://github.com/${REPO}/commit/${sha("2")}) “Batch the KV cache writes” by @grace-h`);
    expect(blamed.body).toContain("bisected from 4 code commits in 2 steps, 3 extra runs");
    expect(blamed.body).toContain("+18.3 %** (95 % interval +12.3 % to +24.5 %; 186 → 220 ms, 9 runs before and 12 after");
    expect(blamed.body).toContain("| Users felt it | yes (user latency +4.2 %) |");
    expect(blamed.body).toContain(`![Runs of quantization llama-3.1-8b q4_k_m (wikitext-2, cuda) around the change](${SITE}/api/events/${id("x")}/chart.svg)`);
    expect(blamed.body).toContain(`[status page](${SITE}/en/status) · [episode](${SITE}/en/episodes/chimera/ep-007)`);
    expect(blamed.title).toBe("Regression: p95 latency +18.3 % in quantization llama-3.1-8b q4_k_m (wikitext-2, cuda) at 2222222");
    expect(blamed.labels).toEqual(["muse", "regression", "state:open"]);

    const range = issueView(event("y"), { siteUrl: SITE, repo: REPO, commits: new Map([[sha("1"), { author: "Ada Lovelace", subject: "" }]]) });
    expect(range.body).toContain("between `0000000` and `4444444` (4 code commits), bisecting: step 2 of at most 2; their authors: Ada Lovelace");
    expect(range.body).toContain("| Users felt it | not known |");
    expect(range.labels).toEqual(["muse", "regression", "state:open", "bisecting"]);
  });
});

describe("syncRegressionIssues against the GitHub double", () => {
  const bisecting = event("bisecting");
  const blamed = event("blamed", {
    code_commits: [sha("5")],
    blamed_sha: sha("5"),
    range_to_sha: sha("5"),
    bisection_status: "",
    bisection_steps: 0,
    bisection_steps_left: 0,
  });
  const improvement = event("improvement", { kind: "improvement", state: "kept", change_pct: -12 });
  const fixedBefore = event("fixed-before", {
    state: "fixed",
    blamed_sha: sha("4"),
    fixed_by_sha: sha("9"),
    recovered_pct: 101,
    recovered_ci_low: 95,
    recovered_ci_high: 107,
  });
  const context = (hours: number) => ({ now: at(hours), siteUrl: SITE });

  it("run 1 (instance A): opens one issue per open regression, with the documented request shapes", async () => {
    const a = client();
    const summary = await syncRegressionIssues(t.db, a, [bisecting, blamed, improvement, fixedBefore], context(0));
    expect(summary).toMatchObject({ created: 2, failed: [] });
    const creates = gh.requests.filter((r) => r.method === "POST" && r.path === `/repos/${REPO}/issues`);
    expect(creates).toHaveLength(2);
    for (const r of creates) {
      expect(r.status).toBe(201);
      expect(r.headers.authorization).toBe(`token ${FAKE_TOKEN}`);
      expect(r.headers["x-github-api-version"]).toBe("2022-11-28");
      expect(Object.keys(r.body as object).sort()).toEqual(["body", "labels", "title"]);
    }
    // Before creating, the marker was looked for in the list of Muse issues (state=all, labels=muse).
    const list = gh.requests.find((r) => r.method === "GET" && r.path === `/repos/${REPO}/issues`);
    expect(list?.query).toMatchObject({ state: "all", labels: "muse", per_page: "100" });
    const [bisectingIssue] = gh.withMarker(eventMarker(bisecting.event_id));
    expect(bisectingIssue.labels).toEqual(["muse", "regression", "state:open", "bisecting"]);
    expect(bisectingIssue.body).toContain("bisecting: step 2 of at most 2");
    expect(gh.withMarker(eventMarker(blamed.event_id))[0].body).toContain("by @ada");
    expect(gh.withMarker(eventMarker(improvement.event_id))).toHaveLength(0);
    expect(gh.withMarker(eventMarker(fixedBefore.event_id))).toHaveLength(0);
    const stored = await loadEventIssues(t.db, [bisecting.event_id, blamed.event_id]);
    expect([...stored.values()].map((r) => r.state).sort()).toEqual(["bisecting", "open"]);
  });

  it("run 2 (instance B, same database): edits the body when bisection narrows it, comments once, drops `bisecting`", async () => {
    const b = client();
    const from = gh.requests.length;
    const narrowed = {
      ...bisecting,
      blamed_sha: sha("2"),
      bisection_status: "bisected" as const,
      bisection_steps: 2,
      bisection_steps_left: 0,
      bisection_extra_runs: 6,
    };
    const summary = await syncRegressionIssues(t.db, b, [narrowed, blamed, improvement], context(1));
    expect(summary).toMatchObject({ created: 0, edited: 1, commented: 1, unchanged: 1, failed: [] });
    const writes = gh.writes(from);
    const number = gh.withMarker(eventMarker(bisecting.event_id))[0].number;
    expect(writes.map((w) => `${w.method} ${w.path}`).sort()).toEqual(
      [
        `POST /repos/${REPO}/issues/${number}/comments`,
        `PATCH /repos/${REPO}/issues/${number}`,
        `DELETE /repos/${REPO}/issues/${number}/labels/bisecting`,
      ].sort(),
    );
    const patch = writes.find((w) => w.method === "PATCH")!;
    expect(Object.keys(patch.body as object).sort()).toEqual(["body", "title"]);
    const issue = gh.issues.find((i) => i.number === number)!;
    expect(issue.title).toContain("at 2222222");
    expect(issue.body).toContain("by @grace-h (bisected from 4 code commits in 2 steps, 6 extra runs)");
    expect(issue.comments).toHaveLength(1);
    expect(issue.comments[0]).toContain("Bisection found the commit");
    expect(issue.labels).toEqual(["muse", "regression", "state:open"]);
  });

  it("an instance that lost its rows finds the issues by their marker instead of opening new ones", async () => {
    await t.db.command("TRUNCATE TABLE event_issues");
    const from = gh.requests.length;
    const narrowed = {
      ...bisecting,
      blamed_sha: sha("2"),
      bisection_status: "bisected" as const,
      bisection_steps: 2,
      bisection_steps_left: 0,
      bisection_extra_runs: 6,
    };
    await syncRegressionIssues(t.db, client(), [narrowed, blamed], context(1.5));
    expect(gh.writes(from).filter((w) => w.method === "POST" && w.path === `/repos/${REPO}/issues`)).toEqual([]);
    expect(gh.withMarker(eventMarker(bisecting.event_id))).toHaveLength(1);
    expect((await loadEventIssues(t.db, [bisecting.event_id, blamed.event_id])).size).toBe(2);
  });

  it("two instances racing on a new event leave one open issue (the other closed as its duplicate)", async () => {
    const racing = event("racing", { code_commits: [sha("3")], blamed_sha: sha("3"), range_to_sha: sha("3"), bisection_status: "", bisection_steps_left: 0 });
    await Promise.all([syncRegressionIssues(t.db, client(), [racing], context(2)), syncRegressionIssues(t.db, client(), [racing], context(2))]);
    const issues = gh.withMarker(eventMarker(racing.event_id));
    expect(issues.filter((i) => i.state === "open")).toHaveLength(1);
    for (const closed of issues.filter((i) => i.state === "closed")) expect(closed.state_reason).toBe("duplicate");
    const stored = await loadEventIssues(t.db, [racing.event_id]);
    expect(stored.get(racing.event_id)?.issue_number).toBe(Math.min(...issues.map((i) => i.number)));
  });

  it("run 3 (instance A): comments and closes a fixed event, comments on a partly fixed one, labels in step; a repeat writes nothing", async () => {
    const a = client();
    const fixed = {
      ...bisecting,
      blamed_sha: sha("2"),
      bisection_status: "bisected" as const,
      bisection_steps: 2,
      bisection_steps_left: 0,
      bisection_extra_runs: 6,
      state: "fixed" as const,
      fixed_by_sha: sha("9"),
      recovered_pct: 97.5,
      recovered_ci_low: 88.1,
      recovered_ci_high: 106.9,
    };
    const partly = { ...blamed, state: "partly_fixed" as const, fixed_by_sha: sha("9"), recovered_pct: 52, recovered_ci_low: 40.5, recovered_ci_high: 63.5 };
    const from = gh.requests.length;
    const summary = await syncRegressionIssues(t.db, a, [fixed, partly], context(3));
    expect(summary).toMatchObject({ commented: 2, closed: 1, failed: [] });
    const fixedIssue = gh.withMarker(eventMarker(bisecting.event_id))[0];
    expect(fixedIssue.state).toBe("closed");
    expect(fixedIssue.state_reason).toBe("completed");
    expect(fixedIssue.comments.at(-1)).toContain(`Fixed by [\`9999999\`](https://github.com/${REPO}/commit/${sha("9")})`);
    expect(fixedIssue.comments.at(-1)).toContain("97.5 % of the regression recovered (95 % interval 88.1 % to 106.9 %)");
    expect(fixedIssue.labels.sort()).toEqual(["muse", "regression", "state:fixed"]);
    const close = gh.writes(from).find((w) => w.method === "PATCH" && w.path.endsWith(`/issues/${fixedIssue.number}`))!;
    expect(close.body).toMatchObject({ state: "closed", state_reason: "completed" });

    const partlyIssue = gh.withMarker(eventMarker(blamed.event_id))[0];
    expect(partlyIssue.state).toBe("open");
    expect(partlyIssue.comments.at(-1)).toContain("Partly fixed by");
    expect(partlyIssue.comments.at(-1)).toContain("52.0 % of the regression recovered");
    expect(partlyIssue.labels.sort()).toEqual(["muse", "regression", "state:partly-fixed"]);
    expect(partlyIssue.body).toContain("partly fixed by");

    // The same state again (another instance): nothing is written.
    const again = gh.requests.length;
    const repeat = await syncRegressionIssues(t.db, client(), [fixed, partly], context(4));
    expect(repeat).toMatchObject({ created: 0, edited: 0, commented: 0, closed: 0, unchanged: 2 });
    expect(gh.writes(again)).toEqual([]);

    // One issue per event, across every run and instance.
    for (const e of [bisecting, blamed]) expect(gh.withMarker(eventMarker(e.event_id))).toHaveLength(1);
    // Every request the double answered was well formed.
    expect(gh.requests.filter((r) => r.status >= 400)).toEqual([]);
  });
});

describe("a maintainer's triage reaches the issue", () => {
  const context = (hours: number) => ({ now: at(hours), siteUrl: SITE });
  const triaged = event("triaged", {
    code_commits: [sha("5")],
    blamed_sha: sha("5"),
    range_to_sha: sha("5"),
    bisection_status: "",
    bisection_steps: 0,
    bisection_steps_left: 0,
  });

  it("ack keeps the issue open with its label; invalid closes it as not planned with its reason; cleared, it reopens", async () => {
    const first = await syncRegressionIssues(t.db, client(), [triaged], context(10));
    expect(first).toMatchObject({ created: 1, failed: [] });
    const issue = () => gh.withMarker(eventMarker(triaged.event_id))[0];

    const ack = await syncRegressionIssues(t.db, client(), [{ ...triaged, triage: "ack", triage_actor: "grace-h" }], context(11));
    expect(ack).toMatchObject({ closed: 0, failed: [] });
    expect(issue().state).toBe("open");
    expect(issue().labels.sort()).toEqual(["muse", "regression", "state:open", "triage:ack"]);
    expect(issue().body).toContain("| Triage | acknowledged by @grace-h |");

    const invalid = { ...triaged, triage: "invalid" as const, triage_actor: "grace-h", triage_reason: "runner swap | new GPU" };
    const closed = await syncRegressionIssues(t.db, client(), [invalid], context(12));
    expect(closed).toMatchObject({ closed: 1, failed: [] });
    expect(issue().state).toBe("closed");
    expect(issue().state_reason).toBe("not_planned");
    expect(issue().labels.sort()).toEqual(["muse", "regression", "state:open", "triage:invalid"]);
    expect(issue().body).toContain("invalid (not a real change; closed as not planned) by @grace-h: runner swap \\| new GPU");

    // Detected again with the same triage: nothing is written (not closed a second time).
    const from = gh.requests.length;
    expect(await syncRegressionIssues(t.db, client(), [invalid], context(13))).toMatchObject({ closed: 0, unchanged: 1 });
    expect(gh.writes(from)).toEqual([]);

    // The word taken back: the regression is open again, and so is its issue.
    const reopened = await syncRegressionIssues(t.db, client(), [triaged], context(14));
    expect(reopened).toMatchObject({ reopened: 1, failed: [] });
    expect(issue().state).toBe("open");
    expect(issue().labels.sort()).toEqual(["muse", "regression", "state:open"]);
  });
});
