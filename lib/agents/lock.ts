import { z } from "zod";
import type { Db } from "../clickhouse/client";

/**
 * A lease per agent so two runs never overlap. ClickHouse has no row locks,
 * so a run inserts its claim (timestamped by the server, so claims are ordered
 * the way they arrived) and then reads the live claims: the earliest live
 * claim holds the lease, the others back off. A crashed run never releases
 * its claim; the claim simply stops being live at `expires_at`.
 *
 * On replicated ClickHouse (Cloud, a cluster) the read must see the insert:
 * the client sends select_sequential_consistency (and quorum inserts on a
 * cluster) with every request, see `consistencySettings`. A run that cannot
 * see its own claim never assumes it holds the lease: that is an error.
 */

export class LockNotVisibleError extends Error {
  constructor(agent: string, runId: string) {
    super(
      `the lease claim of ${agent} run ${runId} is not visible right after its insert: reads reach a replica that lags; ` +
        "set CLICKHOUSE_DEPLOYMENT (cloud or cluster) so reads are sequentially consistent",
    );
    this.name = "LockNotVisibleError";
  }
}

export type LockOutcome = { acquired: true } | { acquired: false; holderRunId: string; holderSince: string };

const claimRow = z.object({ run_id: z.string(), acquired_at: z.string() });

export async function acquireAgentLock(db: Db, agent: string, runId: string, ttlSeconds: number): Promise<LockOutcome> {
  await db.command(
    `INSERT INTO agent_locks (agent, run_id, acquired_at, expires_at, released, updated_at)
     SELECT {agent:String}, {run_id:UUID}, now64(3), now64(3) + toIntervalSecond({ttl:UInt32}), 0, now64(3)`,
    { agent, run_id: runId, ttl: ttlSeconds },
  );
  const live = await db.query(
    `SELECT toString(run_id) AS run_id, acquired_at
       FROM agent_locks FINAL
      WHERE agent = {agent:String} AND released = 0 AND expires_at > now64(3)
      ORDER BY acquired_at, run_id
      LIMIT 100`,
    { agent },
    claimRow,
  );
  // Past 100 live claims this one may simply not be listed; below that, not seeing it means a lagging replica.
  if (!live.some((claim) => claim.run_id === runId) && live.length < 100) throw new LockNotVisibleError(agent, runId);
  const holder = live[0];
  if (holder.run_id === runId) return { acquired: true };
  await releaseAgentLock(db, agent, runId);
  return { acquired: false, holderRunId: holder.run_id, holderSince: holder.acquired_at };
}

export async function releaseAgentLock(db: Db, agent: string, runId: string): Promise<void> {
  // A newer version of the same (agent, run_id) row, marked released.
  await db.command(
    `INSERT INTO agent_locks (agent, run_id, acquired_at, expires_at, released, updated_at)
     SELECT agent, run_id, acquired_at, expires_at, 1, now64(3)
       FROM agent_locks FINAL
      WHERE agent = {agent:String} AND run_id = {run_id:UUID}`,
    { agent, run_id: runId },
  );
}
