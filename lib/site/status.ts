/**
 * The status page's data: its types and the helpers that need no server
 * (scrubbing, notices, the window's days). Browser-safe: no ClickHouse, no
 * Node APIs, no environment. The loader that reads ClickHouse is
 * ./status.server.ts (server-only).
 *
 * Nothing in a report is a secret: no URLs, no credentials, no environment
 * values, and error texts from agent runs are scrubbed of URL credentials and
 * tokens.
 */

import type { EpisodesDay } from "../clickhouse/queries/episodes";
import type { ShapedSize } from "./events";
import { messageOf } from "../error-message";

export type { EpisodesDay };

export type Section<T> = { ok: true; rows: T[] } | { ok: false; notice: string };

export interface FreshnessRow {
  source: "banterhearts" | "banterpacks";
  newest_data: string | null;
  age_seconds: number | null;
  watcher_lag_seconds: number | null;
  watcher_rows_found: number | null;
}

export interface WatcherRun {
  ts: string;
  status: string;
  lag_seconds: number;
  hearts_lag_seconds: number | null;
  packs_lag_seconds: number | null;
  reasons: string[];
}

export interface AgentRun {
  run_id: string;
  agent: string;
  trigger: string;
  status: string;
  started_at: string;
  duration_ms: number;
  attempts: number;
  error: string;
}

export interface AgentOutcome {
  agent: string;
  ok: number;
  skipped: number;
  blocked: number;
  error: number;
  running: number;
  last_started: string;
}

export interface LlmDay {
  day: string;
  calls: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  failures: number;
}

export interface IngestDay {
  day: string;
  events: number;
  sessions: number;
  bench_rows: number;
  bench_reports: number;
}

/** A change event's place in Banterhearts' history and its bisection, as the status page shows both. */
export interface EventPlace {
  /** The blamed commit (one code commit in the range, or bisection found it); '' while it is a range. */
  blamed_sha: string;
  range_from_sha: string;
  range_to_sha: string;
  /** Code commits in the range (bots and docs commits do not count). */
  code_commits: number;
  bisection_status: "" | "bisecting" | "bisected" | "stuck";
  /** Bisection steps decided so far. */
  bisection_steps: number;
  /** Steps still needed at most. */
  bisection_steps_left: number;
  bisection_extra_runs: number;
}

/**
 * An open regression event of bench_events (open or partly fixed): a change across series at one place in
 * Banterhearts' history, told by its lead series, for the status page, with its size in its shape's terms
 * (ShapedSize: step, drift or spread — docs/change-points.md).
 */
export interface OpenRegressionRow extends EventPlace, ShapedSize {
  event_id: string;
  /** The lead series, readable: benchmark type, model, quant, variant (dataset, device). */
  label: string;
  metric: string;
  /** Series that changed with it (the lead included). */
  series_changed: number;
  state: "open" | "partly_fixed";
  /** Partly fixed: how much of the step a later commit recovered, in %, with its 95 % interval. */
  recovered_pct: number | null;
  recovered_ci_low: number | null;
  recovered_ci_high: number | null;
  /** The event this one is the return of (a regression that came back after a fix), or ''. */
  returns_of: string;
  commit_ts: string;
  first_detected_at: string;
  /** An accuracy event's gate (docs/quality.md): the method took below its share of the baseline's accuracy. */
  gate: { method: string; baseline: string; fraction: number; ratio_after: number; breached: boolean } | null;
  /** Faster and less accurate at once: the speed side, in % of time (negative: faster). */
  tradeoff_latency_pct: number | null;
}

/** An event bisection is still narrowing (any kind), for the status page. */
export interface BisectingEventRow extends EventPlace {
  event_id: string;
  kind: string;
  label: string;
  metric: string;
  change_pct: number;
  /** Why bisection waits or stopped (scrubbed). */
  bisection_note: string;
  first_detected_at: string;
}

/** A bench_requests row of the last days, for the status page: its status as of the report's time. */
export interface BenchRequestStatusRow {
  request_id: string;
  event_id: string;
  commit_sha: string;
  /** The series to run, readable like a series label. */
  benchmark: string;
  repeats: number;
  status: string;
  requested_at: string;
}

export interface StatusReport {
  generatedAt: string;
  days: number;
  clickhouse: { reachable: true } | { reachable: false; notice: string };
  freshness: Section<FreshnessRow>;
  watcher: Section<WatcherRun>;
  agentRuns: Section<AgentRun>;
  agentOutcomes: Section<AgentOutcome>;
  episodesPerDay: Section<EpisodesDay>;
  llmPerDay: Section<LlmDay>;
  ingestPerDay: Section<IngestDay>;
  /**
   * Open regression events from bench_events FINAL (regressions open or partly fixed), newest commit
   * first. Before events, this section read bench_changes, one row per series × metric × commit: a
   * change seen in twelve series was twelve rows, a change between two nightly runs with several code
   * commits was pinned to one of them, and a partial fix counted as open. An event is one change at one
   * place in Banterhearts' history, with its range while bisection narrows it and its lifecycle.
   */
  openRegressions: Section<OpenRegressionRow>;
  /** Events bisection is still narrowing (bench_events, bisection_status = 'bisecting'), oldest commit first. */
  bisecting: Section<BisectingEventRow>;
  /** Bench requests of the last BENCH_REQUEST_DAYS days, newest first, at most BENCH_REQUESTS_LIMIT. */
  benchRequests: Section<BenchRequestStatusRow>;
}

/** Open regressions shown at most (the query's LIMIT). */
export const OPEN_REGRESSIONS_LIMIT = 50;
/** Bench requests listed: those of the last 7 days, the newest 50. */
export const BENCH_REQUEST_DAYS = 7;
export const BENCH_REQUESTS_LIMIT = 50;

export interface StatusOptions {
  now?: Date;
  /** Days of history (default 14). */
  days?: number;
  /** How long to wait for ClickHouse's ping (default 3 s). */
  pingTimeoutMs?: number;
}

/** Scrubs what must never be shown: credentials in URLs, bearer tokens, key-like values. */
export function scrub(text: string, max = 240): string {
  const cleaned = text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, "$1[redacted]@")
    .replace(/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [redacted]")
    .replace(/\b((?:api[_-]?key|token|secret|password|passwd|pwd)["']?\s*[:=]\s*["']?)[^\s"'&,;]+/gi, "$1[redacted]");
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

/** The notice for a failed section query: a missing table is named; anything else stays generic. */
export function sectionNotice(error: unknown, tables: string[]): string {
  const message = messageOf(error);
  if (/UNKNOWN_TABLE|Code: 60\b|Unknown table|doesn't exist|does not exist/i.test(message)) {
    return `Not available: the table ${tables.join(" or ")} is missing (run "npm run muse -- migrate").`;
  }
  if (/UNKNOWN_DATABASE|Code: 81\b/i.test(message)) return 'Not available: the database is missing (run "npm run muse -- migrate").';
  if (/fetch failed|ECONNREFUSED|ETIMEDOUT|timeout|socket|network/i.test(message)) return "Not available: ClickHouse did not answer this query.";
  return "Not available: this query failed.";
}

/** Every day of the window (for charts with empty days as zero). */
export function windowDays(report: Pick<StatusReport, "generatedAt" | "days">): string[] {
  const end = Date.parse(report.generatedAt.slice(0, 10));
  return Array.from({ length: report.days }, (_, i) => new Date(end - (report.days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

/**
 * How far bisection got, in words: "bisecting: step 2 of 3" (the step under way of the most it can take),
 * "bisected in 3 steps", "bisection stuck after 2 steps"; '' when the event was never bisected.
 */
export function bisectionProgress(e: Pick<EventPlace, "bisection_status" | "bisection_steps" | "bisection_steps_left">): string {
  const steps = (n: number) => `${n} step${n === 1 ? "" : "s"}`;
  switch (e.bisection_status) {
    case "bisecting":
      return `bisecting: step ${e.bisection_steps + 1} of ${e.bisection_steps + Math.max(1, e.bisection_steps_left)}`;
    case "bisected":
      return `bisected in ${steps(e.bisection_steps)}`;
    case "stuck":
      return `bisection stuck after ${steps(e.bisection_steps)}`;
    default:
      return "";
  }
}

/**
 * Where an event is, for the page: one commit (blamed: the only code commit in its range, or what bisection
 * found) or the range between two measured commits; `note` says how many code commits and how far bisection got.
 */
export function eventPlace(e: EventPlace): { commit: string; note: string } | { from: string; to: string; note: string } {
  const commits = `${e.code_commits} code commit${e.code_commits === 1 ? "" : "s"}`;
  if (e.blamed_sha) {
    return { commit: e.blamed_sha, note: e.code_commits > 1 ? `of ${commits}, ${bisectionProgress(e) || "bisected"}` : "" };
  }
  // A drift that began before the first run of the lookback (docs/change-points.md): no range, no commit blamed.
  if (e.range_from_sha === "" && e.code_commits === 0) return { from: "", to: e.range_to_sha, note: "began before the first run looked at; no commit blamed" };
  return { from: e.range_from_sha, to: e.range_to_sha, note: [commits, bisectionProgress(e)].filter(Boolean).join(", ") };
}
