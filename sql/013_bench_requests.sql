-- Benchmark requests for bisection (docs/schema.md): extra runs at commits
-- inside a range where a benchmark changed. One row per request_id (given by
-- the caller, deterministic), rewritten with a newer updated_at when it is
-- claimed, answered, done, expired or dispatched: read FINAL.
CREATE TABLE IF NOT EXISTS bench_requests
(
    request_id     String,
    event_id       String,
    commit_sha     String,
    benchmark_type LowCardinality(String),
    model          LowCardinality(String),
    quant          LowCardinality(String),
    variant        LowCardinality(String),
    dataset        LowCardinality(String),
    device         LowCardinality(String),
    repeats        UInt16,
    reason         String,
    status         Enum8('pending' = 1, 'claimed' = 2, 'done' = 3, 'cannot_run' = 4, 'expired' = 5),
    claimed_by     String DEFAULT '',
    lease_until    Nullable(DateTime64(3, 'UTC')),
    answer         String DEFAULT '',
    dispatched_at  Nullable(DateTime64(3, 'UTC')),
    requested_at   DateTime64(3, 'UTC'),
    expires_at     DateTime64(3, 'UTC'),
    updated_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY request_id;

-- Claims of a request by runners. ClickHouse has no row locks, so a runner
-- inserts its claim (claimed_at stamped by the server, so claims are ordered
-- the way they arrived) and reads the request's live claims back: the earliest
-- live one holds the request. Plain MergeTree: every claim is kept, so the
-- earliest never changes; a claim stops being live at lease_until, and a
-- losing claim is withdrawn by a second row with released = 1.
CREATE TABLE IF NOT EXISTS bench_request_claims
(
    request_id  String,
    claim_id    UUID,
    runner      String,
    claimed_at  DateTime64(3, 'UTC'),
    lease_until DateTime64(3, 'UTC'),
    released    UInt8 DEFAULT 0
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(claimed_at)
ORDER BY (request_id, claimed_at, claim_id)
TTL toDateTime(claimed_at) + INTERVAL 30 DAY;

-- Which bisection request a run answers ('' for the nightly runs).
ALTER TABLE bench_runs ADD COLUMN IF NOT EXISTS request_id String DEFAULT '';
