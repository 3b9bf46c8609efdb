import { AGENT_NAMES } from "../agents/names";

/**
 * Every metric Muse emits, in one place. Names are `muse.<agent>.<thing>`
 * (or `muse.<subsystem>.<thing>`). The dashboards, monitors and SLOs in
 * datadog/ may only query names from this list (checked by a test).
 */

// Datadog v2 series types we use (durations are gauges: one point per run).
export type MetricType = "count" | "gauge";

export interface MetricSpec {
  name: string;
  type: MetricType;
  unit?: string;
  description: string;
  tags: readonly string[];
  /**
   * One series for the whole service: sent without the `instance` tag (lib/metrics/index.ts). For gauges whose
   * last write is the right value from any instance (the latest benchmark run, the last complete hour), so their
   * number of series is the bound their tags document, not that times the serverless instances of the hour.
   */
  shared?: boolean;
}

/** What the runner reports for every agent. */
const perAgent = AGENT_NAMES.flatMap(
  (agent) =>
    [
      { name: `muse.${agent}.runs`, type: "count", description: `${agent} runs finished, by status`, tags: ["status", "trigger"] },
      { name: `muse.${agent}.duration_ms`, type: "gauge", unit: "millisecond", description: `${agent} run duration`, tags: ["status", "trigger"] },
      { name: `muse.${agent}.retries`, type: "count", description: `${agent} attempts retried after a transient failure`, tags: [] },
      { name: `muse.${agent}.lock_conflicts`, type: "count", description: `${agent} runs refused because another run held the lock`, tags: ["trigger"] },
    ] as const satisfies readonly MetricSpec[],
);

const specific = [
  // ingest
  { name: "muse.ingest.reports", type: "count", description: "benchmark reports ingested", tags: ["benchmark_type", "route"] },
  { name: "muse.ingest.bench_rows", type: "count", description: "bench_runs rows written", tags: ["benchmark_type"] },
  { name: "muse.ingest.llm_rows", type: "count", description: "llm_events rows written from reports", tags: [] },
  { name: "muse.ingest.events_accepted", type: "count", description: "UI events accepted by POST /api/ingest/events", tags: [] },
  { name: "muse.ingest.requests", type: "count", description: "ingest requests answered, by route and status code", tags: ["route", "status"] },
  { name: "muse.ingest.rejected", type: "count", description: "ingest requests rejected, by route and reason", tags: ["route", "reason"] },
  // collect
  { name: "muse.collect.commits", type: "count", description: "upstream commits recorded", tags: ["repo"] },
  { name: "muse.collect.session_rows", type: "count", description: "session_stats rows (re)computed", tags: [] },
  // benchmarks (lib/metrics/bench.ts): the latest run per benchmark type × model × quantization, stamped at ingest
  // (Datadog drops points older than about an hour). At most types × models × quants series per metric.
  ...(
    [
      ["muse.bench.latency_p95_ms", "millisecond", "p95 latency of the latest run"],
      ["muse.bench.latency_p99_ms", "millisecond", "p99 latency of the latest run"],
      ["muse.bench.tokens_per_sec", undefined, "throughput (tokens/s) of the latest run"],
      ["muse.bench.accuracy", "percent", "accuracy of the latest run, in points (the report's fraction × 100)"],
      ["muse.bench.memory_peak_mb", "megabyte", "peak memory of the latest run"],
      ["muse.bench.accuracy_gate_ratio", undefined, "a quantization method's accuracy / the same run's baseline accuracy / its gate (below 1: below the gate)"],
    ] as const
  ).map(
    ([name, unit, description]) =>
      ({ name, type: "gauge", ...(unit ? { unit } : {}), description, tags: ["benchmark_type", "model", "quant"], shared: true }) as const,
  ),
  // users (lib/agents/collect.ts): the overlay's last complete hour, from session_stats. One series each.
  {
    name: "muse.users.latency_ms",
    type: "gauge",
    unit: "millisecond",
    description: "mean time to an answer in the overlay, last complete hour",
    tags: [],
    shared: true,
  },
  { name: "muse.users.error_rate", type: "gauge", description: "share of overlay events that were errors, last complete hour (0–1)", tags: [], shared: true },
  {
    name: "muse.users.abandonment_rate",
    type: "gauge",
    description: "share of queries abandoned without an answer, last complete hour (0–1)",
    tags: [],
    shared: true,
  },
  // watch
  { name: "muse.watch.lag_seconds", type: "gauge", unit: "second", description: "data freshness lag per source", tags: ["source"] },
  { name: "muse.watch.rows_found", type: "gauge", description: "rows ingested for the latest upstream commit, per source", tags: ["source"] },
  { name: "muse.watch.status", type: "count", description: "watcher verdicts, by status", tags: ["status"] },
  // council
  { name: "muse.council.confidence", type: "gauge", description: "confidence of the latest episode draft", tags: ["series"] },
  { name: "muse.council.correlation", type: "gauge", description: "hearts↔packs correlation of the latest draft", tags: ["series"] },
  { name: "muse.council.episodes", type: "count", description: "episode drafts stored, by status", tags: ["series", "status"] },
  { name: "muse.council.blocked", type: "count", description: "council runs blocked by the watcher gate", tags: ["reason"] },
  // bisect
  { name: "muse.bisect.requests", type: "count", description: "bisection benchmark requests made", tags: [] },
  { name: "muse.bisect.events", type: "gauge", description: "events whose commit range bisection is still narrowing", tags: [] },
  // reach (lib/reach: GitHub issues, Slack, Datadog events)
  { name: "muse.reach.sent", type: "count", description: "issue writes and notices sent about events, by channel and action", tags: ["channel", "action"] },
  { name: "muse.reach.failures", type: "count", description: "issue syncs and notices that failed (logged; the agent goes on)", tags: ["channel"] },
  // publish
  { name: "muse.publish.episodes", type: "count", description: "episodes published", tags: ["series"] },
  { name: "muse.publish.failures", type: "count", description: "publish attempts that failed", tags: [] },
  { name: "muse.changes.open_regressions", type: "gauge", description: "open regressions (bench_events: open or partly fixed events)", tags: [] },
  {
    name: "muse.publish.deployments",
    type: "count",
    description:
      "deployment status changes (the Vercel webhook, or the publish agent settling: Vercel's API or unknown after MUSE_DEPLOY_SETTLE_MINUTES); origin muse (a publish commit) or external",
    tags: ["status", "origin"],
  },
  { name: "muse.publish.deploy_duration_ms", type: "gauge", unit: "millisecond", description: "deployment build duration", tags: [] },
  // translate
  { name: "muse.translate.translations", type: "count", description: "translations stored, by language and status", tags: ["lang", "status"] },
  // LLM
  { name: "muse.llm.tokens", type: "count", description: "LLM tokens used, by direction", tags: ["agent", "model", "direction"] },
  { name: "muse.llm.cost_usd", type: "count", unit: "dollar", description: "LLM cost from the price table", tags: ["agent", "model"] },
  { name: "muse.llm.calls", type: "count", description: "LLM calls, by status", tags: ["agent", "model", "status"] },
  // platform
  { name: "muse.clickhouse.write_errors", type: "count", description: "ClickHouse writes that failed after retries", tags: ["table"] },
  { name: "muse.dlq.depth", type: "gauge", description: "payloads waiting in the dead-letter store", tags: [] },
] as const satisfies readonly MetricSpec[];

export const METRICS = [...perAgent, ...specific] as const;
export type MetricName = (typeof METRICS)[number]["name"];

const byName = new Map<string, MetricSpec>(METRICS.map((m) => [m.name, m]));
export function metricSpec(name: string): MetricSpec | undefined {
  return byName.get(name);
}
