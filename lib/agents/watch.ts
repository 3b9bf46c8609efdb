import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { watcherRunRow, type WatcherRunRow } from "../clickhouse/tables";
import type { UpstreamRepo } from "../upstream/types";
import type { AgentDefinition, AgentDeps, AgentResult, RunContext } from "./types";

/**
 * watch: data freshness per source against the latest upstream commit.
 *
 * For each source: the latest commit upstream, the rows ingested for it
 * (bench_runs for Banterhearts, ui_events for Banterpacks) and the newest of
 * their timestamps. lag = now (UTC) − that newest row. A source is
 * - valid     when it has rows for its latest commit and lag ≤ its threshold;
 * - degraded  when it has no rows for its latest commit, or lag > threshold;
 * - error     when upstream or ClickHouse cannot be read.
 * The run's verdict is the worst source's. All times are UTC epoch arithmetic,
 * so the machine's time zone never matters.
 */

export const watchOptions = z.object({}).strict();

export type WatcherStatus = "valid" | "degraded" | "error";
export type SourceName = "banterhearts" | "banterpacks";

export interface SourceFreshness {
  source: SourceName;
  status: WatcherStatus;
  latest_commit: string;
  latest_commit_ts: string | null;
  rows_found: number;
  newest_row_ts: string | null;
  lag_seconds: number | null;
  threshold_seconds: number;
  reason?: string;
}

export interface WatchSummary extends Record<string, unknown> {
  verdict: WatcherStatus;
  sources: SourceFreshness[];
  reasons: string[];
}

/**
 * Rows of the latest commit, bounded by time: rows for a commit cannot predate
 * it (less a margin for clocks: a report is written before its commit, an
 * overlay's clock may lag), so daily partitions before that are skipped, and
 * within the rest the commit_sha bloom filter (sql/007) skips granules. The
 * unbounded form read all of ui_events, every 10 minutes.
 */
export const ROWS_FOR_COMMIT: Record<SourceName, string> = {
  banterhearts: `SELECT count() AS rows, max(ts) AS newest FROM bench_runs FINAL WHERE commit_sha = {sha:FixedString(40)} AND ts >= {since:DateTime64(3, 'UTC')}`,
  banterpacks: `SELECT count() AS rows, max(ts) AS newest FROM ui_events FINAL WHERE commit_sha = {sha:FixedString(40)} AND ts >= {since:DateTime64(3, 'UTC')}`,
};
/** How long before its commit's timestamp a row of that commit may be dated. */
export const ROWS_BEFORE_COMMIT_MS: Record<SourceName, number> = { banterhearts: 7 * 86_400_000, banterpacks: 86_400_000 };

/** The lower time bound of the rows-for-commit query, as a DateTime64 parameter (`YYYY-MM-DD hh:mm:ss.sss`, UTC). */
export function rowsSince(source: SourceName, commitTs: string): string {
  const ms = Date.parse(commitTs);
  return new Date(Math.max(0, (Number.isNaN(ms) ? 0 : ms) - ROWS_BEFORE_COMMIT_MS[source])).toISOString().replace("T", " ").replace("Z", "");
}
const rowsForCommit = z.object({ rows: z.coerce.number(), newest: z.string() });

const SEVERITY: Record<WatcherStatus, number> = { valid: 0, degraded: 1, error: 2 };
export const worst = (statuses: WatcherStatus[]): WatcherStatus =>
  statuses.reduce<WatcherStatus>((a, b) => (SEVERITY[b] > SEVERITY[a] ? b : a), "valid");

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0].slice(0, 300);
}

export async function checkSource(db: Db, repo: UpstreamRepo, thresholdSeconds: number, now: Date): Promise<SourceFreshness> {
  const source = repo.name;
  const base = { source, latest_commit: "", latest_commit_ts: null, rows_found: 0, newest_row_ts: null, lag_seconds: null, threshold_seconds: thresholdSeconds };
  let latest: { sha: string; ts: string } | undefined;
  try {
    latest = await repo.latestCommit();
  } catch (error) {
    return { ...base, status: "error", reason: `${source}: upstream unreachable (${errorText(error)})` };
  }
  if (!latest) return { ...base, status: "degraded", reason: `${source}: the repository has no commits` };

  let found: z.infer<typeof rowsForCommit>;
  try {
    [found] = await db.query(ROWS_FOR_COMMIT[source], { sha: latest.sha, since: rowsSince(source, latest.ts) }, rowsForCommit);
  } catch (error) {
    return { ...base, latest_commit: latest.sha, latest_commit_ts: latest.ts, status: "error", reason: `${source}: ClickHouse unreachable (${errorText(error)})` };
  }
  const withCommit = { ...base, latest_commit: latest.sha, latest_commit_ts: latest.ts, rows_found: found.rows };
  if (found.rows === 0) {
    return { ...withCommit, status: "degraded", reason: `${source}: no rows ingested yet for the latest commit ${latest.sha.slice(0, 7)}` };
  }
  const newestMs = Date.parse(found.newest);
  const lag = Math.max(0, Math.round((now.getTime() - newestMs) / 1000));
  const freshness = { ...withCommit, newest_row_ts: new Date(newestMs).toISOString(), lag_seconds: lag };
  if (lag > thresholdSeconds) {
    return { ...freshness, status: "degraded", reason: `${source}: newest row is ${formatDuration(lag)} old (threshold ${formatDuration(thresholdSeconds)})` };
  }
  return { ...freshness, status: "valid" };
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export async function watch(deps: AgentDeps, context: Pick<RunContext, "runId">): Promise<AgentResult<WatchSummary>> {
  const started = performance.now();
  const now = deps.clock.now();
  const [hearts, packs] = await Promise.all([
    checkSource(deps.db, deps.upstream.hearts, deps.env.MUSE_HEARTS_MAX_LAG_SECONDS, now),
    checkSource(deps.db, deps.upstream.packs, deps.env.MUSE_PACKS_MAX_LAG_SECONDS, now),
  ]);
  const sources = [hearts, packs];
  const verdict = worst(sources.map((s) => s.status));
  const reasons = sources.flatMap((s) => (s.reason ? [s.reason] : []));
  const row: WatcherRunRow = watcherRunRow.parse({
    ts: now.toISOString(),
    run_id: context.runId,
    hearts_commit: hearts.latest_commit,
    packs_commit: packs.latest_commit,
    hearts_rows_found: hearts.rows_found,
    packs_rows_found: packs.rows_found,
    hearts_newest_ts: hearts.newest_row_ts,
    packs_newest_ts: packs.newest_row_ts,
    hearts_lag_seconds: hearts.lag_seconds,
    packs_lag_seconds: packs.lag_seconds,
    lag_seconds: Math.max(0, ...sources.map((s) => s.lag_seconds ?? 0)),
    status: verdict,
    reasons,
    duration_ms: Math.round(performance.now() - started),
  });
  // If ClickHouse itself is down this insert fails and the run is recorded as
  // an error by the runner (there is nowhere to write the verdict).
  await deps.db.insert("watcher_runs", [row]);
  for (const s of sources) {
    if (s.lag_seconds !== null) deps.metrics.gauge("muse.watch.lag_seconds", s.lag_seconds, { source: s.source });
    deps.metrics.gauge("muse.watch.rows_found", s.rows_found, { source: s.source });
  }
  deps.metrics.count("muse.watch.status", 1, { status: verdict });
  return { status: "ok", summary: { verdict, sources, reasons } };
}

export const watchAgent: AgentDefinition<typeof watchOptions, WatchSummary> = {
  name: "watch",
  description: "data freshness per source against the latest upstream commits; gates the council",
  options: watchOptions,
  run: (_options, deps, context) => watch(deps, context),
};

/** The latest watcher verdict, for the council's gate. */
export const latestWatcherRun = z.object({ run_id: z.string(), ts: z.string(), status: z.enum(["valid", "degraded", "error"]), reasons: z.array(z.string()), lag_seconds: z.number() });
export type LatestWatcherRun = z.infer<typeof latestWatcherRun>;

export async function readLatestWatcherRun(db: Db): Promise<LatestWatcherRun | undefined> {
  return db.queryOne(
    `SELECT toString(run_id) AS run_id, ts, status, reasons, lag_seconds FROM watcher_runs FINAL ORDER BY ts DESC LIMIT 1`,
    {},
    latestWatcherRun,
  );
}
