import { z } from "zod";
import type { Db } from "../clickhouse/client";
import { fact, type Fact, type FactUnit } from "../episode/fact";
import { commitSubject } from "../episode/references";
import { detectChanges, storeChanges, type AttributedChange, type ChangeConfig } from "./changes";
import { DEFAULT_IMPACT, userImpact, type ImpactConfig, type UserImpact } from "./impact";
import { MODEL_LEVEL_TYPES, commitsInWindow, correlations, dataVolume, joinedDays, type Window } from "./queries";
import { METRIC_UNITS, loadSeries } from "./series";

export { fact, factUnit, type Fact, type FactUnit } from "../episode/fact";

/**
 * The computed facts an episode may state. Each fact carries its value, unit,
 * the decimals it is rendered with, and its source (the query and the rows or
 * the method it came from), so every number in an episode can be traced.
 */

/**
 * Confidence, in one place: how certain is what this episode says?
 * confidence = min(completeness, recency, volume, evidence):
 * - completeness = days with both sources / days in the window;
 * - recency      = 1 while the newest data is within the freshness threshold,
 *                  then falling linearly to 0 at 24 h beyond it;
 * - volume       = min(1, bench rows / expected, events / expected);
 * - evidence     = with changes to tell: 1 − the largest Benjamini–Hochberg
 *                  q-value among them (the weakest change the story relies on);
 *                  without: the share of model-level benchmark series with
 *                  enough runs to have shown a change (2 × MUSE_CHANGE_MIN_RUNS),
 *                  i.e. how well "nothing changed" is covered.
 * The hearts↔packs correlation is background (with its Fisher-z interval), not
 * certainty: an effect size of daily means says nothing about how sure we are.
 */
export const confidenceBreakdown = z.object({
  value: z.number().min(0).max(1),
  completeness: z.number().min(0).max(1),
  recency: z.number().min(0).max(1),
  volume: z.number().min(0).max(1),
  evidence: z.number().min(0).max(1).optional(),
  /** Episodes written before evidence replaced it. */
  correlation: z.number().min(0).max(1).optional(),
  limiting: z.enum(["completeness", "correlation", "recency", "volume", "evidence"]),
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
  status: z.enum(["open", "fixed", "kept"]),
  fixed_by_sha: z.string(),
  fixed_ts: z.string().nullable(),
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
  users: z
    .object({
      measurable: z.boolean(),
      felt: z.boolean(),
      latency_change_pct: z.number().nullable(),
      latency_ci_pct: interval.nullable(),
      latency_p_value: z.number().nullable(),
    })
    .nullable(),
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
  /** The previous episode: changes detected or committed since then are this episode's story. */
  previous?: { ts: string; window_to: string } | null;
  /** The council run (bench_changes.run_id); without it, changes are detected but not stored. */
  runId?: string;
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const round = (v: number, decimals: number) => Number(v.toFixed(decimals));
const mean = (values: (number | null)[]) => {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
};
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
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
  /** Share of series with enough runs to show a change. */
  coverage: number;
}): ConfidenceBreakdown {
  const completeness = clamp01(input.joinedDays / input.windowDays);
  const recency = input.newestDataAgeSeconds === null ? 0 : clamp01(1 - Math.max(0, input.newestDataAgeSeconds - input.freshSeconds) / 86_400);
  const volume = clamp01(Math.min(input.benchRows / input.benchRowsExpected, input.events / input.eventsExpected));
  const evidence = clamp01(input.storyQValues.length > 0 ? 1 - Math.max(...input.storyQValues) : input.coverage);
  const parts = { completeness, recency, volume, evidence };
  const limiting = (Object.keys(parts) as (keyof typeof parts)[]).reduce((a, b) => (parts[b] < parts[a] ? b : a));
  const r4 = (v: number) => round(v, 4);
  return { value: r4(parts[limiting]), completeness: r4(completeness), recency: r4(recency), volume: r4(volume), evidence: r4(evidence), limiting };
}

/** Fisher-z interval of Pearson r over n pairs (n ≥ 4), at 95 %. */
export function fisherInterval(r: number, n: number): [number, number] | null {
  if (n < 4 || Math.abs(r) >= 1) return null;
  const z = Math.atanh(r);
  const se = 1 / Math.sqrt(n - 3);
  return [Math.tanh(z - 1.959964 * se), Math.tanh(z + 1.959964 * se)];
}

/**
 * Groups the story's changes into events: changes in the same direction whose
 * suspect commit ranges overlap are one event (one commit moved many series).
 * The event's suspects are the commits every member's range shares — the
 * series together narrow the attribution, often to one commit — and its commit
 * is the one most members point at. Biggest lead first.
 */
export function groupEvents(changes: AttributedChange[], subjects: Map<string, string>): Omit<ChangeEvent, "n" | "users">[] {
  const parent = changes.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const suspects = changes.map((c) => new Set(c.candidates.length > 0 ? c.candidates : [c.commit_sha]));
  for (let i = 0; i < changes.length; i++) {
    for (let j = i + 1; j < changes.length; j++) {
      if (changes[i].kind !== changes[j].kind) continue;
      if ([...suspects[i]].some((sha) => suspects[j].has(sha))) parent[find(i)] = find(j);
    }
  }
  const groups = new Map<number, number[]>();
  changes.forEach((_, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), i]));
  const events = [...groups.values()].map((members) => {
    const list = members.map((i) => changes[i]);
    const votes = new Map<string, number>();
    for (const c of list) votes.set(c.commit_sha, (votes.get(c.commit_sha) ?? 0) + 1);
    const commit = [...votes.keys()].reduce((a, b) => ((votes.get(b) ?? 0) > (votes.get(a) ?? 0) ? b : a));
    // Suspects: the commits a majority of the event's series point at (their ranges overlap there).
    const inRanges = new Map<string, number>();
    for (const i of members) for (const sha of suspects[i]) inRanges.set(sha, (inRanges.get(sha) ?? 0) + 1);
    let shared = [...inRanges.entries()].filter(([, n]) => n > members.length / 2).map(([sha]) => sha);
    if (!shared.includes(commit)) shared = [commit, ...shared];
    // The fix: what most of the event's regressed series were reversed by.
    const fixes = new Map<string, { n: number; ts: string | null }>();
    for (const c of list) if (c.fixed_by_sha) fixes.set(c.fixed_by_sha, { n: (fixes.get(c.fixed_by_sha)?.n ?? 0) + 1, ts: c.fixed_ts });
    const fixed = [...fixes.entries()].reduce<[string, { n: number; ts: string | null }] | null>((a, b) => (a === null || b[1].n > a[1].n ? b : a), null);
    const fixedCount = list.filter((c) => c.status === "fixed").length;
    const p95 = list.filter((c) => c.key.metric === "latency_p95_ms");
    const pool = p95.length > 0 ? p95 : list;
    const lead = pool.reduce((a, b) => (Math.abs(b.change_pct) > Math.abs(a.change_pct) ? b : a));
    const at = list.find((c) => c.commit_sha === commit) ?? lead;
    return {
      commit_sha: commit,
      commit_ts: at.commit_ts,
      subject: subjects.get(commit) ?? "",
      candidates: shared,
      kind: lead.kind,
      status: lead.kind === "improvement" ? ("kept" as const) : fixedCount > list.length / 2 && fixed ? ("fixed" as const) : ("open" as const),
      fixed_by_sha: lead.kind === "regression" && fixedCount > list.length / 2 && fixed ? fixed[0] : "",
      fixed_ts: lead.kind === "regression" && fixedCount > list.length / 2 && fixed ? fixed[1].ts : null,
      lead: {
        label: lead.label,
        metric: lead.key.metric,
        change_pct: lead.change_pct,
        ci_pct: lead.ci_pct,
        q_value: lead.q_value,
        mean_before: lead.before.mean,
        mean_after: lead.after.mean,
        n_before: lead.before.n,
        n_after: lead.after.n,
      },
      series_changed: list.length,
      series_same_direction: list.filter((c) => c.kind === lead.kind).length,
      // Median of the lead's metric across the event's series, for "most series moved by about…".
      median_change_pct: median(pool.map((c) => c.change_pct)),
    };
  });
  return events.sort((a, b) => b.series_changed - a.series_changed || Math.abs(b.lead.change_pct) - Math.abs(a.lead.change_pct));
}

export async function computeFacts(db: Db, options: FactOptions): Promise<Facts> {
  const { window, now } = options;
  const windowDays = Math.round((window.to.getTime() - window.from.getTime()) / 86_400_000);
  const lookbackFrom = new Date(now.getTime() - options.changes.lookbackDays * 86_400_000);
  // One read of the commits: the lookback's (with a margin before it, for the suspects of its first changes) and the window's.
  const historyFrom = new Date(Math.min(window.from.getTime(), lookbackFrom.getTime() - 30 * 86_400_000));
  const [days, corr, volume, series, history] = await Promise.all([
    joinedDays(db, window),
    correlations(db, window),
    dataVolume(db, window),
    loadSeries(db, { from: lookbackFrom, to: window.to }),
    commitsInWindow(db, { from: historyFrom, to: window.to }),
  ]);
  const commits = history.filter((c) => Date.parse(c.ts) >= window.from.getTime());
  const heartsHistory = history.filter((c) => c.repo === "banterhearts");
  const detection = detectChanges(
    series,
    heartsHistory.map((c) => ({ sha: c.sha, ts: c.ts })),
    options.changes,
  );
  const stored = options.runId ? await storeChanges(db, detection, { now, runId: options.runId, lookbackFrom }) : [];
  const detectedAt = new Map(stored.map((r) => [r.change_id, r.detected_at]));

  // The story: changes committed after the previous episode's window, or first detected after it was written.
  const previous = options.previous ?? null;
  const isNew = (c: AttributedChange) =>
    previous === null ||
    Date.parse(c.commit_ts) > Date.parse(previous.window_to) ||
    Date.parse(detectedAt.get(c.change_id) ?? now.toISOString()) > Date.parse(previous.ts);
  const story = detection.changes.filter(isNew);
  const subjects = new Map(heartsHistory.map((c) => [c.sha, commitSubject(c.message)]));
  const grouped = groupEvents(story, subjects);
  const impactConfig = options.impact ?? DEFAULT_IMPACT;
  const impacts: UserImpact[] = [];
  for (const e of grouped) impacts.push(await userImpact(db, new Date(e.commit_ts), e.kind === "regression" ? "worse" : "better", impactConfig));

  const newest = [volume.newest_bench_ts, volume.newest_session_hour ? new Date(Date.parse(volume.newest_session_hour) + 3_600_000).toISOString() : null]
    .filter((v): v is string => v !== null)
    .map((v) => Date.parse(v));
  // The older of the two sources' newest data decides recency.
  const newestDataAgeSeconds = newest.length === 2 ? Math.max(0, (now.getTime() - Math.min(...newest)) / 1000) : null;
  // "Nothing changed" is as certain as the model-level series (what users wait for) that had runs enough to show a change.
  const modelLevel = series.filter((x) => (MODEL_LEVEL_TYPES as readonly string[]).includes(x.key.benchmark_type));
  const coverage = modelLevel.length === 0 ? 0 : modelLevel.filter((x) => x.points.length >= 2 * options.changes.minRunsEachSide).length / modelLevel.length;
  const confidence = scoreConfidence({
    joinedDays: days.length,
    windowDays,
    newestDataAgeSeconds,
    freshSeconds: options.freshSeconds,
    benchRows: volume.bench_rows,
    events: volume.events,
    benchRowsExpected: (options.benchRowsPerDay ?? 2) * windowDays,
    eventsExpected: (options.eventsPerDay ?? 200) * windowDays,
    storyQValues: grouped.map((e) => e.lead.q_value),
    coverage,
  });

  const window_ = `${window.from.toISOString()}..${window.to.toISOString()}`;
  const joinedSource = `joined days of bench_runs (model-level) and session_stats, ${window_}, ${days.length} days`;
  const list: Fact[] = [];
  const add = (f: Fact | null) => {
    if (f && Number.isFinite(f.value)) list.push(fact.parse(f));
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
  const r = corr.latency_vs_user_latency;
  const corrSource = `corr() over ${joinedSource}; Fisher-z 95 % interval`;
  if (r !== null && corr.days >= minDays) {
    add(maybe("correlation.latency_user", "Pearson r, p95 latency vs user latency", r, "coefficient", 2, corrSource));
    const ci = fisherInterval(r, corr.days);
    if (ci) {
      add(maybe("correlation.ci_low", "lower end of the 95 % interval of r", ci[0], "coefficient", 2, corrSource));
      add(maybe("correlation.ci_high", "upper end of the 95 % interval of r", ci[1], "coefficient", 2, corrSource));
    }
    add({ id: "correlation.days", label: "days the correlation is computed over", value: corr.days, unit: "days", decimals: 0, source: corrSource });
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
  const method = `multiscale scan with an AR(1) noise model, one p-value per series calibrated for its whole search (lib/analysis/changepoints.ts); Benjamini–Hochberg across ${detection.series_tested} series (${detection.candidates} candidate changes) selected ${detection.series_selected} at q ≤ ${options.changes.alpha}, changes inside them at ${options.changes.alpha} × selected / tested (Benjamini–Bogomolov); ≥ ${options.changes.minRunsEachSide} runs a side, lookback from ${lookbackFrom.toISOString()}`;
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
    label: "regressions found",
    value: grouped.filter((e) => e.kind === "regression").length,
    unit: "count",
    decimals: 0,
    source: method,
  });
  add({
    id: "changes.improvements",
    label: "improvements found",
    value: grouped.filter((e) => e.kind === "improvement").length,
    unit: "count",
    decimals: 0,
    source: method,
  });
  const open = detection.changes.filter((c) => c.status === "open");
  add({
    id: "changes.open_regressions",
    label: "benchmark series with an open regression",
    value: open.length,
    unit: "count",
    decimals: 0,
    source: `bench_changes status = open (${method})`,
  });

  const events: ChangeEvent[] = grouped.map((e, i) => {
    const key = `event.${i + 1}`;
    const unit = (METRIC_UNITS as Record<string, FactUnit>)[e.lead.metric] ?? "count";
    const src = `${method}; ${e.lead.label} ${e.lead.metric}, ${e.lead.n_before} runs before and ${e.lead.n_after} after commit ${e.commit_sha.slice(0, 7)}; interval: Fieller 95 %`;
    add({
      id: `${key}.date`,
      label: `date of the commit of change ${i + 1}`,
      value: Date.parse(e.commit_ts),
      unit: "date",
      decimals: 0,
      source: `upstream_commits ${e.commit_sha}`,
    });
    add(maybe(`${key}.change_pct`, `${e.lead.label} ${e.lead.metric} change`, e.lead.change_pct, "percent", 1, src, true));
    add(maybe(`${key}.ci_low_pct`, `lower end of the 95 % interval of change ${i + 1}`, e.lead.ci_pct[0], "percent", 1, src, true));
    add(maybe(`${key}.ci_high_pct`, `upper end of the 95 % interval of change ${i + 1}`, e.lead.ci_pct[1], "percent", 1, src, true));
    add(maybe(`${key}.before`, `${e.lead.label} ${e.lead.metric} before`, e.lead.mean_before, unit, 1, src));
    add(maybe(`${key}.after`, `${e.lead.label} ${e.lead.metric} after`, e.lead.mean_after, unit, 1, src));
    add(maybe(`${key}.runs_before`, "runs before the change", e.lead.n_before, "count", 0, src));
    add(maybe(`${key}.runs_after`, "runs after the change", e.lead.n_after, "count", 0, src));
    add(maybe(`${key}.q_value`, "Benjamini–Hochberg q-value", e.lead.q_value, "p_value", 2, src));
    add(maybe(`${key}.series`, "series that changed at this commit", e.series_changed, "count", 0, src));
    add(maybe(`${key}.series_same`, "series that moved in the lead's direction", e.series_same_direction, "count", 0, src));
    add(maybe(`${key}.median_change_pct`, "median change across the commit's series", e.median_change_pct, "percent", 1, src, true));
    add(maybe(`${key}.candidates`, "commits between the runs around the change", e.candidates.length, "count", 0, src));
    if (e.fixed_ts) {
      add(
        maybe(
          `${key}.fixed_after_days`,
          "days from the regression to its fix",
          (Date.parse(e.fixed_ts) - Date.parse(e.commit_ts)) / 86_400_000,
          "days",
          1,
          `bench_changes: fixed by ${e.fixed_by_sha}`,
        ),
      );
    }
    const u = impacts[i];
    const usrc = `session_stats FINAL, ${impactConfig.periodHours} h before vs ${impactConfig.periodHours} h after (+${impactConfig.lagMinutes} min lag) commit ${e.commit_sha.slice(0, 7)}: welchTTest(${impactConfig.confidence}) on hourly user latency (${u.hours_before} + ${u.hours_after} hours), proportionsZTest on errors and abandonment`;
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
      },
    });
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
    correlation: corr.latency_vs_user_latency,
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
    open_regressions: open.map((c) => ({ label: c.label, metric: c.key.metric, commit_sha: c.commit_sha, change_pct: c.change_pct })),
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
    identifiers: [...identifiers].sort(),
    volume: { bench_rows: volume.bench_rows, events: volume.events, sessions: volume.sessions },
    missing,
  });
}
