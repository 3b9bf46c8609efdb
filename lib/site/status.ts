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

/** An open regression of bench_changes (one series × metric × commit), for the status page. */
export interface OpenRegressionRow {
  change_id: string;
  /** The series, readable: benchmark type, model, quant, variant (dataset, device). */
  label: string;
  metric: string;
  commit_sha: string;
  commit_ts: string;
  /** More than one: the change could not be pinned to one commit. */
  commit_candidates: string[];
  change_pct: number;
  ci_low_pct: number;
  ci_high_pct: number;
  q_value: number;
  mean_before: number;
  mean_after: number;
  detected_at: string;
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
   * Open regressions from bench_changes FINAL (status = 'open'), newest first.
   * This replaced "Regressions found", which parsed the `changes` of recent
   * episodes' facts: those were window-vs-window comparisons with no commit
   * and no lifecycle, so a regression stayed "found" after it was fixed, and
   * an old episode's table re-parsed on every request could not say whether it
   * still held. bench_changes is where the council tracks a change from its
   * commit until a later commit fixes it; old episodes keep their own table
   * on their pages.
   */
  openRegressions: Section<OpenRegressionRow>;
}

/** Open regressions shown at most (the query's LIMIT). */
export const OPEN_REGRESSIONS_LIMIT = 50;

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
  const message = error instanceof Error ? error.message : String(error);
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
