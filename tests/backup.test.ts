import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupDatabase, BackupError, MANIFEST_FILE, restoreDatabase, verifyBackup, withoutDatabase } from "../lib/backup";
import { withDatabase } from "../lib/clickhouse/client";
import { createTestDatabase, testClickHouseConfig, uniqueDatabaseName, type TestDatabase } from "./helpers/db";

/**
 * `muse backup` / `muse restore` (docs/operations.md#backups): a migrated
 * database with rows in every table (random values of each column's own type
 * from ClickHouse's generateRandom, timestamps near now so no TTL drops them),
 * backed up, restored into a fresh database and compared table by table, row
 * for row, every column byte for byte.
 */

let source: TestDatabase;
let work: string;
const extraDatabases: string[] = [];
const ROWS_PER_TABLE = 40;

async function tablesOf(database: string): Promise<string[]> {
  const rows = await source.db.query<{ name: string }>("SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name", { db: database });
  return rows.map((r) => r.name);
}

/** Every row of a table as TSV lines (bytes exactly as stored), in order. */
async function orderedRows(database: string, table: string): Promise<string[]> {
  const rs = await source.db.client.query({
    query: `SELECT * FROM \`${database}\`.\`${table}\` ORDER BY toString(tuple(*))`,
    format: "TabSeparated",
  });
  return (await rs.text()).split("\n").filter((l) => l !== "");
}

async function countOf(database: string, table: string): Promise<number> {
  const [row] = await source.db.query<{ n: number }>("SELECT count() AS n FROM {db:Identifier}.{t:Identifier}", { db: database, t: table });
  return Number(row.n);
}

async function dropDatabase(name: string): Promise<void> {
  await source.db.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: name });
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "muse-backup-"));
  source = await createTestDatabase();
  for (const table of await tablesOf(source.config.database)) {
    if (table === "muse_migrations") continue; // already has its rows
    const columns = await source.db.query<{ name: string; type: string }>(
      `SELECT name, type FROM system.columns
        WHERE database = {db:String} AND table = {t:String} AND default_kind NOT IN ('MATERIALIZED', 'ALIAS', 'EPHEMERAL')
        ORDER BY position`,
      { db: source.config.database, t: table },
    );
    const structure = columns.map((c) => `\`${c.name}\` ${c.type}`).join(", ");
    const values = columns.map((c, i) =>
      /Date/.test(c.type) && !/Array|Map|Tuple/.test(c.type)
        ? `CAST(now64(3) - toIntervalMillisecond((rand64(${i}) % 86400000) + 1), '${c.type.replace(/'/g, "\\'")}') AS \`${c.name}\``
        : `\`${c.name}\``,
    );
    await source.db.command(
      `INSERT INTO \`${table}\` (${columns.map((c) => `\`${c.name}\``).join(", ")})
       SELECT ${values.join(", ")} FROM generateRandom({structure:String}, 42, 24, 3) LIMIT ${ROWS_PER_TABLE}`,
      { structure },
    );
  }
}, 120_000);

afterAll(async () => {
  for (const name of extraDatabases) await dropDatabase(name);
  await source?.drop();
  rmSync(work, { recursive: true, force: true });
});

describe("backup and restore", () => {
  it("backs up every table and restores each one row for row into a fresh database", async () => {
    const dir = path.join(work, "full");
    const { manifest } = await backupDatabase(source.config, dir);
    const tables = await tablesOf(source.config.database);
    expect(tables.length).toBeGreaterThan(15);
    expect(manifest.tables.map((t) => t.name)).toEqual(tables);
    for (const t of manifest.tables) {
      expect(t.data?.sha256).toMatch(/^[0-9a-f]{64}$/);
      // Every table has rows (a Replacing table may have collapsed a random duplicate key on insert).
      expect(t.rows, t.name).toBeGreaterThan(0);
      expect(t.rows, t.name).toBe(await countOf(source.config.database, t.name));
      // The definition is the server's own, without the source's database name.
      const ddl = readFileSync(path.join(dir, t.schema.file), "utf8");
      expect(ddl).toMatch(new RegExp(`^CREATE TABLE ${t.name}\\s`));
      expect(ddl).not.toContain(source.config.database);
    }
    expect(readdirSync(dir)).toContain(MANIFEST_FILE);
    expect(readdirSync(work).some((f) => f.endsWith(".partial"))).toBe(false);

    const target = uniqueDatabaseName("muse_restore");
    extraDatabases.push(target);
    const result = await restoreDatabase(withDatabase(testClickHouseConfig(), target), dir);
    expect(result.tables.map((t) => t.name).sort()).toEqual(tables);
    expect(await tablesOf(target)).toEqual(tables);
    for (const table of tables) {
      const before = await orderedRows(source.config.database, table);
      const after = await orderedRows(target, table);
      expect(after.length, table).toBe(before.length);
      expect(after, table).toEqual(before);
      // Same definition too.
      const [a] = await source.db.query<{ statement: string }>("SHOW CREATE TABLE {db:Identifier}.{t:Identifier}", { db: source.config.database, t: table });
      const [b] = await source.db.query<{ statement: string }>("SHOW CREATE TABLE {db:Identifier}.{t:Identifier}", { db: target, t: table });
      expect(withoutDatabase(b.statement, target), table).toBe(withoutDatabase(a.statement, source.config.database));
    }
  }, 180_000);

  it("refuses a non-empty target unless --force, and then replaces its tables", async () => {
    const dir = path.join(work, "force");
    await backupDatabase(source.config, dir);
    // The source itself has rows: refused.
    await expect(restoreDatabase(source.config, dir)).rejects.toThrow(BackupError);
    await expect(restoreDatabase(source.config, dir)).rejects.toThrow(/not empty.*--force/);

    const target = uniqueDatabaseName("muse_restore");
    extraDatabases.push(target);
    const config = withDatabase(testClickHouseConfig(), target);
    await restoreDatabase(config, dir);
    await source.db.command(`INSERT INTO \`${target}\`.series_mutes SELECT * FROM \`${target}\`.series_mutes LIMIT 1`);
    // Small INSERT bodies: each table arrives in several batches of whole lines.
    const forced = await restoreDatabase(config, dir, { force: true, batchBytes: 2048 });
    expect(forced.tables.find((t) => t.name === "series_mutes")?.rows).toBe(await countOf(source.config.database, "series_mutes"));
    for (const table of await tablesOf(source.config.database)) {
      expect(await orderedRows(target, table), table).toEqual(await orderedRows(source.config.database, table));
    }
  }, 180_000);

  it("restores into a migrated but empty database without --force", async () => {
    const dir = path.join(work, "migrated");
    await backupDatabase(source.config, dir);
    const empty = await createTestDatabase();
    try {
      const result = await restoreDatabase(empty.config, dir);
      expect(result.tables.find((t) => t.name === "agent_runs")?.rows).toBe(await countOf(source.config.database, "agent_runs"));
      // Its migration log is the backup's.
      expect(await orderedRows(empty.config.database, "muse_migrations")).toEqual(await orderedRows(source.config.database, "muse_migrations"));
    } finally {
      await empty.drop();
    }
  }, 180_000);

  it("refuses a backup whose files do not match the manifest, before touching the target", async () => {
    const dir = path.join(work, "corrupt");
    const { manifest } = await backupDatabase(source.config, dir);
    const victim = manifest.tables.find((t) => t.name === "ui_events")!;
    const file = path.join(dir, victim.data!.file);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(file, bytes);
    await expect(verifyBackup(dir)).rejects.toThrow(/ui_events.*does not match the manifest/);
    const target = uniqueDatabaseName("muse_restore");
    await expect(restoreDatabase(withDatabase(testClickHouseConfig(), target), dir)).rejects.toThrow(/does not match/);
    expect(await source.db.query("SELECT 1 FROM system.databases WHERE name = {db:String}", { db: target })).toEqual([]);
    rmSync(path.join(dir, MANIFEST_FILE));
    await expect(verifyBackup(dir)).rejects.toThrow(/not a complete backup/);
  }, 180_000);

  it("refuses to write into a directory that is not empty", async () => {
    const dir = path.join(work, "occupied");
    await backupDatabase(source.config, dir);
    await expect(backupDatabase(source.config, dir)).rejects.toThrow(/not empty/);
  }, 180_000);
});
