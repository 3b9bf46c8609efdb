-- Commits of the upstream repositories (Banterhearts, Banterpacks) that Muse
-- has seen, with their change statistics. Keyed by (repo, sha): re-collecting
-- a window collapses onto the same rows.
CREATE TABLE IF NOT EXISTS upstream_commits
(
    repo          LowCardinality(String),
    sha           FixedString(40),
    ts            DateTime64(3, 'UTC'),
    author        String DEFAULT '',
    message       String,
    files         Array(String),
    files_changed UInt32,
    additions     UInt32,
    deletions     UInt32,
    collected_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(collected_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (repo, sha);

-- Idempotency keys of accepted ingest requests: a retried request with the
-- same key is answered from here instead of being written again.
CREATE TABLE IF NOT EXISTS ingest_requests
(
    idempotency_key String,
    route           LowCardinality(String),
    body_sha256     FixedString(64),
    accepted        UInt32,
    response        String,
    received_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (route, idempotency_key)
TTL toDateTime(received_at) + INTERVAL 30 DAY;
