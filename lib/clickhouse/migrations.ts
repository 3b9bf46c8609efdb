import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { createDb, withDatabase, type ClickHouseConfig, type Db } from "./client";
import { messageOf } from "../error-message";

/**
 * Numbered, idempotent migrations from `sql/NNN_name.sql`, recorded in
 * `muse_migrations` with a checksum. Re-running applies nothing twice; a file
 * changed after it was applied is refused.
 */

export const MIGRATIONS_TABLE = "muse_migrations";
const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  file: string;
  /** sha256 of the statements (comments and layout excluded): what "changed" means. */
  checksum: string;
  /** sha256 of the whole file: what versions before comment-insensitive checksums recorded. */
  legacyChecksum: string;
  statements: string[];
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MigrationError";
  }
}

/** Splits a file into statements on `;` at the end of a line; `--` comments are dropped. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split("\n")
    .map((line) => (line.trimStart().startsWith("--") ? "" : line))
    .join("\n");
  return withoutComments
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * A migration statement as it runs on the configured deployment. The files are
 * written for one server, and mean the same on ClickHouse Cloud, which turns
 * every MergeTree-family engine into SharedMergeTree by itself. On a
 * self-hosted cluster (CLICKHOUSE_CLUSTER) DDL runs ON CLUSTER and tables use
 * the Replicated engines, one replica path per table:
 * `/clickhouse/tables/{shard}/{database}/{table}` with `{replica}`, the
 * server's own macros. Checksums are of the files, so one migration history
 * serves every deployment.
 */
export function renderStatement(statement: string, target: { cluster?: string } = {}): string {
  if (!target.cluster) return statement;
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(target.cluster)) throw new MigrationError(`invalid cluster name ${JSON.stringify(target.cluster)}`);
  const onCluster = `ON CLUSTER '${target.cluster}'`;
  let out = statement.replace(
    /^(\s*(?:CREATE|ALTER|DROP|TRUNCATE|RENAME|EXCHANGE)\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?(?:TABLE|DATABASE|(?:MATERIALIZED\s+)?VIEW|DICTIONARY)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(?:`[^`]+`|\{[^}]+\}|[\w.]+))(?!\s+ON\s+CLUSTER)/i,
    `$1 ${onCluster}`,
  );
  out = out.replace(
    /\bENGINE\s*=\s*(Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing|Graphite)?MergeTree\b(?:\s*\(([^()]*)\))?/g,
    (_m, family: string | undefined, args: string | undefined) => {
      const rest = args?.trim() ? `, ${args.trim()}` : "";
      return `ENGINE = Replicated${family ?? ""}MergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}'${rest})`;
    },
  );
  return out;
}

export async function loadMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  const seen = new Map<number, string>();
  for (const file of files) {
    const m = FILE_PATTERN.exec(file);
    if (!m) throw new MigrationError(`${file}: migration files are named NNN_name.sql (lower case)`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new MigrationError(`${file}: version ${version} is also used by ${seen.get(version)}`);
    seen.set(version, file);
    const text = await readFile(path.join(dir, file), "utf8");
    const statements = splitStatements(text);
    migrations.push({
      version,
      name: m[2],
      file,
      // Comments may be corrected after a migration is applied; its statements may not.
      checksum: createHash("sha256")
        .update(statements.map((st) => st.replace(/\s+/g, " ")).join(";\n"))
        .digest("hex"),
      legacyChecksum: createHash("sha256").update(text).digest("hex"),
      statements,
    });
  }
  return migrations;
}

/**
 * Whole-file checksums recorded before checksums ignored comments, of files
 * whose comments were corrected since (their statements did not change: the
 * statements' checksum is pinned beside it and checked too).
 */
const COMMENT_ONLY_EDITS: Record<string, { legacy: string; statements: string }> = {
  // The header comment cited a design document outside the repository; it now cites docs/schema.md.
  "001_core_tables.sql": {
    legacy: "191c98b2ba306f4bac9d6a78da3ce9981d271040f6b969a375f3a5bdecbb0fd6",
    statements: "14d3dd3ddb04edbfd0e12c816f4bc0a03e98dd8febb462c855dde571ce444743",
  },
};

/** Whether a recorded checksum accepts this file as it is now. */
export function checksumAccepts(recorded: string, migration: Pick<Migration, "file" | "checksum" | "legacyChecksum">): boolean {
  const edit = COMMENT_ONLY_EDITS[migration.file];
  return (
    recorded === migration.checksum ||
    recorded === migration.legacyChecksum ||
    (edit !== undefined && recorded === edit.legacy && migration.checksum === edit.statements)
  );
}

const appliedRow = z.object({ version: z.coerce.number(), name: z.string(), checksum: z.string() });

export interface MigrateResult {
  database: string;
  applied: string[];
  skipped: string[];
}

/** The migrations directory of this checkout. */
export const DEFAULT_MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "sql");

export async function migrate(config: ClickHouseConfig, options: { dir?: string; log?: (line: string) => void } = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  const migrations = await loadMigrations(options.dir ?? DEFAULT_MIGRATIONS_DIR);
  const target = { cluster: config.deployment === "cluster" ? config.cluster : undefined };
  if (config.deployment === "cluster" && !config.cluster)
    throw new MigrationError("CLICKHOUSE_DEPLOYMENT=cluster needs CLICKHOUSE_CLUSTER (the cluster name for ON CLUSTER)");

  // The target database may not exist yet, so bootstrap through `default`.
  const bootstrap = createDb(withDatabase(config, "default"));
  try {
    await bootstrap.command(renderStatement("CREATE DATABASE IF NOT EXISTS {db:Identifier}", target), { db: config.database });
  } finally {
    await bootstrap.close();
  }

  const db = createDb(config);
  try {
    await db.command(
      renderStatement(
        `
      CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE}
      (
          version    UInt32,
          name       String,
          checksum   FixedString(64),
          applied_at DateTime64(3, 'UTC')
      )
      ENGINE = ReplacingMergeTree(applied_at)
      ORDER BY version`,
        target,
      ),
    );
    const applied = new Map((await db.query(`SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} FINAL`, {}, appliedRow)).map((r) => [r.version, r]));
    const result: MigrateResult = { database: config.database, applied: [], skipped: [] };
    // Check every file before applying any, so an edited migration stops the run up front.
    for (const migration of migrations) {
      const previous = applied.get(migration.version);
      if (previous && !checksumAccepts(previous.checksum, migration)) {
        throw new MigrationError(
          `${migration.file} was changed after it was applied to ${config.database} ` +
            `(recorded checksum ${previous.checksum.slice(0, 12)}…, file ${migration.checksum.slice(0, 12)}…). ` +
            `Applied migrations are immutable: restore the file and add a new migration instead.`,
        );
      }
    }
    for (const migration of migrations) {
      if (applied.has(migration.version)) {
        result.skipped.push(migration.file);
        continue;
      }
      log(`applying ${migration.file} (${migration.statements.length} statements)`);
      for (const statement of migration.statements) await applyStatement(db, renderStatement(statement, target));
      await db.insert(MIGRATIONS_TABLE, [
        { version: migration.version, name: migration.name, checksum: migration.checksum, applied_at: new Date().toISOString() },
      ]);
      result.applied.push(migration.file);
    }
    return result;
  } finally {
    await db.close();
  }
}

async function applyStatement(db: Db, statement: string): Promise<void> {
  try {
    await db.command(statement);
  } catch (e) {
    const first =
      statement
        .split("\n")
        .find((l) => l.trim())
        ?.trim() ?? statement;
    throw new MigrationError(`${first.slice(0, 80)}: ${messageOf(e)}`);
  }
}

export async function appliedMigrations(db: Db): Promise<{ version: number; name: string }[]> {
  return db.query(`SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} FINAL ORDER BY version`, {}, appliedRow);
}
