-- Every agent run: one row per run, rewritten (newer updated_at) when it ends.
-- started_at is fixed per run so versions share the sorting key: read FINAL.
CREATE TABLE IF NOT EXISTS agent_runs
(
    run_id      UUID,
    agent       LowCardinality(String),
    trigger     LowCardinality(String),
    status      LowCardinality(String),
    started_at  DateTime64(3, 'UTC'),
    finished_at Nullable(DateTime64(3, 'UTC')),
    duration_ms UInt32 DEFAULT 0,
    attempts    UInt8 DEFAULT 1,
    error       String DEFAULT '',
    summary     String DEFAULT '{}',
    options     String DEFAULT '{}',
    updated_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
PARTITION BY toYYYYMM(started_at)
ORDER BY (agent, started_at, run_id);

-- Leases that keep two runs of one agent from overlapping. A run inserts its
-- claim, then reads the live claims: the earliest live claim holds the lock.
-- Releasing writes a newer version with released = 1; a crashed run's claim
-- simply expires at expires_at.
CREATE TABLE IF NOT EXISTS agent_locks
(
    agent       LowCardinality(String),
    run_id      UUID,
    acquired_at DateTime64(3, 'UTC'),
    expires_at  DateTime64(3, 'UTC'),
    released    UInt8 DEFAULT 0,
    updated_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (agent, run_id)
TTL toDateTime(expires_at) + INTERVAL 1 DAY;
