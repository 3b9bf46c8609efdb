import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { eventHours, rollUpSessionHours } from "../clickhouse/queries/ui-events";
import { insertUpstreamCommits, newestCommitTs } from "../clickhouse/queries/upstream-commits";
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
 * Definitions (docs/schema.md, session_stats):
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
    hours: z
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .default(48)
      .describe("window of commits and hours to roll up"),
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
  const newest = await newestCommitTs(db, "banterpacks");
  const since = new Date(Math.min(from.getTime(), newest ? Date.parse(newest) : to.getTime() - FIRST_RUN_DAYS * 86_400_000));
  const commits = await upstream.packs.listCommits({ since, until: to });
  context?.progress(`found ${commits.length} Banterpacks commits since ${since.toISOString()}`);
  if (!options.dryRun) await insertUpstreamCommits(db, "banterpacks", commits);

  // A run's own start is the watermark: events ingested while it ran are picked up next time.
  const lastRun = await lastSuccessfulRunStart(db, "collect");
  const hours = await eventHours(db, from, to, lastRun ? new Date(lastRun.getTime() - 5 * 60_000) : undefined);
  let sessionRows = 0;
  const BATCH = 24 * 7;
  for (let i = 0; i < hours.length; i += BATCH) {
    const chunk = hours.slice(i, i + BATCH);
    if (!options.dryRun) {
      await rollUpSessionHours(db, chunk);
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
  await userGauges(db, to, metrics);
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

const nullableNumber = z.union([z.number(), z.null(), z.nan()]).transform((v) => (v === null || Number.isNaN(v) ? null : v));
const hourFigures = z.object({ latency_ms: nullableNumber, error_rate: nullableNumber, abandonment_rate: nullableNumber });

/**
 * The overlay's last complete hour as Datadog gauges (`muse.users.*`, docs/operations.md): mean time to an answer,
 * error rate and abandonment rate from session_stats, as lib/analysis/queries.ts defines them. Stamped now (Datadog
 * takes no points older than about an hour, and the hour just ended is the newest whole one); nothing is sent for a
 * figure the hour has no data for (no answers, no events, no queries). One series each: no tags.
 */
export async function userGauges(db: Db, now: Date, metrics: Pick<AgentDeps["metrics"], "gauge">): Promise<z.infer<typeof hourFigures> | undefined> {
  const hour = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000 - 3_600_000);
  const [row] = await db.query(
    `SELECT if(sum(answers_count) = 0, NULL, sum(answer_latency_sum_ms) / sum(answers_count))   AS latency_ms,
            if(sum(events_count) = 0, NULL, sum(errors_count) / sum(events_count))             AS error_rate,
            if(sum(queries_count) = 0, NULL, sum(abandoned_count) / sum(queries_count))        AS abandonment_rate
       FROM session_stats FINAL
      WHERE hour = {hour:DateTime('UTC')}`,
    { hour },
    hourFigures,
  );
  if (!row) return undefined;
  if (row.latency_ms !== null) metrics.gauge("muse.users.latency_ms", row.latency_ms);
  if (row.error_rate !== null) metrics.gauge("muse.users.error_rate", row.error_rate);
  if (row.abandonment_rate !== null) metrics.gauge("muse.users.abandonment_rate", row.abandonment_rate);
  return row;
}

export const collectAgent: AgentDefinition<typeof collectOptions, CollectSummary> = {
  name: "collect",
  description: "Banterpacks commits into upstream_commits; hourly per-session session_stats rollup of ui_events",
  options: collectOptions,
  run: (options, deps, context) => collect(options, deps, context),
};
