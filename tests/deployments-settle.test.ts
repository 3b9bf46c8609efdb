import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deploymentRow, pendingDeploymentRow, type DeploymentRow } from "../lib/clickhouse/tables";
import { settleDeployments } from "../lib/deployments/settle";
import { parseEnv } from "../lib/env";
import { memoryLogger } from "../lib/log";
import type { MetricName, Metrics, Tags } from "../lib/metrics";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { FakeVercel } from "./helpers/fake-vercel";

/**
 * Deployments that settle (lib/deployments/settle.ts): a deployment whose webhook events never came is asked of
 * Vercel's REST API (a local double that checks the real request shape), or, with no token or no news, becomes
 * `unknown` after MUSE_DEPLOY_SETTLE_MINUTES — counted apart, never as a success or a failure.
 */

const NOW = new Date("2026-11-20T12:00:00.000Z");
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
const sha = (c: string) => c.repeat(40);
const TOKEN = "vercel-token-for-tests";

let t: TestDatabase;
let vercel: FakeVercel;
beforeAll(async () => {
  t = await createTestDatabase();
  vercel = new FakeVercel({ token: TOKEN, projectId: "prj_muse", teamId: "team_muse" });
  await vercel.start();
});
afterAll(async () => {
  await vercel?.stop();
  await t?.drop();
});
beforeEach(async () => {
  await t.db.command("TRUNCATE TABLE deployments");
  vercel.deployments = [];
  vercel.requests = [];
});

function recordingMetrics() {
  const recorded: { name: MetricName; value: number; tags: Tags }[] = [];
  const metrics: Metrics = {
    count: (name, value = 1, tags = {}) => void recorded.push({ name, value, tags }),
    gauge: () => undefined,
    flush: async () => undefined,
  };
  return Object.assign(metrics, { recorded });
}
const pending = (commit: string, at: Date, fields: Partial<DeploymentRow> = {}) =>
  deploymentRow.parse({ ...pendingDeploymentRow({ at, runId: randomUUID(), episodeRunId: randomUUID(), commitSha: commit }), ...fields });
async function rows(): Promise<Map<string, DeploymentRow>> {
  const all = await t.db.query(
    `SELECT ts, updated_at, toString(run_id) AS run_id, toString(episode_run_id) AS episode_run_id, commit_sha, status, vercel_deployment_id, url, duration_ms,
            error_msg, events_seen, origin
       FROM deployments FINAL`,
    {},
    deploymentRow,
  );
  return new Map(all.map((r) => [r.commit_sha, r]));
}
const withVercel = () =>
  parseEnv({ VERCEL_TOKEN: TOKEN, VERCEL_PROJECT_ID: "prj_muse", VERCEL_TEAM_ID: "team_muse", VERCEL_API_URL: vercel.url, MUSE_DEPLOY_SETTLE_MINUTES: "60" });

describe("settleDeployments with Vercel's API", () => {
  it("writes what Vercel says of each deployment the webhook left pending, and expires what it has no news of", async () => {
    await t.db.insert("deployments", [
      pending(sha("a"), minutesAgo(12)), // Vercel: ready
      pending(sha("b"), minutesAgo(20), { status: "building", vercel_deployment_id: "dpl_b", updated_at: minutesAgo(19).toISOString() }), // Vercel: error
      pending(sha("c"), minutesAgo(2)), // too young: left to the webhook
      pending(sha("d"), minutesAgo(90)), // Vercel knows nothing of it: unknown
      pending(sha("e"), minutesAgo(20)), // Vercel: still building
      pending(sha("f"), minutesAgo(30), { status: "ready", url: "https://f.vercel.app" }), // settled already
    ]);
    vercel.deployments = [
      {
        uid: "dpl_a",
        sha: sha("a"),
        readyState: "READY",
        created: minutesAgo(11).getTime(),
        buildingAt: minutesAgo(11).getTime(),
        ready: minutesAgo(9).getTime(),
      },
      { uid: "dpl_b", sha: sha("b"), readyState: "ERROR", created: minutesAgo(19).getTime(), errorMessage: 'Command "next build" exited with 1' },
      { uid: "dpl_e", sha: sha("e"), readyState: "BUILDING", created: minutesAgo(19).getTime() },
    ];
    const metrics = recordingMetrics();
    const result = await settleDeployments({ db: t.db, env: withVercel(), log: memoryLogger(), metrics, now: NOW });
    expect(vercel.problems).toEqual([]);
    expect(result.asked_vercel).toBe(true);
    expect(result.looked_at).toBe(4);
    const after = await rows();
    expect(after.get(sha("a"))).toMatchObject({ status: "ready", vercel_deployment_id: "dpl_a", url: "https://muse-site-a.vercel.app", duration_ms: 120_000 });
    expect(after.get(sha("b"))).toMatchObject({ status: "error", error_msg: 'Vercel deployment dpl_b failed: Command "next build" exited with 1' });
    expect(after.get(sha("c"))!.status).toBe("pending");
    expect(after.get(sha("d"))).toMatchObject({
      status: "unknown",
      error_msg: expect.stringMatching(/90 min after it started \(Vercel's API has no finished deployment/),
    });
    expect(after.get(sha("e"))).toMatchObject({ status: "building", vercel_deployment_id: "dpl_e" });
    expect(after.get(sha("f"))!.status).toBe("ready");
    // One request per deployment asked about, filtered by the project, the team and the commit.
    expect(vercel.requests.map((r) => r.query.sha).sort()).toEqual([sha("a"), sha("b"), sha("d"), sha("e")]);
    expect(metrics.recorded.map((m) => `${m.tags.status}/${m.tags.origin}`).sort()).toEqual(["building/muse", "error/muse", "ready/muse", "unknown/muse"]);

    // Idempotent: a second run changes only what moved on (nothing did).
    const again = await settleDeployments({ db: t.db, env: withVercel(), log: memoryLogger(), metrics: recordingMetrics(), now: NOW });
    expect(again.settled).toEqual([]);
  });
});

describe("settleDeployments without a token", () => {
  it("expires a deployment with no news after MUSE_DEPLOY_SETTLE_MINUTES to unknown, saying why, and leaves younger ones", async () => {
    await t.db.insert("deployments", [
      pending(sha("1"), minutesAgo(61)),
      pending(sha("2"), minutesAgo(30)),
      pending(sha("3"), minutesAgo(120), { origin: "external" }),
    ]);
    const metrics = recordingMetrics();
    const result = await settleDeployments({ db: t.db, env: parseEnv({}), log: memoryLogger(), metrics, now: NOW });
    expect(result.asked_vercel).toBe(false);
    expect(result.settled.map((s) => [s.commit_sha, s.to, s.via]).sort()).toEqual([
      [sha("1"), "unknown", "timeout"],
      [sha("3"), "unknown", "timeout"],
    ]);
    const after = await rows();
    expect(after.get(sha("1"))!.error_msg).toMatch(/no webhook event, and no VERCEL_TOKEN to ask Vercel/);
    expect(after.get(sha("2"))!.status).toBe("pending");
    expect(after.get(sha("3"))).toMatchObject({ status: "unknown", origin: "external" });
    expect(metrics.recorded.map((m) => m.tags)).toEqual(
      expect.arrayContaining([
        { status: "unknown", origin: "muse" },
        { status: "unknown", origin: "external" },
      ]),
    );
    expect(vercel.requests).toEqual([]);
  });
});
