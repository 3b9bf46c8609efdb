import { createHmac, randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { POST as revalidateRoute } from "../app/api/revalidate/route";
import { POST as webhookRoute } from "../app/api/webhooks/vercel/route";
import { deploymentRow, pendingDeploymentRow, type DeploymentRow } from "../lib/clickhouse/tables";
import { parseEnv, resetEnvCache } from "../lib/env";
import { handleRevalidate } from "../lib/http/revalidate";
import { handleVercelWebhook, type WebhookDeps } from "../lib/http/vercel-webhook";
import { memoryLogger } from "../lib/log";
import type { MetricName, Metrics, Tags } from "../lib/metrics";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

/**
 * POST /api/webhooks/vercel on real ClickHouse: the signature (hex HMAC-SHA1
 * of the raw body) gates everything; deployment events move the publisher's
 * pending row through building → ready/error/canceled with the URL and the
 * build duration; replays and out-of-order deliveries change nothing they
 * should not. And POST /api/revalidate's guard.
 */

const SECRET = "vercel-webhook-secret-for-tests-0001";
const COMMIT = "c".repeat(40);
const OTHER_COMMIT = "d".repeat(40);
const T0 = Date.parse("2026-11-20T12:00:00.000Z");

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

let episodeRunId = "";
let publishRunId = "";
beforeEach(async () => {
  await t.db.command("TRUNCATE TABLE deployments");
  await t.db.command("TRUNCATE TABLE deployment_events");
  episodeRunId = randomUUID();
  publishRunId = randomUUID();
  // What the publisher records right after its commit.
  await t.db.insert("deployments", [pendingDeploymentRow({ at: new Date(T0 - 5_000), runId: publishRunId, episodeRunId, commitSha: COMMIT })]);
});

/** Metrics that keep what was recorded (and count flushes) instead of sending it. */
function recordingMetrics() {
  const recorded: { kind: "count" | "gauge"; name: MetricName; value: number; tags: Tags }[] = [];
  let flushes = 0;
  const metrics: Metrics = {
    count: (name, value = 1, tags = {}) => void recorded.push({ kind: "count", name, value, tags }),
    gauge: (name, value, tags = {}) => void recorded.push({ kind: "gauge", name, value, tags }),
    flush: async () => void (flushes += 1),
  };
  return Object.assign(metrics, { recorded, flushes: () => flushes });
}

function makeDeps(vars: Record<string, string> = { VERCEL_WEBHOOK_SECRET: SECRET }) {
  return { db: t.db, env: parseEnv(vars), log: memoryLogger(), metrics: recordingMetrics(), clock: { now: () => new Date() } } satisfies WebhookDeps;
}

interface EventSpec {
  id?: string;
  type: string;
  at: number;
  deploymentId?: string;
  url?: string;
  commit?: string | null;
  extra?: Record<string, unknown>;
}

/** A deployment event as Vercel sends it. */
function event(spec: EventSpec): Record<string, unknown> {
  return {
    id: spec.id ?? `evt_${randomUUID().replace(/-/g, "").slice(0, 16)}`,
    type: spec.type,
    createdAt: spec.at,
    region: "iad1",
    payload: {
      team: { id: "team_muse" },
      user: { id: "user_1" },
      project: { id: "prj_muse" },
      target: "production",
      plan: "pro",
      regions: ["iad1"],
      links: { deployment: "https://vercel.com/muse/site/dpl", project: "https://vercel.com/muse/site" },
      deployment: {
        id: spec.deploymentId ?? "dpl_1",
        name: "muse-site",
        url: spec.url ?? "muse-site-abc123.vercel.app",
        meta: spec.commit === null ? {} : { githubCommitSha: spec.commit ?? COMMIT, githubCommitRef: "main", githubRepo: "site", githubOrg: "muse" },
        ...spec.extra,
      },
    },
  };
}

const sign = (body: string, secret = SECRET) => createHmac("sha1", secret).update(body).digest("hex");

type TestDeps = ReturnType<typeof makeDeps>;
async function send(body: string | Record<string, unknown>, options: { signature?: string | null; deps?: TestDeps } = {}) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const signature = options.signature === undefined ? sign(raw) : options.signature;
  if (signature !== null) headers["x-vercel-signature"] = signature;
  const deps = options.deps ?? makeDeps();
  const res = await handleVercelWebhook(new Request("http://localhost/api/webhooks/vercel", { method: "POST", body: raw, headers }), () => deps);
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, deps };
}

async function current(commit = COMMIT): Promise<DeploymentRow | undefined> {
  return t.db.queryOne(
    `SELECT ts, updated_at, toString(run_id) AS run_id, toString(episode_run_id) AS episode_run_id, commit_sha, status, vercel_deployment_id, url, duration_ms, error_msg, events_seen, origin
       FROM deployments FINAL WHERE commit_sha = {sha:FixedString(40)}`,
    { sha: commit },
    deploymentRow,
  );
}
const versions = async () => Number((await t.db.query<{ n: number }>("SELECT count() AS n FROM deployments"))[0].n);

describe("POST /api/webhooks/vercel", () => {
  it("answers 503 naming VERCEL_WEBHOOK_SECRET when it is not configured, and writes nothing", async () => {
    const res = await send(event({ type: "deployment.created", at: T0 }), { deps: makeDeps({}) });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/VERCEL_WEBHOOK_SECRET/);
    expect(await versions()).toBe(1);

    // The route itself, wired to the environment (which has no secret here).
    delete process.env.VERCEL_WEBHOOK_SECRET;
    resetEnvCache();
    const routed = await webhookRoute(new Request("http://localhost/api/webhooks/vercel", { method: "POST", body: "{}" }));
    expect(routed.status).toBe(503);
  });

  it("answers 401 to a missing or wrong signature and writes nothing", async () => {
    const body = JSON.stringify(event({ type: "deployment.succeeded", at: T0 }));
    const cases = [
      { signature: null, error: /missing x-vercel-signature/ },
      { signature: "", error: /missing x-vercel-signature/ },
      { signature: sign(body, "another-secret"), error: /invalid x-vercel-signature/ },
      { signature: sign(`${body} `), error: /invalid x-vercel-signature/ }, // signed a different body
      { signature: createHmac("sha256", SECRET).update(body).digest("hex"), error: /invalid x-vercel-signature/ },
      { signature: "00", error: /invalid x-vercel-signature/ },
    ];
    for (const c of cases) {
      const res = await send(body, { signature: c.signature });
      expect(res.status, String(c.signature)).toBe(401);
      expect(res.body.error).toMatch(c.error);
    }
    expect(await versions()).toBe(1);
    expect(await current()).toMatchObject({ status: "pending", events_seen: [] });
  });

  it("verifies the signature on the raw bytes (not re-serialized JSON) and accepts upper-case hex", async () => {
    const raw = `{ "type": "deployment.created",\n  "id": "evt_raw", "createdAt": ${T0}, "payload": ${JSON.stringify(event({ type: "deployment.created", at: T0 }).payload)} }`;
    const res = await send(raw, { signature: sign(raw).toUpperCase() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ recorded: true, status: "building" });
  });

  it("moves the publisher's row pending → building → ready, with the URL and the build duration", async () => {
    const createdRes = await send(event({ id: "evt_created", type: "deployment.created", at: T0 }));
    expect(createdRes.status).toBe(200);
    expect(createdRes.body).toMatchObject({ recorded: true, commit_sha: COMMIT, status: "building" });
    expect(await current()).toMatchObject({
      status: "building",
      vercel_deployment_id: "dpl_1",
      url: "https://muse-site-abc123.vercel.app",
      duration_ms: 0,
      events_seen: ["evt_created"],
      run_id: publishRunId,
      episode_run_id: episodeRunId,
      updated_at: new Date(T0).toISOString(),
    });

    const ready = await send(event({ id: "evt_ready", type: "deployment.succeeded", at: T0 + 83_250 }));
    expect(ready.body).toMatchObject({ recorded: true, status: "ready", duration_ms: 83_250, url: "https://muse-site-abc123.vercel.app" });
    const row = (await current())!;
    expect(row).toMatchObject({ status: "ready", duration_ms: 83_250, error_msg: "", events_seen: ["evt_created", "evt_ready"] });
    // The row keeps its creation time (and partition) across versions.
    expect(row.ts).toBe(new Date(T0 - 5_000).toISOString());
    expect(createdRes.deps.metrics.recorded).toEqual([
      { kind: "count", name: "muse.publish.deployments", value: 1, tags: { status: "building", origin: "muse" } },
    ]);
    expect(ready.deps.metrics.recorded).toEqual([
      { kind: "count", name: "muse.publish.deployments", value: 1, tags: { status: "ready", origin: "muse" } },
      { kind: "gauge", name: "muse.publish.deploy_duration_ms", value: 83_250, tags: {} },
    ]);
    expect(ready.deps.metrics.flushes()).toBe(1);
  });

  it("ignores a replayed event: same answer, nothing written", async () => {
    const created = event({ id: "evt_1", type: "deployment.created", at: T0 });
    const succeeded = event({ id: "evt_2", type: "deployment.succeeded", at: T0 + 60_000 });
    await send(created);
    await send(succeeded);
    const before = await versions();
    for (const replay of [succeeded, created, succeeded]) {
      const res = await send(replay);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ recorded: false, reason: "duplicate" });
      expect(res.deps.metrics.recorded).toEqual([]);
    }
    expect(await versions()).toBe(before);
    expect(await current()).toMatchObject({ status: "ready", duration_ms: 60_000, events_seen: ["evt_1", "evt_2"] });
  });

  it("records errors with their message, cancellations, and the legacy deployment.ready", async () => {
    await send(event({ type: "deployment.created", at: T0 }));
    const failed = await send(event({ type: "deployment.error", at: T0 + 30_000, extra: { errorMessage: 'Command "next build" exited with 1' } }));
    expect(failed.body).toMatchObject({ recorded: true, status: "error", duration_ms: 30_000 });
    expect((await current())!.error_msg).toBe('Vercel deployment dpl_1 failed: Command "next build" exited with 1');

    // A redeploy of the same commit: a new build, then canceled.
    await send(event({ type: "deployment.created", at: T0 + 100_000, deploymentId: "dpl_2", url: "muse-site-2.vercel.app" }));
    expect(await current()).toMatchObject({ status: "building", vercel_deployment_id: "dpl_2", url: "https://muse-site-2.vercel.app", error_msg: "" });
    await send(event({ type: "deployment.canceled", at: T0 + 110_000, deploymentId: "dpl_2" }));
    expect(await current()).toMatchObject({ status: "canceled", duration_ms: 10_000 });

    // And once more, finishing with the legacy event name.
    await send(event({ type: "deployment.created", at: T0 + 200_000, deploymentId: "dpl_3" }));
    const ready = await send(event({ type: "deployment.ready", at: T0 + 245_000, deploymentId: "dpl_3", url: "https://muse-site-3.vercel.app" }));
    expect(ready.body).toMatchObject({ status: "ready", duration_ms: 45_000 });
    expect(await current()).toMatchObject({ status: "ready", vercel_deployment_id: "dpl_3", url: "https://muse-site-3.vercel.app" });
  });

  it("keeps the later state when events arrive out of order, filling in the duration from a late created event", async () => {
    await send(event({ id: "evt_ok", type: "deployment.succeeded", at: T0 + 90_000 }));
    expect(await current()).toMatchObject({ status: "ready", duration_ms: 0 });
    const late = await send(event({ id: "evt_created", type: "deployment.created", at: T0 }));
    expect(late.body).toMatchObject({ recorded: true, status: "ready", duration_ms: 90_000 });
    expect(await current()).toMatchObject({ status: "ready", duration_ms: 90_000, events_seen: ["evt_ok", "evt_created"] });
    // An older error for it changes nothing.
    const stale = await send(event({ type: "deployment.error", at: T0 + 1_000 }));
    expect(stale.body).toMatchObject({ recorded: false, reason: "stale" });
    expect((await current())!.status).toBe("ready");
  });

  it("acknowledges unknown event types and deployments without a commit, recording nothing", async () => {
    const before = await versions();
    const promoted = await send(event({ type: "deployment.promoted", at: T0 }));
    expect(promoted).toMatchObject({ status: 200, body: { recorded: false, ignored: expect.stringMatching(/deployment.promoted/) } });
    const project = await send({ id: "evt_p", type: "project.created", createdAt: T0, payload: { project: { id: "prj" } } });
    expect(project.status).toBe(200);
    const cli = await send(event({ type: "deployment.created", at: T0, commit: null }));
    expect(cli).toMatchObject({ status: 200, body: { recorded: false, ignored: expect.stringMatching(/no Git commit/) } });
    expect(await versions()).toBe(before);
  });

  it("records a deployment Muse did not start (a code push) as external, from its first event on", async () => {
    const created = await send(event({ id: "evt_ext_1", type: "deployment.created", at: T0, commit: OTHER_COMMIT, deploymentId: "dpl_push" }));
    expect(created).toMatchObject({ status: 200, body: { recorded: true, status: "building", commit_sha: OTHER_COMMIT } });
    const done = await send(event({ id: "evt_ext_2", type: "deployment.succeeded", at: T0 + 60_000, commit: OTHER_COMMIT, deploymentId: "dpl_push" }));
    expect(done.body).toMatchObject({ recorded: true, status: "ready", duration_ms: 60_000 });
    expect(await current(OTHER_COMMIT)).toMatchObject({
      origin: "external",
      status: "ready",
      vercel_deployment_id: "dpl_push",
      events_seen: ["evt_ext_1", "evt_ext_2"],
    });
    // Counted with its origin, so the KPI (origin:muse) leaves it out.
    expect(done.deps.metrics.recorded.filter((m) => m.name === "muse.publish.deployments")).toEqual([
      { kind: "count", name: "muse.publish.deployments", value: 1, tags: { status: "ready", origin: "external" } },
    ]);
    // Muse's own deployment is untouched, and keeps its origin.
    expect(await current()).toMatchObject({ origin: "muse", status: "pending" });
    // A redelivery changes nothing.
    expect(
      (await send(event({ id: "evt_ext_2", type: "deployment.succeeded", at: T0 + 60_000, commit: OTHER_COMMIT, deploymentId: "dpl_push" }))).body,
    ).toMatchObject({
      recorded: false,
      reason: "duplicate",
    });
  });

  it("answers 400 to a signed body that is not a deployment event", async () => {
    expect((await send("not json")).status).toBe(400);
    const noId = await send({ type: "deployment.created", createdAt: T0, payload: {} });
    expect(noId.status).toBe(400);
    expect(noId.body.error).toMatch(/id/);
    const noDeployment = await send({ id: "evt_x", type: "deployment.created", createdAt: T0, payload: {} });
    expect(noDeployment.status).toBe(400);
    expect(noDeployment.body.error).toMatch(/payload\.deployment/);
    expect(await versions()).toBe(1);
  });
});

describe("POST /api/webhooks/vercel under attack and under load", () => {
  /** A chunked body (no Content-Length) of `total` bytes, counting what the handler pulls. */
  function chunkedBody(total: number) {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    return { stream, pulled: () => pulled };
  }
  const post = (body: ReadableStream<Uint8Array>, headers: Record<string, string>) =>
    handleVercelWebhook(
      new Request("http://localhost/api/webhooks/vercel", {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
        duplex: "half",
      } as RequestInit),
      () => makeDeps(),
    );

  it("never buffers a chunked body past the 1 MiB cap, and reads none of an unsigned one", async () => {
    const signed = chunkedBody(64 * 1024 * 1024);
    const res = await post(signed.stream, { "x-vercel-signature": "0".repeat(40) });
    expect(res.status).toBe(413);
    expect(signed.pulled()).toBeLessThanOrEqual(1024 * 1024 + 2 * 64 * 1024);

    const unsigned = chunkedBody(64 * 1024 * 1024);
    expect((await post(unsigned.stream, {})).status).toBe(401);
    expect(unsigned.pulled()).toBeLessThanOrEqual(2 * 64 * 1024);
  });

  it("concurrent deliveries for one commit lose no event and no duration", async () => {
    const commits = Array.from({ length: 6 }, (_, i) => `${i}`.repeat(40).slice(0, 40).replace(/^./, "e"));
    await t.db.insert(
      "deployments",
      commits.map((commitSha) => pendingDeploymentRow({ at: new Date(T0 - 5_000), runId: publishRunId, episodeRunId, commitSha })),
    );
    await Promise.all(
      commits.flatMap((commit, i) => [
        send(event({ id: `evt_created_${i}`, type: "deployment.created", at: T0, commit })),
        send(event({ id: `evt_ready_${i}`, type: "deployment.succeeded", at: T0 + 60_000, commit })),
      ]),
    );
    for (const [i, commit] of commits.entries()) {
      const row = (await current(commit))!;
      expect({ commit, status: row.status, duration_ms: row.duration_ms, events: [...row.events_seen].sort() }).toEqual({
        commit,
        status: "ready",
        duration_ms: 60_000,
        events: [`evt_created_${i}`, `evt_ready_${i}`],
      });
    }
  });
});

describe("POST /api/revalidate", () => {
  const ADMIN = "admin-token-for-revalidate-tests";
  const request = (token?: string) =>
    new Request("http://localhost/api/revalidate", { method: "POST", headers: token ? { Authorization: `Bearer ${token}` } : {} });
  afterAll(() => {
    delete process.env.MUSE_ADMIN_TOKEN;
    resetEnvCache();
  });

  it("is closed (503) without MUSE_ADMIN_TOKEN, 401 with a wrong token, and revalidates the root layout with the right one", async () => {
    delete process.env.MUSE_ADMIN_TOKEN;
    resetEnvCache();
    const closed = await revalidateRoute(request("anything"));
    expect(closed.status).toBe(503);
    expect((await closed.json()).error).toMatch(/MUSE_ADMIN_TOKEN/);

    process.env.MUSE_ADMIN_TOKEN = ADMIN;
    resetEnvCache();
    expect((await handleRevalidate(request("wrong"), () => {})).status).toBe(401);
    expect((await handleRevalidate(request(), () => {})).status).toBe(401);

    let calls = 0;
    const ok = await handleRevalidate(request(ADMIN), () => {
      calls += 1;
    });
    expect(ok.status).toBe(200);
    const body = await ok.json();
    expect(body).toMatchObject({ revalidated: true });
    expect(typeof body.now).toBe("number");
    expect(calls).toBe(1);

    // Outside a Next.js request (here) revalidatePath itself refuses: reported, not thrown.
    const outside = await revalidateRoute(request(ADMIN));
    expect(outside.status).toBe(500);
    expect((await outside.json()).error).toMatch(/revalidation failed/);
  });
});
