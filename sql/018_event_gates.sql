-- Accuracy gates and trade-offs on events (docs/quality.md,
-- lib/lifecycle/events.ts). Additive: rows written before read the defaults
-- (no gate, no trade-off).
--
-- gate_*: where the event's quantization method stands against its accuracy
-- gate — accuracy / the same run's baseline accuracy, averaged over the
-- segments of its accuracy series before and after the change; gate_breached
-- when the change took it from at or above the gate to below it.
-- tradeoff_*: the event made a method faster and less accurate at one place in
-- the history; its lead is the accuracy change, the speed side is kept here.
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS gate_method String DEFAULT '';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS gate_baseline String DEFAULT '';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS gate_fraction Nullable(Float64);
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS gate_ratio_before Nullable(Float64);
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS gate_ratio_after Nullable(Float64);
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS gate_breached Bool DEFAULT false;
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS tradeoff Bool DEFAULT false;
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS tradeoff_latency_metric LowCardinality(String) DEFAULT '';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS tradeoff_latency_label String DEFAULT '';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS tradeoff_latency_pct Nullable(Float64);
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS tradeoff_accuracy_points Nullable(Float64);
