import { rowsSince } from "../lib/agents/watch";
import { EVENTS_FOR_COMMIT_SQL } from "../lib/clickhouse/queries/ui-events";
import type { Db } from "../lib/clickhouse/client";
import { memoryLogger } from "../lib/log";
import { createCountLedger, createMetrics, type SeriesPoint } from "../lib/metrics";
import { migratedDatabase, startClickHouseChild } from "../tests/hardening/helpers/clickhouse-child";
import { fmt, median, say, tempDir, type Row, type SectionResult } from "./lib";

/**
 * Production at scale (docs/clickhouse-production.md):
 * - the watcher's rows-for-commit query on `days` daily partitions of
 *   `eventsPerDay` UI events, the unbounded form it had against the bounded
 *   one it has, side by side: rows read (X-ClickHouse-Summary) and time;
 * - metric counts from N concurrent instances against a fake Datadog that
 *   keeps the last value per series and timestamp: what arrives, per-request
 *   increments (before) against instance-tagged bucket totals (now).
 */

const UNBOUNDED = "SELECT count() AS rows, max(ts) AS newest FROM ui_events FINAL WHERE commit_sha = {sha:FixedString(40)}";
/** Before: the unbounded query on the schema without sql/007's skip index. */
const BEFORE = `${UNBOUNDED} SETTINGS use_skip_indexes = 0`;

/**
 * Rows the query reads, by ClickHouse's own index analysis (EXPLAIN ESTIMATE:
 * partitions, primary key and skip indexes applied): the local engine's
 * X-ClickHouse-Summary carries the rows a query returned, not those it
 * scanned. And the query's time.
 */
async function readRows(db: Db, sql: string, params: Record<string, unknown>): Promise<{ readRows: number; ms: number; rows: number }> {
  const estimate = await db.query<{ rows: number }>(`EXPLAIN ESTIMATE ${sql}`, params);
  const started = performance.now();
  const [row] = await db.query<{ rows: number }>(sql, params);
  const ms = performance.now() - started;
  return { readRows: estimate.reduce((n, r) => n + Number(r.rows), 0), ms, rows: Number(row.rows) };
}

export async function productionSection(options: { days: number; eventsPerDay: number; instances: number; seconds: number }): Promise<SectionResult> {
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const data = tempDir("production-ch");
  say(`production: starting a ClickHouse of its own; ${options.days} days × ${options.eventsPerDay.toLocaleString("en-US")} events ...`);
  const clickhouse = await startClickHouseChild({ dataDir: data.dir });
  try {
    const { db } = await migratedDatabase(clickhouse.url, "bench_production");
    const commitOf = (day: number) => (day === options.days - 1 ? "f" : String(day % 10)).repeat(40);
    const loadStarted = performance.now();
    for (let day = 0; day < options.days; day++) {
      await db.command(
        `INSERT INTO ui_events (ts, event_id, session_id, commit_sha, event_type, latency_ms)
         SELECT toDateTime64('2026-10-01 00:00:00', 3, 'UTC') + toIntervalDay({day:UInt16}) + toIntervalMillisecond(intDiv(number * 86400000, {n:UInt32})),
                generateUUIDv4(), generateUUIDv4(), {sha:FixedString(40)}, ['overlay.open', 'query_submit', 'query_result', 'ui.click'][number % 4 + 1], number % 4000
           FROM numbers({n:UInt32})`,
        { day, n: options.eventsPerDay, sha: commitOf(day) },
      );
    }
    const loadMs = performance.now() - loadStarted;
    say(`production: loaded in ${fmt.ms(loadMs)}; measuring the watcher's query ...`);
    const latest = commitOf(options.days - 1);
    const commitTs = new Date(Date.parse("2026-10-01T00:00:00Z") + (options.days - 1) * 86_400_000).toISOString();
    const bounded = { sha: latest, since: rowsSince("banterpacks", commitTs) };
    const before: Awaited<ReturnType<typeof readRows>>[] = [];
    const indexOnly: Awaited<ReturnType<typeof readRows>>[] = [];
    const after: Awaited<ReturnType<typeof readRows>>[] = [];
    for (let i = 0; i < 3; i++) {
      before.push(await readRows(db, BEFORE, { sha: latest }));
      indexOnly.push(await readRows(db, UNBOUNDED, { sha: latest }));
      after.push(await readRows(db, EVENTS_FOR_COMMIT_SQL, bounded));
    }
    if (before[0].rows !== after[0].rows) throw new Error(`the bounded query counts ${after[0].rows} rows, the unbounded ${before[0].rows}`);
    const total = options.days * options.eventsPerDay;
    const watcher = {
      table_rows: total,
      rows_for_commit: after[0].rows,
      before: { read_rows: before[0].readRows, ms_p50: median(before.map((r) => r.ms)), query: "unbounded, no skip index (use_skip_indexes = 0)" },
      index_only: { read_rows: indexOnly[0].readRows, ms_p50: median(indexOnly.map((r) => r.ms)), query: "unbounded, with idx_commit_sha" },
      after: { read_rows: after[0].readRows, ms_p50: median(after.map((r) => r.ms)), query: "bounded by time (commit ts − 1 day), with idx_commit_sha" },
      load_ms: Math.round(loadMs),
    };
    details.watcher_query = watcher;
    rows.push({
      section: "production",
      measure: `watcher rows-for-commit, ${options.days} d × ${fmt.rate(options.eventsPerDay)} events/day`,
      value: `reads ${watcher.after.read_rows.toLocaleString("en-US")} rows (was ${watcher.before.read_rows.toLocaleString("en-US")}; EXPLAIN ESTIMATE)`,
      ratio: `${fmt.x(watcher.before.read_rows / watcher.after.read_rows)} fewer rows`,
      note: `${fmt.ms(watcher.after.ms_p50)} vs ${fmt.ms(watcher.before.ms_p50)} median; index alone: ${watcher.index_only.read_rows.toLocaleString("en-US")} rows`,
    });
    await db.close();
  } finally {
    await clickhouse.stop();
    data.remove();
  }

  const metrics = { before: await metricTotals(options.instances, options.seconds, false), now: await metricTotals(options.instances, options.seconds, true) };
  details.metrics_n_instances = { instances: options.instances, seconds: options.seconds, ...metrics };
  rows.push({
    section: "production",
    measure: `metric counts, ${options.instances} instances, flush per request, ${options.seconds} s`,
    value: `Datadog shows ${metrics.now.in_datadog} of ${metrics.now.counted}`,
    ratio: metrics.now.in_datadog === metrics.now.counted ? "exact" : "NOT EXACT",
    note: `before: ${metrics.before.in_datadog} of ${metrics.before.counted} (last write wins per series and 10 s bucket)`,
  });
  return { rows, details };
}

/** N instances × a few requests a second, each request counting once and flushing, into a last-write-wins store. */
async function metricTotals(instances: number, seconds: number, tagged: boolean): Promise<{ counted: number; in_datadog: number; requests: number }> {
  let clockMs = Date.parse("2026-11-20T12:00:00.500Z");
  const store = new Map<string, number>();
  const fakeFetch: typeof fetch = async (_url, init) => {
    const { series } = JSON.parse(String(init?.body)) as { series: SeriesPoint[] };
    for (const s of series) for (const p of s.points) store.set(`${s.metric}|${[...s.tags].sort().join(",")}|${p.timestamp}`, p.value);
    return new Response("{}", { status: 202 });
  };
  const ledgers = Array.from({ length: instances }, () => createCountLedger());
  let counted = 0;
  let requests = 0;
  for (let second = 0; second < seconds; second++) {
    await Promise.all(
      ledgers.flatMap((ledger, i) =>
        Array.from({ length: 1 + ((second * 7 + i) % 4) }, async () => {
          const m = createMetrics({
            apiKey: "bench",
            apiUrl: "http://datadog.bench",
            baseTags: ["service:muse", ...(tagged ? [`instance:${i}`] : [])],
            log: memoryLogger(),
            fetch: fakeFetch,
            clock: () => clockMs,
            ...(tagged ? { ledger } : {}),
          });
          const n = 1 + (requests % 3);
          requests += 1;
          counted += n;
          m.count("muse.ingest.events_accepted", n);
          await m.flush();
        }),
      ),
    );
    clockMs += 1_000;
  }
  let inDatadog = 0;
  for (const [key, value] of store) if (key.startsWith("muse.ingest.events_accepted|")) inDatadog += value;
  return { counted, in_datadog: inDatadog, requests };
}
