import type { Metrics } from "./index";

/** Benchmark series with an open regression (bench_changes, status open): the monitor's metric. */
export function emitOpenRegressions(metrics: Metrics, count: number): void {
  metrics.gauge("muse.changes.open_regressions", count);
}
