-- Change points of the benchmark series (lib/analysis/changes.ts), one row per
-- (series, metric, commit that caused it). change_id is derived from those, so
-- every council run re-detecting the same change writes a newer version of the
-- same row (read FINAL). Lifecycle: a regression is `open` until a later change
-- of the same series and metric reverses it (`fixed`, with the fixing commit);
-- improvements are `kept`; a change a later run no longer finds is `withdrawn`.
CREATE TABLE IF NOT EXISTS bench_changes
(
    change_id         UUID,
    detected_at       DateTime64(3, 'UTC'),
    updated_at        DateTime64(3, 'UTC'),
    run_id            UUID,
    benchmark_type    LowCardinality(String),
    model             LowCardinality(String),
    quant             LowCardinality(String),
    variant           String,
    dataset           LowCardinality(String),
    device            LowCardinality(String),
    metric            LowCardinality(String),
    commit_sha        String,
    commit_ts         DateTime64(3, 'UTC'),
    commit_candidates Array(String),
    previous_sha      String,
    kind              LowCardinality(String),
    change_pct        Float64,
    ci_low_pct        Float64,
    ci_high_pct       Float64,
    p_value           Float64,
    q_value           Float64,
    mean_before       Float64,
    mean_after        Float64,
    n_before          UInt32,
    n_after           UInt32,
    status            LowCardinality(String),
    fixed_by_sha      String DEFAULT '',
    fixed_ts          Nullable(DateTime64(3, 'UTC'))
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY change_id;

-- The writer's template of an episode (prose with {{fact:…}} references,
-- before rendering): what the translator translates.
ALTER TABLE episodes ADD COLUMN IF NOT EXISTS template String DEFAULT '';
