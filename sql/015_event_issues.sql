-- Where Muse told people about an event (lib/reach/): the GitHub issue of each
-- regression event on Banterhearts, and the last notice each other channel
-- (Slack, Datadog events) was sent about it.
--
-- event_issues: one row per event_id, rewritten with a newer updated_at when
-- Muse edits, comments on, relabels or closes the issue: read FINAL.
-- state is what the issue says (open | bisecting | partly_fixed | fixed |
-- withdrawn), body_sha256 the sha256 of the body last written, labels the
-- labels last set. The issue's body carries a hidden marker
-- (<!-- muse-event:<event_id> -->), so an instance that lost this row, or
-- raced another one, finds the issue on GitHub instead of opening another.
CREATE TABLE IF NOT EXISTS event_issues
(
    event_id     String,
    issue_number UInt32,
    state        LowCardinality(String),
    body_sha256  String,
    labels       Array(String),
    updated_at   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY event_id;

-- event_notifications: per channel (slack | datadog) and event, the
-- fingerprint of the last state a notice went out for; a notice is sent only
-- when the event's fingerprint differs from it. Read FINAL.
CREATE TABLE IF NOT EXISTS event_notifications
(
    channel     LowCardinality(String),
    event_id    String,
    fingerprint String,
    sent_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(sent_at)
ORDER BY (channel, event_id);
