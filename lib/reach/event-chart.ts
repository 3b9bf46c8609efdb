import { z } from "zod";
import { codeClassifier, measuredCommit } from "../attribution/code-commits";
import { CommitGraph } from "../attribution/graph";
import { MAIN_PULL_REQUEST, METRIC_UNITS, SERIES_METRICS } from "../analysis/series";
import type { Db } from "../clickhouse/client";
import { loadCommitGraph } from "../clickhouse/queries/upstream-commits";
import { commitSubject } from "../episode/references";
import { benchEventRow, type BenchEventRow } from "../lifecycle/events";
import { buildEventChart, type EventChart } from "../site/event-chart";

/**
 * The chart of one stored event, for the public chart route
 * (`GET /api/events/{id}/chart.svg`) that GitHub issues and Slack messages
 * show: the event's lead series run by run around the change, built from
 * `bench_events` (its segment means, range, blamed commit, fix) and the lead
 * configuration's `bench_runs`, the same way the council builds an episode's
 * event charts (lib/analysis/facts.ts, lib/site/event-chart.ts).
 */

/** Runs this long before the change are read (the chart keeps 15 either side). */
const LOOKBACK_DAYS = 60;

export async function loadEvent(db: Db, eventId: string): Promise<BenchEventRow | undefined> {
  const rows = await db.query(`SELECT * FROM bench_events FINAL WHERE event_id = {id:String} LIMIT 1`, { id: eventId }, benchEventRow);
  return rows[0];
}

const runRow = z.object({ run_ts: z.string(), commit_sha: z.string(), request_id: z.string(), value: z.number().nullable() });

/** The chart of a stored event; undefined for a no_code event or one whose commits are not in the stored history. */
export async function loadEventChart(db: Db, event: BenchEventRow, options: { now: Date; nonCodeGlobs?: readonly string[] }): Promise<EventChart | undefined> {
  if (event.kind === "no_code") return undefined;
  const metric = (SERIES_METRICS as readonly string[]).includes(event.metric) ? event.metric : undefined;
  if (!metric) return undefined;
  const from = new Date(Date.parse(event.commit_ts) - LOOKBACK_DAYS * 86_400_000);
  const [runs, graphCommits] = await Promise.all([
    db.query(
      `SELECT toString(ts) AS run_ts, toString(commit_sha) AS commit_sha, request_id, ${metric} AS value
         FROM bench_runs FINAL
        WHERE benchmark_type = {benchmark_type:String} AND model = {model:String} AND quant = {quant:String}
          AND variant = {variant:String} AND dataset = {dataset:String} AND device = {device:String}
          AND ts >= {from:DateTime64(3, 'UTC')} AND ts <= {to:DateTime64(3, 'UTC')} AND pull_request = {main:UInt32}
        ORDER BY ts`,
      {
        benchmark_type: event.benchmark_type,
        model: event.model,
        quant: event.quant,
        variant: event.variant,
        dataset: event.dataset,
        device: event.device,
        from,
        to: options.now,
        main: MAIN_PULL_REQUEST,
      },
      runRow,
    ),
    loadCommitGraph(db, "banterhearts", new Date(from.getTime() - 30 * 86_400_000)),
  ]);
  const graph = new CommitGraph(graphCommits);
  const isCode = codeClassifier(options.nonCodeGlobs);
  const order = graph.hasParents
    ? graph.order(graph.tip() ?? "")
    : new Map(
        graph
          .commits()
          .sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts))
          .map((c, i) => [c.sha, i]),
      );
  const blamed = event.blamed_sha || event.range_to_sha;
  const at = event.code_commits.indexOf(blamed);
  const bisected = event.blamed_sha !== "" && event.code_commits.length > 1;
  try {
    return buildEventChart({
      label: event.label,
      metric: event.metric,
      unit: (METRIC_UNITS as Record<string, string>)[event.metric] ?? "",
      runs: runs
        .filter((r): r is typeof r & { value: number } => r.value !== null)
        .map((r) => ({
          commit_sha: r.request_id ? r.commit_sha : measuredCommit(graph, r.commit_sha, isCode),
          run_ts: new Date(r.run_ts.includes("T") ? r.run_ts : `${r.run_ts.replace(" ", "T")}Z`).toISOString(),
          value: r.value,
          request_id: r.request_id,
        })),
      order,
      subjects: new Map(graphCommits.map((c) => [c.sha, commitSubject(c.message)])),
      codeCommits: event.code_commits,
      before: { mean: event.mean_before, stdev: event.stdev_before, n: event.n_before },
      after: { mean: event.mean_after, stdev: event.stdev_after, n: event.n_after },
      rangeFromSha: bisected && at > 0 ? event.code_commits[at - 1] : event.range_from_sha,
      blamedSha: blamed,
      bisected,
      fix: event.fixed_by_sha ? { sha: event.fixed_by_sha } : null,
    });
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}
