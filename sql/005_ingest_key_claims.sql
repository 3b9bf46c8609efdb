-- First use of an Idempotency-Key. ingest_requests records a key once its
-- rows are written, so two requests racing with one key both miss it there;
-- each first inserts a claim here (stamped by the server) and reads the
-- earliest claim for the key: a request whose body is not the earliest
-- claim's is refused (422), as it would be once the key is recorded.
-- Plain MergeTree: every claim is kept, so the earliest one never changes.
CREATE TABLE IF NOT EXISTS ingest_key_claims
(
    route           LowCardinality(String),
    idempotency_key String,
    body_sha256     FixedString(64),
    claimed_at      DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(claimed_at)
ORDER BY (route, idempotency_key, claimed_at)
TTL toDateTime(claimed_at) + INTERVAL 30 DAY;
