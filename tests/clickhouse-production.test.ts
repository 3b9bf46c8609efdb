import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROWS_FOR_COMMIT, rowsSince } from "../lib/agents/watch";
import { withDatabase } from "../lib/clickhouse/client";
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, migrate, MigrationError, renderStatement } from "../lib/clickhouse/migrations";
import { createTestDatabase, testClickHouseConfig, uniqueDatabaseName, type TestDatabase } from "./helpers/db";

/**
 * ClickHouse Cloud and clusters (issue 14, item 2): the migrations rendered
 * for a self-hosted cluster (ON CLUSTER, Replicated engines) parse with the
 * real engine's parser; the local engine applies them as written (Cloud takes
 * the same text); sql/007's indexes, TTLs and codecs are in place; and the
 * watcher's query is bounded by time and uses the indexes (EXPLAIN indexes = 1).
 */

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t.drop();
});

describe("migrations rendered for a cluster", () => {
  it("every DDL statement runs ON CLUSTER, every table is Replicated, and each parses", async () => {
    const migrations = await loadMigrations(DEFAULT_MIGRATIONS_DIR);
    const statements = migrations.flatMap((m) =>
      m.statements.map((sql) => ({ file: m.file, sql, rendered: renderStatement(sql, { cluster: "muse_cluster" }) })),
    );
    expect(statements.length).toBeGreaterThan(20);
    for (const { file, sql, rendered } of statements) {
      const where = `${file}: ${sql.split("\n")[0]}`;
      if (/^\s*(CREATE|ALTER)\s/i.test(sql)) expect(rendered, where).toMatch(/^\s*(CREATE|ALTER)\s+\w+\s+(IF NOT EXISTS\s+)?[\w.]+ ON CLUSTER 'muse_cluster'/i);
      if (/\bENGINE\s*=/.test(sql)) {
        expect(rendered, where).toMatch(/ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'/);
        expect(rendered, where).not.toMatch(/ENGINE\s*=\s*(Replacing|Summing|Aggregating)?MergeTree\b/);
      }
      // The real parser (formatQuery parses without executing): the rendered SQL is valid ClickHouse.
      const [parsed] = await t.db.query<{ f: string }>("SELECT formatQuery({q:String}) AS f", { q: rendered });
      // Data statements run on one replica as written; the Replicated table carries their rows to the others.
      if (/^\s*INSERT\s/i.test(sql)) expect(rendered, where).toBe(sql);
      else expect(parsed.f, where).toContain("ON CLUSTER muse_cluster");
    }
    // A version column stays the engine's last argument.
    expect(renderStatement("CREATE TABLE IF NOT EXISTS x (a UInt8, v UInt8) ENGINE = ReplacingMergeTree(v) ORDER BY a", { cluster: "c" })).toBe(
      "CREATE TABLE IF NOT EXISTS x ON CLUSTER 'c' (a UInt8, v UInt8) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', v) ORDER BY a",
    );
    expect(renderStatement("CREATE DATABASE IF NOT EXISTS {db:Identifier}", { cluster: "c" })).toBe(
      "CREATE DATABASE IF NOT EXISTS {db:Identifier} ON CLUSTER 'c'",
    );
  });

  it("one server and ClickHouse Cloud run the files as written; a cluster without a name is refused", async () => {
    const sql = "CREATE TABLE IF NOT EXISTS x (a UInt8) ENGINE = MergeTree ORDER BY a";
    expect(renderStatement(sql)).toBe(sql);
    expect(renderStatement(sql, { cluster: undefined })).toBe(sql);
    const config = { ...withDatabase(testClickHouseConfig(), uniqueDatabaseName("muse_never")), deployment: "cluster" as const };
    await expect(migrate(config)).rejects.toBeInstanceOf(MigrationError);
    await expect(migrate(config)).rejects.toThrow(/CLICKHOUSE_CLUSTER/);
  });
});

describe("sql/007 on the local engine", () => {
  it("adds the skip indexes, the 3-year TTLs and the codecs", async () => {
    const indexes = await t.db.query<{ table: string; name: string; type: string }>(
      "SELECT table, name, type FROM system.data_skipping_indices WHERE database = {d:String} ORDER BY table, name",
      { d: t.config.database },
    );
    expect(indexes.map((i) => `${i.table}.${i.name}:${i.type}`)).toEqual(
      expect.arrayContaining([
        "bench_runs.idx_commit_sha:bloom_filter",
        "bench_runs.idx_run_id:bloom_filter",
        "llm_events.idx_run_id:bloom_filter",
        "ui_events.idx_commit_sha:bloom_filter",
        "ui_events.idx_session_id:bloom_filter",
      ]),
    );
    const ddl = async (table: string) =>
      (
        await t.db.query<{ q: string }>("SELECT create_table_query AS q FROM system.tables WHERE database = {d:String} AND name = {t:String}", {
          d: t.config.database,
          t: table,
        })
      )[0].q;
    const events = await ddl("ui_events");
    expect(events).toContain("TTL toDateTime(ts) + toIntervalYear(3)");
    expect(events).toContain("ttl_only_drop_parts = 1");
    expect(events).toContain("`metadata` String DEFAULT '{}' CODEC(ZSTD(3))");
    expect(events).toContain("`latency_ms` UInt32 CODEC(T64, ZSTD(1))");
    expect(await ddl("llm_events")).toContain("TTL toDateTime(ts) + toIntervalYear(3)");
    expect(await ddl("session_stats")).toContain("TTL toDateTime(hour) + toIntervalYear(3)");
  });
});

describe("the watcher's rows-for-commit query", () => {
  const DAYS = 30;
  const latestCommit = "9".repeat(40);

  beforeAll(async () => {
    // 30 daily partitions; each day's events carry that day's overlay commit (day 29: the latest).
    for (let day = 0; day < DAYS; day++) {
      await t.db.command(
        `INSERT INTO ui_events (ts, event_id, session_id, commit_sha, event_type, latency_ms)
         SELECT toDateTime64('2026-10-01 00:00:00', 3, 'UTC') + toIntervalDay({day:UInt8}) + toIntervalMillisecond(number * 4000),
                generateUUIDv4(), generateUUIDv4(), {sha:FixedString(40)}, 'ui.click', number % 4000
           FROM numbers(20000)`,
        { day, sha: day === DAYS - 1 ? latestCommit : String(day % 9).repeat(40) },
      );
    }
  }, 120_000);

  const explain = async (sql: string, params: Record<string, unknown>) =>
    (await t.db.query<{ explain: string }>(`EXPLAIN indexes = 1 ${sql}`, params)).map((r) => r.explain).join("\n");
  /** "Parts: a/b" of one index section of EXPLAIN indexes = 1. */
  const parts = (plan: string, section: string) => {
    const m = new RegExp(`${section}\\n(?:.*\\n)*?\\s*Parts: (\\d+)/(\\d+)`).exec(plan);
    if (!m) throw new Error(`no ${section} section in:\n${plan}`);
    return [Number(m[1]), Number(m[2])];
  };

  it("is bounded by time (partitions before the commit are skipped) and uses the commit_sha index", async () => {
    const since = rowsSince("banterpacks", "2026-10-30T00:00:00Z");
    const bounded = await explain(ROWS_FOR_COMMIT.banterpacks, { sha: latestCommit, since });
    expect(bounded).toMatch(/Condition: \(ts in \[/);
    expect(parts(bounded, "Min-Max")).toEqual([2, DAYS]);
    expect(bounded).toMatch(/Skip\n\s*Name: idx_commit_sha/);

    const unbounded = await explain("SELECT count() AS rows, max(ts) AS newest FROM ui_events FINAL WHERE commit_sha = {sha:FixedString(40)}", {
      sha: latestCommit,
    });
    expect(parts(unbounded, "Min-Max")).toEqual([DAYS, DAYS]);

    const [found] = await t.db.query<{ rows: number }>(ROWS_FOR_COMMIT.banterpacks, { sha: latestCommit, since });
    expect(Number(found.rows)).toBe(20_000);
  });
});
