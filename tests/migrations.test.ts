import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createDb, withDatabase } from "../lib/clickhouse/client";
import { DEFAULT_MIGRATIONS_DIR, MigrationError, migrate, splitStatements } from "../lib/clickhouse/migrations";
import { testClickHouseConfig, uniqueDatabaseName } from "./helpers/db";

const EXPECTED_TABLES = [
  "agent_locks",
  "agent_runs",
  "bench_changes",
  "bench_events",
  "bench_request_claims",
  "bench_requests",
  "bench_runs",
  "deployment_events",
  "deployments",
  "episode_numbers",
  "episode_reviews",
  "episodes",
  "event_issues",
  "event_notifications",
  "event_triage",
  "ingest_key_claims",
  "ingest_requests",
  "llm_events",
  "muse_migrations",
  "pr_checks",
  "series_mutes",
  "session_stats",
  "ui_events",
  "upstream_commits",
  "watcher_runs",
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function freshConfig() {
  const config = withDatabase(testClickHouseConfig(), uniqueDatabaseName("muse_migrate"));
  cleanups.push(async () => {
    const admin = createDb(testClickHouseConfig());
    await admin.command("DROP DATABASE IF EXISTS {db:Identifier}", { db: config.database });
    await admin.close();
  });
  return config;
}

async function tablesOf(database: string): Promise<string[]> {
  const admin = createDb(testClickHouseConfig());
  const rows = await admin.query<{ name: string }>("SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name", { db: database });
  await admin.close();
  return rows.map((r) => r.name);
}

describe("migrations", () => {
  it("create every table from an empty server, then apply nothing the second time", async () => {
    const config = freshConfig();
    const first = await migrate(config);
    expect(first.applied).toEqual([
      "001_core_tables.sql",
      "002_agent_runs.sql",
      "003_upstream_commits.sql",
      "004_episode_numbers.sql",
      "005_ingest_key_claims.sql",
      "006_bench_changes.sql",
      "007_retention_indexes_codecs.sql",
      "010_deployment_events.sql",
      "011_ingest_key_claims_from_requests.sql",
      "012_upstream_commit_parents.sql",
      "013_bench_requests.sql",
      "014_bench_events.sql",
      "015_event_issues.sql",
      "016_event_triage.sql",
      "017_quality_columns.sql",
      "018_event_gates.sql",
      "019_pull_request_runs.sql",
      "020_change_shapes.sql",
      "021_episode_reviews.sql",
      "022_deployment_origin.sql",
    ]);
    expect(await tablesOf(config.database)).toEqual(EXPECTED_TABLES);

    const second = await migrate(config);
    expect(second.applied).toEqual([]);
    expect(second.skipped).toHaveLength(first.applied.length);
    const db = createDb(config);
    const [{ c }] = await db.query<{ c: number }>("SELECT count() AS c FROM muse_migrations");
    expect(Number(c)).toBe(first.applied.length);
    await db.close();
  });

  it("refuse a migration that was edited after it was applied, naming the file", async () => {
    const config = freshConfig();
    const dir = await mkdtemp(path.join(os.tmpdir(), "muse-sql-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    await migrate(config, { dir });

    const file = path.join(dir, "002_agent_runs.sql");
    const original = await readFile(file, "utf8");
    // A corrected comment is not a change of the migration.
    await writeFile(file, `${original}\n-- a corrected comment\n`);
    expect((await migrate(config, { dir })).applied).toEqual([]);
    // A changed statement is.
    await writeFile(file, original.replace(/CREATE TABLE IF NOT EXISTS (\w+)/, "CREATE TABLE IF NOT EXISTS $1_renamed"));
    const attempt = migrate(config, { dir });
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(migrate(config, { dir })).rejects.toThrow(/002_agent_runs\.sql was changed after it was applied/);
  });

  it("apply a new migration added later, and only that one", async () => {
    const config = freshConfig();
    const dir = await mkdtemp(path.join(os.tmpdir(), "muse-sql-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    await migrate(config, { dir });
    await writeFile(path.join(dir, "900_extra.sql"), "CREATE TABLE IF NOT EXISTS extra (a UInt8) ENGINE = MergeTree ORDER BY a;\n");
    const result = await migrate(config, { dir });
    expect(result.applied).toEqual(["900_extra.sql"]);
    expect(await tablesOf(config.database)).toContain("extra");
  });

  it("split files into statements and drop comments", () => {
    expect(splitStatements("-- c;\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\nSELECT 1;\n")).toEqual([
      "CREATE TABLE a (x UInt8) ENGINE = Memory",
      "SELECT 1",
    ]);
  });
});

describe("migration checksums", () => {
  const base = { file: "001_core_tables.sql" };
  it("accept a file whose comments changed but refuse changed statements", async () => {
    const { loadMigrations, checksumAccepts } = await import("../lib/clickhouse/migrations");
    const [first] = await loadMigrations(new URL("../sql", import.meta.url).pathname);
    // A database that recorded the new, statement-only checksum.
    expect(checksumAccepts(first.checksum, first)).toBe(true);
    // A database that applied the file before its header comment was corrected (whole-file checksum then).
    expect(checksumAccepts("191c98b2ba306f4bac9d6a78da3ce9981d271040f6b969a375f3a5bdecbb0fd6", first)).toBe(true);
    // The same old record against changed statements: refused.
    expect(
      checksumAccepts("191c98b2ba306f4bac9d6a78da3ce9981d271040f6b969a375f3a5bdecbb0fd6", {
        ...base,
        checksum: "0".repeat(64),
        legacyChecksum: "1".repeat(64),
      }),
    ).toBe(false);
    expect(checksumAccepts("2".repeat(64), first)).toBe(false);
  });
});
