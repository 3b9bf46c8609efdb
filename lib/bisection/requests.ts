import { randomUUID } from "node:crypto";
import { z } from "zod";
import { dateTime64Param, type Db } from "../clickhouse/client";
import { benchRequestRow, timestamp, BENCH_REQUEST_STATUSES, type BenchRequestRow, type BenchRequestStatus } from "../clickhouse/tables";
import { commitSha, requestId } from "../ingest/reports/schemas";

/**
 * Benchmark requests for bisection (docs/schema.md, docs/api.md): extra runs
 * at commits inside a range where a benchmark changed. The bisection logic
 * decides which runs to ask for (putRequests); runners fetch the pending ones,
 * claim one, and answer it with a report (POST /api/ingest/bench with the
 * request id: markRequestsDone) or with "cannot run" (answerCannotRun, like
 * `git bisect skip`); without a self-hosted runner a GitHub workflow is
 * dispatched per request (lib/bisection/dispatch.ts).
 *
 * `bench_requests` holds one row per request id, rewritten with a newer
 * `updated_at` on every change (read FINAL). A change is an INSERT … SELECT of
 * the current row, guarded by its status, with `updated_at` at least 1 ms past
 * the row's: versions only grow, whatever the injected clock says.
 *
 * Claims copy lib/agents/lock.ts: ClickHouse has no row locks, so a runner
 * inserts a claim into `bench_request_claims` (stamped by the server, so claims
 * are ordered as they arrived) and reads the request's live claims back: the
 * earliest live claim holds the request. A losing claim is withdrawn at once
 * (a second row, `released = 1`) so it never blocks the request once the
 * winner's lease ends. Every time in the logic is the caller's `now`.
 */

export { benchRequestRow, BENCH_REQUEST_STATUSES, type BenchRequestRow, type BenchRequestStatus };

export interface BenchSelector {
  benchmark_type: string;
  model: string;
  quant: string;
  variant: string;
  dataset: string;
  device: string;
}

export interface NewBenchRequest extends BenchSelector {
  request_id: string;
  event_id: string;
  commit_sha: string;
  repeats: number;
  reason: string;
  requested_at: Date;
  expires_at: Date;
}

export const MAX_REPEATS = 100;
export const DEFAULT_PENDING_LIMIT = 50;
export const MAX_PENDING_LIMIT = 500;
export const MAX_LEASE_SECONDS = 7 * 86_400;

const label = z.string().trim().min(1, "must not be empty").max(200, "at most 200 characters");

export const newBenchRequest = z
  .object({
    request_id: requestId,
    event_id: label,
    commit_sha: commitSha,
    benchmark_type: label,
    model: label,
    quant: label,
    variant: label,
    dataset: label,
    device: label,
    repeats: z.int().min(1).max(MAX_REPEATS),
    reason: z.string().max(2_000),
    requested_at: z.date(),
    expires_at: z.date(),
  })
  .refine((r) => r.expires_at.getTime() > r.requested_at.getTime(), { message: "expires_at must be after requested_at", path: ["expires_at"] });

/** A request refused by putRequests (names the request and the field). */
export class BenchRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BenchRequestError";
  }
}

/** A runner's claim that cannot be read back right after its insert: reads reach a lagging replica. */
export class ClaimNotVisibleError extends Error {
  constructor(id: string) {
    super(
      `the claim of bench request ${id} is not visible right after its insert: reads reach a replica that lags; ` +
        "set CLICKHOUSE_DEPLOYMENT (cloud or cluster) so reads are sequentially consistent",
    );
    this.name = "ClaimNotVisibleError";
  }
}

const COLUMNS = [
  "request_id",
  "event_id",
  "commit_sha",
  "benchmark_type",
  "model",
  "quant",
  "variant",
  "dataset",
  "device",
  "repeats",
  "reason",
  "status",
  "claimed_by",
  "lease_until",
  "answer",
  "dispatched_at",
  "requested_at",
  "expires_at",
  "updated_at",
] as const;
type Column = (typeof COLUMNS)[number];

const SELECT_ROW = COLUMNS.join(", ");
const NOW = "{now:DateTime64(3, 'UTC')}";
/** A newer version than the row's, at `now` when the clock allows. */
const NEXT_VERSION = `greatest(${NOW}, updated_at + toIntervalMillisecond(1))`;
/** Open: pending, or claimed (live lease or not), and not past expires_at. */
const OPEN = `status IN ('pending', 'claimed') AND expires_at > ${NOW}`;

/**
 * Writes a new version of the rows `where` selects: `set` maps columns to SQL
 * expressions (constants and parameters only); the others are copied.
 */
async function rewrite(db: Db, set: Partial<Record<Column, string>>, where: string, params: Record<string, unknown>): Promise<void> {
  const select = COLUMNS.map((c) => set[c] ?? c).join(", ");
  await db.command(`INSERT INTO bench_requests (${SELECT_ROW}) SELECT ${select} FROM bench_requests FINAL WHERE ${where}`, params);
}

/** The status a row has at `now`: past expires_at it is expired; a claim whose lease ended is pending again. */
export function effectiveStatus(row: BenchRequestRow, now: Date): BenchRequestStatus {
  const t = now.getTime();
  if ((row.status === "pending" || row.status === "claimed") && Date.parse(row.expires_at) <= t) return "expired";
  if (row.status === "claimed" && (row.lease_until === null || Date.parse(row.lease_until) <= t)) return "pending";
  return row.status;
}

async function getRequest(db: Db, id: string): Promise<BenchRequestRow | undefined> {
  return db.queryOne(`SELECT ${SELECT_ROW} FROM bench_requests FINAL WHERE request_id = {id:String}`, { id }, benchRequestRow);
}

/** Idempotent: a request id already stored (any status) is left untouched. Returns the ids newly created. */
export async function putRequests(db: Db, requests: NewBenchRequest[]): Promise<string[]> {
  const valid = requests.map((r, i) => {
    const parsed = newBenchRequest.safeParse(r);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BenchRequestError(`bench request ${i} (${JSON.stringify(r.request_id)}): ${issue.path.join(".") || "(request)"}: ${issue.message}`);
    }
    return parsed.data;
  });
  // The first of one id in the batch counts.
  const unique = [...new Map(valid.reverse().map((r) => [r.request_id, r])).values()].reverse();
  if (unique.length === 0) return [];
  const ids = unique.map((r) => r.request_id);
  const stored = new Set(
    (
      await db.query("SELECT DISTINCT request_id FROM bench_requests WHERE request_id IN {ids:Array(String)}", { ids }, z.object({ request_id: z.string() }))
    ).map((r) => r.request_id),
  );
  const fresh = unique.filter((r) => !stored.has(r.request_id));
  // The first version is dated requested_at, so every later change (a newer version) wins over a racing duplicate put.
  await db.insert(
    "bench_requests",
    fresh.map((r) => ({
      ...r,
      status: "pending",
      claimed_by: "",
      lease_until: null,
      answer: "",
      dispatched_at: null,
      requested_at: r.requested_at.toISOString(),
      expires_at: r.expires_at.toISOString(),
      updated_at: r.requested_at.toISOString(),
    })),
  );
  return fresh.map((r) => r.request_id);
}

export interface RequestFilter {
  /** Statuses as of `now` when it is given (expired, lease ended → pending), else as stored. */
  status?: BenchRequestStatus[];
  eventIds?: string[];
  ids?: string[];
  /** With it, each row's status is its effective status at this time (effectiveStatus). */
  now?: Date;
  /** At most this many rows (default 10,000), by requested_at. */
  limit?: number;
}

/** Requests by id, event or status, oldest first. */
export async function listRequests(db: Db, filter: RequestFilter): Promise<BenchRequestRow[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: Math.max(1, Math.min(filter.limit ?? 10_000, 100_000)) };
  if (filter.ids) {
    where.push("request_id IN {ids:Array(String)}");
    params.ids = filter.ids;
  }
  if (filter.eventIds) {
    where.push("event_id IN {events:Array(String)}");
    params.events = filter.eventIds;
  }
  // Stored statuses are filtered in SQL only when they are the ones asked about.
  if (filter.status && !filter.now) {
    where.push("status IN {statuses:Array(String)}");
    params.statuses = filter.status;
  }
  const rows = await db.query(
    `SELECT ${SELECT_ROW} FROM bench_requests FINAL
      ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY requested_at, request_id
      LIMIT {limit:UInt32}`,
    params,
    benchRequestRow,
  );
  const now = filter.now;
  if (!now) return rows;
  const effective = rows.map((r) => ({ ...r, status: effectiveStatus(r, now) }));
  return filter.status ? effective.filter((r) => filter.status!.includes(r.status)) : effective;
}

/** Marks requests past expires_at that were never answered as `expired` (a newer version of each). */
export async function expireRequests(db: Db, now: Date): Promise<void> {
  await rewrite(db, { status: "'expired'", updated_at: NEXT_VERSION }, `status IN ('pending', 'claimed') AND expires_at <= ${NOW}`, {
    now: dateTime64Param(now),
  });
}

/**
 * Pending (or claimed with an expired lease) and not past expires_at, oldest
 * first. Requests past expires_at are marked `expired` on the way (lazily).
 */
export async function pendingRequests(db: Db, now: Date, limit = DEFAULT_PENDING_LIMIT): Promise<BenchRequestRow[]> {
  await expireRequests(db, now);
  const rows = await db.query(
    `SELECT ${SELECT_ROW} FROM bench_requests FINAL
      WHERE ${OPEN} AND (status = 'pending' OR lease_until IS NULL OR lease_until <= ${NOW})
      ORDER BY requested_at, request_id
      LIMIT {limit:UInt32}`,
    { now: dateTime64Param(now), limit: Math.max(1, Math.min(limit, MAX_PENDING_LIMIT)) },
    benchRequestRow,
  );
  return rows.map((r) => ({ ...r, status: effectiveStatus(r, now) }));
}

export type ClaimOutcome = { ok: true; request: BenchRequestRow } | { ok: false; reason: "not_found" | "taken" | "closed" };

const liveClaim = z.object({ claim_id: z.string(), runner: z.string(), claimed_at: timestamp });

/** Two runners racing for one request: exactly one gets it (earliest claim by server time while its lease is live). */
export async function claimRequest(db: Db, id: string, runner: string, now: Date, leaseSeconds: number): Promise<ClaimOutcome> {
  if (!requestId.safeParse(id).success) return { ok: false, reason: "not_found" };
  if (!Number.isFinite(leaseSeconds) || leaseSeconds <= 0 || leaseSeconds > MAX_LEASE_SECONDS) {
    throw new RangeError(`leaseSeconds must be in (0, ${MAX_LEASE_SECONDS}]`);
  }
  const current = await getRequest(db, id);
  if (!current) return { ok: false, reason: "not_found" };
  const status = effectiveStatus(current, now);
  if (status !== "pending" && status !== "claimed") return { ok: false, reason: "closed" };
  if (status === "claimed" && current.claimed_by !== runner) return { ok: false, reason: "taken" };

  const claimId = randomUUID();
  const leaseUntil = dateTime64Param(new Date(now.getTime() + Math.round(leaseSeconds * 1000)));
  const params = { id, claim: claimId, runner, lease: leaseUntil, now: dateTime64Param(now) };
  await db.command(
    `INSERT INTO bench_request_claims (request_id, claim_id, runner, claimed_at, lease_until, released)
     SELECT {id:String}, {claim:UUID}, {runner:String}, now64(3), {lease:DateTime64(3, 'UTC')}, 0`,
    params,
  );
  const live = await db.query(
    `SELECT toString(claim_id) AS claim_id, runner, claimed_at
       FROM bench_request_claims
      WHERE request_id = {id:String} AND lease_until > ${NOW} AND released = 0
        AND claim_id NOT IN (SELECT claim_id FROM bench_request_claims WHERE request_id = {id:String} AND released = 1)
      ORDER BY claimed_at, claim_id
      LIMIT 100`,
    params,
    liveClaim,
  );
  if (!live.some((c) => c.claim_id === claimId) && live.length < 100) throw new ClaimNotVisibleError(id);
  if (live[0].runner !== runner) {
    await withdrawClaim(db, id, claimId, runner);
    return { ok: false, reason: "taken" };
  }
  await rewrite(
    db,
    { status: "'claimed'", claimed_by: "{runner:String}", lease_until: "{lease:DateTime64(3, 'UTC')}", updated_at: NEXT_VERSION },
    `request_id = {id:String} AND ${OPEN}`,
    params,
  );
  const after = await getRequest(db, id);
  if (!after || after.status !== "claimed" || after.claimed_by !== runner) return { ok: false, reason: "closed" };
  return { ok: true, request: after };
}

/** A losing claim, withdrawn: a second row for it with released = 1 (the table keeps every row). */
async function withdrawClaim(db: Db, id: string, claimId: string, runner: string): Promise<void> {
  await db.command(
    `INSERT INTO bench_request_claims (request_id, claim_id, runner, claimed_at, lease_until, released)
     SELECT {id:String}, {claim:UUID}, {runner:String}, now64(3), now64(3), 1`,
    { id, claim: claimId, runner },
  );
}

/**
 * A runner cannot run a request (the commit does not build, the device is
 * missing…): like `git bisect skip`, the bisection moves past that commit. A
 * request another runner holds (live lease) is `taken`; a done, expired or
 * already answered one is `closed` (the same answer again by the same runner
 * is accepted, so a retry is safe).
 */
export async function answerCannotRun(db: Db, id: string, runner: string, answer: string, now: Date): Promise<ClaimOutcome> {
  if (!requestId.safeParse(id).success) return { ok: false, reason: "not_found" };
  const current = await getRequest(db, id);
  if (!current) return { ok: false, reason: "not_found" };
  const status = effectiveStatus(current, now);
  if (status === "cannot_run" && current.claimed_by === runner && current.answer === answer) return { ok: true, request: current };
  if (status !== "pending" && status !== "claimed") return { ok: false, reason: "closed" };
  if (status === "claimed" && current.claimed_by !== runner) return { ok: false, reason: "taken" };
  await rewrite(
    db,
    { status: "'cannot_run'", claimed_by: "{runner:String}", answer: "{answer:String}", updated_at: NEXT_VERSION },
    `request_id = {id:String} AND ${OPEN}`,
    { id, runner, answer, now: dateTime64Param(now) },
  );
  const after = await getRequest(db, id);
  if (!after || after.status !== "cannot_run" || after.claimed_by !== runner) return { ok: false, reason: "closed" };
  return { ok: true, request: after };
}

export interface DoneOutcome {
  /** Requests now done (including those that were done already). */
  done: string[];
  /** Ids no request has: reported, never fatal (a run for a request Muse never made, or a typo). */
  unknown: string[];
}

/**
 * Called by ingest when a run arrives with a request id: the request is done,
 * whatever its status was (the run's rows exist, even past expires_at).
 * Unknown ids are reported, not fatal.
 */
export async function markRequestsDone(db: Db, ids: string[], now: Date): Promise<DoneOutcome> {
  const wanted = [...new Set(ids)].filter((id) => requestId.safeParse(id).success);
  const invalid = [...new Set(ids)].filter((id) => !wanted.includes(id));
  if (wanted.length === 0) return { done: [], unknown: invalid };
  const params = { ids: wanted, now: dateTime64Param(now) };
  const known = new Set(
    (
      await db.query("SELECT DISTINCT request_id FROM bench_requests WHERE request_id IN {ids:Array(String)}", params, z.object({ request_id: z.string() }))
    ).map((r) => r.request_id),
  );
  if (known.size > 0) {
    await rewrite(db, { status: "'done'", lease_until: "NULL", updated_at: NEXT_VERSION }, "request_id IN {ids:Array(String)} AND status != 'done'", params);
  }
  return { done: wanted.filter((id) => known.has(id)), unknown: [...invalid, ...wanted.filter((id) => !known.has(id))] };
}

/** Runs requested per UTC day (sum of repeats of requests made that day): for the per-day budget. */
export async function runsRequestedOn(db: Db, day: Date): Promise<number> {
  const start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
  const end = new Date(start.getTime() + 86_400_000);
  const row = await db.queryOne(
    `SELECT sum(repeats) AS runs FROM bench_requests FINAL
      WHERE requested_at >= {start:DateTime64(3, 'UTC')} AND requested_at < {end:DateTime64(3, 'UTC')}`,
    { start: dateTime64Param(start), end: dateTime64Param(end) },
    z.object({ runs: z.coerce.number() }),
  );
  return row?.runs ?? 0;
}

/** Records that a GitHub workflow dispatch went out for these requests (once: a set dispatched_at stays). */
export async function markDispatched(db: Db, ids: string[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await rewrite(db, { dispatched_at: NOW, updated_at: NEXT_VERSION }, "request_id IN {ids:Array(String)} AND dispatched_at IS NULL", {
    ids: [...new Set(ids)],
    now: dateTime64Param(now),
  });
}

/** Pending requests no workflow was dispatched for yet, oldest first (lib/bisection/dispatch.ts). */
export async function undispatchedRequests(db: Db, now: Date, limit = DEFAULT_PENDING_LIMIT): Promise<BenchRequestRow[]> {
  return db.query(
    `SELECT ${SELECT_ROW} FROM bench_requests FINAL
      WHERE status = 'pending' AND expires_at > ${NOW} AND dispatched_at IS NULL
      ORDER BY requested_at, request_id
      LIMIT {limit:UInt32}`,
    { now: dateTime64Param(now), limit: Math.max(1, Math.min(limit, MAX_PENDING_LIMIT)) },
    benchRequestRow,
  );
}
