import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { fact, type Fact, type FactUnit } from "../episode/fact";
import { CHANGE_SHAPES } from "../clickhouse/tables";
import { withCountNoun } from "../episode/nouns";
import { commitSubject } from "../episode/references";
import { CommitGraph } from "../attribution/graph";
import { advanceBisection, type BisectionConfig } from "../bisection/advance";
import { loadCommitGraph } from "../clickhouse/queries/upstream-commits";
import { groupIntoEvents, isOpenRegression, linkLifecycle, loadEvents, storeEvents, withTriageEffects, type BenchEvent } from "../lifecycle/events";
import { mutedSeries, triageOf, withoutMuted } from "../triage/store";
import { codeClassifier, measuredCommit } from "../attribution/code-commits";
import { buildEventChart, eventChart, type EventChart } from "../site/event-chart";
import { detectChangesInWorkers, shapeOf, storeChanges, type Attribution, type ChangeConfig } from "./changes";
import { DEFAULT_IMPACT, adjustImpacts, userImpact, type ImpactConfig, type UserImpact } from "./impact";
import { correlationOfDifferences, dayDifferences, eventEstimate, localFdrBound, minimalDetectableChangePct, MIN_BOOTSTRAP_PAIRS } from "./statistics";
import { MODEL_LEVEL_TYPES, commitsInWindow, correlationDays, dataVolume, joinedDays, type Window } from "./queries";
import { METRIC_UNITS, loadSeries, seriesId, type Series } from "./series";
import { buildQuality, qualityModel } from "./quality-chart";

export { fact, factUnit, type Fact, type FactUnit } from "../episode/fact";

/**
 * The computed facts an episode may state. Each fact carries its value, unit,
 * the decimals it is rendered with, and its source (the query and the rows or
 * the method it came from), so every number in an episode can be traced.
 */

/**
 * Confidence, in one place: how certain is what this episode says?
 * confidence = min(completeness, recency, volume, evidence, attribution, users)
 * (docs/statistics.md):
 * - completeness = days with both sources / days in the window;
 * - recency      = 1 while the newest data is within the freshness threshold,
 *                  then falling linearly to 0 at 24 h beyond it;
 * - volume       = min(1, bench rows / expected, events / expected);
 * - evidence     = with changes to tell: 1 − a lower bound on the local false
 *                  discovery rate of the weakest new change (its q-value through
 *                  the Sellke–Bayarri–Berger bound, lib/analysis/statistics.ts):
 *                  0.89 at q = 0.01, 0.98 at q = 0.001, near 1 only for strong
 *                  changes; without: the share of model-level benchmark series
 *                  that had runs enough (2 × MUSE_CHANGE_MIN_RUNS) and noise low
 *                  enough to have shown a 10 % step at 80 % power (power for
 *                  "nothing changed");
 * - attribution  = how exactly the new events are placed: 1 for one commit (or
 *                  no code, not blamed), 0.8 for a range bisection is narrowing,
 *                  0.7 for a range it cannot narrow (ordinal, not a probability);
 * - users        = for each new event said to be felt (or felt the other way),
 *                  1 − the local-fdr bound of its user-latency q-value.
 * The hearts↔packs correlation is background (with its Fisher-z interval), not
 * certainty: an effect size of daily means says nothing about how sure we are.
 */
export const confidenceBreakdown = z.object({
  value: z.number().min(0).max(1),
  completeness: z.number().min(0).max(1),
  recency: z.number().min(0).max(1),
  volume: z.number().min(0).max(1),
  evidence: z.number().min(0).max(1).optional(),
  attribution: z.number().min(0).max(1).optional(),
  users: z.number().min(0).max(1).optional(),
  /** Episodes written before evidence replaced it. */
  correlation: z.number().min(0).max(1).optional(),
  limiting: z.enum(["completeness", "correlation", "recency", "volume", "evidence", "attribution", "users"]),
});
export type ConfidenceBreakdown = z.infer<typeof confidenceBreakdown>;

/** The window-vs-window change of episodes written before change points (kept so they still render). */
export const changeFact = z.object({
  model: z.string(),
  quant: z.string(),
  metric: z.enum(["latency_p95_ms", "tokens_per_sec"]),
  kind: z.enum(["regression", "improvement"]),
  previous_mean: z.number(),
  current_mean: z.number(),
  change_pct: z.number(),
  p_value: z.number(),
  n_previous: z.number(),
  n_current: z.number(),
});
export type ChangeFact = z.infer<typeof changeFact>;

const interval = z.tuple([z.number(), z.number()]);

/** One story event: a commit that changed benchmark series, with its lead change and the users' side. */
export const changeEvent = z.object({
  /** Facts of this event are `event.<n>.…`. */
  n: z.number().int().min(1),
  commit_sha: z.string(),
  commit_ts: z.string(),
  subject: z.string(),
  /** Banterhearts commits between the last run before and the first run after: one when attributed exactly. */
  candidates: z.array(z.string()),
  kind: z.enum(["regression", "improvement"]),
  /** partly_fixed: a later change recovered part of it; environment: no code changed between the runs. */
  status: z.enum(["open", "partly_fixed", "fixed", "kept", "environment"]),
  fixed_by_sha: z.string(),
  fixed_ts: z.string().nullable(),
  /** The stored event (lib/lifecycle/events.ts); older episodes have none. */
  event_id: z.string().default(""),
  /** New since the previous episode (found, narrowed by bisection, fixed); false: known and still open. */
  new: z.boolean().default(true),
  /**
   * exact: one code commit; range: several, commit_sha is the range's end; no_code: none (not blamed on a commit);
   * window: a drift that began before the lookback's first run (commit_sha is that run's code), attributed to no commit.
   */
  attribution: z.enum(["exact", "range", "no_code", "window"]).default("exact"),
  /** step (the level moved at one place), drift (it creeps: drift) or spread (the run-to-run noise changed: spread). Older episodes: steps. */
  shape: z.enum(CHANGE_SHAPES).default("step"),
  /** A drift's slope in % of its starting level per run, with its 95 % interval, over `runs` runs. */
  drift: z
    .object({ slope_pct_per_run: z.number(), ci_pct_per_run: interval, runs: z.number().int().min(0) })
    .nullable()
    .default(null),
  /** A spread change: the noise deviation after / before, with its 95 % interval. */
  spread: z.object({ ratio: z.number(), ci_ratio: interval }).nullable().default(null),
  /** The code the last run before the change measured (the range is after it, up to commit_sha). */
  range_from_sha: z.string().default(""),
  bisection: z
    .object({
      status: z.enum(["bisecting", "bisected", "stuck"]),
      steps: z.number().int(),
      steps_left: z.number().int(),
      extra_runs: z.number().int(),
      note: z.string(),
    })
    .nullable()
    .default(null),
  /** Share of the regression a later change recovered, with its 95 % interval (percent). */
  recovered: z.object({ pct: z.number(), ci_pct: interval }).nullable().default(null),
  /** The earlier (fixed) event this regression brings back. */
  returns_of: z.string().default(""),
  /** The largest change of the event (p95 latency preferred). */
  lead: z.object({
    label: z.string(),
    metric: z.string(),
    change_pct: z.number(),
    ci_pct: interval,
    q_value: z.number(),
    mean_before: z.number(),
    mean_after: z.number(),
    n_before: z.number(),
    n_after: z.number(),
  }),
  series_changed: z.number().int().min(1),
  /** Series of the event in the same direction as the lead, and against it. */
  series_same_direction: z.number().int().min(0),
  median_change_pct: z.number(),
  /**
   * The event's size as an estimate: the 95 % interval of the median change across the lead metric's series, and how
   * many series (lib/analysis/statistics.ts eventEstimate). The lead is the largest of them, told without an interval.
   * Older episodes: none.
   */
  median_ci_pct: interval.nullable().default(null),
  median_series: z.number().int().min(0).default(0),
  users: z
    .object({
      measurable: z.boolean(),
      felt: z.boolean(),
      latency_change_pct: z.number().nullable(),
      latency_ci_pct: interval.nullable(),
      latency_p_value: z.number().nullable(),
      /** Significant against the benchmark change's direction; the q-value after Benjamini–Hochberg across events × user metrics. */
      other_way: z.boolean().default(false),
      latency_q_value: z.number().nullable().default(null),
    })
    .nullable(),
  chart: eventChart.optional(),
  /** A maintainer's word on it (docs/triage.md): expected (accepted as the cost of …), ack (acknowledged, still open). Invalid events are not told. */
  triage: z
    .object({ action: z.enum(["expected", "invalid", "ack"]), reason: z.string(), actor: z.string(), source: z.string() })
    .nullable()
    .default(null),
  /** The commit was blamed by a maintainer (`blame <sha>`), overriding bisection. */
  blamed_by: z.object({ actor: z.string(), reason: z.string() }).nullable().default(null),
  /** Where the event's quantization method stands against its accuracy gate (docs/quality.md); ratios are fractions. */
  gate: z
    .object({ method: z.string(), baseline: z.string(), fraction: z.number(), ratio_before: z.number(), ratio_after: z.number(), breached: z.boolean() })
    .nullable()
    .default(null),
  /**
   * Faster and less accurate at one place: the speed side (faster_pct negative, with its interval when known) and the
   * accuracy side (points). `tested_at_commit`: the speed side was not found by the detector's search but asked at the
   * accuracy change's commit (lib/analysis/speed-side.ts), with its p-value and runs each side.
   */
  tradeoff: z
    .object({
      latency_metric: z.string(),
      latency_label: z.string(),
      faster_pct: z.number(),
      accuracy_points: z.number(),
      faster_ci_pct: z.tuple([z.number(), z.number()]).nullable().default(null),
      tested_at_commit: z.object({ p_value: z.number(), runs_before: z.number(), runs_after: z.number(), series_asked: z.number() }).nullable().default(null),
    })
    .nullable()
    .default(null),
});
export type ChangeEvent = z.infer<typeof changeEvent>;

/** One day of the window: both sources joined on the day (what the episode's charts draw). */
export const dailyFact = z.object({
  day: z.string(),
  latency_p95_ms: z.number().nullable(),
  tokens_per_sec: z.number().nullable(),
  cost_per_1k: z.number().nullable(),
  user_latency_ms: z.number().nullable(),
  error_rate: z.number().nullable(),
  abandonment_rate: z.number().nullable(),
  sessions: z.number(),
  events: z.number(),
});

export const facts = z.object({
  window: z.object({ from: z.string(), to: z.string(), days: z.number() }),
  generated_at: z.string(),
  facts: z.array(fact),
  confidence: confidenceBreakdown,
  correlation: z.number().nullable(),
  daily: z.array(dailyFact),
  /** Old episodes: the window-vs-window changes. New ones: empty (see events). */
  changes: z.array(changeFact).default([]),
  /** What changed, by commit (new since the previous episode), biggest first. */
  events: z.array(changeEvent).default([]),
  /** Regressions still open (any age within the lookback). */
  open_regressions: z.array(z.object({ label: z.string(), metric: z.string(), commit_sha: z.string(), change_pct: z.number() })).default([]),
  detection: z
    .object({ series_total: z.number(), series_tested: z.number(), candidates: z.number(), alpha: z.number(), min_runs: z.number(), lookback_from: z.string() })
    .optional(),
  commits: z.object({
    hearts: z.array(z.object({ sha: z.string(), ts: z.string(), message: z.string() })),
    packs: z.array(z.object({ sha: z.string(), ts: z.string(), message: z.string(), files_changed: z.number(), additions: z.number(), deletions: z.number() })),
  }),
  hearts_commits_used: z.array(z.string()),
  models: z.array(z.string()),
  /** Latency against accuracy per model: latest segment means per method, gates, told moves (lib/analysis/quality-chart.ts). */
  quality: z.array(qualityModel).default([]),
  /** Identifiers the data carries (models, quantizations, datasets, devices, variants): not figures. */
  identifiers: z.array(z.string()).default([]),
  volume: z.object({ bench_rows: z.number(), events: z.number(), sessions: z.number() }),
  missing: z.array(z.string()),
});
export type Facts = z.infer<typeof facts>;

export interface FactOptions {
  window: Window;
  now: Date;
  /** Freshness threshold: data older than this starts losing recency. */
  freshSeconds: number;
  /** Expected volume per day for full marks. */
  benchRowsPerDay?: number;
  eventsPerDay?: number;
  changes: ChangeConfig;
  impact?: ImpactConfig;
  /** Full UTC days with both sources before the correlation is stated. */
  correlationMinDays?: number;
  /** The previous episode: events found, narrowed or fixed since then are this episode's news; open ones are listed as known. */
  previous?: { ts: string; window_to: string; events?: { event_id: string; status: string; commit_sha: string; triage?: string }[] } | null;
  /** Globs of files that cannot change performance (MUSE_NON_CODE_GLOBS); default lib/attribution/code-commits.ts. */
  nonCodeGlobs?: readonly string[];
  /** Bisection's budget and levels; without it, events are stored but no runs are asked for. */
  bisection?: BisectionConfig;
  /** The council run (bench_changes.run_id); without it, changes are detected but not stored. */
  runId?: string;
}

/** The step (percent) a model-level series must have been able to show at 80 % power for "nothing changed" to count it. */
export const POWER_TARGET_PCT = 10;

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const round = (v: number, decimals: number) => Number(v.toFixed(decimals));
const mean = (values: (number | null)[]) => {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
};

export function scoreConfidence(input: {
  joinedDays: number;
  windowDays: number;
  newestDataAgeSeconds: number | null;
  freshSeconds: number;
  benchRows: number;
  events: number;
  benchRowsExpected: number;
  eventsExpected: number;
  /** q-values of the changes the story relies on (empty: the story is "nothing changed"). */
  storyQValues: number[];
  /** Share of series that could have shown a change (runs and power). */
  coverage: number;
  /** How the new events are placed (one entry per new event). */
  storyAttributions?: { attribution: "exact" | "range" | "no_code" | "window"; bisecting: boolean }[];
  /** User-latency q-values of the new events said to be felt (or felt the other way). */
  userQValues?: number[];
}): ConfidenceBreakdown {
  const completeness = clamp01(input.joinedDays / input.windowDays);
  const recency = input.newestDataAgeSeconds === null ? 0 : clamp01(1 - Math.max(0, input.newestDataAgeSeconds - input.freshSeconds) / 86_400);
  const volume = clamp01(Math.min(input.benchRows / input.benchRowsExpected, input.events / input.eventsExpected));
  const weakest = (qs: number[]) => (qs.length > 0 ? 1 - localFdrBound(Math.max(...qs)) : 1);
  const evidence = clamp01(input.storyQValues.length > 0 ? weakest(input.storyQValues) : input.coverage);
  // A drift that began before the lookback is placed nowhere: as uncertain as a range bisection cannot narrow.
  const placed = (a: { attribution: string; bisecting: boolean }) =>
    a.attribution === "range" ? (a.bisecting ? 0.8 : 0.7) : a.attribution === "window" ? 0.7 : 1;
  const attribution = Math.min(1, ...(input.storyAttributions ?? []).map(placed));
  const users = clamp01(weakest(input.userQValues ?? []));
  const parts = { completeness, recency, volume, evidence, attribution, users };
  const limiting = (Object.keys(parts) as (keyof typeof parts)[]).reduce((a, b) => (parts[b] < parts[a] ? b : a));
  const r4 = (v: number) => round(v, 4);
  return {
    value: r4(parts[limiting]),
    completeness: r4(completeness),
    recency: r4(recency),
    volume: r4(volume),
    evidence: r4(evidence),
    attribution: r4(attribution),
    users: r4(users),
    limiting,
  };
}

/** Fisher-z interval of Pearson r over n pairs (n ≥ 4), at 95 %. */
export function fisherInterval(r: number, n: number): [number, number] | null {
  if (n < 4 || Math.abs(r) >= 1) return null;
  const z = Math.atanh(r);
  const se = 1 / Math.sqrt(n - 3);
  return [Math.tanh(z - 1.959964 * se), Math.tanh(z + 1.959964 * se)];
}

/**
 * A stored event (lib/lifecycle/events.ts) as the story tells it. Its commit is the blamed one when there is one
 * (one code commit in range, or bisected), else the range's end; its suspects are the range's code commits.
 */
/**
 * The speed side's interval and, when it was asked at the accuracy change's commit rather than found by the search,
 * its test: from the event's member changes (known for events detected in this run).
 */
function tradeoffEvidence(e: BenchEvent): {
  faster_ci_pct: [number, number] | null;
  tested_at_commit: { p_value: number; runs_before: number; runs_after: number; series_asked: number } | null;
} {
  const side = e.changes.find(
    (c) => c.speed_side && c.speed_side.label === e.tradeoff_latency_label && c.speed_side.metric === e.tradeoff_latency_metric,
  )?.speed_side;
  if (side)
    return {
      faster_ci_pct: side.ci_pct,
      tested_at_commit: { p_value: side.p_adjusted, runs_before: side.before.n, runs_after: side.after.n, series_asked: side.tested },
    };
  const speed = e.changes.find((c) => c.label === e.tradeoff_latency_label && c.key.metric === e.tradeoff_latency_metric && shapeOf(c) === "step");
  if (!speed) return { faster_ci_pct: null, tested_at_commit: null };
  // tokens/s up is time saved: its interval told the same way (negated, ends swapped).
  const ci: [number, number] = speed.key.metric === "tokens_per_sec" ? [-speed.ci_pct[1], -speed.ci_pct[0]] : speed.ci_pct;
  return { faster_ci_pct: ci, tested_at_commit: null };
}

export function storyEvent(e: BenchEvent, subjects: Map<string, string>, commitTs: Map<string, string>, isNew: boolean): Omit<ChangeEvent, "n" | "users"> {
  const commit = e.blamed_sha || e.range_to_sha;
  const lead = e.changes.find((c) => c.key.metric === e.metric && c.label === e.label) ?? e.changes[0];
  const pool = e.changes.filter((c) => c.key.metric === lead.key.metric);
  const estimate = eventEstimate(pool.length > 0 ? pool : [lead]);
  const attribution = e.kind === "no_code" ? "no_code" : e.shape === "drift" && e.range_from_sha === "" ? "window" : e.blamed_sha ? "exact" : "range";
  const status = e.state === "withdrawn" ? "open" : e.state;
  return {
    commit_sha: commit,
    commit_ts: commitTs.get(commit) ?? e.commit_ts,
    subject: e.kind === "no_code" ? "" : (subjects.get(commit) ?? ""),
    candidates: e.code_commits,
    kind: lead.kind,
    status,
    fixed_by_sha: e.fixed_by_sha,
    fixed_ts: e.fixed_by_sha ? (commitTs.get(e.fixed_by_sha) ?? null) : null,
    event_id: e.event_id,
    new: isNew,
    attribution,
    range_from_sha: e.range_from_sha,
    bisection:
      e.bisection_status === ""
        ? null
        : {
            status: e.bisection_status,
            steps: e.bisection_steps,
            steps_left: e.bisection_steps_left,
            extra_runs: e.bisection_extra_runs,
            note: e.bisection_note,
          },
    recovered:
      e.recovered_pct === null ? null : { pct: e.recovered_pct, ci_pct: [e.recovered_ci_low ?? e.recovered_pct, e.recovered_ci_high ?? e.recovered_pct] },
    returns_of: e.returns_of,
    triage: e.triage ? { action: e.triage, reason: e.triage_reason, actor: e.triage_actor, source: e.triage_source } : null,
    blamed_by: e.blame_sha ? { actor: e.blame_actor, reason: e.blame_reason } : null,
    gate:
      e.gate_fraction !== null && e.gate_ratio_before !== null && e.gate_ratio_after !== null
        ? {
            method: e.gate_method,
            baseline: e.gate_baseline,
            fraction: e.gate_fraction,
            ratio_before: e.gate_ratio_before,
            ratio_after: e.gate_ratio_after,
            breached: e.gate_breached,
          }
        : null,
    tradeoff:
      e.tradeoff && e.tradeoff_latency_pct !== null && e.tradeoff_accuracy_points !== null
        ? {
            latency_metric: e.tradeoff_latency_metric,
            latency_label: e.tradeoff_latency_label,
            faster_pct: e.tradeoff_latency_pct,
            accuracy_points: e.tradeoff_accuracy_points,
            ...tradeoffEvidence(e),
          }
        : null,
    lead: {
      label: e.label,
      metric: e.metric,
      change_pct: e.change_pct,
      ci_pct: [e.ci_low_pct, e.ci_high_pct],
      q_value: e.q_value,
      mean_before: e.mean_before,
      mean_after: e.mean_after,
      n_before: e.n_before,
      n_after: e.n_after,
    },
    shape: e.shape,
    drift:
      e.shape === "drift" && e.slope_pct_per_run !== null && e.slope_ci_low !== null && e.slope_ci_high !== null
        ? { slope_pct_per_run: e.slope_pct_per_run, ci_pct_per_run: [e.slope_ci_low, e.slope_ci_high], runs: e.drift_runs }
        : null,
    spread:
      e.shape === "spread" && e.spread_ratio !== null && e.spread_ci_low !== null && e.spread_ci_high !== null
        ? { ratio: e.spread_ratio, ci_ratio: [e.spread_ci_low, e.spread_ci_high] }
        : null,
    series_changed: e.series_changed,
    series_same_direction: e.changes.filter((c) => c.kind === lead.kind).length,
    // The event's size: the median of the lead's metric across the event's series, with its order-statistic interval.
    median_change_pct: estimate.change_pct,
    median_ci_pct: estimate.ci_pct,
    median_series: estimate.series,
  };
}

/**
 * The chart of an event's lead series (lib/site/event-chart.ts): its runs as the code they measured, nightly and
 * bisection runs alike, placed by the history. Undefined when the lead's commits are not in the loaded history.
 */
function eventChartOf(event: BenchEvent | undefined, series: Series[], attribution: Attribution, subjects: Map<string, string>): EventChart | undefined {
  // Drawn for steps: a drift or spread change is not a level before and after a commit.
  if (!event || event.kind === "no_code" || event.shape !== "step") return undefined;
  const lead = event.changes.find((c) => c.key.metric === event.metric && c.label === event.label);
  const own = lead && series.find((s) => seriesId(s.key) === seriesId(lead.key));
  if (!lead || !own) return undefined;
  const { graph, isCode } = attribution;
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
      runs: own.points.map((p) => ({
        commit_sha: p.request_id ? p.commit_sha : measuredCommit(graph, p.commit_sha, isCode),
        run_ts: p.run_ts,
        value: p.value,
        request_id: p.request_id,
      })),
      order,
      subjects,
      codeCommits: event.code_commits,
      before: lead.before,
      after: lead.after,
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

export async function computeFacts(db: Db, options: FactOptions): Promise<Facts> {
  const { window, now } = options;
  const windowDays = Math.round((window.to.getTime() - window.from.getTime()) / 86_400_000);
  const lookbackFrom = new Date(now.getTime() - options.changes.lookbackDays * 86_400_000);
  // One read of the commits: the lookback's (with a margin before it, for the suspects of its first changes) and the window's.
  const historyFrom = new Date(Math.min(window.from.getTime(), lookbackFrom.getTime() - 30 * 86_400_000));
  const [days, corrDays, volume, series, history, graphCommits] = await Promise.all([
    joinedDays(db, window),
    correlationDays(db, window),
    dataVolume(db, window),
    loadSeries(db, { from: lookbackFrom, to: window.to }),
    commitsInWindow(db, { from: historyFrom, to: window.to }),
    loadCommitGraph(db, "banterhearts", historyFrom),
  ]);
  const commits = history.filter((c) => Date.parse(c.ts) >= window.from.getTime());
  const heartsHistory = history.filter((c) => c.repo === "banterhearts");
  const graph = new CommitGraph(graphCommits);
  // Each series' first detection spread over the cores (the same result as detectChanges, in less time).
  const detection = await detectChangesInWorkers(series, { graph, isCode: codeClassifier(options.nonCodeGlobs) }, options.changes);
  if (options.runId) await storeChanges(db, detection, { now, runId: options.runId, lookbackFrom });

  // Events: grouped, their ids kept from what is stored, fixes and returns linked, bisection advanced, stored.
  const storedEvents = await loadEvents(db, new Date(lookbackFrom.getTime() - 30 * 86_400_000));
  // Muted series (a maintainer's `mute`) are dropped before grouping; the triage log is the record, laid over what is stored.
  const built = groupIntoEvents(withoutMuted(detection.changes, await mutedSeries(db)), storedEvents, { now, runId: options.runId ?? "" });
  const triage = await triageOf(
    db,
    built.map((e) => e.event_id),
  );
  for (const e of built) if (triage.has(e.event_id)) withTriageEffects(Object.assign(e, triage.get(e.event_id)));
  linkLifecycle(built);
  if (options.runId) {
    for (const [i, e] of built.entries()) {
      if (e.bisection_status !== "bisecting" || !options.bisection) continue;
      const advanced = await advanceBisection(db, e, { now, graph, isCode: codeClassifier(options.nonCodeGlobs), config: options.bisection });
      built[i] = { ...e, ...advanced.event, changes: e.changes, series: e.series };
    }
    await storeEvents(db, built, { now, runId: options.runId, stored: storedEvents });
  }

  // The story: what is new since the previous episode (found, narrowed by bisection, fixed), then what is known and
  // still open. Kept improvements and environment changes seen before are not told again.
  const previous = options.previous ?? null;
  const told = new Map((previous?.events ?? []).map((e) => [e.event_id, e]));
  const isNew = (e: BenchEvent) => {
    if (previous === null) return true;
    const before = told.get(e.event_id);
    if (before) return before.status !== e.state || before.commit_sha !== (e.blamed_sha || e.range_to_sha) || (before.triage ?? "") !== e.triage;
    return Date.parse(e.commit_ts) > Date.parse(previous.window_to) || Date.parse(e.first_detected_at) > Date.parse(previous.ts);
  };
  const subjects = new Map(heartsHistory.map((c) => [c.sha, commitSubject(c.message)]));
  const commitTs = new Map(graphCommits.map((c) => [c.sha, c.ts]));
  // Invalid events (a maintainer's word that they are not real) are left out of the story and its counts.
  const tellable = built.filter((e) => e.triage !== "invalid");
  const fresh = tellable.filter(isNew).map((e) => storyEvent(e, subjects, commitTs, true));
  const stillOpen = tellable.filter((e) => !isNew(e) && isOpenRegression(e)).map((e) => storyEvent(e, subjects, commitTs, false));
  const bySize = (a: Omit<ChangeEvent, "n" | "users">, b: Omit<ChangeEvent, "n" | "users">) =>
    b.series_changed - a.series_changed || Math.abs(b.lead.change_pct) - Math.abs(a.lead.change_pct);
  const grouped = [...fresh.sort(bySize), ...stillOpen.sort(bySize)].map((e) => ({
    ...e,
    chart: eventChartOf(
      built.find((b) => b.event_id === e.event_id),
      series,
      { graph, isCode: codeClassifier(options.nonCodeGlobs) },
      subjects,
    ),
  }));
  const impactConfig = options.impact ?? DEFAULT_IMPACT;
  // Whether users felt it: asked of what is new (an open event told before was asked then).
  const asked: (UserImpact | null)[] = [];
  for (const e of grouped)
    asked.push(
      // Only a step has a moment to compare the overlay around and a mean it moves: drifts and spread changes are not asked.
      e.new && e.attribution !== "no_code" && e.shape === "step"
        ? await userImpact(db, new Date(e.commit_ts), e.kind === "regression" ? "worse" : "better", impactConfig)
        : null,
    );
  // Benjamini–Hochberg across every event × user metric of the episode: "felt" follows the adjusted latency q-value.
  const askedIdx = asked.flatMap((u, i) => (u ? [i] : []));
  const adjusted = adjustImpacts(
    askedIdx.map((i) => ({ impact: asked[i]!, direction: grouped[i].kind === "regression" ? ("worse" as const) : ("better" as const) })),
    impactConfig.alpha,
  );
  const impacts: (UserImpact | null)[] = asked.map((u, i) => (u ? adjusted[askedIdx.indexOf(i)] : null));

  const newest = [volume.newest_bench_ts, volume.newest_session_hour ? new Date(Date.parse(volume.newest_session_hour) + 3_600_000).toISOString() : null]
    .filter((v): v is string => v !== null)
    .map((v) => Date.parse(v));
  // The older of the two sources' newest data decides recency.
  const newestDataAgeSeconds = newest.length === 2 ? Math.max(0, (now.getTime() - Math.min(...newest)) / 1000) : null;
  // "Nothing changed" is as certain as the model-level series (what users wait for) that had runs enough, and noise
  // low enough, to have shown a step of POWER_TARGET_PCT at 80 % power.
  const modelLevel = series.filter((x) => (MODEL_LEVEL_TYPES as readonly string[]).includes(x.key.benchmark_type));
  const powered = (x: Series) => {
    if (x.points.length < 2 * options.changes.minRunsEachSide) return false;
    const mdc = minimalDetectableChangePct(x.points.map((p) => p.value));
    return mdc !== null && mdc <= POWER_TARGET_PCT;
  };
  const coverage = modelLevel.length === 0 ? 0 : modelLevel.filter(powered).length / modelLevel.length;
  const confidence = scoreConfidence({
    joinedDays: days.length,
    windowDays,
    newestDataAgeSeconds,
    freshSeconds: options.freshSeconds,
    benchRows: volume.bench_rows,
    events: volume.events,
    benchRowsExpected: (options.benchRowsPerDay ?? 2) * windowDays,
    eventsExpected: (options.eventsPerDay ?? 200) * windowDays,
    storyQValues: grouped.filter((e) => e.new).map((e) => e.lead.q_value),
    coverage,
    storyAttributions: grouped.filter((e) => e.new).map((e) => ({ attribution: e.attribution, bisecting: e.bisection?.status === "bisecting" })),
    userQValues: impacts.flatMap((u) => (u && (u.felt || u.other_way) && u.latency_q_value != null ? [u.latency_q_value] : [])),
  });

  const window_ = `${window.from.toISOString()}..${window.to.toISOString()}`;
  const joinedSource = `joined days of bench_runs (model-level) and session_stats, ${window_}, ${days.length} days`;
  const list: Fact[] = [];
  const add = (f: Fact | null) => {
    // A count carries its noun, decided from its id (lib/episode/nouns.ts): it renders "42 sessions", never a writer's noun.
    if (f && Number.isFinite(f.value)) list.push(fact.parse(withCountNoun(f)));
  };
  const windowMean = (key: "latency_p95_ms" | "tokens_per_sec" | "cost_per_1k" | "user_latency_ms" | "error_rate" | "abandonment_rate") =>
    mean(days.map((d) => d[key]));
  const maybe = (id: string, label: string, value: number | null, unit: FactUnit, decimals: number, source: string, signed?: boolean): Fact | null =>
    value === null || !Number.isFinite(value)
      ? null
      : { id, label, value: unit === "p_value" ? value : round(value, decimals), unit, decimals, source, ...(signed ? { signed } : {}) };

  add({ id: "window.from", label: "start of the window", value: window.from.getTime(), unit: "date", decimals: 0, source: `window ${window_}` });
  add({ id: "window.to", label: "end of the window", value: window.to.getTime(), unit: "date", decimals: 0, source: `window ${window_}` });
  add({ id: "window.days", label: "days in the window", value: windowDays, unit: "days", decimals: 0, source: `window ${window_}` });
  add({ id: "window.joined_days", label: "days with data from both sources", value: days.length, unit: "days", decimals: 0, source: joinedSource });
  add(maybe("hearts.latency_p95_ms", "mean daily p95 latency (Banterhearts)", windowMean("latency_p95_ms"), "ms", 1, joinedSource));
  add(maybe("hearts.tokens_per_sec", "mean daily throughput (Banterhearts)", windowMean("tokens_per_sec"), "tokens/s", 1, joinedSource));
  add(maybe("hearts.cost_per_1k", "mean cost per 1k tokens", windowMean("cost_per_1k"), "usd", 4, joinedSource));
  add(maybe("packs.user_latency_ms", "mean user-facing latency (Banterpacks)", windowMean("user_latency_ms"), "ms", 1, joinedSource));
  const errorRate = windowMean("error_rate");
  add(maybe("packs.error_rate_pct", "error rate", errorRate === null ? null : errorRate * 100, "percent", 2, joinedSource));
  const abandonment = windowMean("abandonment_rate");
  add(maybe("packs.abandonment_pct", "query abandonment rate", abandonment === null ? null : abandonment * 100, "percent", 1, joinedSource));

  // Background: the hearts↔packs correlation, only over enough full days, with its interval.
  const minDays = options.correlationMinDays ?? 5;
  // Day-to-day differences over full UTC days of a fixed benchmark set (shared trends and shared steps of the
  // levels are not a correlation), with a seeded moving-block bootstrap interval, or none with too few days.
  const { dx, dy } = dayDifferences(corrDays.map((d) => ({ day: d.day, x: d.latency_p95_ms, y: d.user_latency_ms })));
  const corr = corrDays.length >= minDays ? correlationOfDifferences(dx, dy) : null;
  const r = corr?.r ?? null;
  const corrSource = `Pearson r of day-to-day differences over ${corrDays.length} full UTC days (${dx.length} differences) of the mean daily p95 latency of the ${corrDays[0]?.series ?? 0} model-level series with runs on every day against the mean wait per answer (bench_runs FINAL, session_stats FINAL, ${window_}); ${corr?.ci ? `moving-block bootstrap 95 % interval, blocks of ${corr.block} days, seeded (lib/analysis/statistics.ts)` : `no interval: fewer than ${MIN_BOOTSTRAP_PAIRS} differences, descriptive only`}`;
  if (corr && r !== null) {
    add(maybe("correlation.latency_user", "Pearson r of day-to-day changes, p95 latency vs user latency", r, "coefficient", 2, corrSource));
    if (corr.ci) {
      add(maybe("correlation.ci_low", "lower end of the 95 % interval of r", corr.ci[0], "coefficient", 2, corrSource));
      add(maybe("correlation.ci_high", "upper end of the 95 % interval of r", corr.ci[1], "coefficient", 2, corrSource));
    }
    add({ id: "correlation.days", label: "full days the correlation is computed over", value: corrDays.length, unit: "days", decimals: 0, source: corrSource });
  }
  add({
    id: "confidence",
    label: "confidence score",
    value: round(confidence.value, 2),
    unit: "score",
    decimals: 2,
    source: `min(completeness, recency, volume, evidence) = ${JSON.stringify(confidence)} (lib/analysis/facts.ts)`,
  });
  add({
    id: "volume.bench_rows",
    label: "model-level benchmark rows",
    value: volume.bench_rows,
    unit: "count",
    decimals: 0,
    source: `count() bench_runs FINAL, ${window_}`,
  });
  add({
    id: "volume.events",
    label: "UI events",
    value: volume.events,
    unit: "count",
    decimals: 0,
    source: `sum(events_count) session_stats FINAL, ${window_}`,
  });
  add({
    id: "volume.sessions",
    label: "sessions",
    value: volume.sessions,
    unit: "count",
    decimals: 0,
    source: `uniqExact(session_id) session_stats FINAL, ${window_}`,
  });
  const packsCommits = commits.filter((c) => c.repo === "banterpacks");
  const heartsCommits = commits.filter((c) => c.repo === "banterhearts");
  add({
    id: "commits.packs",
    label: "Banterpacks commits in the window",
    value: packsCommits.length,
    unit: "count",
    decimals: 0,
    source: `upstream_commits FINAL repo=banterpacks, ${window_}`,
  });
  add({
    id: "commits.hearts",
    label: "Banterhearts commits in the window",
    value: heartsCommits.length,
    unit: "count",
    decimals: 0,
    source: `upstream_commits FINAL repo=banterhearts, ${window_}`,
  });

  // Change points.
  const cycles = detection.weekly_cycles;
  const cycleNote = cycles
    ? cycles.removed > 0
      ? `; a weekly load cycle (weekdays up to ${cycles.largest_swing_pct.toFixed(1)} % apart) taken out before detection in ${cycles.removed} of ${cycles.groups} device × metric groups (lib/analysis/weekly-cycle.ts)`
      : `; no weekly load cycle beyond chance in ${cycles.groups} device × metric groups`
    : "";
  const seasons = detection.seasons;
  const seasonNote = seasons?.series
    ? `; a cycle of its own (every ${seasons.periods.join(", ")} runs) taken out of ${seasons.series} series before their scans (lib/analysis/season.ts)`
    : "";
  const method = `multiscale scan with an AR(1) noise model, one p-value per series calibrated for its whole search (lib/analysis/changepoints.ts)${cycleNote}${seasonNote}; Benjamini–Hochberg across ${detection.series_tested} series (${detection.candidates} candidate changes) selected ${detection.series_selected} at q ≤ ${options.changes.alpha}, changes inside them at ${options.changes.alpha} × selected / tested (Benjamini–Bogomolov); ≥ ${options.changes.minRunsEachSide} runs a side, lookback from ${lookbackFrom.toISOString()}`;
  add({
    id: "detect.series_tested",
    label: "benchmark series tested for change points",
    value: detection.series_tested,
    unit: "count",
    decimals: 0,
    source: method,
  });
  add({
    id: "detect.min_runs",
    label: "runs required on each side of a change",
    value: options.changes.minRunsEachSide,
    unit: "count",
    decimals: 0,
    source: "MUSE_CHANGE_MIN_RUNS",
  });
  add({
    id: "changes.regressions",
    label: "regressions new since the previous episode",
    value: grouped.filter((e) => e.new && e.attribution !== "no_code" && e.kind === "regression").length,
    unit: "count",
    decimals: 0,
    source: method,
  });
  add({
    id: "changes.improvements",
    label: "improvements new since the previous episode",
    value: grouped.filter((e) => e.new && e.attribution !== "no_code" && e.kind === "improvement").length,
    unit: "count",
    decimals: 0,
    source: method,
  });
  add({
    id: "changes.events_found",
    label: "change events the detector finds in the lookback (new or known)",
    value: tellable.length,
    unit: "count",
    decimals: 0,
    source: `${method}; events grouped by commit range (lib/lifecycle/events.ts), those triaged invalid left out (event_triage)`,
  });
  const open = built.filter(isOpenRegression);
  add({
    id: "changes.open_regressions",
    label: "open regressions (events, partly fixed ones included)",
    value: open.length,
    unit: "count",
    decimals: 0,
    source: `bench_events state in (open, partly_fixed), not triaged invalid or expected (${method})`,
  });

  const events: ChangeEvent[] = grouped.map((e, i) => {
    const key = `event.${i + 1}`;
    const unit = (METRIC_UNITS as Record<string, FactUnit>)[e.lead.metric] ?? "count";
    const src = `${method}; ${e.lead.label} ${e.lead.metric}, ${e.lead.n_before} runs before and ${e.lead.n_after} after commit ${e.commit_sha.slice(0, 7)}; interval: Fieller 95 %`;
    add({
      id: `${key}.date`,
      label:
        e.attribution === "window"
          ? `date of the code of the first run the detector looked at, where drift ${i + 1} is seen from`
          : `date of the commit of change ${i + 1}`,
      value: Date.parse(e.commit_ts),
      unit: "date",
      decimals: 0,
      source: `upstream_commits ${e.commit_sha}`,
    });
    if (e.shape === "step") {
      add(maybe(`${key}.change_pct`, `${e.lead.label} ${e.lead.metric} change`, e.lead.change_pct, "percent", 1, src, true));
      add(maybe(`${key}.ci_low_pct`, `lower end of the 95 % interval of change ${i + 1}`, e.lead.ci_pct[0], "percent", 1, src, true));
      add(maybe(`${key}.ci_high_pct`, `upper end of the 95 % interval of change ${i + 1}`, e.lead.ci_pct[1], "percent", 1, src, true));
      // Loss (unit score) is a small number whose changes are hundredths: three decimals; the rest one.
      const levelDecimals = unit === "score" ? 3 : 1;
      add(maybe(`${key}.before`, `${e.lead.label} ${e.lead.metric} before`, e.lead.mean_before, unit, levelDecimals, src));
      add(maybe(`${key}.after`, `${e.lead.label} ${e.lead.metric} after`, e.lead.mean_after, unit, levelDecimals, src));
      add(maybe(`${key}.runs_before`, "runs before the change", e.lead.n_before, "count", 0, src));
      add(maybe(`${key}.runs_after`, "runs after the change", e.lead.n_after, "count", 0, src));
    }
    if (e.drift) {
      // A slope per run, not per day: runs follow the benchmarks' cadence (nightly, with repeats and gaps), which is not a clock.
      const from = e.attribution === "window" ? "the first run of the lookback" : `the first run of commit ${e.commit_sha.slice(0, 7)}`;
      const dsrc = `${method}; ${e.lead.label} ${e.lead.metric}: a piecewise-linear trend (slopes changing at kinks, plus steps) against steps alone by BIC, this stretch's slope with its 95 % interval under the AR(1) noise model (lib/analysis/changepoints.ts, lib/analysis/trend.ts), over the ${e.drift.runs} runs from ${from}; in percent of the stretch's starting level per run`;
      add(maybe(`${key}.drift.slope_pct_per_run`, `${e.lead.label} ${e.lead.metric} drift per run`, e.drift.slope_pct_per_run, "pct_per_run", 2, dsrc, true));
      add(maybe(`${key}.drift.ci_low`, `lower end of the 95 % interval of drift ${i + 1}`, e.drift.ci_pct_per_run[0], "pct_per_run", 2, dsrc, true));
      add(maybe(`${key}.drift.ci_high`, `upper end of the 95 % interval of drift ${i + 1}`, e.drift.ci_pct_per_run[1], "pct_per_run", 2, dsrc, true));
      add(maybe(`${key}.runs_drifting`, "runs the drift is measured over", e.drift.runs, "count", 0, dsrc));
      const total = `${dsrc}; the change over the stretch is the slope × (runs − 1), its interval likewise`;
      add(maybe(`${key}.change_pct`, `${e.lead.label} ${e.lead.metric} change over the drifting runs`, e.lead.change_pct, "percent", 1, total, true));
      add(maybe(`${key}.ci_low_pct`, `lower end of the 95 % interval of the change over drift ${i + 1}`, e.lead.ci_pct[0], "percent", 1, total, true));
      add(maybe(`${key}.ci_high_pct`, `upper end of the 95 % interval of the change over drift ${i + 1}`, e.lead.ci_pct[1], "percent", 1, total, true));
    }
    if (e.spread) {
      const ssrc = `${method}; ${e.lead.label} ${e.lead.metric}: the spread scan (sizes of successive run differences, as normal scores), the noise deviation after / before from trimmed scales of the differences, 95 % interval on its log (lib/analysis/changepoints.ts), ${e.lead.n_before} runs before and ${e.lead.n_after} after commit ${e.commit_sha.slice(0, 7)}`;
      add(maybe(`${key}.spread.ratio`, `${e.lead.label} ${e.lead.metric} noise after / before`, e.spread.ratio, "times", 2, ssrc));
      add(maybe(`${key}.spread.ci_low`, `lower end of the 95 % interval of spread change ${i + 1}`, e.spread.ci_ratio[0], "times", 2, ssrc));
      add(maybe(`${key}.spread.ci_high`, `upper end of the 95 % interval of spread change ${i + 1}`, e.spread.ci_ratio[1], "times", 2, ssrc));
      add(maybe(`${key}.runs_before`, "runs before the spread change", e.lead.n_before, "count", 0, ssrc));
      add(maybe(`${key}.runs_after`, "runs after the spread change", e.lead.n_after, "count", 0, ssrc));
    }
    add(maybe(`${key}.q_value`, "Benjamini–Hochberg q-value", e.lead.q_value, "p_value", 2, src));
    add(maybe(`${key}.series`, "series that changed at this commit", e.series_changed, "count", 0, src));
    add(maybe(`${key}.series_same`, "series that moved in the lead's direction", e.series_same_direction, "count", 0, src));
    const msrc = `${method}; median of the ${e.lead.metric} changes of the event's ${e.median_series} series, 95 % interval from order statistics of the median (lib/analysis/statistics.ts eventEstimate)`;
    // The median across series is a step's size; a drift or spread event is told by its lead (slope, noise ratio).
    if (e.shape === "step")
      add(maybe(`${key}.median_change_pct`, "median change across the commit's series", e.median_change_pct, "percent", 1, e.median_ci_pct ? msrc : src, true));
    if (e.median_ci_pct && e.shape === "step") {
      add(maybe(`${key}.median.ci_low_pct`, `lower end of the 95 % interval of the median change ${i + 1}`, e.median_ci_pct[0], "percent", 1, msrc, true));
      add(maybe(`${key}.median.ci_high_pct`, `upper end of the 95 % interval of the median change ${i + 1}`, e.median_ci_pct[1], "percent", 1, msrc, true));
      add(maybe(`${key}.median.series`, "series the median change is taken over", e.median_series, "count", 0, msrc));
    }
    const rangeSrc = `code commits after ${e.range_from_sha.slice(0, 7)} up to ${(e.candidates.at(-1) ?? e.commit_sha).slice(0, 7)} on the first-parent history (bot and docs commits excluded: MUSE_NON_CODE_GLOBS)`;
    add(maybe(`${key}.candidates`, "code commits between the runs around the change", e.candidates.length, "count", 0, rangeSrc));
    if (e.bisection) {
      const bsrc = `bench_requests and the runs answering them for event ${e.event_id} (lib/bisection/bisect.ts)`;
      add(maybe(`${key}.bisect.steps`, "bisection steps taken", e.bisection.steps, "count", 0, bsrc));
      add(maybe(`${key}.bisect.step_now`, "the bisection step under way", e.bisection.steps + 1, "count", 0, bsrc));
      add(maybe(`${key}.bisect.steps_total`, "bisection steps in all (taken and left at most)", e.bisection.steps + e.bisection.steps_left, "count", 0, bsrc));
      add(maybe(`${key}.bisect.extra_runs`, "extra benchmark runs bisection used", e.bisection.extra_runs, "count", 0, bsrc));
    }
    if (e.gate) {
      const gsrc = `bench_runs accuracy of ${e.gate.method} / the same run's ${e.gate.baseline} baseline (variant baseline), averaged over the accuracy series' segments before and after commit ${e.commit_sha.slice(0, 7)} (lib/analysis/changes.ts gateCheck); gate MUSE_ACCURACY_GATE / MUSE_ACCURACY_GATES`;
      add(maybe(`${key}.gate.fraction`, `accuracy gate of ${e.gate.method} (share of the baseline's accuracy)`, e.gate.fraction * 100, "percent", 1, gsrc));
      add(maybe(`${key}.gate.ratio_before`, `${e.gate.method} accuracy as a share of the baseline's, before`, e.gate.ratio_before * 100, "percent", 1, gsrc));
      add(maybe(`${key}.gate.ratio_after`, `${e.gate.method} accuracy as a share of the baseline's, after`, e.gate.ratio_after * 100, "percent", 1, gsrc));
    }
    if (e.tradeoff) {
      const tested = e.tradeoff.tested_at_commit;
      const how = tested
        ? `the speed side asked at the accuracy change's commit (not found by the search): mean log runs after against before, standardised by the series' AR(1) noise, ${tested.runs_before} runs before and ${tested.runs_after} after, Student's t, 95 % interval, p Bonferroni-adjusted over the ${tested.series_asked} series of this method asked at this commit (lib/analysis/speed-side.ts)`
        : `the speed side a change the detector found at the same commit, 95 % interval`;
      const tsrc = `${method}; trade-off of event ${e.event_id}: ${e.tradeoff.latency_label} ${e.tradeoff.latency_metric} (tokens/s told as the time it saves) and ${e.lead.label} accuracy, segment means around commit ${e.commit_sha.slice(0, 7)}; ${how}`;
      if (e.tradeoff.faster_ci_pct) {
        add(
          maybe(`${key}.tradeoff.faster_ci_low_pct`, "low end of the trade-off's speed change interval", e.tradeoff.faster_ci_pct[0], "percent", 1, tsrc, true),
        );
        add(
          maybe(
            `${key}.tradeoff.faster_ci_high_pct`,
            "high end of the trade-off's speed change interval",
            e.tradeoff.faster_ci_pct[1],
            "percent",
            1,
            tsrc,
            true,
          ),
        );
      }
      if (tested) add(maybe(`${key}.tradeoff.p_value`, "p-value of the trade-off's speed side, tested at the commit", tested.p_value, "p_value", 2, tsrc));
      add(
        maybe(
          `${key}.tradeoff.faster_pct`,
          `${e.tradeoff.latency_label} ${e.tradeoff.latency_metric} change of the trade-off`,
          e.tradeoff.faster_pct,
          "percent",
          1,
          tsrc,
          true,
        ),
      );
      add(maybe(`${key}.tradeoff.accuracy_points`, `${e.lead.label} accuracy change of the trade-off`, e.tradeoff.accuracy_points, "points", 1, tsrc, true));
    }
    if (e.recovered) {
      const rsrc = `lead series level after ${e.fixed_by_sha.slice(0, 7)} against the levels around the regression; delta-method 95 % interval (lib/lifecycle/events.ts)`;
      add(maybe(`${key}.recovered_pct`, "share of the regression recovered", e.recovered.pct, "percent", 1, rsrc));
      add(maybe(`${key}.recovered_ci_low`, "lower end of the 95 % interval of the share recovered", e.recovered.ci_pct[0], "percent", 1, rsrc));
      add(maybe(`${key}.recovered_ci_high`, "upper end of the 95 % interval of the share recovered", e.recovered.ci_pct[1], "percent", 1, rsrc));
    }
    if (e.fixed_ts) {
      add(
        maybe(
          `${key}.fixed_after_days`,
          "days from the regression to its fix",
          (Date.parse(e.fixed_ts) - Date.parse(e.commit_ts)) / 86_400_000,
          "days",
          1,
          `bench_events: fixed by ${e.fixed_by_sha}`,
        ),
      );
    }
    const u = impacts[i];
    if (u === null) return changeEvent.parse({ ...e, n: i + 1, users: null });
    const usrc = `session_stats FINAL: the ${impactConfig.periodHours} h from ${u.deploy_at ?? "the commit"} (commit ${e.commit_sha.slice(0, 7)} + MUSE_IMPACT_LAG_MINUTES ${impactConfig.lagMinutes}; no Banterhearts deploy time is recorded) against the same hours a week before (${u.hours_before} + ${u.hours_after} hours), beyond the same week-over-week change on ${u.placebo_days ?? 0} placebo days before the commit: placebo t-test, Benjamini–Hochberg across ${asked.filter(Boolean).length} events × 3 user metrics (lib/analysis/impact.ts)`;
    if (u.measurable) {
      add(maybe(`${key}.users.latency_before_ms`, "user latency before", u.latency_before_ms, "ms", 1, usrc));
      add(maybe(`${key}.users.latency_after_ms`, "user latency after", u.latency_after_ms, "ms", 1, usrc));
      add(maybe(`${key}.users.latency_change_pct`, "user latency change", u.latency_change_pct, "percent", 1, usrc, true));
      add(
        maybe(`${key}.users.ci_low_pct`, "lower end of the 95 % interval of the user latency change", u.latency_ci_pct?.[0] ?? null, "percent", 1, usrc, true),
      );
      add(
        maybe(`${key}.users.ci_high_pct`, "upper end of the 95 % interval of the user latency change", u.latency_ci_pct?.[1] ?? null, "percent", 1, usrc, true),
      );
      add(maybe(`${key}.users.p_value`, "p-value of the user latency change", u.latency_p_value, "p_value", 2, usrc));
      add(maybe(`${key}.users.q_value`, "Benjamini–Hochberg q-value of the user latency change", u.latency_q_value ?? null, "p_value", 2, usrc));
      add(maybe(`${key}.users.placebo_days`, "placebo days the user-side noise is measured on", u.placebo_days ?? null, "days", 0, usrc));
      add(
        maybe(
          `${key}.users.usual_change_pct`,
          "usual week-over-week change of user latency before the commit",
          u.usual_week_change_pct ?? null,
          "percent",
          1,
          usrc,
          true,
        ),
      );
      add(maybe(`${key}.users.hours`, "hours compared on each side", Math.min(u.hours_before, u.hours_after), "hours", 0, usrc));
      add(maybe(`${key}.users.error_before_pct`, "error rate before", u.error_rate_before_pct, "percent", 2, usrc));
      add(maybe(`${key}.users.error_after_pct`, "error rate after", u.error_rate_after_pct, "percent", 2, usrc));
      add(maybe(`${key}.users.error_p_value`, "p-value of the error rate change", u.error_rate_p_value, "p_value", 2, usrc));
      add(maybe(`${key}.users.abandon_before_pct`, "abandonment before", u.abandonment_before_pct, "percent", 1, usrc));
      add(maybe(`${key}.users.abandon_after_pct`, "abandonment after", u.abandonment_after_pct, "percent", 1, usrc));
    }
    return changeEvent.parse({
      ...e,
      n: i + 1,
      users: {
        measurable: u.measurable,
        felt: u.felt,
        latency_change_pct: u.latency_change_pct,
        latency_ci_pct: u.latency_ci_pct,
        latency_p_value: u.latency_p_value,
        other_way: u.other_way ?? false,
        latency_q_value: u.latency_q_value ?? null,
      },
    });
  });

  // Latency against accuracy per model, with the trade-offs and gate breaches the story tells as moves.
  const quality = buildQuality({
    series,
    attribution: { graph, isCode: codeClassifier(options.nonCodeGlobs) },
    // Latency against accuracy is read from the steps (segment levels); drifts and spread changes are not levels.
    changes: detection.changes.filter((c) => shapeOf(c) === "step"),
    gates: options.changes.gates,
    events: events.flatMap((e) => {
      const b = built.find((x) => x.event_id === e.event_id);
      return b
        ? [
            {
              n: e.n,
              commit_sha: e.commit_sha,
              tradeoff: e.tradeoff !== null,
              gate_breached: e.gate?.breached ?? false,
              lead_metric: e.lead.metric,
              lead_label: e.lead.label,
              members: b.changes.filter((c) => shapeOf(c) === "step"),
            },
          ]
        : [];
    }),
  });

  const missing: string[] = [];
  if (confidence.completeness < 1) missing.push("some days of the window lack data from one of the sources");
  if (confidence.recency < 1) missing.push("the newest data is older than the freshness threshold");
  if (confidence.volume < 1) missing.push("data volume is below what a full-confidence window needs");
  if ((confidence.evidence ?? 1) < 1 && grouped.length === 0) missing.push("some benchmark series have too few runs to show a change");

  const identifiers = new Set<string>();
  for (const s of series)
    for (const v of [s.key.model, s.key.quant, s.key.variant, s.key.dataset, s.key.device, s.key.benchmark_type]) if (v && v !== "unknown") identifiers.add(v);
  for (const m of volume.models) identifiers.add(m);

  return facts.parse({
    window: { from: window.from.toISOString(), to: window.to.toISOString(), days: windowDays },
    generated_at: now.toISOString(),
    facts: list,
    confidence,
    correlation: r,
    daily: days.map((d) => ({
      day: d.day,
      latency_p95_ms: d.latency_p95_ms,
      tokens_per_sec: d.tokens_per_sec,
      cost_per_1k: d.cost_per_1k,
      user_latency_ms: d.user_latency_ms,
      error_rate: d.error_rate,
      abandonment_rate: d.abandonment_rate,
      sessions: d.sessions,
      events: d.events,
    })),
    changes: [],
    events,
    open_regressions: open.map((e) => ({ label: e.label, metric: e.metric, commit_sha: e.blamed_sha || e.range_to_sha, change_pct: e.change_pct })),
    detection: {
      series_total: detection.series_total,
      series_tested: detection.series_tested,
      candidates: detection.candidates,
      alpha: options.changes.alpha,
      min_runs: options.changes.minRunsEachSide,
      lookback_from: lookbackFrom.toISOString(),
    },
    commits: {
      hearts: heartsCommits.map((c) => ({ sha: c.sha, ts: c.ts, message: c.message })),
      packs: packsCommits.map((c) => ({
        sha: c.sha,
        ts: c.ts,
        message: c.message,
        files_changed: c.files_changed,
        additions: c.additions,
        deletions: c.deletions,
      })),
    },
    hearts_commits_used: volume.hearts_commits.sort(),
    models: volume.models,
    quality,
    identifiers: [...identifiers].sort(),
    volume: { bench_rows: volume.bench_rows, events: volume.events, sessions: volume.sessions },
    missing,
  });
}
