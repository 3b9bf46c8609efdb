-- The seven core tables of Muse's schema (docs/schema.md), with the original
-- design's defects fixed (see sql/README.md): every table a retry can write twice is a
-- ReplacingMergeTree keyed by a deterministic id, and reads that must not see
-- duplicates use FINAL (or argMax) as noted in their queries.

-- One row per benchmark variant (backend, method, kernel, mechanism, model...)
-- of one Banterhearts report. run_id is derived from the report's content, so
-- re-ingesting the same report replaces its rows instead of adding new ones.
-- A figure the report does not contain is NULL ("unknown"), never invented.
CREATE TABLE IF NOT EXISTS bench_runs
(
    ts              DateTime64(3, 'UTC'),
    run_id          UUID,
    commit_sha      FixedString(40),
    benchmark_type  LowCardinality(String),
    variant         String,
    model           LowCardinality(String),
    quant           LowCardinality(String),
    dataset         LowCardinality(String),
    device          LowCardinality(String),
    latency_mean_ms Nullable(Float64),
    latency_p50_ms  Nullable(Float64),
    latency_p95_ms  Nullable(Float64),
    latency_p99_ms  Nullable(Float64),
    tokens_per_sec  Nullable(Float64),
    cost_per_1k     Nullable(Decimal(10, 6)),
    memory_peak_mb  Nullable(Float64),
    extra           String DEFAULT '{}',
    source_path     String DEFAULT '',
    schema_version  UInt8 DEFAULT 1,
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toDate(ts)
ORDER BY (model, quant, dataset, run_id, variant);

-- Every LLM call Muse makes, and the LLM usage upstream reports describe.
-- event_id is deterministic per call/report item so a retried write collapses.
CREATE TABLE IF NOT EXISTS llm_events
(
    ts          DateTime64(3, 'UTC'),
    event_id    UUID,
    run_id      UUID,
    source      LowCardinality(String),
    model       LowCardinality(String),
    operation   LowCardinality(String),
    tokens_in   UInt32,
    tokens_out  UInt32,
    latency_ms  UInt32,
    cost_usd    Nullable(Decimal(12, 6)),
    status      LowCardinality(String),
    error_msg   String DEFAULT ''
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(ts)
ORDER BY (source, ts, event_id);

-- UI events from the Banterpacks overlay, already PII-scrubbed. event_id is
-- derived from the request's Idempotency-Key (or content) and the item index,
-- so a retried batch collapses onto the same rows.
CREATE TABLE IF NOT EXISTS ui_events
(
    ts             DateTime64(3, 'UTC'),
    event_id       UUID,
    session_id     UUID,
    commit_sha     FixedString(40),
    event_type     LowCardinality(String),
    latency_ms     UInt32,
    user_agent     String DEFAULT '',
    metadata       String DEFAULT '{}',
    schema_version UInt8 DEFAULT 1,
    ingested_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toDate(ts)
ORDER BY (event_type, ts, session_id, event_id);

-- Hourly per-session rollup written by the collect agent. Recomputing an hour
-- writes a newer version of the same (hour, session_id) row: read with FINAL.
-- Sums are kept beside the averages so days aggregate without averaging averages.
-- avg_latency_ms is over all of a session-hour's events; answer_latency_sum_ms
-- and answers_count cover query_result events only: the time users waited for
-- an answer, which is what the council correlates with benchmark latency.
CREATE TABLE IF NOT EXISTS session_stats
(
    hour             DateTime('UTC'),
    session_id       UUID,
    commit_sha       FixedString(40),
    avg_latency_ms   UInt32,
    latency_sum_ms   UInt64,
    error_rate       Float32,
    abandonment_rate Float32,
    events_count     UInt32,
    errors_count     UInt32,
    queries_count    UInt32,
    abandoned_count  UInt32,
    answers_count    UInt32,
    answer_latency_sum_ms UInt64,
    duration_seconds UInt32,
    computed_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toDate(hour)
ORDER BY (hour, session_id);

-- One row per watch run. Keyed by run_id alone so a retried write of the same
-- run collapses.
CREATE TABLE IF NOT EXISTS watcher_runs
(
    ts                  DateTime64(3, 'UTC'),
    run_id              UUID,
    hearts_commit       FixedString(40),
    packs_commit        FixedString(40),
    hearts_rows_found   UInt32,
    packs_rows_found    UInt32,
    hearts_newest_ts    Nullable(DateTime64(3, 'UTC')),
    packs_newest_ts     Nullable(DateTime64(3, 'UTC')),
    hearts_lag_seconds  Nullable(UInt32),
    packs_lag_seconds   Nullable(UInt32),
    lag_seconds         UInt32,
    status              LowCardinality(String),
    reasons             Array(String),
    duration_ms         UInt32
)
ENGINE = ReplacingMergeTree(ts)
PARTITION BY toDate(ts)
ORDER BY run_id;

-- Episodes, keyed by series, number and language (the original collapsed
-- series together), plus the council run that wrote them: numbers go only to
-- drafts that may be published (episode_num 0 = unnumbered: rejected or below
-- the publish threshold), and those must not collapse onto each other. A
-- status change (draft -> published) writes a newer version of the same key:
-- read with FINAL. ts is the creation time and stays the same across
-- versions, so versions share a partition.
CREATE TABLE IF NOT EXISTS episodes
(
    ts                   DateTime64(3, 'UTC'),
    updated_at           DateTime64(3, 'UTC'),
    run_id               UUID,
    series               LowCardinality(String),
    episode_num          UInt16,
    lang                 LowCardinality(String),
    title                String,
    summary              String DEFAULT '',
    confidence_score     Float32,
    correlation_strength Nullable(Float32),
    tokens_total         UInt32,
    cost_total           Decimal(12, 6),
    status               LowCardinality(String),
    file_path            String DEFAULT '',
    commit_sha           String DEFAULT '',
    markdown             String DEFAULT '',
    facts                String DEFAULT '{}',
    claims               String DEFAULT '[]',
    problems             Array(String),
    writer               String DEFAULT '{}',
    translation_of       String DEFAULT ''
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toDate(ts)
ORDER BY (series, episode_num, lang, run_id);

-- Deployments triggered by publishing, keyed by the content commit that the
-- Vercel webhook reports; each status change is a newer version (read FINAL).
CREATE TABLE IF NOT EXISTS deployments
(
    ts                   DateTime64(3, 'UTC'),
    updated_at           DateTime64(3, 'UTC'),
    run_id               UUID,
    episode_run_id       UUID,
    commit_sha           FixedString(40),
    status               LowCardinality(String),
    vercel_deployment_id String DEFAULT '',
    url                  String DEFAULT '',
    duration_ms          UInt32 DEFAULT 0,
    error_msg            String DEFAULT '',
    events_seen          Array(String)
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toDate(ts)
ORDER BY commit_sha;
