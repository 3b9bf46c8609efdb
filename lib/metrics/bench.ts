import { BASELINE_VARIANT, DEFAULT_ACCURACY_GATES, gateFraction, type AccuracyGates } from "../analysis/changes";
import type { NormalizedReport } from "../ingest/reports/normalize";
import type { Metrics } from "./index";

/**
 * What Banterhearts measures, in Datadog (issue 23 item 4; docs/operations.md, Metrics): on every ingest (the agent
 * lib/agents/ingest.ts and POST /api/ingest/bench) one gauge per benchmark type × model × quantization and metric, the
 * latest run's value, and for quantization methods the accuracy as a share of the same run's baseline, over the
 * method's gate (`muse.bench.accuracy_gate_ratio`: below 1 is below the gate; monitor "accuracy below its gate").
 *
 * - **Stamped at ingest time**, not at the run's own time: Datadog's intake drops points older than about an hour
 *   (DATADOG_MAX_AGE_SECONDS in lib/metrics/index.ts), and a nightly report reaches Muse hours after it ran. The
 *   gauge says "the latest run known at this time".
 * - **The latest run** per key is the newest report (by its `generated_at`) among those ingested at once. Runs that
 *   answer a bisection request or measure a pull request's head are not the latest of main and are left out.
 * - **Bounded cardinality**: tags are `benchmark_type`, `model` and `quant` only (plus service and env, one value
 *   each; no `instance`, see `shared` in lib/metrics/names.ts) — at most types × models × quants series per metric
 *   (the 9 types of lib/ingest/reports/schemas.ts; the models and quantizations Banterhearts benchmarks). Variants, datasets and devices are not tags:
 *   where a report has several rows for one key (kernels, compilation backends, datasets, devices) the gauge is their
 *   mean; a row's failed variant (no figures) is skipped.
 * - Accuracy is in points (the report's fraction × 100), as the site says it.
 */

export const BENCH_GAUGES = {
  latency_p95_ms: "muse.bench.latency_p95_ms",
  latency_p99_ms: "muse.bench.latency_p99_ms",
  tokens_per_sec: "muse.bench.tokens_per_sec",
  accuracy: "muse.bench.accuracy",
  memory_peak_mb: "muse.bench.memory_peak_mb",
} as const;
export const GATE_RATIO_METRIC = "muse.bench.accuracy_gate_ratio";

type Row = NormalizedReport["bench_runs"][number];
type Column = keyof typeof BENCH_GAUGES;

/** A key's latest report: its time and its rows for that key. */
interface Latest {
  ts: number;
  report: NormalizedReport;
  rows: Row[];
}

const keyOf = (r: Pick<Row, "benchmark_type" | "model" | "quant">) => `${r.benchmark_type}\u0000${r.model}\u0000${r.quant}`;
const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
const value = (row: Row, column: Column): number | null => {
  const v = row[column];
  return typeof v === "number" && Number.isFinite(v) ? (column === "accuracy" ? v * 100 : v) : null;
};

/** The latest run per benchmark type, model and quantization over the reports one ingest wrote (add as they are written). */
export class LatestBenchRuns {
  private readonly latest = new Map<string, Latest>();

  add(reports: readonly NormalizedReport[]): void {
    for (const report of reports) {
      if (report.request_id || (report.pull_request ?? 0) > 0) continue;
      const ts = Date.parse(report.ts);
      const byKey = new Map<string, Row[]>();
      for (const row of report.bench_runs) byKey.set(keyOf(row), [...(byKey.get(keyOf(row)) ?? []), row]);
      for (const [key, rows] of byKey) {
        const seen = this.latest.get(key);
        if (!seen || ts >= seen.ts) this.latest.set(key, { ts, report, rows });
      }
    }
  }

  get size(): number {
    return this.latest.size;
  }

  /** One gauge per key and metric the latest run has, and the gate ratio of each quantization method with a baseline. */
  emit(metrics: Pick<Metrics, "gauge">, gates: AccuracyGates = DEFAULT_ACCURACY_GATES): number {
    let sent = 0;
    for (const { report, rows } of this.latest.values()) {
      const { benchmark_type, model, quant } = rows[0];
      const tags = { benchmark_type, model, quant };
      for (const [column, metric] of Object.entries(BENCH_GAUGES) as [Column, (typeof BENCH_GAUGES)[Column]][]) {
        const v = mean(rows.flatMap((r) => (value(r, column) === null ? [] : [value(r, column)!])));
        if (v === null) continue;
        metrics.gauge(metric, v, tags);
        sent += 1;
      }
      const ratio = gateRatio(report, rows, gates);
      if (ratio !== null) {
        metrics.gauge(GATE_RATIO_METRIC, ratio, tags);
        sent += 1;
      }
    }
    return sent;
  }
}

/**
 * A method's accuracy over the same report's baseline accuracy (same model, dataset and device), divided by the
 * method's gate (MUSE_ACCURACY_GATE, MUSE_ACCURACY_GATES): 1 is exactly at the gate. Mean over the key's rows; null
 * for the baseline itself and for rows without accuracy or baseline.
 */
export function gateRatio(report: NormalizedReport, rows: readonly Row[], gates: AccuracyGates): number | null {
  const baselines = report.bench_runs.filter((r) => r.variant === BASELINE_VARIANT);
  const ratios = rows.flatMap((row) => {
    if (row.variant === BASELINE_VARIANT || typeof row.accuracy !== "number") return [];
    const base = baselines.find((b) => b.model === row.model && b.dataset === row.dataset && b.device === row.device);
    if (!base || typeof base.accuracy !== "number" || !(base.accuracy > 0)) return [];
    return [row.accuracy / base.accuracy / gateFraction(gates, row.variant)];
  });
  return mean(ratios);
}

/** The gates from the environment, as the council reads them (lib/agents/council.ts changeConfig). */
export function accuracyGates(env: { MUSE_ACCURACY_GATE?: number; MUSE_ACCURACY_GATES?: Record<string, number> }): AccuracyGates {
  return { fraction: env.MUSE_ACCURACY_GATE ?? DEFAULT_ACCURACY_GATES.fraction, methods: env.MUSE_ACCURACY_GATES ?? {} };
}
