-- Production at scale (docs/clickhouse-production.md): data-skipping indexes,
-- retention and codecs on the tables that grow with traffic. Only ALTERs that
-- mean the same on one server, on ClickHouse Cloud (SharedMergeTree) and on a
-- self-hosted cluster (where the migration runner adds ON CLUSTER).

-- Data-skipping indexes on the correlation keys the sorting keys do not lead
-- with: commit_sha (the watcher, the council), session_id, run_id.
ALTER TABLE ui_events ADD INDEX IF NOT EXISTS idx_commit_sha commit_sha TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE ui_events ADD INDEX IF NOT EXISTS idx_session_id session_id TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE bench_runs ADD INDEX IF NOT EXISTS idx_commit_sha commit_sha TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE bench_runs ADD INDEX IF NOT EXISTS idx_run_id run_id TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE llm_events ADD INDEX IF NOT EXISTS idx_run_id run_id TYPE bloom_filter(0.01) GRANULARITY 4;

-- Existing parts get the indexes too (a background mutation on a big table).
ALTER TABLE ui_events MATERIALIZE INDEX idx_commit_sha;
ALTER TABLE ui_events MATERIALIZE INDEX idx_session_id;
ALTER TABLE bench_runs MATERIALIZE INDEX idx_commit_sha;
ALTER TABLE bench_runs MATERIALIZE INDEX idx_run_id;
ALTER TABLE llm_events MATERIALIZE INDEX idx_run_id;

-- Retention: the seed schema's tiers end after 3 years (90 days hot, 1 year
-- warm, 3 years cold). The moves between tiers depend on the server's storage
-- (ClickHouse Cloud tiers by itself; a self-hosted storage policy adds
-- TO VOLUME clauses, see the docs); the end of the cold tier is the same
-- everywhere. Daily partitions expire whole (ttl_only_drop_parts).
ALTER TABLE ui_events MODIFY TTL toDateTime(ts) + INTERVAL 3 YEAR;
ALTER TABLE ui_events MODIFY SETTING ttl_only_drop_parts = 1;
ALTER TABLE llm_events MODIFY TTL toDateTime(ts) + INTERVAL 3 YEAR;
ALTER TABLE llm_events MODIFY SETTING ttl_only_drop_parts = 1;
ALTER TABLE session_stats MODIFY TTL toDateTime(hour) + INTERVAL 3 YEAR;

-- Codecs: timestamps are near-monotonic within a part (DoubleDelta), counters
-- small integers (T64), JSON text compresses far better with ZSTD than LZ4.
ALTER TABLE ui_events MODIFY COLUMN ingested_at DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(DoubleDelta, ZSTD(1));
ALTER TABLE ui_events MODIFY COLUMN latency_ms UInt32 CODEC(T64, ZSTD(1));
ALTER TABLE ui_events MODIFY COLUMN metadata String DEFAULT '{}' CODEC(ZSTD(3));
ALTER TABLE ui_events MODIFY COLUMN user_agent String DEFAULT '' CODEC(ZSTD(1));
ALTER TABLE bench_runs MODIFY COLUMN extra String DEFAULT '{}' CODEC(ZSTD(3));
