import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as postEvents } from "../../app/api/ingest/events/route";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Db } from "../../lib/clickhouse/client";
import { createDlq } from "../../lib/dlq";
import { sha256Hex } from "../../lib/ingest/events/ingest";
import { migratedDatabase, startClickHouseChild, type ClickHouseChild } from "./helpers/clickhouse-child";
import { setEnv } from "../helpers/env";
import { expectEventsExactlyOnce } from "./helpers/exactly-once";
import { Gen, HARDENING_SEED } from "./helpers/gen";
import { serveRoutes, type RouteServer } from "./helpers/http";
import { report } from "./helpers/leaks";
import { HARDENING_SECRETS } from "./helpers/setup";

/**
 * Load: HARDENING_LOAD_REQUESTS (default 10,000) POST /api/ingest/events
 * requests of 1-4 events over loopback HTTP (a node:http server around the
 * real route handler), from LOAD_CLIENTS concurrent clients, with retries as
 * real clients make them: the same body again with its Idempotency-Key (some
 * while the first attempt is still in flight), the same body again without a
 * key, and a few keys reused with another body (422, nothing written). Then
 * ClickHouse must hold every accepted event exactly once: each event carries a
 * unique `uid` in its metadata, so "exactly once" is checked on content, not on
 * the route's own id scheme.
 *
 * It runs against a ClickHouse of its own (a child process, like `npm run
 * clickhouse`): the local server runs one statement at a time, so sharing the
 * test run's server would make this suite and every other one wait on each other.
 */

const REQUESTS = Number(process.env.HARDENING_LOAD_REQUESTS ?? 10_000);
const CLIENTS = 8;
const SHA = "5".repeat(40);
const EVENT_TYPES = ["overlay.open", "query_submit", "query_result", "ui.click", "error"] as const;

interface Sent {
  uids: string[];
  key?: string;
  bodySha256: string;
  status: number;
  accepted?: number;
  queued?: boolean;
  replayed: boolean;
}

let dataDir: string;
let clickhouse: ClickHouseChild;
let db: Db;
let server: RouteServer;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "muse-hardening-load-"));
  clickhouse = await startClickHouseChild({ dataDir });
  const target = await migratedDatabase(clickhouse.url);
  db = target.db;
  await setEnv({ CLICKHOUSE_URL: clickhouse.url, CLICKHOUSE_DATABASE: target.config.database, MUSE_LOG_LEVEL: "info" });
  server = await serveRoutes({ "/api/ingest/events": postEvents });
});

afterAll(async () => {
  await server?.close();
  await setEnv({ CLICKHOUSE_URL: undefined, CLICKHOUSE_DATABASE: undefined });
  await db?.close();
  await clickhouse?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe(`load: ${REQUESTS} ingest requests from ${CLIENTS} clients (seed ${HARDENING_SEED})`, () => {
  it("stores every accepted event exactly once, whatever the retries", async () => {
    const gen = new Gen(HARDENING_SEED);
    const now = Date.now();
    let budget = REQUESTS;
    let nextBatch = 0;
    const results: Sent[] = [];
    const conflicts: Sent[] = [];
    const statuses = new Map<number, number>();

    const send = async (body: string, uids: string[], key?: string): Promise<Sent> => {
      const res = await fetch(`${server.url}/api/ingest/events`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${HARDENING_SECRETS.MUSE_INGEST_TOKEN}`,
          "content-type": "application/json",
          ...(key ? { "idempotency-key": key } : {}),
        },
        body,
      });
      const json = (await res.json()) as { accepted?: number; queued?: boolean };
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      return {
        uids,
        key,
        bodySha256: sha256Hex(body),
        status: res.status,
        accepted: json.accepted,
        queued: json.queued,
        replayed: res.headers.get("idempotent-replayed") === "true",
      };
    };

    const batch = (b: number, prefix = "u") => {
      const session = gen.uuid();
      const n = gen.int(1, 4);
      const uids = Array.from({ length: n }, (_, j) => `${prefix}${b}x${j}`);
      // Spread over 20 days: 20 daily partitions, as a real backlog would be.
      const base = now - gen.int(60, 20 * 86_400) * 1000;
      const events = uids.map((uid, j) => ({
        ts: new Date(base + j * 250).toISOString(),
        session_id: session,
        commit_sha: SHA,
        event_type: gen.pick(EVENT_TYPES),
        latency_ms: gen.int(0, 5_000),
        metadata: { uid, client: "load", step: j },
      }));
      return { body: JSON.stringify({ events }), uids };
    };

    const client = async () => {
      while (budget > 0) {
        budget -= 1;
        const b = nextBatch++;
        const { body, uids } = batch(b);
        const key = gen.chance(0.5) ? `load-${HARDENING_SEED}-${b}` : undefined;
        const roll = gen.next();
        if (key && roll < 0.04 && budget > 0) {
          // A client timeout: the retry goes out while the first attempt is still in flight.
          budget -= 1;
          results.push(...(await Promise.all([send(body, uids, key), send(body, uids, key)])));
        } else {
          results.push(await send(body, uids, key));
          if (roll < 0.12 && budget > 0) {
            // A retry after a lost answer: the identical body, with its key if it had one.
            budget -= 1;
            results.push(await send(body, uids, key));
          } else if (key && roll < 0.14 && budget > 0) {
            // A buggy client reusing a key for another batch: refused, nothing of it written.
            budget -= 1;
            const other = batch(b, "c");
            conflicts.push(await send(other.body, other.uids, key));
          }
        }
      }
    };

    const started = performance.now();
    await Promise.all(Array.from({ length: CLIENTS }, client));
    const seconds = (performance.now() - started) / 1000;
    const total = results.length + conflicts.length;
    report(
      `load: ${total} requests in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)} requests/s), statuses ${JSON.stringify(Object.fromEntries(statuses))}, ClickHouse peak RSS ${((clickhouse.peakRssBytes() ?? 0) / 2 ** 20).toFixed(0)} MiB`,
    );

    expect(total).toBe(REQUESTS);
    expect(server.thrown).toEqual([]);
    // Every request answered: 202 for the batches, 422 for the reused keys; nothing queued, nothing failed.
    expect(results.every((r) => r.status === 202 && r.accepted === r.uids.length && !r.queued)).toBe(true);
    expect(conflicts.every((r) => r.status === 422)).toBe(true);
    expect(results.some((r) => r.replayed)).toBe(true);
    expect(await createDlq({ dir: process.env.MUSE_DLQ_DIR }).depth()).toBe(0);

    await expectEventsExactlyOnce(db, new Set(results.flatMap((r) => r.uids)));
    // Every accepted key stands for the body that was accepted: its earliest claim is that body's.
    const accepted = new Map(results.flatMap((r) => (r.key ? [[r.key, r.bodySha256] as const] : [])));
    const claims = await db.query<{ key: string; first_body: string }>(
      "SELECT idempotency_key AS key, toString(argMin(body_sha256, (claimed_at, body_sha256))) AS first_body FROM ingest_key_claims GROUP BY key",
    );
    expect(new Map(claims.map((c) => [c.key, c.first_body]))).toEqual(accepted);
  }, 900_000);
});
