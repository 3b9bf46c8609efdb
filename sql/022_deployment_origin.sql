-- Deployments that settle (docs/operations.md "Deployments"): every deployment of
-- the site's project, not only those publishing triggered. `origin` says who
-- started it: 'muse' (the publisher's commit; the row is written pending when it
-- commits) or 'external' (a code push, a manual redeploy: the row is written from
-- the first webhook event of its commit). The deployment-success KPI counts
-- origin 'muse'. A row no event or reconciliation has moved on within
-- MUSE_DEPLOY_SETTLE_MINUTES becomes status 'unknown', counted apart. Additive:
-- rows written before are Muse's own, which is what they were.
ALTER TABLE deployments ADD COLUMN IF NOT EXISTS origin LowCardinality(String) DEFAULT 'muse';
