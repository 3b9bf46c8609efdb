import { createHash, randomBytes } from "node:crypto";
import { dlqKey, errorText, routeDlq } from "../dlq";
import type { Env } from "../env";
import type { Logger } from "../log";
import { retry } from "../retry";
import { metricSpec, type MetricName } from "./names";

export { METRICS, type MetricName } from "./names";

/**
 * Metrics for Datadog's v2 series API (`POST /api/v2/series`), batched in
 * memory and sent by `flush()` — which routes call after the response
 * (`after()`), and the CLI before it exits. Without DD_API_KEY the batch goes
 * to the log instead. Flushing never throws: Datadog being down must not stop
 * the pipeline; series it did not take after the retries are handed to
 * `spool` (the dead-letter store, replayed by `muse dlq replay`).
 *
 * Counts that add up across instances. Datadog keeps the LAST value it
 * receives for a series (metric + tags) and timestamp. Muse runs as many
 * serverless instances at once, each flushing after every request, so two
 * flushes for one 10 s bucket — from two instances, or two requests of one —
 * would overwrite each other. Hence (see docs/clickhouse-production.md):
 * - every series carries `instance:<random id of the process>` (metricsFromEnv),
 *   so instances never write the same series; the dashboards and monitors sum
 *   counts with `sum:` (checked in tests/datadog-consistency.test.ts), which
 *   aggregates across that tag, so no query changes;
 * - within an instance, a CountLedger keeps each bucket's running total and a
 *   flush sends that total (not the flush's own increment): the last write is
 *   then the right value, and sending it twice changes nothing (idempotent);
 * - flushes of one process are serialized, so totals arrive in order;
 * - a bucket whose flush failed is frozen at the total that was spooled:
 *   later increments for it move to the next bucket, so a replay of the spooled
 *   total is exact and never rolls a newer total back.
 * Replaying points older than Datadog's window is `replayableSeries`.
 */

export type Tags = Record<string, string | number | boolean | undefined>;

export interface Metrics {
  count(name: MetricName, value?: number, tags?: Tags): void;
  gauge(name: MetricName, value: number, tags?: Tags): void;
  flush(): Promise<void>;
}

/** Datadog's MetricIntakeType: 1 count, 3 gauge. */
const INTAKE_TYPE = { count: 1, gauge: 3 } as const;

export interface SeriesPoint {
  metric: string;
  type: 1 | 3;
  points: { timestamp: number; value: number }[];
  tags: string[];
  unit?: string;
  interval?: number;
}

export interface MetricsOptions {
  apiKey?: string;
  /** Base URL, e.g. https://api.datadoghq.com (DD_API_URL overrides the DD_SITE default). */
  apiUrl: string;
  baseTags: string[];
  log: Logger;
  fetch?: typeof fetch;
  /** Counts are aggregated in buckets of this many seconds. */
  intervalSeconds?: number;
  clock?: () => number;
  retries?: number;
  /** Minimum backoff between retries (ms). */
  retryDelayMs?: number;
  /** Where series go that Datadog did not take after the retries (never called without an API key). */
  spool?: (series: SeriesPoint[], error: unknown) => Promise<void>;
  /** Running totals shared by every Metrics of the process (metricsFromEnv); without one each flush sends its own increments. */
  ledger?: CountLedger;
}

/** The process's id in the `instance` tag: random, so concurrent serverless instances never share a series. */
export const PROCESS_INSTANCE = randomBytes(6).toString("hex");

/**
 * Running count totals per (series, bucket) for one process, and the queue
 * that keeps its flushes in order. Buckets older than `retainSeconds` are
 * forgotten (Datadog takes no points older than an hour anyway).
 */
export interface CountLedger {
  /** Adds `delta` to the bucket's total and returns the new total. */
  add(key: string, delta: number): number;
  freeze(key: string): void;
  isFrozen(key: string): boolean;
  /** Runs flushes one after another. */
  serial<T>(task: () => Promise<T>): Promise<T>;
  prune(nowSeconds: number): void;
}

export function createCountLedger(retainSeconds = 2 * 3600): CountLedger {
  const totals = new Map<string, { value: number; bucket: number }>();
  const frozen = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();
  const bucketOf = (key: string) => Number(key.slice(key.lastIndexOf("|") + 1));
  return {
    add(key, delta) {
      const entry = totals.get(key) ?? { value: 0, bucket: bucketOf(key) };
      entry.value += delta;
      totals.set(key, entry);
      return entry.value;
    },
    freeze: (key) => void frozen.add(key),
    isFrozen: (key) => frozen.has(key),
    serial(task) {
      const run = queue.then(task, task);
      queue = run.catch(() => undefined);
      return run;
    },
    prune(nowSeconds) {
      for (const [key, entry] of totals) if (entry.bucket < nowSeconds - retainSeconds) totals.delete(key);
      for (const key of frozen) if (bucketOf(key) < nowSeconds - retainSeconds) frozen.delete(key);
    },
  };
}

/** The ledger of this process (routes create a Metrics per request; they all share it). */
export const processLedger = createCountLedger();

export function datadogApiUrl(env: Env): string {
  return env.DD_API_URL ?? `https://api.${env.DD_SITE}`;
}

export function metricsFromEnv(env: Env, log: Logger): Metrics {
  // Only onto durable storage: on a serverless instance a spooled series would vanish with it (lib/dlq.ts).
  const store = routeDlq(env, { log });
  const dlq = store.dlq;
  return createMetrics({
    apiKey: env.DD_API_KEY,
    apiUrl: datadogApiUrl(env),
    baseTags: [`service:${env.DD_SERVICE}`, `env:${env.DD_ENV}`, `instance:${PROCESS_INSTANCE}`],
    log,
    ledger: processLedger,
    ...(dlq
      ? {
          spool: async (series: SeriesPoint[], error: unknown) => {
            await dlq.add({ kind: "datadog.series", key: dlqKey("series", JSON.stringify(series)), source: "metrics", error, payload: { series } });
          },
        }
      : {}),
  });
}

export interface SeriesSender {
  apiKey: string;
  apiUrl: string;
  fetch?: typeof fetch;
  retries?: number;
  retryDelayMs?: number;
}

/** Datadog's intake answered with an error status; `permanent` for 4xx other than 408/429. */
export class SeriesIntakeError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`Datadog answered ${status}: ${body}`);
    this.name = "SeriesIntakeError";
  }

  get permanent(): boolean {
    return this.status < 500 && this.status !== 408 && this.status !== 429;
  }
}

/**
 * One `POST /api/v2/series` with retries: 5xx, 408, 429 and network errors are
 * retried; other 4xx (a bad key, a malformed body) are not.
 */
export async function postSeries(sender: SeriesSender, series: SeriesPoint[]): Promise<void> {
  const url = new URL("/api/v2/series", sender.apiUrl);
  const doFetch = sender.fetch ?? fetch;
  const minTimeout = sender.retryDelayMs ?? 200;
  await retry(
    async () => {
      const res = await doFetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "DD-API-KEY": sender.apiKey },
        body: JSON.stringify({ series }),
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status === 202 || res.ok) return;
      throw new SeriesIntakeError(res.status, (await res.text()).slice(0, 200));
    },
    // 4xx other than 408/429 will not get better by retrying.
    {
      isRetryable: (error) => !(error instanceof SeriesIntakeError && error.permanent),
      retries: sender.retries ?? 2,
      minTimeoutMs: minTimeout,
      maxTimeoutMs: Math.max(minTimeout, 2_000),
    },
  );
}

function tagList(tags: Tags | undefined): string[] {
  if (!tags) return [];
  return Object.entries(tags)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(
      ([k, v]) =>
        `${k}:${String(v)
          .toLowerCase()
          .replace(/[^a-z0-9_.:/-]/g, "_")}`,
    )
    .sort();
}

export function createMetrics(options: MetricsOptions): Metrics & { pending(): SeriesPoint[] } {
  const interval = options.intervalSeconds ?? 10;
  const now = options.clock ?? (() => Date.now());
  let batch = new Map<string, SeriesPoint>();

  function record(name: MetricName, kind: "count" | "gauge", value: number, tags?: Tags) {
    const spec = metricSpec(name);
    if (!spec) throw new Error(`unknown metric ${name}: add it to lib/metrics/names.ts`);
    // The dashboards and monitors filter on the tags names.ts declares (checked by a test): a tag
    // emitted but not declared there is a mistake of the same kind as an unknown name.
    for (const key of Object.keys(tags ?? {})) {
      if (!spec.tags.includes(key)) throw new Error(`metric ${name} has no tag "${key}": declare it in lib/metrics/names.ts`);
    }
    if (!Number.isFinite(value)) return;
    // A shared metric is one series for the service (names.ts `shared`): no per-instance tag.
    const base = spec.shared ? options.baseTags.filter((t) => !t.startsWith("instance:")) : options.baseTags;
    const allTags = [...base, ...tagList(tags)];
    const bucket = Math.floor(now() / 1000 / interval) * interval;
    const key = `${name}|${allTags.join(",")}|${bucket}`;
    const existing = batch.get(key);
    if (existing) {
      // Counts add up within a bucket; a gauge keeps its latest value.
      existing.points[0].value = kind === "count" ? existing.points[0].value + value : value;
      return;
    }
    batch.set(key, {
      metric: name,
      type: INTAKE_TYPE[kind],
      points: [{ timestamp: bucket, value }],
      tags: allTags,
      ...(spec.unit ? { unit: spec.unit } : {}),
      ...(kind === "count" ? { interval } : {}),
    });
  }

  return {
    count: (name, value = 1, tags) => record(name, "count", value, tags),
    gauge: (name, value, tags) => record(name, "gauge", value, tags),
    pending: () => [...batch.values()],
    async flush() {
      if (batch.size === 0) return;
      const taken = [...batch.values()];
      batch = new Map();
      // The log sink shows this flush's own increments; Datadog gets bucket totals.
      if (options.ledger && options.apiKey) {
        const ledger = options.ledger;
        await ledger.serial(() => {
          ledger.prune(Math.floor(now() / 1000));
          return send(
            taken.map((point) => withTotal(ledger, point)),
            ledger,
          );
        });
        return;
      }
      await send(taken);
    },
  };

  /**
   * The point as the ledger sends it: a count's bucket total so far (moved to
   * the next bucket not frozen by a failed flush), a gauge as it is.
   */
  function withTotal(ledger: CountLedger, point: SeriesPoint): SeriesPoint {
    if (point.type !== INTAKE_TYPE.count) return point;
    let timestamp = point.points[0].timestamp;
    const keyAt = (ts: number) => `${point.metric}|${point.tags.join(",")}|${ts}`;
    while (ledger.isFrozen(keyAt(timestamp))) timestamp += interval;
    const total = ledger.add(keyAt(timestamp), point.points[0].value);
    return { ...point, points: [{ timestamp, value: total }] };
  }

  async function send(series: SeriesPoint[], ledger?: CountLedger): Promise<void> {
    if (!options.apiKey) {
      options.log.info("metrics", { sink: "log", series: series.map((s) => ({ metric: s.metric, value: s.points[0].value, tags: s.tags })) });
      return;
    }
    const sender: SeriesSender = {
      apiKey: options.apiKey,
      apiUrl: options.apiUrl,
      fetch: options.fetch,
      retries: options.retries,
      retryDelayMs: options.retryDelayMs,
    };
    for (let i = 0; i < series.length; i += 500) {
      const chunk = series.slice(i, i + 500);
      try {
        await postSeries(sender, chunk);
      } catch (e) {
        options.log.warn("metrics not delivered to Datadog", { error: errorText(e), series: chunk.length });
        // The totals spooled (or lost) are final for their buckets: later increments go to the next bucket.
        for (const point of chunk)
          if (ledger && point.type === INTAKE_TYPE.count) ledger.freeze(`${point.metric}|${point.tags.join(",")}|${point.points[0].timestamp}`);
        // A refusal (bad key, malformed body) would be refused again on replay: only outages are queued.
        if (!options.spool || (e instanceof SeriesIntakeError && e.permanent)) continue;
        try {
          await options.spool(chunk, e);
        } catch (spoolError) {
          options.log.error("undelivered metrics could not be queued either; they are lost", { error: errorText(spoolError), series: chunk.length });
        }
      }
    }
  }
}

/** Datadog's intake drops points older than an hour; replays keep a margin. */
export const DATADOG_MAX_AGE_SECONDS = 3_600;
const REPLAY_MARGIN_SECONDS = 300;

/**
 * Series of a dead-letter entry as a replay sends them. Points still inside
 * Datadog's window keep their timestamps (a bucket total sent again changes
 * nothing). Older ones would be dropped silently, so they are moved to the
 * replay's own 10 s bucket and tagged `replayed:true` and
 * `instance:replay-<entry>` (a series of their own, one per entry, so two
 * entries never overwrite each other); counts of one series are summed, a
 * gauge keeps its latest value. Totals over a period that includes the replay
 * then add up; the time of those points is the replay's, as the tag says.
 */
export function replayableSeries(series: SeriesPoint[], nowMs: number, interval = 10): { series: SeriesPoint[]; moved: number } {
  const nowSeconds = Math.floor(nowMs / 1000);
  const oldest = nowSeconds - DATADOG_MAX_AGE_SECONDS + REPLAY_MARGIN_SECONDS;
  const replayTag = `instance:replay-${createHash("sha256").update(JSON.stringify(series)).digest("hex").slice(0, 12)}`;
  const bucket = Math.floor(nowSeconds / interval) * interval;
  const kept: SeriesPoint[] = [];
  const moved = new Map<string, SeriesPoint>();
  let movedPoints = 0;
  for (const s of series) {
    const fresh = s.points.filter((p) => p.timestamp >= oldest);
    if (fresh.length) kept.push({ ...s, points: fresh });
    for (const p of s.points.filter((q) => q.timestamp < oldest).sort((a, b) => a.timestamp - b.timestamp)) {
      movedPoints += 1;
      const tags = [...s.tags.filter((t) => !t.startsWith("instance:") && t !== "replayed:true"), replayTag, "replayed:true"].sort();
      const key = `${s.metric}|${tags.join(",")}`;
      const existing = moved.get(key);
      if (existing) existing.points[0].value = s.type === INTAKE_TYPE.count ? existing.points[0].value + p.value : p.value;
      else moved.set(key, { ...s, tags, points: [{ timestamp: bucket, value: p.value }], ...(s.type === INTAKE_TYPE.count ? { interval } : {}) });
    }
  }
  return { series: [...kept, ...moved.values()], moved: movedPoints };
}
