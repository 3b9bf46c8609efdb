import { z } from "zod";
import { dateTime64Param, type Db } from "../clickhouse/client";
import { ANY_EVENT_SQL, EVENTS_FOR_COMMIT_SQL, NEWEST_EVENT_SQL } from "../clickhouse/queries/ui-events";
import { watcherRunRow, type WatcherRunRow } from "../clickhouse/tables";
import type { UpstreamRepo } from "../upstream/types";
import { isTransient } from "./runner";
import { TransientError, type AgentDefinition, type AgentDeps, type AgentResult, type RunContext } from "./types";
import { messageOf } from "../error-message";

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
 *
 * A run whose verdict is error has not checked anything: after recording the
 * verdict (watcher_runs, muse.watch.status) it fails, so the runner records
 * it as an error (muse.watch.runs{status:error}, the watcher-success KPI) and
 * retries it when the cause was transient. watcher_runs keeps one row per run
 * (ReplacingMergeTree by run_id): the last attempt's verdict.
 *
 * The freshness gauge muse.watch.lag_seconds is emitted for every source that
 * could be read, also when its latest commit has no rows yet: then it is the
 * age of the source's newest row of any commit (or, with no rows at all, the
 * age of the latest commit), so data that stopped arriving keeps aging on the
 * monitor instead of vanishing from it.
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
  /**
   * The freshness gauge's value: lag_seconds when the latest commit has rows;
   * else the age of the source's newest row (any commit; at least a week when
   * none is that recent), or of the latest commit when the source has no rows.
   * Null only when nothing could be read.
   */
  data_age_seconds: number | null;
  threshold_seconds: number;
  reason?: string;
  /** An error verdict whose cause may pass (network, 5xx): the run is retried. */
  transient?: boolean;
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
  banterpacks: EVENTS_FOR_COMMIT_SQL,
};
/** How long before its commit's timestamp a row of that commit may be dated. */
export const ROWS_BEFORE_COMMIT_MS: Record<SourceName, number> = { banterhearts: 7 * 86_400_000, banterpacks: 86_400_000 };

/** The lower time bound of the rows-for-commit query, as a DateTime64 parameter (`YYYY-MM-DD hh:mm:ss.sss`, UTC). */
export function rowsSince(source: SourceName, commitTs: string): string {
  const ms = Date.parse(commitTs);
  return dateTime64Param(new Date(Math.max(0, (Number.isNaN(ms) ? 0 : ms) - ROWS_BEFORE_COMMIT_MS[source])));
}
const rowsForCommit = z.object({ rows: z.coerce.number(), newest: z.string() });
/**
 * The newest row of a source, any commit, within the last week (daily
 * partitions before are skipped); asked only when the latest commit has none.
 * With nothing that recent, a trivial count (table metadata) tells an empty
 * source from one whose newest row is over a week old.
 */
const NEWEST_ROW: Record<SourceName, string> = {
  banterhearts: `SELECT count() AS rows, max(ts) AS newest FROM bench_runs WHERE ts >= {since:DateTime64(3, 'UTC')}`,
  banterpacks: NEWEST_EVENT_SQL,
};
const ANY_ROW: Record<SourceName, string> = {
  banterhearts: `SELECT count() AS rows FROM bench_runs`,
  banterpacks: ANY_EVENT_SQL,
};
const NEWEST_ROW_WINDOW_S = 7 * 86_400;
const anyRows = z.object({ rows: z.coerce.number() });

const SEVERITY: Record<WatcherStatus, number> = { valid: 0, degraded: 1, error: 2 };
export const worst = (statuses: WatcherStatus[]): WatcherStatus => statuses.reduce<WatcherStatus>((a, b) => (SEVERITY[b] > SEVERITY[a] ? b : a), "valid");

function errorText(error: unknown): string {
  return messageOf(error).split("\n")[0].slice(0, 300);
}

export async function checkSource(db: Db, repo: UpstreamRepo, thresholdSeconds: number, now: Date): Promise<SourceFreshness> {
  const source = repo.name;
  const base = {
    source,
    latest_commit: "",
    latest_commit_ts: null,
    rows_found: 0,
    newest_row_ts: null,
    lag_seconds: null,
    data_age_seconds: null,
    threshold_seconds: thresholdSeconds,
  };
  const ageOf = (iso: string) => Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  let latest: { sha: string; ts: string } | undefined;
  try {
    latest = await repo.latestCommit();
  } catch (error) {
    return { ...base, status: "error", reason: `${source}: upstream unreachable (${errorText(error)})`, transient: isTransient(error) };
  }
  if (!latest) return { ...base, status: "degraded", reason: `${source}: the repository has no commits` };

  let found: z.infer<typeof rowsForCommit>;
  try {
    [found] = await db.query(ROWS_FOR_COMMIT[source], { sha: latest.sha, since: rowsSince(source, latest.ts) }, rowsForCommit);
  } catch (error) {
    return {
      ...base,
      latest_commit: latest.sha,
      latest_commit_ts: latest.ts,
      status: "error",
      reason: `${source}: ClickHouse unreachable (${errorText(error)})`,
      transient: isTransient(error),
    };
  }
  const withCommit = { ...base, latest_commit: latest.sha, latest_commit_ts: latest.ts, rows_found: found.rows };
  if (found.rows === 0) {
    let age: number;
    let since: string;
    try {
      const weekAgo = dateTime64Param(new Date(now.getTime() - NEWEST_ROW_WINDOW_S * 1000));
      const [recent] = await db.query(NEWEST_ROW[source], { since: weekAgo }, rowsForCommit);
      if (recent.rows > 0) {
        age = ageOf(recent.newest);
        since = `newest row ${formatDuration(age)} old`;
      } else {
        const [all] = await db.query(ANY_ROW[source], {}, anyRows);
        // Older than a week (a lower bound that keeps growing with the commit's age), or no rows at all: the commit's age.
        age = all.rows > 0 ? Math.max(NEWEST_ROW_WINDOW_S, ageOf(latest.ts)) : ageOf(latest.ts);
        since = all.rows > 0 ? `no row in the last ${formatDuration(NEWEST_ROW_WINDOW_S)}` : `no rows at all, commit ${formatDuration(age)} old`;
      }
    } catch (error) {
      return { ...withCommit, status: "error", reason: `${source}: ClickHouse unreachable (${errorText(error)})`, transient: isTransient(error) };
    }
    return {
      ...withCommit,
      data_age_seconds: age,
      status: "degraded",
      reason: `${source}: no rows ingested yet for the latest commit ${latest.sha.slice(0, 7)} (${since})`,
    };
  }
  const newestMs = Date.parse(found.newest);
  const lag = ageOf(found.newest);
  const freshness = { ...withCommit, newest_row_ts: new Date(newestMs).toISOString(), lag_seconds: lag, data_age_seconds: lag };
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
    // The lag that decided each verdict: the data's age also when the latest commit has no rows yet (the stored
    // history must look stale exactly when it was).
    hearts_lag_seconds: hearts.data_age_seconds,
    packs_lag_seconds: packs.data_age_seconds,
    lag_seconds: Math.max(0, ...sources.map((s) => s.data_age_seconds ?? 0)),
    status: verdict,
    reasons,
    duration_ms: Math.round(performance.now() - started),
  });
  // If ClickHouse itself is down this insert fails and the run is recorded as
  // an error by the runner (there is nowhere to write the verdict).
  await deps.db.insert("watcher_runs", [row]);
  for (const s of sources) {
    if (s.data_age_seconds !== null) deps.metrics.gauge("muse.watch.lag_seconds", s.data_age_seconds, { source: s.source });
    deps.metrics.gauge("muse.watch.rows_found", s.rows_found, { source: s.source });
  }
  deps.metrics.count("muse.watch.status", 1, { status: verdict });
  if (verdict === "error") {
    // Not a success for the watcher KPI: the runner records the run as an error (and retries a transient cause).
    const message = `watch verdict is error: ${reasons.join("; ")}`;
    throw sources.some((s) => s.status === "error" && s.transient) ? new TransientError(message) : new WatchVerdictError(message);
  }
  return { status: "ok", summary: { verdict, sources, reasons } };
}

/** A verdict of error whose cause will not pass by retrying (e.g. a repository that does not exist). */
export class WatchVerdictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WatchVerdictError";
  }
}

export const watchAgent: AgentDefinition<typeof watchOptions, WatchSummary> = {
  name: "watch",
  description: "data freshness per source against the latest upstream commits; gates the council",
  options: watchOptions,
  run: (_options, deps, context) => watch(deps, context),
};

/** The latest watcher verdict, for the council's gate. */
export const latestWatcherRun = z.object({
  run_id: z.string(),
  ts: z.string(),
  status: z.enum(["valid", "degraded", "error"]),
  reasons: z.array(z.string()),
  lag_seconds: z.number(),
});
export type LatestWatcherRun = z.infer<typeof latestWatcherRun>;

export async function readLatestWatcherRun(db: Db): Promise<LatestWatcherRun | undefined> {
  return db.queryOne(
    `SELECT toString(run_id) AS run_id, ts, status, reasons, lag_seconds FROM watcher_runs FINAL ORDER BY ts DESC LIMIT 1`,
    {},
    latestWatcherRun,
  );
}
