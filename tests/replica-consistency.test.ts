import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireAgentLock, LockNotVisibleError } from "../lib/agents/lock";
import { consistencySettings, createDb, resolveDeployment, type ClickHouseDeployment, type Db } from "../lib/clickhouse/client";
import { pendingDeploymentRow } from "../lib/clickhouse/tables";
import { claimEpisodeNumber } from "../lib/council/numbering";
import { parseEnv } from "../lib/env";
import { handleVercelWebhook, vercelSignature } from "../lib/http/vercel-webhook";
import { EventStoreError, IdempotencyConflictError, ingestEvents, sha256Hex, validateEvents } from "../lib/ingest/events/ingest";
import { memoryLogger } from "../lib/log";
import { createMetrics } from "../lib/metrics";
import { startReplicaDouble, type ReplicaDouble, type ReplicaMode } from "./helpers/replica-double";

/**
 * Claim-then-read paths on a replicated ClickHouse (issue 14, item 1), against
 * a two-replica double whose second replica lags and answers every read
 * (tests/helpers/replica-double.ts). Each path is run with the deployment the
 * app is configured with ("cloud" or "cluster": the client sends ClickHouse's
 * consistency settings) and, as the control that proves the double lags, with
 * "single" (no settings): there the same paths go wrong.
 */

const NOW = new Date("2026-11-20T12:00:00.000Z");
const doubles = new Map<ReplicaMode, ReplicaDouble>();
const dbs: Db[] = [];

beforeAll(async () => {
  for (const mode of ["cloud", "cluster"] as const) doubles.set(mode, await startReplicaDouble(mode));
}, 120_000);
afterAll(async () => {
  for (const db of dbs) await db.close();
  for (const double of doubles.values()) await double.close();
});

function client(mode: ReplicaMode, deployment: ClickHouseDeployment): Db {
  const db = createDb(doubles.get(mode)!.config(deployment));
  dbs.push(db);
  return db;
}

function events(n: number, session: string) {
  const items = Array.from({ length: n }, (_, i) => ({
    ts: new Date(NOW.getTime() - 60_000 + i).toISOString(),
    session_id: session,
    commit_sha: "a".repeat(40),
    event_type: "overlay_shown",
    latency_ms: 10 + i,
  }));
  const result = validateEvents(items, NOW);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.events;
}

describe.each(["cloud", "cluster"] as const)("on a two-replica %s service whose second replica lags", (mode) => {
  it("the agent lease: of two runs, exactly one holds it", async () => {
    const db = client(mode, mode);
    const agent = `agent_${randomUUID().slice(0, 8)}`;
    const first = await acquireAgentLock(db, agent, randomUUID(), 60);
    const second = await acquireAgentLock(db, agent, randomUUID(), 60);
    expect(first).toEqual({ acquired: true });
    expect(second.acquired).toBe(false);
  });

  it("episode numbers: two councils get 1 and 2", async () => {
    const db = client(mode, mode);
    const series = `series_${randomUUID().slice(0, 8)}`;
    const a = await claimEpisodeNumber(db, series, randomUUID(), { settleMs: 0 });
    const b = await claimEpisodeNumber(db, series, randomUUID(), { settleMs: 0 });
    expect([a, b]).toEqual([1, 2]);
  });

  it("Idempotency-Key: the first request is written, a retry replays, another body is refused", async () => {
    const db = client(mode, mode);
    const key = `key-${randomUUID()}`;
    const batch = events(3, randomUUID());
    const first = await ingestEvents(db, batch, { idempotencyKey: key, bodySha256: sha256Hex("body-1"), now: NOW });
    expect(first).toEqual({ accepted: 3, replayed: false });
    const retry = await ingestEvents(db, batch, { idempotencyKey: key, bodySha256: sha256Hex("body-1"), now: NOW });
    expect(retry).toEqual({ accepted: 3, replayed: true });
    await expect(ingestEvents(db, batch, { idempotencyKey: key, bodySha256: sha256Hex("body-2"), now: NOW })).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it("deployment state: the webhook finds the row the publisher just recorded", async () => {
    const db = client(mode, mode);
    const commit = randomUUID().replace(/-/g, "").padEnd(40, "0").slice(0, 40);
    await db.insert("deployments", [
      pendingDeploymentRow({ at: new Date(NOW.getTime() - 5_000), runId: randomUUID(), episodeRunId: randomUUID(), commitSha: commit }),
    ]);
    const response = await deliver(db, commit);
    expect(await response.json()).toMatchObject({ recorded: true, status: "building" });
  });
});

describe("control: the same paths without the consistency settings (CLICKHOUSE_DEPLOYMENT=single) on the lagging double", () => {
  it("the lease cannot see its own claim (and before the fix, both runs held it)", async () => {
    const db = client("cloud", "single");
    const before = doubles.get("cloud")!.staleReads;
    const agent = `agent_${randomUUID().slice(0, 8)}`;
    await expect(acquireAgentLock(db, agent, randomUUID(), 60)).rejects.toBeInstanceOf(LockNotVisibleError);
    expect(doubles.get("cloud")!.staleReads).toBeGreaterThan(before);
  });

  it("an Idempotency-Key claim that cannot be read back is a storage failure (503), not a conflict (422)", async () => {
    const db = client("cloud", "single");
    const attempt = ingestEvents(db, events(1, randomUUID()), { idempotencyKey: `key-${randomUUID()}`, bodySha256: sha256Hex("x"), now: NOW });
    await expect(attempt).rejects.toBeInstanceOf(EventStoreError);
  });

  it("the webhook misses the pending row", async () => {
    const db = client("cluster", "single");
    const commit = "e".repeat(8) + randomUUID().replace(/-/g, "");
    await db.insert("deployments", [
      pendingDeploymentRow({ at: new Date(NOW.getTime() - 5_000), runId: randomUUID(), episodeRunId: randomUUID(), commitSha: commit }),
    ]);
    // Not seeing Muse's pending row, nor then the event it appended, the webhook cannot record the event.
    const body = await (await deliver(db, commit)).json();
    expect(body).toMatchObject({ recorded: false, commit_sha: commit });
  });
});

describe("deployment settings", () => {
  it("resolve from the environment and carry ClickHouse's consistency settings", () => {
    expect(resolveDeployment("auto", undefined, undefined)).toBe("single");
    expect(resolveDeployment("auto", "https://abc123.eu-west-1.aws.clickhouse.cloud:8443", undefined)).toBe("cloud");
    expect(resolveDeployment("auto", "https://ch.internal:8443", "muse")).toBe("cluster");
    expect(resolveDeployment("single", "https://abc.clickhouse.cloud", undefined)).toBe("single");
    expect(parseEnv({ CLICKHOUSE_DEPLOYMENT: "" }).CLICKHOUSE_DEPLOYMENT).toBe("auto");
    expect(consistencySettings("single")).toEqual({});
    expect(consistencySettings("cloud")).toEqual({ select_sequential_consistency: "1" });
    expect(consistencySettings("cluster")).toEqual({ select_sequential_consistency: "1", insert_quorum: "auto", insert_quorum_parallel: 0 });
  });
});

async function deliver(db: Db, commit: string): Promise<Response> {
  const secret = "replica-webhook-secret";
  const body = JSON.stringify({
    id: `evt_${randomUUID().slice(0, 12)}`,
    type: "deployment.created",
    createdAt: NOW.getTime(),
    payload: { deployment: { id: "dpl_1", url: "muse.vercel.app", meta: { githubCommitSha: commit } } },
  });
  const request = new Request("http://muse.test/api/webhooks/vercel", {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-vercel-signature": vercelSignature(secret, body) },
  });
  const log = memoryLogger();
  return handleVercelWebhook(request, () => ({
    db,
    env: parseEnv({ VERCEL_WEBHOOK_SECRET: secret }),
    log,
    metrics: createMetrics({ apiUrl: "http://127.0.0.1:9", baseTags: [], log }),
    clock: { now: () => NOW },
  }));
}
