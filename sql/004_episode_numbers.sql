-- Episode number claims, so two council runs that race can never take the
-- same number in a series: each inserts its claim for max + 1 (timestamped by
-- the server) and the earliest claim for a number wins; the other moves on.
CREATE TABLE IF NOT EXISTS episode_numbers
(
    series      LowCardinality(String),
    episode_num UInt16,
    run_id      UUID,
    claimed_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(claimed_at)
ORDER BY (series, episode_num, run_id);
