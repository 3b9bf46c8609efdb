import { z } from "zod";
import type { Db } from "../clickhouse/client";
import type { UpstreamCommit } from "../upstream/types";
import type { AgentDefinition, AgentDeps, AgentResult, RunContext } from "./types";

/**
 * collect: Banterpacks commits in the window into `upstream_commits`, and the
 * hourly per-session `session_stats` rollup of `ui_events`.
 *
 * Which hours are rolled up: every hour of the window, plus every hour that
 * received events since the last successful collect (late or backfilled
 * data). Recomputing an hour writes a newer version of each
 * (hour, session_id) row, so re-running never double counts.
 *
 * Definitions (README, "Session statistics"):
 * - an error is an event whose type is `error` or ends in `.error`/`_error`;
 * - a query is abandoned when its `query_submit` has no `query_result` in the
 *   same session-hour: abandoned = max(submits − results, 0),
 *   abandonment_rate = abandoned / submits (0 without submits);
 * - duration = seconds between the session's first and last event in the hour;
 * - answer latency = latency of `query_result` events (time to an answer).
 */

/** How far back a first run looks for commits. */
const FIRST_RUN_DAYS = 30;

export const collectOptions = z
  .object({
    hours: z.number().int().min(1).max(24 * 90).default(48).describe("window of commits and hours to roll up"),
    dryRun: z.boolean().default(false).describe("compute, but write nothing"),
  })
  .strict();
export type CollectOptions = z.output<typeof collectOptions>;

export interface CollectSummary extends Record<string, unknown> {
  repo: string;
  commits: number;
  hours_rolled_up: number;
  session_rows: number;
  window_from: string;
  window_to: string;
  dry_run: boolean;
}

export function commitRows(repo: "banterhearts" | "banterpacks", commits: UpstreamCommit[]) {
  return commits.map((c) => ({
    repo,
    sha: c.sha,
    ts: c.ts,
    author: c.author,
    message: c.message,
    files: c.files.map((f) => f.path),
    files_changed: c.files.length,
    additions: c.files.reduce((n, f) => n + f.additions, 0),
    deletions: c.files.reduce((n, f) => n + f.deletions, 0),
  }));
}

const hourRow = z.object({ hour: z.string() });

/** Hours of the window plus hours that got events since `since` (all hours when undefined). */
async function hoursToRollUp(db: Db, windowFrom: Date, windowTo: Date, since: Date | undefined): Promise<string[]> {
  const rows = await db.query(
    `SELECT DISTINCT formatDateTime(toStartOfHour(ts), '%Y-%m-%d %H:00:00', 'UTC') AS hour
       FROM ui_events
      WHERE (ts >= {from:DateTime64(3, 'UTC')} AND ts <= {to:DateTime64(3, 'UTC')})
         OR ingested_at >= {since:DateTime64(3, 'UTC')}
      ORDER BY hour`,
    { from: windowFrom, to: windowTo, since: since ?? new Date(0) },
    hourRow,
  );
  return rows.map((r) => r.hour);
}

const ERROR_EVENT = "(event_type = 'error' OR endsWith(event_type, '.error') OR endsWith(event_type, '_error'))";
const SELECTED_HOURS = `toStartOfHour(ts) IN (SELECT arrayJoin({hours:Array(DateTime('UTC'))}))
  AND ts >= {first:DateTime('UTC')} AND ts < {last:DateTime('UTC')} + INTERVAL 1 HOUR`;

export const ROLLUP_SQL = `
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

async function lastSuccessfulRunStart(db: Db, agent: string): Promise<Date | undefined> {
  const row = await db.queryOne(
    `SELECT max(started_at) AS started FROM agent_runs FINAL WHERE agent = {agent:String} AND status = 'ok' HAVING count() > 0`,
    { agent },
    z.object({ started: z.string() }),
  );
  return row ? new Date(row.started) : undefined;
}

export async function collect(options: CollectOptions, deps: AgentDeps, context?: Pick<RunContext, "progress">): Promise<AgentResult<CollectSummary>> {
  const { db, upstream, clock, metrics } = deps;
  const to = clock.now();
  const from = new Date(to.getTime() - options.hours * 3600_000);

  // The window, reaching back to the newest commit already recorded (or 30 days on a first run) so nothing is skipped.
  const newest = await db.queryOne(
    `SELECT max(ts) AS ts FROM upstream_commits FINAL WHERE repo = 'banterpacks' HAVING count() > 0`,
    {},
    z.object({ ts: z.string() }),
  );
  const since = new Date(Math.min(from.getTime(), newest ? Date.parse(newest.ts) : to.getTime() - FIRST_RUN_DAYS * 86_400_000));
  const commits = await upstream.packs.listCommits({ since, until: to });
  context?.progress(`found ${commits.length} Banterpacks commits since ${since.toISOString()}`);
  if (!options.dryRun && commits.length > 0) await db.insert("upstream_commits", commitRows("banterpacks", commits));

  // A run's own start is the watermark: events ingested while it ran are picked up next time.
  const lastRun = await lastSuccessfulRunStart(db, "collect");
  const hours = await hoursToRollUp(db, from, to, lastRun ? new Date(lastRun.getTime() - 5 * 60_000) : undefined);
  let sessionRows = 0;
  const BATCH = 24 * 7;
  for (let i = 0; i < hours.length; i += BATCH) {
    const chunk = hours.slice(i, i + BATCH);
    if (!options.dryRun) {
      await db.command(ROLLUP_SQL, { hours: chunk, first: chunk[0], last: chunk[chunk.length - 1] });
    }
    const [{ rows }] = await db.query<{ rows: number }>(
      `SELECT count() AS rows FROM session_stats FINAL
        WHERE hour IN (SELECT arrayJoin({hours:Array(DateTime('UTC'))}))`,
      { hours: chunk },
    );
    sessionRows += Number(rows);
    context?.progress(`rolled up ${Math.min(i + BATCH, hours.length)}/${hours.length} hours`, { session_rows: sessionRows });
  }

  metrics.count("muse.collect.commits", commits.length, { repo: "banterpacks" });
  metrics.count("muse.collect.session_rows", sessionRows);
  return {
    status: "ok",
    summary: {
      repo: upstream.packs.location,
      commits: commits.length,
      hours_rolled_up: hours.length,
      session_rows: sessionRows,
      window_from: from.toISOString(),
      window_to: to.toISOString(),
      dry_run: options.dryRun,
    },
  };
}

export const collectAgent: AgentDefinition<typeof collectOptions, CollectSummary> = {
  name: "collect",
  description: "Banterpacks commits into upstream_commits; hourly per-session session_stats rollup of ui_events",
  options: collectOptions,
  run: (options, deps, context) => collect(options, deps, context),
};
