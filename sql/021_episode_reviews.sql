-- Review before an episode goes live (MUSE_PUBLISH_MODE=pull-request,
-- docs/reach.md, lib/review/): the publisher commits an episode and its
-- translations to the branch muse/episode/<series>/ep-NNN and opens (or
-- updates) one pull request for it; the episode's rows say status
-- 'in_review' until it is merged ('published') or rejected ('rejected').
--
-- episode_reviews: one row per review of an episode, keyed by series, number
-- and pull request (0 locally, where the branch is the review and
-- `muse review merge|reject` stand in for GitHub), rewritten with a newer
-- updated_at as it moves on: read FINAL. state pending_review | published |
-- rejected; langs the languages on the branch; head_sha the branch's last
-- commit; commit_sha the merge commit once published (its deployment is
-- recorded pending, as a direct publish does); actor, reason, source
-- (publisher | github-webhook | github-comment | cli), delivery_id and
-- decided_at say who decided, why, from where and when.
CREATE TABLE IF NOT EXISTS episode_reviews
(
    series       LowCardinality(String),
    episode_num  UInt16,
    pull_request UInt32,
    repo         String,
    branch       String,
    url          String,
    title        String,
    langs        Array(String),
    head_sha     String,
    state        LowCardinality(String),
    commit_sha   String DEFAULT '',
    actor        String DEFAULT '',
    reason       String DEFAULT '',
    source       LowCardinality(String),
    delivery_id  String DEFAULT '',
    opened_at    DateTime64(3, 'UTC'),
    decided_at   Nullable(DateTime64(3, 'UTC')),
    updated_at   DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (series, episode_num, pull_request);
