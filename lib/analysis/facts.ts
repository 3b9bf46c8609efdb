import { z } from "zod";
import type { Db } from "../clickhouse/client";
import {
  classifyChange,
  commitsInWindow,
  correlations,
  dataVolume,
  joinedDays,
  modelChanges,
  SIGNIFICANCE,
  type Window,
} from "./queries";

/**
 * The computed facts an episode may state. Each fact carries its value, unit,
 * the rounding it may be stated with, and its source (the query and the rows
 * it came from), so every number in an episode can be traced to ClickHouse.
 */

export const factUnit = z.enum(["ms", "tokens/s", "usd", "ratio", "percent", "count", "days", "coefficient", "score"]);
export type FactUnit = z.infer<typeof factUnit>;

export const fact = z.object({
  id: z.string().regex(/^[a-z0-9_.]+$/),
  label: z.string(),
  value: z.number(),
  unit: factUnit,
  /** Decimal places the value may be stated with (rounded). */
  decimals: z.number().int().min(0).max(6),
  source: z.string(),
});
export type Fact = z.infer<typeof fact>;

export const confidenceBreakdown = z.object({
  value: z.number().min(0).max(1),
  completeness: z.number().min(0).max(1),
  correlation: z.number().min(0).max(1),
  recency: z.number().min(0).max(1),
  volume: z.number().min(0).max(1),
  limiting: z.enum(["completeness", "correlation", "recency", "volume"]),
});
export type ConfidenceBreakdown = z.infer<typeof confidenceBreakdown>;

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

export const facts = z.object({
  window: z.object({ from: z.string(), to: z.string(), days: z.number() }),
  generated_at: z.string(),
  facts: z.array(fact),
  confidence: confidenceBreakdown,
  correlation: z.number().nullable(),
  daily: z.array(
    z.object({
      day: z.string(),
      latency_p95_ms: z.number().nullable(),
      tokens_per_sec: z.number().nullable(),
      cost_per_1k: z.number().nullable(),
      user_latency_ms: z.number().nullable(),
      error_rate: z.number().nullable(),
      abandonment_rate: z.number().nullable(),
      sessions: z.number(),
      events: z.number(),
    }),
  ),
  changes: z.array(changeFact),
  commits: z.object({
    hearts: z.array(z.object({ sha: z.string(), ts: z.string(), message: z.string() })),
    packs: z.array(z.object({ sha: z.string(), ts: z.string(), message: z.string(), files_changed: z.number(), additions: z.number(), deletions: z.number() })),
  }),
  hearts_commits_used: z.array(z.string()),
  models: z.array(z.string()),
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
}

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));
const round = (v: number, decimals: number) => Number(v.toFixed(decimals));
const mean = (values: (number | null)[]) => {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
};

/**
 * confidence = min(completeness, |correlation|, recency, volume):
 * - completeness = days with both sources / days in the window;
 * - correlation  = |Pearson r| of p95 latency vs user latency over those days;
 * - recency      = 1 while the newest data is within the freshness threshold,
 *                  then falling linearly to 0 at 24 h beyond it;
 * - volume       = min(1, bench rows / expected, events / expected).
 */
export function scoreConfidence(input: { joinedDays: number; windowDays: number; correlation: number | null; newestDataAgeSeconds: number | null; freshSeconds: number; benchRows: number; events: number; benchRowsExpected: number; eventsExpected: number }): ConfidenceBreakdown {
  const completeness = clamp01(input.joinedDays / input.windowDays);
  const correlation = clamp01(Math.abs(input.correlation ?? 0));
  const recency =
    input.newestDataAgeSeconds === null ? 0 : clamp01(1 - Math.max(0, input.newestDataAgeSeconds - input.freshSeconds) / 86_400);
  const volume = clamp01(Math.min(input.benchRows / input.benchRowsExpected, input.events / input.eventsExpected));
  const parts = { completeness, correlation, recency, volume };
  const limiting = (Object.keys(parts) as (keyof typeof parts)[]).reduce((a, b) => (parts[b] < parts[a] ? b : a));
  const r4 = (v: number) => round(v, 4);
  return { value: r4(parts[limiting]), completeness: r4(completeness), correlation: r4(correlation), recency: r4(recency), volume: r4(volume), limiting };
}

export async function computeFacts(db: Db, options: FactOptions): Promise<Facts> {
  const { window, now } = options;
  const windowDays = Math.round((window.to.getTime() - window.from.getTime()) / 86_400_000);
  const [days, corr, changes, commits, volume] = await Promise.all([
    joinedDays(db, window),
    correlations(db, window),
    modelChanges(db, window),
    commitsInWindow(db, window),
    dataVolume(db, window),
  ]);
  const newest = [volume.newest_bench_ts, volume.newest_session_hour ? new Date(Date.parse(volume.newest_session_hour) + 3_600_000).toISOString() : null]
    .filter((v): v is string => v !== null)
    .map((v) => Date.parse(v));
  // The older of the two sources' newest data decides recency.
  const newestDataAgeSeconds = newest.length === 2 ? Math.max(0, (now.getTime() - Math.min(...newest)) / 1000) : null;
  const confidence = scoreConfidence({
    joinedDays: days.length,
    windowDays,
    correlation: corr.latency_vs_user_latency,
    newestDataAgeSeconds,
    freshSeconds: options.freshSeconds,
    benchRows: volume.bench_rows,
    events: volume.events,
    benchRowsExpected: (options.benchRowsPerDay ?? 2) * windowDays,
    eventsExpected: (options.eventsPerDay ?? 200) * windowDays,
  });

  const significant = changes
    .map((c) => ({ c, kind: classifyChange(c) }))
    .filter((x): x is { c: typeof x.c; kind: "regression" | "improvement" } => x.kind !== "noise")
    .map(({ c, kind }) => ({ model: c.model, quant: c.quant, metric: c.metric, kind, previous_mean: c.previous_mean, current_mean: c.current_mean, change_pct: c.change_pct, p_value: c.p_value!, n_previous: c.n_previous, n_current: c.n_current }));

  const window_ = `${window.from.toISOString()}..${window.to.toISOString()}`;
  const joinedSource = `joined days of bench_runs (model-level) and session_stats, ${window_}, ${days.length} days`;
  const list: Fact[] = [];
  const add = (f: Fact | null) => {
    if (f && Number.isFinite(f.value)) list.push(f);
  };
  const windowMean = (key: "latency_p95_ms" | "tokens_per_sec" | "cost_per_1k" | "user_latency_ms" | "error_rate" | "abandonment_rate") => mean(days.map((d) => d[key]));
  const maybe = (id: string, label: string, value: number | null, unit: FactUnit, decimals: number, source: string): Fact | null =>
    value === null ? null : { id, label, value: round(value, decimals), unit, decimals, source };

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
  add(maybe("correlation.latency_user", "Pearson r, p95 latency vs user latency", corr.latency_vs_user_latency, "coefficient", 2, `corr() over ${joinedSource}`));
  add(maybe("correlation.latency_errors", "Pearson r, p95 latency vs error rate", corr.latency_vs_error_rate, "coefficient", 2, `corr() over ${joinedSource}`));
  add({ id: "confidence", label: "confidence score", value: round(confidence.value, 2), unit: "score", decimals: 2, source: `min(completeness, |r|, recency, volume) = ${JSON.stringify(confidence)}` });
  add({ id: "volume.bench_rows", label: "model-level benchmark rows", value: volume.bench_rows, unit: "count", decimals: 0, source: `count() bench_runs FINAL, ${window_}` });
  add({ id: "volume.events", label: "UI events", value: volume.events, unit: "count", decimals: 0, source: `sum(events_count) session_stats FINAL, ${window_}` });
  add({ id: "volume.sessions", label: "sessions", value: volume.sessions, unit: "count", decimals: 0, source: `uniqExact(session_id) session_stats FINAL, ${window_}` });
  add({ id: "changes.regressions", label: "regressions found", value: significant.filter((c) => c.kind === "regression").length, unit: "count", decimals: 0, source: `welchTTest per model × quant vs previous window (p < ${SIGNIFICANCE.pValue}, |Δ| ≥ ${SIGNIFICANCE.minChangePct}%)` });
  add({ id: "changes.improvements", label: "improvements found", value: significant.filter((c) => c.kind === "improvement").length, unit: "count", decimals: 0, source: `welchTTest per model × quant vs previous window` });
  const packsCommits = commits.filter((c) => c.repo === "banterpacks");
  const heartsCommits = commits.filter((c) => c.repo === "banterhearts");
  add({ id: "commits.packs", label: "Banterpacks commits in the window", value: packsCommits.length, unit: "count", decimals: 0, source: `upstream_commits FINAL repo=banterpacks, ${window_}` });
  add({ id: "commits.hearts", label: "Banterhearts commits in the window", value: heartsCommits.length, unit: "count", decimals: 0, source: `upstream_commits FINAL repo=banterhearts, ${window_}` });
  significant.forEach((c, i) => {
    const key = `change.${i + 1}`;
    const metricUnit: FactUnit = c.metric === "latency_p95_ms" ? "ms" : "tokens/s";
    const src = `welchTTest(${c.metric}) ${c.model}/${c.quant}: n=${c.n_previous}+${c.n_current}, p=${c.p_value.toPrecision(3)}`;
    add({ id: `${key}.previous`, label: `${c.model} ${c.quant} ${c.metric} previous window`, value: round(c.previous_mean, 1), unit: metricUnit, decimals: 1, source: src });
    add({ id: `${key}.current`, label: `${c.model} ${c.quant} ${c.metric} this window`, value: round(c.current_mean, 1), unit: metricUnit, decimals: 1, source: src });
    add({ id: `${key}.change_pct`, label: `${c.model} ${c.quant} ${c.metric} change`, value: round(Math.abs(c.change_pct), 1), unit: "percent", decimals: 1, source: src });
  });

  const missing: string[] = [];
  if (confidence.completeness < 1) missing.push(`${windowDays - days.length} of ${windowDays} days lack data from one of the sources`);
  if (confidence.correlation < 0.6) missing.push(`the hearts↔packs correlation is weak (|r| = ${confidence.correlation.toFixed(2)})`);
  if (confidence.recency < 1) missing.push("the newest data is older than the freshness threshold");
  if (confidence.volume < 1) missing.push(`data volume is below what a full-confidence week needs (${volume.bench_rows} benchmark rows, ${volume.events} events)`);

  return facts.parse({
    window: { from: window.from.toISOString(), to: window.to.toISOString(), days: windowDays },
    generated_at: now.toISOString(),
    facts: list,
    confidence,
    correlation: corr.latency_vs_user_latency,
    daily: days.map((d) => ({ day: d.day, latency_p95_ms: d.latency_p95_ms, tokens_per_sec: d.tokens_per_sec, cost_per_1k: d.cost_per_1k, user_latency_ms: d.user_latency_ms, error_rate: d.error_rate, abandonment_rate: d.abandonment_rate, sessions: d.sessions, events: d.events })),
    changes: significant,
    commits: {
      hearts: heartsCommits.map((c) => ({ sha: c.sha, ts: c.ts, message: c.message })),
      packs: packsCommits.map((c) => ({ sha: c.sha, ts: c.ts, message: c.message, files_changed: c.files_changed, additions: c.additions, deletions: c.deletions })),
    },
    hearts_commits_used: volume.hearts_commits.sort(),
    models: volume.models,
    volume: { bench_rows: volume.bench_rows, events: volume.events, sessions: volume.sessions },
    missing,
  });
}
