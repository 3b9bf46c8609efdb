-- Vercel deployment events, append-only: one row per delivery (a replay that
-- races the first delivery adds a second row; readers group by event_id and
-- take the first arrival). The deployments row of a commit is derived from
-- all of its events, folded in arrival order (lib/http/vercel-webhook.ts), so
-- concurrent deliveries cannot lose one another's event or duration the way a
-- read-modify-write of the deployments row could. received_at is stamped by
-- the server, in microseconds.
CREATE TABLE IF NOT EXISTS deployment_events
(
    commit_sha    FixedString(40),
    event_id      String,
    type          LowCardinality(String),
    created_at    DateTime64(3, 'UTC'),
    deployment_id String,
    url           String DEFAULT '',
    error_msg     String DEFAULT '',
    received_at   DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (commit_sha, event_id, received_at);
