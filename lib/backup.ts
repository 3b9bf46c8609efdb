import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { createDb, withDatabase, type ClickHouseConfig } from "./clickhouse/client";
import { MIGRATIONS_TABLE } from "./clickhouse/migrations";

/**
 * `muse backup` / `muse restore` (docs/operations.md#backups): a complete,
 * logical export of one database over ClickHouse's HTTP interface, so it works
 * the same against the local ClickHouse (chDB), a single server or a cluster.
 * Per table: its `SHOW CREATE TABLE` (without the database name) and all its
 * rows as TabSeparatedWithNamesAndTypes, ClickHouse's own escaped text form,
 * which reads back to the same values (strings byte for byte, floats in their
 * shortest exact form, times in UTC: `session_timezone=UTC` both ways); a
 * manifest lists the tables with their row counts and each file's sha256.
 * Restore checks every file against the manifest before it touches the
 * target, creates the tables, inserts the rows back in batches of whole lines
 * (with `optimize_on_insert=0`, so a Replacing table keeps the very rows it
 * had) and checks each table's count. Native would be the binary equivalent,
 * but the local server hands an INSERT's body to chDB's raw insert, which
 * takes text formats only.
 *
 * chDB 26 can also run ClickHouse's own `BACKUP DATABASE … TO File(…)` when the
 * engine is started with `--backups.allowed_path`, but that writes on the
 * server's side, into the one directory the server allows, and ClickHouse Cloud
 * does not offer `File` at all; this export writes where the CLI runs.
 */

export const BACKUP_FORMAT = "muse-backup";
export const BACKUP_VERSION = 1;
export const MANIFEST_FILE = "manifest.json";
export const DATA_FORMAT = "TabSeparatedWithNamesAndTypes";
/** Both ways, so a DateTime without a time zone means the same instant on any server. */
const TEXT_SETTINGS = { session_timezone: "UTC" };
/** Largest INSERT body restore sends (the local server accepts 256 MiB). */
const BATCH_BYTES = 32 * 1024 * 1024;

const fileEntry = z.object({ file: z.string().regex(/^[A-Za-z0-9_.%-]+$/), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

export const backupManifest = z.object({
  format: z.literal(BACKUP_FORMAT),
  version: z.literal(BACKUP_VERSION),
  created_at: z.string(),
  database: z.string(),
  server_version: z.string(),
  tables: z.array(
    z.object({
      name: z.string().min(1),
      engine: z.string(),
      /** Views have no rows of their own: no data file. */
      rows: z.number().int().nonnegative(),
      schema: fileEntry,
      data: fileEntry.extend({ format: z.literal(DATA_FORMAT) }).nullable(),
    }),
  ),
});
export type BackupManifest = z.infer<typeof backupManifest>;

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

/** Engines whose table has no rows of its own to export. */
const NO_DATA_ENGINES = new Set(["View", "MaterializedView", "LiveView", "WindowView", "Dictionary"]);

function quoteIdentifier(name: string): string {
  return "`" + name.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`";
}

/** A table's files: its name made safe for any file system, never a path. */
function fileStem(name: string): string {
  return encodeURIComponent(name).replace(/\./g, "%2E");
}

/** One request to the HTTP interface, outside the JSON client: the rows' text in and out, unparsed. */
async function httpRequest(
  config: ClickHouseConfig,
  options: { database: string; query: string; body?: Uint8Array; settings?: Record<string, string> },
): Promise<Response> {
  const url = new URL(config.url);
  url.searchParams.set("database", options.database);
  for (const [k, v] of Object.entries(options.settings ?? {})) url.searchParams.set(k, v);
  if (options.body) url.searchParams.set("query", options.query);
  const res = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Basic ${Buffer.from(`${config.username}:${config.password}`).toString("base64")}` },
    body: options.body ? new Uint8Array(options.body) : options.query,
    signal: AbortSignal.timeout(Math.max(config.requestTimeoutMs, 600_000)),
  });
  if (!res.ok) {
    const text = (await res.text()).trim().split("\n")[0].slice(0, 500);
    throw new BackupError(`ClickHouse answered ${res.status} to ${options.query.slice(0, 80)}: ${text}`);
  }
  return res;
}

async function sha256File(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** `CREATE TABLE db.name …` → `CREATE TABLE name …`: the statement then creates the table in whatever database it runs in. */
export function withoutDatabase(statement: string, database: string): string {
  const ident = (s: string) => `(?:\`${s.replace(/[.*+?^${}()|[\]\\`]/g, "\\$&")}\`|${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")})`;
  const re = new RegExp(
    `^(\\s*(?:ATTACH|CREATE)\\s+(?:OR\\s+REPLACE\\s+)?(?:TEMPORARY\\s+)?(?:TABLE|VIEW|MATERIALIZED\\s+VIEW|DICTIONARY|LIVE\\s+VIEW|WINDOW\\s+VIEW)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?)${ident(database)}\\.`,
    "i",
  );
  return statement.replace(re, "$1");
}

export interface BackupResult {
  dir: string;
  manifest: BackupManifest;
}

/**
 * Exports `config.database` into `dir` (created; refused when it exists and is
 * not empty). Written into `<dir>.partial` and renamed at the end, so a
 * directory with a manifest is always a complete backup.
 */
export async function backupDatabase(config: ClickHouseConfig, dir: string, options: { log?: (line: string) => void; now?: Date } = {}): Promise<BackupResult> {
  const log = options.log ?? (() => {});
  const target = path.resolve(dir);
  if ((await exists(target)) && (await readdir(target)).length > 0) throw new BackupError(`${target} exists and is not empty`);
  const partial = `${target}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const db = createDb(withDatabase(config, "default"));
  try {
    const database = config.database;
    const [{ version }] = await db.query<{ version: string }>("SELECT version() AS version");
    const present = await db.query("SELECT 1 FROM system.databases WHERE name = {db:String}", { db: database });
    if (present.length === 0) throw new BackupError(`database ${database} does not exist`);
    const tables = await db.query<{ name: string; engine: string }>(
      "SELECT name, engine FROM system.tables WHERE database = {db:String} AND NOT is_temporary ORDER BY name",
      { db: database },
    );
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      created_at: (options.now ?? new Date()).toISOString(),
      database,
      server_version: version,
      tables: [],
    };
    for (const table of tables) {
      const [{ statement }] = await db.query<{ statement: string }>("SHOW CREATE TABLE {db:Identifier}.{t:Identifier}", { db: database, t: table.name });
      const stem = fileStem(table.name);
      const schemaFile = `${stem}.sql`;
      await writeFile(path.join(partial, schemaFile), `${withoutDatabase(statement, database)}\n`);
      const schema = { file: schemaFile, ...(await sha256File(path.join(partial, schemaFile))) };
      if (NO_DATA_ENGINES.has(table.engine)) {
        manifest.tables.push({ name: table.name, engine: table.engine, rows: 0, schema, data: null });
        log(`${table.name}: ${table.engine}, definition only`);
        continue;
      }
      const dataFile = `${stem}.tsv`;
      const res = await httpRequest(config, {
        database,
        query: `SELECT * FROM ${quoteIdentifier(table.name)} FORMAT ${DATA_FORMAT}`,
        settings: { ...TEXT_SETTINGS, wait_end_of_query: "1" },
      });
      const hash = createHash("sha256");
      let bytes = 0;
      await pipeline(
        res.body ? Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>) : Readable.from([]),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            bytes += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(path.join(partial, dataFile)),
      );
      const rows = await exportedRows(res, () =>
        db.query<{ n: number }>("SELECT count() AS n FROM {db:Identifier}.{t:Identifier}", { db: database, t: table.name }).then((r) => Number(r[0].n)),
      );
      manifest.tables.push({
        name: table.name,
        engine: table.engine,
        rows,
        schema,
        data: { file: dataFile, format: DATA_FORMAT, bytes, sha256: hash.digest("hex") },
      });
      log(`${table.name}: ${rows} rows, ${bytes} bytes`);
    }
    await writeFile(path.join(partial, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(target, { recursive: true, force: true });
    await rename(partial, target);
    return { dir: target, manifest };
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  } finally {
    await db.close();
  }
}

/** The rows a SELECT returned, from its X-ClickHouse-Summary (complete with wait_end_of_query=1), else counted. */
async function exportedRows(res: Response, count: () => Promise<number>): Promise<number> {
  try {
    const summary = JSON.parse(res.headers.get("x-clickhouse-summary") ?? "") as { result_rows?: string };
    if (summary.result_rows !== undefined && /^\d+$/.test(summary.result_rows)) return Number(summary.result_rows);
  } catch {
    // no summary: count
  }
  return count();
}

function writtenRows(res: Response): number | undefined {
  try {
    const summary = JSON.parse(res.headers.get("x-clickhouse-summary") ?? "") as { written_rows?: string };
    return summary.written_rows !== undefined && /^\d+$/.test(summary.written_rows) ? Number(summary.written_rows) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads and checks a backup: the manifest, and every file's size and sha256. */
export async function verifyBackup(dir: string): Promise<BackupManifest> {
  const root = path.resolve(dir);
  let raw: string;
  try {
    raw = await readFile(path.join(root, MANIFEST_FILE), "utf8");
  } catch {
    throw new BackupError(`${root} has no ${MANIFEST_FILE}: not a complete backup`);
  }
  const parsed = backupManifest.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new BackupError(`${path.join(root, MANIFEST_FILE)} is not a Muse backup manifest: ${parsed.error.issues[0]?.message}`);
  for (const table of parsed.data.tables) {
    for (const entry of [table.schema, table.data]) {
      if (!entry) continue;
      const file = path.join(root, entry.file);
      if (!(await exists(file))) throw new BackupError(`${entry.file} (table ${table.name}) is missing`);
      const actual = await sha256File(file);
      if (actual.bytes !== entry.bytes || actual.sha256 !== entry.sha256) {
        throw new BackupError(
          `${entry.file} (table ${table.name}) does not match the manifest (sha256 ${actual.sha256.slice(0, 12)}…, expected ${entry.sha256.slice(0, 12)}…)`,
        );
      }
    }
  }
  return parsed.data;
}

export interface RestoreResult {
  database: string;
  tables: { name: string; rows: number }[];
}

/**
 * Restores a backup into `config.database` (created when missing). Refused
 * when a table of the target has rows (its migration log aside), unless `force`; the backup's tables are
 * then dropped and recreated from the backup (other tables of the target are
 * left alone). Each restored table's row count is checked against the manifest.
 */
export async function restoreDatabase(
  config: ClickHouseConfig,
  dir: string,
  options: { force?: boolean; log?: (line: string) => void; /** Largest INSERT body (default 32 MiB). */ batchBytes?: number } = {},
): Promise<RestoreResult> {
  const log = options.log ?? (() => {});
  const root = path.resolve(dir);
  const manifest = await verifyBackup(root);
  const database = config.database;
  const db = createDb(withDatabase(config, "default"));
  try {
    await db.command("CREATE DATABASE IF NOT EXISTS {db:Identifier}", { db: database });
    const existing = await db.query<{ name: string; engine: string }>(
      "SELECT name, engine FROM system.tables WHERE database = {db:String} AND NOT is_temporary ORDER BY name",
      { db: database },
    );
    const nonEmpty: string[] = [];
    for (const t of existing) {
      // A freshly migrated database counts as empty: its migration log is replaced by the backup's.
      if (NO_DATA_ENGINES.has(t.engine) || t.name === MIGRATIONS_TABLE) continue;
      const [{ n }] = await db.query<{ n: number }>("SELECT count() AS n FROM {db:Identifier}.{t:Identifier}", { db: database, t: t.name });
      if (Number(n) > 0) nonEmpty.push(t.name);
    }
    if (nonEmpty.length > 0 && !options.force) {
      throw new BackupError(
        `database ${database} is not empty (${nonEmpty.slice(0, 5).join(", ")}${nonEmpty.length > 5 ? ", …" : ""} have rows): restore into an empty database, or pass --force to replace its tables`,
      );
    }
    const names = new Set(existing.map((t) => t.name));
    // Tables first, then what reads from them.
    const ordered = [...manifest.tables].sort((a, b) => Number(a.data === null) - Number(b.data === null) || a.name.localeCompare(b.name));
    for (const table of [...ordered].reverse()) {
      if (!names.has(table.name)) continue;
      await db.command(`DROP ${table.data === null ? "VIEW" : "TABLE"} IF EXISTS {db:Identifier}.{t:Identifier} SYNC`, { db: database, t: table.name });
    }
    const restored: RestoreResult["tables"] = [];
    for (const table of ordered) {
      const statement = (await readFile(path.join(root, table.schema.file), "utf8")).trim();
      await (await httpRequest(config, { database, query: statement })).arrayBuffer();
      // Rows the server says it wrote (X-ClickHouse-Summary), exact even when a Replacing table merges batches
      // behind our back; counted instead when a server sends no summary.
      let written: number | undefined = 0;
      if (table.data && table.rows > 0) {
        for await (const body of lineBatches(path.join(root, table.data.file), options.batchBytes ?? BATCH_BYTES)) {
          const res = await httpRequest(config, {
            database,
            query: `INSERT INTO ${quoteIdentifier(table.name)} FORMAT ${DATA_FORMAT}`,
            body,
            settings: { ...TEXT_SETTINGS, optimize_on_insert: "0" },
          });
          await res.arrayBuffer();
          const batch = writtenRows(res);
          written = written === undefined || batch === undefined ? undefined : written + batch;
        }
      }
      const rows = !table.data
        ? 0
        : (written ?? Number((await db.query<{ n: number }>("SELECT count() AS n FROM {db:Identifier}.{t:Identifier}", { db: database, t: table.name }))[0].n));
      if (table.data && rows !== table.rows) throw new BackupError(`${table.name}: ${rows} rows restored, the backup has ${table.rows}`);
      restored.push({ name: table.name, rows });
      log(`${table.name}: ${rows} rows`);
    }
    return { database, tables: restored };
  } finally {
    await db.close();
  }
}

/**
 * A TabSeparatedWithNamesAndTypes file in INSERT bodies of about `maxBytes`:
 * whole lines only (the format escapes newlines inside values), each batch
 * led by the file's two header lines (names, types).
 */
export async function* lineBatches(file: string, maxBytes: number): AsyncGenerator<Uint8Array> {
  let header: Buffer | undefined;
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    if (!header) {
      const first = pending.indexOf(0x0a);
      const second = first >= 0 ? pending.indexOf(0x0a, first + 1) : -1;
      if (second < 0) continue;
      header = pending.subarray(0, second + 1);
      pending = pending.subarray(second + 1);
    }
    while (pending.length >= maxBytes) {
      const cut = pending.lastIndexOf(0x0a, maxBytes - 1);
      const end = cut >= 0 ? cut + 1 : pending.indexOf(0x0a, maxBytes) + 1;
      if (end <= 0) break; // one line longer than the batch: wait for its end
      yield Buffer.concat([header, pending.subarray(0, end)]);
      pending = pending.subarray(end);
    }
  }
  if (header && pending.length > 0) yield Buffer.concat([header, pending]);
}
