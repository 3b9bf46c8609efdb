-- The shape of a change (docs/change-points.md "Kinds", lib/analysis/changes.ts,
-- lib/lifecycle/events.ts): beside its direction (regression | improvement), a
-- change is a `step` (the level moved at one place), a `drift` (the level
-- creeps, run after run: a slope) or a `spread` (the run-to-run noise changed:
-- runs got flakier or steadier). Additive: rows written before read 'step'
-- and NULLs, which is what they were.
--
-- drift: slope_pct_per_run is the slope in percent of the drifting stretch's
-- starting level per run, with its 95 % interval (slope_ci_low, slope_ci_high);
-- drift_runs the runs in the stretch. change_pct (and its interval) is then the
-- change over the whole stretch, slope × (drift_runs − 1). A drift whose
-- stretch starts at the first run of the lookback has previous_sha '' (bench_changes)
-- and range_from_sha '' (bench_events): it is not attributed to any commit.
-- spread: spread_ratio is the noise deviation after / before, with its 95 %
-- interval (spread_ci_low, spread_ci_high); change_pct is (ratio − 1) × 100.
-- Steps leave all of these NULL (drift_runs 0).
ALTER TABLE bench_changes ADD COLUMN IF NOT EXISTS shape LowCardinality(String) DEFAULT 'step';
ALTER TABLE bench_changes ADD COLUMN IF NOT EXISTS slope_pct_per_run Nullable(Float64);
ALTER TABLE bench_changes ADD COLUMN IF NOT EXISTS slope_ci_low Nullable(Float64);
ALTER TABLE bench_changes ADD COLUMN IF NOT EXISTS slope_ci_high Nullable(Float64);
ALTER TABLE bench_changes ADD COLUMN IF NOT EXISTS drift_runs UInt32 DEFAULT 0;
ALTER TABLE bench_changes ADD COLUMN IF NOT EXISTS spread_ratio Nullable(Float64);
ALTER TABLE bench_changes ADD COLUMN IF NOT EXISTS spread_ci_low Nullable(Float64);
ALTER TABLE bench_changes ADD COLUMN IF NOT EXISTS spread_ci_high Nullable(Float64);

ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS shape LowCardinality(String) DEFAULT 'step';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS slope_pct_per_run Nullable(Float64);
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS slope_ci_low Nullable(Float64);
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS slope_ci_high Nullable(Float64);
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS drift_runs UInt32 DEFAULT 0;
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS spread_ratio Nullable(Float64);
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS spread_ci_low Nullable(Float64);
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS spread_ci_high Nullable(Float64);
