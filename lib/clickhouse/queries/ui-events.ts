import { z } from "zod";
import type { Db } from "../client";

/**
 * Every query Muse runs on `ui_events` (rows: `uiEventRow` in ../tables.ts;
 * they are written by lib/ingest/events). The raw events are read in three
 * places: the collect agent's hourly rollup into `session_stats`, the
 * watcher's freshness check, and the status page's newest-event time (a
 * sub-select of its cross-table freshness query, lib/site/status.server.ts).
 * Values travel as query parameters only.
 */

const hourRow = z.object({ hour: z.string() });

/**
 * The hours (`YYYY-MM-DD hh:00:00`, UTC) with events in [from, to], plus the
 * hours of events ingested since `since` (late arrivals; none when undefined).
 */
export async function eventHours(db: Db, from: Date, to: Date, since: Date | undefined): Promise<string[]> {
  const rows = await db.query(
    `SELECT DISTINCT formatDateTime(toStartOfHour(ts), '%Y-%m-%d %H:00:00', 'UTC') AS hour
       FROM ui_events
      WHERE (ts >= {from:DateTime64(3, 'UTC')} AND ts <= {to:DateTime64(3, 'UTC')})
         OR ingested_at >= {since:DateTime64(3, 'UTC')}
      ORDER BY hour`,
    { from, to, since: since ?? new Date(0) },
    hourRow,
  );
  return rows.map((r) => r.hour);
}

const ERROR_EVENT = "(event_type = 'error' OR endsWith(event_type, '.error') OR endsWith(event_type, '_error'))";
const SELECTED_HOURS = `toStartOfHour(ts) IN (SELECT arrayJoin({hours:Array(DateTime('UTC'))}))
  AND ts >= {first:DateTime('UTC')} AND ts < {last:DateTime('UTC')} + INTERVAL 1 HOUR`;

/**
 * The session rollup: per hour and session, the events of `ui_events` as one
 * `session_stats` row (recomputing an hour replaces its rows). Parameters:
 * `hours` (DateTime, UTC), `first` and `last` of them (bounds for partition
 * pruning). Exported for bench/analytics.ts, which rolls up generated data.
 */
export const SESSION_ROLLUP_SQL = `
INSERT INTO session_stats
  (hour, session_id, commit_sha, avg_latency_ms, latency_sum_ms, error_rate, abandonment_rate,
   events_count, errors_count, queries_count, abandoned_count, answers_count, answer_latency_sum_ms, duration_seconds, computed_at)
SELECT
  stat_hour, session_id, last_commit,
  toUInt32(round(latency_sum / events)), latency_sum,
  errors / events, if(submits = 0, 0, abandoned / submits),
  events, errors, submits, abandoned, answers, answer_latency_sum, duration, now64(3)
FROM
(
  SELECT
    toStartOfHour(ts)                         AS stat_hour,
    session_id,
    argMax(commit_sha, ts)                    AS last_commit,
    sum(latency_ms)                           AS latency_sum,
    count()                                   AS events,
    countIf(${ERROR_EVENT})                   AS errors,
    countIf(event_type = 'query_submit')      AS submits,
    countIf(event_type = 'query_result')      AS answers,
    sumIf(latency_ms, event_type = 'query_result') AS answer_latency_sum,
    toUInt64(greatest(toInt64(submits) - toInt64(answers), 0)) AS abandoned,
    toUInt32(dateDiff('second', min(ts), max(ts))) AS duration
  FROM ui_events FINAL
  WHERE ${SELECTED_HOURS}
  GROUP BY stat_hour, session_id
)`;

/** Rolls the given hours (`YYYY-MM-DD hh:00:00`, UTC, ascending) up into session_stats. */
export async function rollUpSessionHours(db: Db, hours: readonly string[]): Promise<void> {
  if (hours.length === 0) return;
  await db.command(SESSION_ROLLUP_SQL, { hours, first: hours[0], last: hours[hours.length - 1] });
}

/**
 * Events of one commit, bounded by time: events of a commit cannot predate it
 * (less a margin), so daily partitions before `since` are skipped, and within
 * the rest the commit_sha bloom filter (sql/007) skips granules. Parameters:
 * `sha` (FixedString(40)), `since` (DateTime64). Exported for EXPLAIN in
 * bench/production.ts and tests/clickhouse-production.test.ts.
 */
export const EVENTS_FOR_COMMIT_SQL = `SELECT count() AS rows, max(ts) AS newest FROM ui_events FINAL WHERE commit_sha = {sha:FixedString(40)} AND ts >= {since:DateTime64(3, 'UTC')}`;
/** The newest event of any commit since `since` (DateTime64). */
export const NEWEST_EVENT_SQL = `SELECT count() AS rows, max(ts) AS newest FROM ui_events WHERE ts >= {since:DateTime64(3, 'UTC')}`;
/** Whether there are any events (a trivial count: table metadata). */
export const ANY_EVENT_SQL = `SELECT count() AS rows FROM ui_events`;
