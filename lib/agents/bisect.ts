import { z } from "zod";
import { codeClassifier } from "../attribution/code-commits";
import { CommitGraph } from "../attribution/graph";
import { advanceBisection } from "../bisection/advance";
import { DEFAULT_BISECTION_OPTIONS } from "../bisection/bisect";
import { dispatchPending, workflowDispatcherFromEnv } from "../bisection/dispatch";
import { loadCommitGraph } from "../clickhouse/queries/upstream-commits";
import { bisectingEvents, updateEvent, type BenchEventRow } from "../lifecycle/events";
import { reachConfigured, reachOut } from "../reach";
import type { AgentDefinition, AgentDeps, AgentResult, RunContext } from "./types";

/**
 * bisect: moves every event that bisection is narrowing one step on — from the
 * requests made so far and the runs that answered them, ask for the next runs
 * (within MUSE_BISECT_RUNS_PER_DAY), or record the commit found — and, with
 * GitHub configured, dispatches the requests as workflow runs on Banterhearts.
 *
 * The council does the same for the events it detects; this agent runs on its
 * own, more often, because it needs no detection: each step waits only for a
 * runner's answer, not for the next nightly run.
 */

export const bisectOptions = z
  .object({
    dryRun: z.boolean().default(false).describe("compute the next step of each bisection, but request and record nothing"),
  })
  .strict();
export type BisectOptions = z.output<typeof bisectOptions>;

export interface BisectSummary extends Record<string, unknown> {
  events: number;
  requested: number;
  held_back: number;
  bisected: string[];
  stuck: string[];
  dispatched: number;
  dry_run: boolean;
  /** Issue syncs and notices that failed (lib/reach; logged, retried next run). */
  reach_failures?: number;
}

export async function bisect(options: BisectOptions, deps: AgentDeps, context?: Pick<RunContext, "progress">): Promise<AgentResult<BisectSummary>> {
  const { db, env, clock, metrics, log } = deps;
  const now = clock.now();
  const summary: BisectSummary = { events: 0, requested: 0, held_back: 0, bisected: [], stuck: [], dispatched: 0, dry_run: options.dryRun };
  if (env.MUSE_BISECT_RUNS_PER_DAY === 0) return { status: "skipped", reason: "bisection is off (MUSE_BISECT_RUNS_PER_DAY = 0)", summary };

  const events = await bisectingEvents(db);
  summary.events = events.length;
  if (events.length === 0) return { status: "skipped", reason: "no event is being bisected", summary };

  const oldest = Math.min(...events.map((e) => Date.parse(e.commit_ts)));
  const graph = new CommitGraph(await loadCommitGraph(db, "banterhearts", new Date(oldest - 60 * 86_400_000)));
  const isCode = codeClassifier(env.MUSE_NON_CODE_GLOBS);
  const config = {
    runsPerDay: options.dryRun ? 0 : env.MUSE_BISECT_RUNS_PER_DAY,
    options: { ...DEFAULT_BISECTION_OPTIONS, zDecide: env.MUSE_BISECT_Z, maxRunsPerCommit: env.MUSE_BISECT_MAX_RUNS },
  };
  const updated: BenchEventRow[] = [];
  for (const [i, event] of events.entries()) {
    const step = await advanceBisection(db, event, { now, graph, isCode, config });
    summary.requested += step.requested.length;
    summary.held_back += options.dryRun ? 0 : step.held_back;
    if (step.event.bisection_status === "bisected") summary.bisected.push(`${event.event_id}: ${step.event.blamed_sha}`);
    if (step.event.bisection_status === "stuck") summary.stuck.push(`${event.event_id}: ${step.state.note}`);
    if (!options.dryRun) await updateEvent(db, step.event);
    if (!options.dryRun) updated.push(step.event);
    context?.progress(`event ${i + 1}/${events.length} (${event.label}): ${step.event.bisection_status}, ${step.state.remaining.length} code commit(s) left`);
  }

  const dispatcher = workflowDispatcherFromEnv(env, log);
  if (dispatcher && !options.dryRun) summary.dispatched = (await dispatchPending(db, dispatcher, now)).dispatched.length;
  // GitHub issues, Slack, Datadog events about what bisection changed (docs/reach.md): failures are logged and counted.
  if (updated.length && reachConfigured(env)) summary.reach_failures = (await reachOut({ db, env, log, metrics, now }, updated)).failures;
  metrics.count("muse.bisect.requests", summary.requested);
  metrics.gauge("muse.bisect.events", summary.events - summary.bisected.length - summary.stuck.length);
  return { status: "ok", summary };
}

export const bisectAgent: AgentDefinition<typeof bisectOptions, BisectSummary> = {
  name: "bisect",
  description: "the next bisection runs of events whose commit range holds several code commits",
  options: bisectOptions,
  run: (options, deps, context) => bisect(options, deps, context),
};
