import pRetry, { AbortError } from "p-retry";
import { createDlq, dlqKey, errorText } from "../dlq";
import type { Env } from "../env";
import type { Logger } from "../log";
import { metricSpec, type MetricName } from "./names";

export { METRICS, type MetricName } from "./names";

/**
 * Metrics for Datadog's v2 series API (`POST /api/v2/series`), batched in
 * memory and sent by `flush()` — which routes call after the response
 * (`after()`), and the CLI before it exits. Without DD_API_KEY the batch goes
 * to the log instead. Flushing never throws: Datadog being down must not stop
 * the pipeline; series it did not take after the retries are handed to
 * `spool` (the dead-letter store, replayed by `muse dlq replay`).
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
}

export function datadogApiUrl(env: Env): string {
  return env.DD_API_URL ?? `https://api.${env.DD_SITE}`;
}

export function metricsFromEnv(env: Env, log: Logger): Metrics {
  const dlq = createDlq({ dir: env.MUSE_DLQ_DIR, log });
  return createMetrics({
    apiKey: env.DD_API_KEY,
    apiUrl: datadogApiUrl(env),
    baseTags: [`service:${env.DD_SERVICE}`, `env:${env.DD_ENV}`],
    log,
    spool: async (series, error) => {
      await dlq.add({ kind: "datadog.series", key: dlqKey("series", JSON.stringify(series)), source: "metrics", error, payload: { series } });
    },
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
  constructor(readonly status: number, body: string) {
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
  await pRetry(
    async () => {
      const res = await doFetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "DD-API-KEY": sender.apiKey },
        body: JSON.stringify({ series }),
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status === 202 || res.ok) return;
      const error = new SeriesIntakeError(res.status, (await res.text()).slice(0, 200));
      // 4xx other than 408/429 will not get better by retrying.
      if (error.permanent) throw new AbortError(error);
      throw error;
    },
    { retries: sender.retries ?? 2, minTimeout, maxTimeout: Math.max(minTimeout, 2_000) },
  );
}

function tagList(tags: Tags | undefined): string[] {
  if (!tags) return [];
  return Object.entries(tags)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${k}:${String(v).toLowerCase().replace(/[^a-z0-9_.:/-]/g, "_")}`)
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
    const allTags = [...options.baseTags, ...tagList(tags)];
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
      const series = [...batch.values()];
      batch = new Map();
      if (!options.apiKey) {
        options.log.info("metrics", { sink: "log", series: series.map((s) => ({ metric: s.metric, value: s.points[0].value, tags: s.tags })) });
        return;
      }
      const sender: SeriesSender = { apiKey: options.apiKey, apiUrl: options.apiUrl, fetch: options.fetch, retries: options.retries, retryDelayMs: options.retryDelayMs };
      for (let i = 0; i < series.length; i += 500) {
        const chunk = series.slice(i, i + 500);
        try {
          await postSeries(sender, chunk);
        } catch (e) {
          options.log.warn("metrics not delivered to Datadog", { error: errorText(e), series: chunk.length });
          // A refusal (bad key, malformed body) would be refused again on replay: only outages are queued.
          if (!options.spool || (e instanceof SeriesIntakeError && e.permanent)) continue;
          try {
            await options.spool(chunk, e);
          } catch (spoolError) {
            options.log.error("undelivered metrics could not be queued either; they are lost", { error: errorText(spoolError), series: chunk.length });
          }
        }
      }
    },
  };
}
