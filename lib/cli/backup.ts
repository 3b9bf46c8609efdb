import path from "node:path";
import { parseArgs } from "node:util";
import { backupDatabase, BackupError, restoreDatabase } from "../backup";
import { clickHouseConfig, withDatabase } from "../clickhouse/client";
import { loadEnv } from "../env";
import type { Command } from "./index";

/**
 * `muse backup [--to <dir>]` and `muse restore --from <dir> [--database <name>] [--force]`
 * (docs/operations.md#backups): a complete export of CLICKHOUSE_DATABASE with a checksummed manifest, and
 * its restore (lib/backup.ts).
 */

const out = (line = "") => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

/** `.muse/backups/<database>-<UTC time>`: sortable, one per run. */
export function defaultBackupDir(database: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return path.join(".muse", "backups", `${database}-${stamp}`);
}

export const backupCommand: Command = {
  summary: "export every table of the database (definition, rows, sha256 manifest) to a directory",
  usage: "muse backup [--to <dir>] [--json]",
  needsClickHouse: true,
  async run(args) {
    const { values } = parseArgs({ args, options: { to: { type: "string" }, json: { type: "boolean" } } });
    const config = clickHouseConfig(loadEnv());
    const dir = values.to ?? defaultBackupDir(config.database);
    try {
      const { dir: written, manifest } = await backupDatabase(config, dir, { log: values.json ? undefined : (l) => err(`  ${l}`) });
      const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
      if (values.json) out(JSON.stringify({ dir: written, database: manifest.database, tables: manifest.tables.length, rows }, null, 2));
      else out(`backed up ${manifest.database}: ${manifest.tables.length} tables, ${rows} rows → ${written}`);
      return 0;
    } catch (e) {
      if (!(e instanceof BackupError)) throw e;
      err(`backup failed: ${e.message}`);
      return 1;
    }
  },
};

export const restoreCommand: Command = {
  summary: "restore a backup into the database (refuses one with rows unless --force)",
  usage: "muse restore --from <dir> [--database <name>] [--force] [--json]",
  needsClickHouse: true,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { from: { type: "string" }, database: { type: "string" }, force: { type: "boolean" }, json: { type: "boolean" } },
    });
    if (!values.from) {
      err("--from <dir> is required\n\nUsage: npm run muse -- restore --from <dir> [--database <name>] [--force] [--json]");
      return 2;
    }
    if (values.database !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(values.database)) {
      err("--database must be a plain identifier");
      return 2;
    }
    const base = clickHouseConfig(loadEnv());
    const config = values.database ? withDatabase(base, values.database) : base;
    try {
      const result = await restoreDatabase(config, values.from, { force: values.force, log: values.json ? undefined : (l) => err(`  ${l}`) });
      const rows = result.tables.reduce((n, t) => n + t.rows, 0);
      if (values.json) out(JSON.stringify(result, null, 2));
      else out(`restored ${result.tables.length} tables, ${rows} rows into ${result.database} from ${path.resolve(values.from)}`);
      return 0;
    } catch (e) {
      if (!(e instanceof BackupError)) throw e;
      err(`restore failed: ${e.message}`);
      return 1;
    }
  },
};
