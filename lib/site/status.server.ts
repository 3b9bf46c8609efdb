import "server-only";
import { z } from "zod";
import { seriesLabel } from "../analysis/series";
import { effectiveStatus } from "../bisection/requests";
import { dateTime64Param, type Db } from "../clickhouse/client";
import { benchRequestRow } from "../clickhouse/tables";
import { episodesPerDay as queryEpisodesPerDay } from "../clickhouse/queries/episodes";
import { bisectingEvents, openRegressionEvents, type BenchEventRow } from "../lifecycle/events";
import {
  BENCH_REQUEST_DAYS,
  BENCH_REQUESTS_LIMIT,
  OPEN_REGRESSIONS_LIMIT,
  scrub,
  sectionNotice,
  type AgentOutcome,
  type AgentRun,
  type BenchRequestStatusRow,
  type BisectingEventRow,
  type EventPlace,
  type EpisodesDay,
  type FreshnessRow,
  type IngestDay,
  type LlmDay,
  type OpenRegressionRow,
  type Section,
  type StatusOptions,
  type StatusReport,
  type WatcherRun,
} from "./status";

/**
 * SERVER-ONLY: the status page's loader, read live from ClickHouse with
 * parameterised queries (FINAL on the ReplacingMergeTree tables). Types and
 * browser-safe helpers are in ./status.ts. It never throws: when ClickHouse is
 * unreachable the report says so, and each section degrades on its own (a
 * missing table is a notice naming it, not an error page).
 */

const UNREACHABLE = "ClickHouse is unreachable, so live status cannot be shown. The published episodes are not affected.";

async function section<T>(tables: string[], run: () => Promise<T[]>): Promise<Section<T>> {
  try {
    return { ok: true, rows: await run() };
  } catch (error) {
    return { ok: false, notice: sectionNotice(error, tables) };
  }
}

async function reachable(db: Db, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    const ping = db.ping().then(
      (r) => r.ok,
      () => false,
    );
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const num = z.coerce.number();
const nullableNum = z.union([z.null(), z.coerce.number()]);
const str = z.string();

/** The newest of two nullable ISO timestamps' age in seconds at `now`. */
const ageOf = (iso: string | null, now: Date) => (iso ? Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000)) : null);
/** ClickHouse returns the epoch for max() over no rows of a non-Nullable column. */
const realTs = (iso: string | null) => (iso && !iso.startsWith("1970-01-01") ? iso : null);

// ------------------------------------------------------------- one loader per section
//
// Each section is one typed query (two for none) wrapped by `section()`, which
// turns a failure into the section's notice. loadStatus composes them.

const watcherRunRow = z.object({
  ts: str,
  status: str,
  lag_seconds: num,
  hearts_lag_seconds: nullableNum,
  packs_lag_seconds: nullableNum,
  hearts_rows_found: num,
  packs_rows_found: num,
  hearts_newest_ts: z.string().nullable(),
  packs_newest_ts: z.string().nullable(),
  reasons: z.array(z.string()),
});
/** A watcher run as read: what the page shows plus what freshness takes from the latest run. */
export type WatcherRunRead = z.infer<typeof watcherRunRow>;

/** The last 10 watcher runs, newest first. */
export function loadWatcherRuns(db: Db): Promise<Section<WatcherRunRead>> {
  return section(["watcher_runs"], () =>
    db.query(
      `SELECT ts, status, lag_seconds, hearts_lag_seconds, packs_lag_seconds, hearts_rows_found, packs_rows_found, hearts_newest_ts, packs_newest_ts, reasons
         FROM watcher_runs FINAL
        ORDER BY ts DESC
        LIMIT {limit:UInt32}`,
      { limit: 10 },
      watcherRunRow,
    ),
  );
}

/** The watcher section as shown: reasons scrubbed. */
export function watcherSection(runs: Section<WatcherRunRead>): Section<WatcherRun> {
  if (!runs.ok) return runs;
  return {
    ok: true,
    rows: runs.rows.map(({ ts, status, lag_seconds, hearts_lag_seconds, packs_lag_seconds, reasons }) => ({
      ts,
      status,
      lag_seconds,
      hearts_lag_seconds,
      packs_lag_seconds,
      reasons: reasons.map((x) => scrub(x)),
    })),
  };
}

const sourceTimesRow = z.object({ newest_bench: z.string().nullable(), newest_session_hour: z.string().nullable(), newest_event: z.string().nullable() });

/**
 * Freshness per source: the newest bench row, session hour and raw event (one
 * cross-table query), with the watcher's lag and rows found from its latest run.
 */
export async function loadFreshness(db: Db, now: Date, latestWatcherRun: WatcherRunRead | undefined): Promise<Section<FreshnessRow>> {
  return section(["bench_runs", "session_stats", "ui_events"], async () => {
    const [s] = await db.query(
      `SELECT
         (SELECT if(count() = 0, NULL, max(ts)) FROM bench_runs FINAL) AS newest_bench,
         (SELECT if(count() = 0, NULL, max(hour)) FROM session_stats FINAL) AS newest_session_hour,
         (SELECT if(count() = 0, NULL, max(ts)) FROM ui_events) AS newest_event`,
      {},
      sourceTimesRow,
    );
    const latest = latestWatcherRun;
    // Real row times only: the newest raw event, else the start of the newest rolled-up hour (its end would be a time
    // no row has, and up to an hour in the future). Never later than now (a client clock ahead of ours).
    const packsRow = realTs(s.newest_event) ?? realTs(s.newest_session_hour);
    const packsNewest = packsRow && Date.parse(packsRow) > now.getTime() ? now.toISOString() : packsRow;
    const heartsNewest = realTs(s.newest_bench);
    return [
      {
        source: "banterhearts",
        newest_data: heartsNewest,
        age_seconds: ageOf(heartsNewest, now),
        watcher_lag_seconds: latest?.hearts_lag_seconds ?? null,
        watcher_rows_found: latest?.hearts_rows_found ?? null,
      },
      {
        source: "banterpacks",
        newest_data: packsNewest,
        age_seconds: ageOf(packsNewest, now),
        watcher_lag_seconds: latest?.packs_lag_seconds ?? null,
        watcher_rows_found: latest?.packs_rows_found ?? null,
      },
    ];
  });
}

const agentRunRow = z.object({ run_id: str, agent: str, trigger: str, status: str, started_at: str, duration_ms: num, attempts: num, error: str });

/** The newest agent runs (FINAL: one row per run), errors scrubbed. */
export function loadAgentRuns(db: Db, limit: number): Promise<Section<AgentRun>> {
  return section(["agent_runs"], async () =>
    (
      await db.query(
        `SELECT toString(run_id) AS run_id, agent, trigger, status, started_at, duration_ms, attempts, error
           FROM agent_runs FINAL
          ORDER BY started_at DESC
          LIMIT {limit:UInt32}`,
        { limit },
        agentRunRow,
      )
    ).map((r) => ({ ...r, error: scrub(r.error) })),
  );
}

const outcomeRow = z.object({ agent: str, ok: num, skipped: num, blocked: num, error: num, running: num, last_started: str });

/** Runs per agent and status since `from`. */
export function loadAgentOutcomes(db: Db, from: Date): Promise<Section<AgentOutcome>> {
  return section(["agent_runs"], () =>
    db.query(
      `SELECT agent,
              countIf(status = 'ok') AS ok, countIf(status = 'skipped') AS skipped, countIf(status = 'blocked') AS blocked,
              countIf(status = 'error') AS error, countIf(status = 'running') AS running, max(started_at) AS last_started
         FROM agent_runs FINAL
        WHERE started_at >= {from:DateTime64(3, 'UTC')}
        GROUP BY agent
        ORDER BY agent`,
      { from },
      outcomeRow,
    ),
  );
}

/** English episodes per day since `from` (lib/clickhouse/queries/episodes.ts). */
export function loadEpisodesPerDay(db: Db, from: Date): Promise<Section<EpisodesDay>> {
  return section(["episodes"], () => queryEpisodesPerDay(db, from));
}

const llmDayRow = z.object({ day: str, calls: num, tokens_in: num, tokens_out: num, cost_usd: num, failures: num });

/** LLM calls, tokens, cost and failures per day since `from`. */
export function loadLlmPerDay(db: Db, from: Date): Promise<Section<LlmDay>> {
  return section(["llm_events"], () =>
    db.query(
      `SELECT toString(toDate(ts)) AS day, count() AS calls, sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out,
              toFloat64(sum(ifNull(cost_usd, 0))) AS cost_usd, countIf(status IN ('failure', 'timeout')) AS failures
         FROM llm_events FINAL
        WHERE ts >= {from:DateTime64(3, 'UTC')}
        GROUP BY day
        ORDER BY day`,
      { from },
      llmDayRow,
    ),
  );
}

const countDayRow = z.object({ kind: z.enum(["events", "bench"]), day: str, a: num, b: num });

/** Events and sessions (session_stats), bench rows and reports (bench_runs) per day since `from`: one request (UNION ALL). */
export function loadIngestPerDay(db: Db, from: Date): Promise<Section<IngestDay>> {
  return section(["session_stats", "bench_runs"], async () => {
    const both = await db.query(
      `SELECT 'events' AS kind, toString(toDate(hour)) AS day, sum(events_count) AS a, uniqExact(session_id) AS b
         FROM session_stats FINAL
        WHERE hour >= {from:DateTime64(3, 'UTC')}
        GROUP BY day
       UNION ALL
       SELECT 'bench' AS kind, toString(toDate(ts)) AS day, count() AS a, uniqExact(run_id) AS b
         FROM bench_runs FINAL
        WHERE ts >= {from:DateTime64(3, 'UTC')}
        GROUP BY day`,
      { from },
      countDayRow,
    );
    const byDay = new Map<string, IngestDay>();
    const get = (day: string) => byDay.get(day) ?? byDay.set(day, { day, events: 0, sessions: 0, bench_rows: 0, bench_reports: 0 }).get(day)!;
    for (const r of both) {
      if (r.kind === "events") Object.assign(get(r.day), { events: r.a, sessions: r.b });
    }
    for (const r of both) {
      if (r.kind === "bench") Object.assign(get(r.day), { bench_rows: r.a, bench_reports: r.b });
    }
    return [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day));
  });
}

const place = (e: BenchEventRow): EventPlace => ({
  blamed_sha: e.blamed_sha,
  range_from_sha: e.range_from_sha,
  range_to_sha: e.range_to_sha,
  code_commits: e.code_commits.length,
  bisection_status: e.bisection_status,
  bisection_steps: e.bisection_steps,
  bisection_steps_left: e.bisection_steps_left,
  bisection_extra_runs: e.bisection_extra_runs,
});

/**
 * The open regression events: one bounded query, bench_events FINAL WHERE kind = 'regression' AND state IN
 * ('open', 'partly_fixed') … LIMIT (openRegressionEvents, lib/lifecycle/events.ts).
 */
export function loadOpenRegressions(db: Db): Promise<Section<OpenRegressionRow>> {
  return section(["bench_events"], async () =>
    (await openRegressionEvents(db, OPEN_REGRESSIONS_LIMIT)).map((e) => ({
      ...place(e),
      event_id: e.event_id,
      label: e.label,
      metric: e.metric,
      series_changed: e.series_changed,
      change_pct: e.change_pct,
      ci_low_pct: e.ci_low_pct,
      ci_high_pct: e.ci_high_pct,
      shape: e.shape,
      slope_pct_per_run: e.slope_pct_per_run,
      slope_ci_low: e.slope_ci_low,
      slope_ci_high: e.slope_ci_high,
      spread_ratio: e.spread_ratio,
      spread_ci_low: e.spread_ci_low,
      spread_ci_high: e.spread_ci_high,
      state: e.state === "partly_fixed" ? "partly_fixed" : "open",
      recovered_pct: e.recovered_pct,
      recovered_ci_low: e.recovered_ci_low,
      recovered_ci_high: e.recovered_ci_high,
      returns_of: e.returns_of,
      commit_ts: e.commit_ts,
      first_detected_at: e.first_detected_at,
      gate:
        e.gate_method && e.gate_fraction !== null && e.gate_ratio_after !== null
          ? { method: e.gate_method, baseline: e.gate_baseline, fraction: e.gate_fraction, ratio_after: e.gate_ratio_after, breached: e.gate_breached }
          : null,
      tradeoff_latency_pct: e.tradeoff ? e.tradeoff_latency_pct : null,
    })),
  );
}

/** The events bisection is still narrowing (bisectingEvents, lib/lifecycle/events.ts), notes scrubbed. */
export function loadBisectingEvents(db: Db): Promise<Section<BisectingEventRow>> {
  return section(["bench_events"], async () =>
    (await bisectingEvents(db)).map((e) => ({
      ...place(e),
      event_id: e.event_id,
      kind: e.kind,
      label: e.label,
      metric: e.metric,
      change_pct: e.change_pct,
      bisection_note: scrub(e.bisection_note),
      first_detected_at: e.first_detected_at,
    })),
  );
}

/**
 * The bench requests made since `from`, newest first, at most BENCH_REQUESTS_LIMIT: one bounded query. Each
 * shows its status as of `now` (past expires_at it is expired; a claim whose lease ended is pending again).
 */
export function loadBenchRequests(db: Db, from: Date, now: Date): Promise<Section<BenchRequestStatusRow>> {
  return section(["bench_requests"], async () =>
    (
      await db.query(
        `SELECT request_id, event_id, commit_sha, benchmark_type, model, quant, variant, dataset, device, repeats, reason, status,
                claimed_by, lease_until, answer, dispatched_at, requested_at, expires_at, updated_at
           FROM bench_requests FINAL
          WHERE requested_at >= {from:DateTime64(3, 'UTC')}
          ORDER BY requested_at DESC, request_id
          LIMIT {limit:UInt32}`,
        { from: dateTime64Param(from), limit: BENCH_REQUESTS_LIMIT },
        benchRequestRow,
      )
    ).map((r) => ({
      request_id: r.request_id,
      event_id: r.event_id,
      commit_sha: r.commit_sha,
      benchmark: seriesLabel(r),
      repeats: r.repeats,
      status: effectiveStatus(r, now),
      requested_at: r.requested_at,
    })),
  );
}

/** Agent runs listed at most. */
const AGENT_RUNS_LIMIT = 25;

/**
 * The whole report: a ping, then the sections' loaders one request at a time
 * (the local ClickHouse serves requests sequentially anyway): 10 queries.
 */
export async function loadStatus(db: Db, options: StatusOptions = {}): Promise<StatusReport> {
  const now = options.now ?? new Date();
  const days = options.days ?? 14;
  // Dates travel as Date (the client sends epoch seconds); an ISO string with "Z" does not parse as DateTime64.
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (days - 1) * 86_400_000);
  const base = { generatedAt: now.toISOString(), days };
  if (!(await reachable(db, options.pingTimeoutMs ?? 3000))) {
    const empty = { ok: false as const, notice: UNREACHABLE };
    return {
      ...base,
      clickhouse: { reachable: false, notice: UNREACHABLE },
      freshness: empty,
      watcher: empty,
      agentRuns: empty,
      agentOutcomes: empty,
      episodesPerDay: empty,
      llmPerDay: empty,
      ingestPerDay: empty,
      openRegressions: empty,
      bisecting: empty,
      benchRequests: empty,
    };
  }
  const watcherRuns = await loadWatcherRuns(db);
  const freshness = await loadFreshness(db, now, watcherRuns.ok ? watcherRuns.rows[0] : undefined);
  const agentRuns = await loadAgentRuns(db, AGENT_RUNS_LIMIT);
  const agentOutcomes = await loadAgentOutcomes(db, from);
  const episodesPerDay = await loadEpisodesPerDay(db, from);
  const llmPerDay = await loadLlmPerDay(db, from);
  const ingestPerDay = await loadIngestPerDay(db, from);
  const openRegressionsSection = await loadOpenRegressions(db);
  const bisecting = await loadBisectingEvents(db);
  const benchRequests = await loadBenchRequests(db, new Date(now.getTime() - BENCH_REQUEST_DAYS * 86_400_000), now);
  return {
    ...base,
    clickhouse: { reachable: true },
    freshness,
    watcher: watcherSection(watcherRuns),
    agentRuns,
    agentOutcomes,
    episodesPerDay,
    llmPerDay,
    ingestPerDay,
    openRegressions: openRegressionsSection,
    bisecting,
    benchRequests,
  };
}
