import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseEnv } from "../lib/env";
import { openRegressionEvents, toRow } from "../lib/lifecycle/events";
import { memoryLogger } from "../lib/log";
import { githubPermissionChecker, githubSignature, handleGitHubWebhook, type GitHubWebhookDeps } from "../lib/triage/github-webhook";
import { recentTriage } from "../lib/triage/store";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * POST /api/webhooks/github on real ClickHouse, with a local GitHub double for
 * GET /repos/{o}/{r}/collaborators/{u}/permission: the signature gates
 * everything; `/muse` comment commands of people with write access are applied
 * and recorded once per delivery; everyone else's are ignored.
 */

const SECRET = "github-webhook-secret-for-tests-01";
const EVENT_ID = "7c1e0d2a-5b3f-5e4d-9a8b-1c2d3e4f5a6b";
const NOW = new Date("2026-11-15T03:00:00.000Z");

let t: TestDatabase;
let github: Server;
let baseUrl = "";
const permissionCalls: { path: string; auth: string | undefined }[] = [];
const ROLES: Record<string, string> = { maintainer: "maintain", writer: "write", reader: "read" };

beforeAll(async () => {
  t = await createTestDatabase();
  github = createServer((req: IncomingMessage, res) => {
    const m = /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)\/permission$/.exec(req.url ?? "");
    permissionCalls.push({ path: req.url ?? "", auth: req.headers.authorization });
    if (req.method !== "GET" || !m || m[1] !== "acme" || m[2] !== "banterhearts") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found" }));
      return;
    }
    const role = ROLES[m[3]];
    if (!role) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found" }));
      return;
    }
    // The real API's shape: permission is admin|write|read|none, role_name the finer role.
    const permission = role === "maintain" ? "write" : role;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ permission, role_name: role, user: { login: m[3] } }));
  });
  await new Promise<void>((resolve) => github.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(github.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => github.close(resolve));
  await t?.drop();
});
beforeEach(async () => {
  await t.db.command("TRUNCATE TABLE event_triage");
  await t.db.command("TRUNCATE TABLE bench_events");
  permissionCalls.length = 0;
  await t.db.insert("bench_events", [
    toRow({
      event_id: EVENT_ID,
      first_detected_at: "2026-11-14T00:00:00.000Z",
      updated_at: "2026-11-14T00:00:00.000Z",
      run_id: "run-1",
      kind: "regression",
      state: "open",
      range_from_sha: "a".repeat(40),
      range_to_sha: "b".repeat(40),
      range_method: "graph",
      code_commits: ["c".repeat(40), "b".repeat(40)],
      commit_ts: "2026-11-13T00:00:00.000Z",
      blamed_sha: "",
      bisection_status: "bisecting",
      bisection_steps: 0,
      bisection_steps_left: 1,
      bisection_extra_runs: 0,
      bisection_note: "",
      benchmark_type: "quantization",
      model: "llama",
      quant: "int8",
      variant: "int8",
      dataset: "wikitext",
      device: "cuda",
      metric: "latency_p95_ms",
      label: "quantization llama int8",
      change_pct: 12,
      ci_low_pct: 8,
      ci_high_pct: 16,
      q_value: 0.001,
      mean_before: 100,
      mean_after: 112,
      stdev_before: 2,
      stdev_after: 2,
      n_before: 10,
      n_after: 10,
      series_changed: 1,
      fixed_by_event_id: "",
      fixed_by_sha: "",
      recovered_pct: null,
      recovered_ci_low: null,
      recovered_ci_high: null,
      returns_of: "",
    }),
  ]);
});

function deps(vars: Record<string, string> = {}): () => GitHubWebhookDeps {
  const env = parseEnv({ GITHUB_WEBHOOK_SECRET: SECRET, ...vars });
  return () => ({ db: t.db, env, log: memoryLogger(), clock: { now: () => NOW } });
}
const configured = { GITHUB_TOKEN: "ghp_test_token_000000", BANTERHEARTS_REPO: "acme/banterhearts", GITHUB_API_URL: "http://placeholder.invalid" };
const withGitHub = () => {
  const env = parseEnv({ GITHUB_WEBHOOK_SECRET: SECRET, ...configured });
  const permissions = githubPermissionChecker({ token: configured.GITHUB_TOKEN, baseUrl, retries: 0 });
  return () => ({ db: t.db, env, log: memoryLogger(), clock: { now: () => NOW }, permissions });
};

function payload(comment: string, options: { login?: string; association?: string; action?: string; marker?: boolean; repo?: string } = {}) {
  return {
    action: options.action ?? "created",
    issue: { number: 7, title: "Regression", body: `Regression in llama\n\n${options.marker === false ? "" : `<!-- muse-event:${EVENT_ID} -->`}` },
    comment: { id: 99, body: comment, author_association: options.association ?? "MEMBER", user: { login: options.login ?? "maintainer" } },
    repository: { full_name: options.repo ?? "acme/banterhearts" },
    sender: { login: options.login ?? "maintainer" },
  };
}

async function deliver(body: unknown, options: { delivery?: string; event?: string; signature?: string | null; deps?: () => GitHubWebhookDeps } = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json", "x-github-event": options.event ?? "issue_comment" };
  if (options.delivery !== "") headers["x-github-delivery"] = options.delivery ?? "delivery-1";
  if (options.signature !== null) headers["x-hub-signature-256"] = options.signature ?? githubSignature(SECRET, text);
  const response = await handleGitHubWebhook(
    new Request("http://localhost/api/webhooks/github", { method: "POST", headers, body: text }),
    options.deps ?? deps(),
  );
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe("signature (X-Hub-Signature-256, GITHUB_WEBHOOK_SECRET)", () => {
  it("401 for a missing, wrong or foreign signature, nothing recorded; 503 naming the secret when it is unset", async () => {
    const body = payload("/muse ack");
    const text = JSON.stringify(body);
    for (const signature of [
      null,
      "",
      "sha256=00",
      githubSignature("another-secret-0000000000", text),
      githubSignature(SECRET, `${text} `),
      githubSignature(SECRET, text).slice(7),
    ]) {
      const answer = await deliver(body, { signature });
      expect({ signature, status: answer.status }).toEqual({ signature, status: 401 });
    }
    expect(await recentTriage(t.db)).toEqual([]);
    const closed = await handleGitHubWebhook(new Request("http://localhost/api/webhooks/github", { method: "POST", body: text }), () => ({
      ...deps()(),
      env: parseEnv({}),
    }));
    expect(closed.status).toBe(503);
    expect(await closed.text()).toContain("GITHUB_WEBHOOK_SECRET");
  });

  it("a good signature passes; ping and other events are acknowledged and ignored", async () => {
    expect((await deliver({ zen: "hi" }, { event: "ping" })).status).toBe(200);
    expect((await deliver(payload("/muse ack"), { event: "issues" })).json).toMatchObject({
      applied: [],
      ignored: expect.stringContaining("not issue_comment"),
    });
  });

  it("400 naming the field of a malformed payload or a missing delivery id", async () => {
    const bad = await deliver({ ...payload("/muse ack"), comment: { id: 1, body: "/muse ack", user: { login: "x" } } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ field: "comment.author_association" });
    expect(await deliver("{not json")).toMatchObject({ status: 400 });
    expect((await deliver(payload("/muse ack"), { delivery: "" })).json).toMatchObject({ field: "x-github-delivery" });
  });
});

describe("comment commands", () => {
  it("applies each command of a member, recorded with who, when, why and from where; the event is no longer open", async () => {
    const answer = await deliver(payload("Looked into it.\n/muse expected the int8 kernel trades latency for memory\n/muse blame cccccccc\n/muse frobnicate"));
    expect(answer.status).toBe(202);
    expect(answer.json).toMatchObject({
      event_id: EVENT_ID,
      applied: [
        { action: "expected", reason: "the int8 kernel trades latency for memory", actor: "maintainer", source: "github-comment" },
        { action: "blame", argument: "c".repeat(40), actor: "maintainer" },
      ],
      notes: [expect.stringContaining("frobnicate")],
    });
    const log = await recentTriage(t.db);
    expect(log.map((a) => [a.action, a.actor, a.source, a.delivery_id])).toEqual(
      expect.arrayContaining([
        ["expected", "maintainer", "github-comment", "delivery-1"],
        ["blame", "maintainer", "github-comment", "delivery-1"],
      ]),
    );
    expect(log.every((a) => Date.parse(a.created_at) >= NOW.getTime())).toBe(true);
    expect(await openRegressionEvents(t.db)).toEqual([]);
    const [row] = await t.db.query<{ blamed_sha: string; bisection_status: string; triage: string }>(
      `SELECT blamed_sha, bisection_status, triage FROM bench_events FINAL WHERE event_id = {id:String}`,
      { id: EVENT_ID },
    );
    expect(row).toEqual({ blamed_sha: "c".repeat(40), bisection_status: "", triage: "expected" });
  });

  it("is idempotent on X-GitHub-Delivery: a redelivery records nothing new", async () => {
    const body = payload("/muse invalid runner swap");
    expect((await deliver(body, { delivery: "d-2" })).status).toBe(202);
    const again = await deliver(body, { delivery: "d-2" });
    expect(again).toMatchObject({ status: 200, json: { duplicate: true, applied: [{ action: "invalid" }] } });
    expect(await recentTriage(t.db)).toHaveLength(1);
  });

  it("ignores people without write access (author_association), comments on other issues, edits and prose", async () => {
    for (const association of ["CONTRIBUTOR", "NONE", "FIRST_TIME_CONTRIBUTOR"]) {
      const answer = await deliver(payload("/muse invalid", { association, login: "drive-by" }), { delivery: `d-${association}` });
      expect(answer).toMatchObject({ status: 200, json: { applied: [], ignored: expect.stringContaining("no write access") } });
    }
    expect((await deliver(payload("/muse invalid", { marker: false }))).json).toMatchObject({ ignored: expect.stringContaining("not a Muse event issue") });
    expect((await deliver(payload("/muse invalid", { action: "edited" }))).json).toMatchObject({ ignored: expect.stringContaining("edited") });
    expect((await deliver(payload("thanks, looks fine"))).json).toMatchObject({ ignored: expect.stringContaining("no /muse command") });
    expect(await recentTriage(t.db)).toEqual([]);
    expect((await openRegressionEvents(t.db)).map((e) => e.event_id)).toEqual([EVENT_ID]);
  });

  it("with GitHub configured, confirms write access with the permission API (Octokit against the double)", async () => {
    const ok = await deliver(payload("/muse ack on it", { login: "maintainer" }), { delivery: "p-1", deps: withGitHub() });
    expect(ok).toMatchObject({ status: 202, json: { applied: [{ action: "ack", actor: "maintainer" }] } });
    expect(permissionCalls).toEqual([{ path: "/repos/acme/banterhearts/collaborators/maintainer/permission", auth: `token ${configured.GITHUB_TOKEN}` }]);
    // A COLLABORATOR whose role is read: refused by the API though the association would pass.
    const reader = await deliver(payload("/muse invalid", { login: "reader", association: "COLLABORATOR" }), { delivery: "p-2", deps: withGitHub() });
    expect(reader.json).toMatchObject({ applied: [], ignored: expect.stringContaining("collaborator permission") });
    const stranger = await deliver(payload("/muse invalid", { login: "stranger", association: "MEMBER" }), { delivery: "p-3", deps: withGitHub() });
    expect(stranger.json).toMatchObject({ applied: [] });
    const other = await deliver(payload("/muse invalid", { repo: "evil/banterhearts" }), { delivery: "p-4", deps: withGitHub() });
    expect(other.json).toMatchObject({ applied: [], ignored: expect.stringContaining("not BANTERHEARTS_REPO") });
    expect((await recentTriage(t.db)).map((a) => a.action)).toEqual(["ack"]);
  });
});
