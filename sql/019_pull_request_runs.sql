-- Pull-request checks against the merge base (docs/reach.md "Pull requests",
-- lib/pull-requests/).
--
-- bench_runs.pull_request: the pull request a run measured the head of (the
-- X-Muse-Pull-Request header or the report's pull_request field of
-- POST /api/ingest/bench), 0 for main's runs. Runs with pull_request > 0 never
-- enter main's series (lib/analysis/series.ts) nor a bisection
-- (lib/bisection/advance.ts). Additive: rows written before read 0.
ALTER TABLE bench_runs ADD COLUMN IF NOT EXISTS pull_request UInt32 DEFAULT 0;

-- pr_checks: what Muse last reported on a pull request's head commit, one row
-- per (repo, pull_request, head_sha), rewritten with a newer updated_at on a
-- rerun: read FINAL. check_id is the GitHub check run (0 when a commit status
-- was set instead, status_context then names it), comment_id the pull-request
-- comment (0 when none was posted), conclusion success | neutral | failure,
-- body_sha256 the sha256 of the comment last written, posted false when the
-- verdict was only computed and stored (GitHub not configured).
CREATE TABLE IF NOT EXISTS pr_checks
(
    repo           String,
    pull_request   UInt32,
    head_sha       String,
    merge_base_sha String,
    check_id       UInt64,
    status_context String,
    comment_id     UInt64,
    conclusion     LowCardinality(String),
    summary        String,
    body_sha256    String,
    posted         Bool,
    updated_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (repo, pull_request, head_sha);
