import { z } from "zod";
import type { Db } from "../clickhouse/client";
import type { CommitGraph } from "../attribution/graph";
import type { BenchEventRow } from "../lifecycle/events";
import { MAIN_PULL_REQUEST, type SeriesMetric } from "../analysis/series";
import { DEFAULT_BISECTION_OPTIONS, planBisection, type BisectionOptions, type BisectionRun, type BisectionState } from "./bisect";
import { listRequests, putRequests, runsRequestedOn, type NewBenchRequest } from "./requests";

/**
 * One step of an event's bisection, as the council and the bisect agent run
 * it: replay the state from the stored requests and the runs that answered
 * them (lib/bisection/bisect.ts), ask for what comes next within the day's
 * budget, and return the event with its bisection fields brought up to date.
 *
 * A merge blamed by the first-parent search is searched again inside: the
 * commits it brought, then the merge itself (a conflict resolution can change
 * performance too), between the same two levels.
 */

export interface BisectionConfig {
  /** Extra benchmark runs Muse may ask for per UTC day, over all events. */
  runsPerDay: number;
  options: BisectionOptions;
}

export const DEFAULT_BISECTION_CONFIG: BisectionConfig = { runsPerDay: 200, options: DEFAULT_BISECTION_OPTIONS };

export interface AdvanceResult {
  event: BenchEventRow;
  state: BisectionState;
  /** Request ids created by this step. */
  requested: string[];
  /** Runs the budget held back today. */
  held_back: number;
}

/**
 * The metric columns a bisection can compare; the SQL is fixed per column (identifiers are never string-built from
 * input). Each is the value as its series holds it (lib/analysis/series.ts): accuracy in points.
 */
const METRIC_SQL = {
  latency_p95_ms: "latency_p95_ms",
  latency_mean_ms: "latency_mean_ms",
  tokens_per_sec: "tokens_per_sec",
  memory_peak_mb: "memory_peak_mb",
  latency_p99_ms: "latency_p99_ms",
  accuracy: "(accuracy * 100)",
  loss: "loss",
} as const satisfies Record<SeriesMetric, string>;

const runRow = z.object({ commit_sha: z.string(), run_ts: z.string(), value: z.number(), request_id: z.string() });

/** The runs that answered the given requests, for the event's lead benchmark and metric (main's runs only: never a pull request's, sql/019). */
export async function bisectionRuns(db: Db, event: BenchEventRow, requestIds: string[]): Promise<BisectionRun[]> {
  if (requestIds.length === 0) return [];
  const column = METRIC_SQL[event.metric as keyof typeof METRIC_SQL];
  if (!column) return [];
  const rows = await db.query(
    `SELECT toString(commit_sha) AS commit_sha, toString(ts) AS run_ts, ${column} AS value, request_id
       FROM bench_runs FINAL
      WHERE request_id IN {ids:Array(String)} AND ${column} IS NOT NULL AND pull_request = {main:UInt32}
        AND benchmark_type = {benchmark_type:String} AND model = {model:String} AND quant = {quant:String}
        AND variant = {variant:String} AND dataset = {dataset:String} AND device = {device:String}
      ORDER BY ts, run_id`,
    {
      ids: requestIds,
      main: MAIN_PULL_REQUEST,
      benchmark_type: event.benchmark_type,
      model: event.model,
      quant: event.quant,
      variant: event.variant,
      dataset: event.dataset,
      device: event.device,
    },
    runRow,
  );
  return rows.map((r) => ({ ...r, run_ts: new Date(r.run_ts.includes("T") ? r.run_ts : `${r.run_ts.replace(" ", "T")}Z`).toISOString() }));
}

/** The series' noise: the pooled standard deviation of the two segments around the change (1 % of the level when both are exact). */
export function eventSigma(event: Pick<BenchEventRow, "stdev_before" | "stdev_after" | "n_before" | "n_after" | "mean_before">): number {
  const df = Math.max(0, event.n_before - 1) + Math.max(0, event.n_after - 1);
  const pooled =
    df > 0 ? Math.sqrt((Math.max(0, event.n_before - 1) * event.stdev_before ** 2 + Math.max(0, event.n_after - 1) * event.stdev_after ** 2) / df) : 0;
  return pooled > 0 ? pooled : Math.abs(event.mean_before) * 0.01 || 1;
}

export async function advanceBisection(
  db: Db,
  event: BenchEventRow,
  context: { now: Date; graph?: CommitGraph; isCode?: (c: { files: string[] }) => boolean; config?: BisectionConfig },
): Promise<AdvanceResult> {
  const config = context.config ?? DEFAULT_BISECTION_CONFIG;
  const requests = await listRequests(db, { eventIds: [event.event_id], now: context.now });
  const runs = await bisectionRuns(
    db,
    event,
    requests.map((r) => r.request_id),
  );
  const input = {
    event_id: event.event_id,
    from: event.range_from_sha,
    candidates: event.code_commits,
    requests: requests.map((r) => ({ request_id: r.request_id, commit_sha: r.commit_sha, repeats: r.repeats, status: r.status, requested_at: r.requested_at })),
    runs,
    sigma: eventSigma(event),
    step: event.mean_after - event.mean_before,
    now: context.now,
  };
  let state = planBisection(input, config.options);
  // Into a blamed merge: the commits it brought, then the merge itself.
  if (state.status === "bisected" && context.graph) {
    const merged = context.graph.mergedCommits(state.blamed).filter((c) => (context.isCode ? context.isCode(c) : true));
    if (merged.length > 0) {
      const inner = planBisection({ ...input, from: state.range_from, candidates: [...merged.map((c) => c.sha), state.blamed] }, config.options);
      state = { ...inner, verdicts: [...state.verdicts, ...inner.verdicts], steps_left: inner.steps_left };
    }
  }

  // The day's budget, over every event: what was asked today counts.
  const used = state.next.length ? await runsRequestedOn(db, context.now) : 0;
  let room = Math.max(0, config.runsPerDay - used);
  const wanted: NewBenchRequest[] = [];
  let heldBack = 0;
  for (const next of state.next) {
    if (next.repeats > room) {
      heldBack += next.repeats;
      continue;
    }
    room -= next.repeats;
    wanted.push({
      request_id: next.request_id,
      event_id: event.event_id,
      commit_sha: next.commit_sha,
      benchmark_type: event.benchmark_type,
      model: event.model,
      quant: event.quant,
      variant: event.variant,
      dataset: event.dataset,
      device: event.device,
      repeats: next.repeats,
      reason: next.reason,
      requested_at: context.now,
      expires_at: new Date(context.now.getTime() + config.options.expiresHours * 3_600_000),
    });
  }
  const requested = wanted.length ? await putRequests(db, wanted) : [];

  const updated: BenchEventRow = {
    ...event,
    updated_at: context.now.toISOString(),
    blamed_sha: state.status === "bisected" ? state.blamed : event.code_commits.length === 1 ? event.code_commits[0] : "",
    bisection_status: state.status,
    bisection_steps: state.verdicts.length,
    bisection_steps_left: state.steps_left,
    bisection_extra_runs: runs.length,
    bisection_note:
      state.note ||
      (heldBack > 0 ? `waiting for the daily budget of ${config.runsPerDay} extra runs` : state.status === "stuck" ? "" : event.bisection_note && ""),
  };
  return { event: updated, state, requested, held_back: heldBack };
}
