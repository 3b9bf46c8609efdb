-- Triage of events by maintainers (docs/triage.md, lib/triage/): `expected`
-- (the accepted cost of a feature), `invalid` (a human's word that the change
-- is not real: noise, a runner swap), `ack` (acknowledged, still open),
-- `reopen` (clears the three), `blame <sha>` (overrides bisection), `mute` /
-- `unmute <series>` (a noisy benchmark whose changes are not told).
--
-- event_triage is the log: one row per action, never rewritten. action_id is
-- deterministic for a GitHub delivery (uuidv5 of source, delivery id and the
-- command's line), so a redelivered webhook writes the same rows and the
-- ReplacingMergeTree keeps one. source: github-comment | api | cli.
CREATE TABLE IF NOT EXISTS event_triage
(
    action_id   String,
    event_id    String,
    action      LowCardinality(String),
    argument    String DEFAULT '',
    reason      String DEFAULT '',
    actor       String,
    source      LowCardinality(String),
    delivery_id String DEFAULT '',
    created_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY action_id;

-- Muted series (lib/analysis/series.ts seriesId): their changes are dropped
-- before events are grouped. One row per series, a newer version per mute or
-- unmute (active = 0): read FINAL.
CREATE TABLE IF NOT EXISTS series_mutes
(
    series_id  String,
    event_id   String DEFAULT '',
    actor      String,
    reason     String DEFAULT '',
    source     LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    active     UInt8 DEFAULT 1
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY series_id;

-- The effective triage, written into the event row so every reader of
-- bench_events (status page, GET /api/changes, the open-regressions metric,
-- the stories) honours it; event_triage stays the record. triage: '' |
-- expected | invalid | ack. blame_sha: a maintainer's blame ('' none), which
-- overrides bisection.
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS triage LowCardinality(String) DEFAULT '';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS triage_reason String DEFAULT '';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS triage_actor String DEFAULT '';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS triage_source LowCardinality(String) DEFAULT '';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS triage_at Nullable(DateTime64(3, 'UTC'));
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS blame_sha String DEFAULT '';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS blame_actor String DEFAULT '';
ALTER TABLE bench_events ADD COLUMN IF NOT EXISTS blame_reason String DEFAULT '';
