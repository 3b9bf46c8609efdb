import type { Metrics } from "./index";

/** Open regression events (bench_events: open or partly fixed): the monitor's metric. */
export function emitOpenRegressions(metrics: Metrics, count: number): void {
  metrics.gauge("muse.changes.open_regressions", count);
}
