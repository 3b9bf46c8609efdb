-- Least privilege for Muse's ClickHouse: three users instead of `default`
-- (docs/clickhouse-production.md, "Least privilege"). NOT a migration: the
-- migrator applies only sql/NNN_name.sql and never reads this directory. Run it
-- once as an administrator (ClickHouse Cloud: the SQL console as `default`),
-- after replacing the database name if it is not chimera_metrics and each
-- REPLACE_WITH_* with a generated password (openssl rand -base64 32), which
-- then goes into the deployment's environment as described in that section.
--
-- The local ClickHouse (lib/local-clickhouse/server.ts) knows the same three
-- names without this file: chDB has no grants, so it lets muse_migrator and
-- muse_agent do everything and runs every request of muse_reader with
-- readonly=1.

-- Migrations (`muse migrate`, deploy step): DDL on Muse's database only, plus
-- its own bookkeeping (muse_migrations) and the backfills some migrations run
-- (INSERT … SELECT). On a self-hosted cluster (CLICKHOUSE_CLUSTER) it also
-- needs: GRANT CLUSTER ON *.* TO muse_migrator;
CREATE USER IF NOT EXISTS muse_migrator IDENTIFIED WITH sha256_password BY 'REPLACE_WITH_MIGRATOR_PASSWORD';
GRANT CREATE DATABASE, CREATE TABLE, CREATE VIEW, ALTER, DROP TABLE, DROP VIEW, TRUNCATE, OPTIMIZE, SELECT, INSERT ON chimera_metrics.* TO muse_migrator;

-- Agents, ingest, webhooks and the maintainer's API (everything that writes):
-- read and append rows in Muse's tables. No DDL, no ALTER (Muse's tables are
-- append-only: versions collapse by key), no other database, and not the
-- migrations' own table.
CREATE USER IF NOT EXISTS muse_agent IDENTIFIED WITH sha256_password BY 'REPLACE_WITH_AGENT_PASSWORD';
GRANT SELECT, INSERT ON chimera_metrics.* TO muse_agent;
REVOKE INSERT ON chimera_metrics.muse_migrations FROM muse_agent;

-- The site's pages and public read routes (status page, GET /api/changes,
-- /api/events/{id}/chart.svg, /api/health, GET /api/runs): SELECT only, and
-- readonly=2 as a second lock (reads and per-query settings, nothing else).
CREATE USER IF NOT EXISTS muse_reader IDENTIFIED WITH sha256_password BY 'REPLACE_WITH_READER_PASSWORD' SETTINGS readonly = 2;
GRANT SELECT ON chimera_metrics.* TO muse_reader;
