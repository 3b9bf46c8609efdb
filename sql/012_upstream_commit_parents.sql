-- The parents of each upstream commit (full shas, first parent first; [] for
-- a root commit). Commit times can run backwards (rebases, clock skew) and a
-- merged branch's commits can be older than the commits before the merge, so
-- which commits lie between two benchmark runs is decided by the commit graph
-- (lib/attribution/graph.ts), not by `ts`. Rows stored before this migration
-- read [] until they are written again; a set of rows none of which has
-- parents is read as "no graph", and attribution falls back to commit time.
ALTER TABLE upstream_commits ADD COLUMN IF NOT EXISTS parents Array(String) DEFAULT [];
