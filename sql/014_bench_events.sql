-- Events of the benchmark series (lib/lifecycle/events.ts): a change across
-- series at one place in Banterhearts' history — one commit, or the range of
-- code commits between two nightly runs while bisection narrows it. event_id
-- stays the same while bisection narrows the range, so an event's first
-- detection, its story and its triage survive; every council run writes a
-- newer version (read FINAL).
--
-- kind: regression | improvement | no_code (no code commit between the runs:
-- an environment change or noise, never blamed on a commit).
-- state: open | partly_fixed (recovered_pct of it recovered, the rest still
-- open) | fixed | kept (an improvement) | environment (no_code) | withdrawn (a
-- later run no longer finds it).
CREATE TABLE IF NOT EXISTS bench_events
(
    event_id             String,
    first_detected_at    DateTime64(3, 'UTC'),
    updated_at           DateTime64(3, 'UTC'),
    run_id               String,
    kind                 LowCardinality(String),
    state                LowCardinality(String),
    range_from_sha       String,
    range_to_sha         String,
    range_method         LowCardinality(String),
    code_commits         Array(String),
    commit_ts            DateTime64(3, 'UTC'),
    blamed_sha           String DEFAULT '',
    bisection_status     LowCardinality(String) DEFAULT '',
    bisection_steps      UInt16 DEFAULT 0,
    bisection_steps_left UInt16 DEFAULT 0,
    bisection_extra_runs UInt32 DEFAULT 0,
    bisection_note       String DEFAULT '',
    benchmark_type       LowCardinality(String),
    model                LowCardinality(String),
    quant                LowCardinality(String),
    variant              String,
    dataset              LowCardinality(String),
    device               LowCardinality(String),
    metric               LowCardinality(String),
    label                String,
    change_pct           Float64,
    ci_low_pct           Float64,
    ci_high_pct          Float64,
    q_value              Float64,
    mean_before          Float64,
    mean_after           Float64,
    stdev_before         Float64,
    stdev_after          Float64,
    n_before             UInt32,
    n_after              UInt32,
    series_changed       UInt32,
    fixed_by_event_id    String DEFAULT '',
    fixed_by_sha         String DEFAULT '',
    recovered_pct        Nullable(Float64),
    recovered_ci_low     Nullable(Float64),
    recovered_ci_high    Nullable(Float64),
    returns_of           String DEFAULT ''
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY event_id;
