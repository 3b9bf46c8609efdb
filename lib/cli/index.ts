import { parseArgs } from "node:util";
import { EnvError, envDocs, loadEnv } from "../env";
import { clickHouseConfig, createDb, withDatabase, type ClickHouseConfig } from "../clickhouse/client";
import { agentCommands } from "./agents";
import { datadogCommand, dlqCommand } from "./observability";
import { triageCommand } from "./triage";
import { reviewCommand } from "./review";
import { backupCommand, restoreCommand } from "./backup";
import { prCheckCommand } from "./pr-check";
import { seed } from "../seed";
import { runPipeline } from "./pipeline";
import { ensureLocalClickHouse } from "../local-clickhouse/launcher";
import { MigrationError, migrate, appliedMigrations, loadMigrations, DEFAULT_MIGRATIONS_DIR } from "../clickhouse/migrations";
import { flushTelemetry, registerTelemetry } from "../telemetry";
import { loadSynthetics } from "../datadog/apply";
import { formatCheckResult, runSiteChecks, siteChecks } from "../datadog/synthetics";
import { messageOf } from "../error-message";

/**
 * The CLI: each command is a small async function returning an exit code.
 * Output is for people; `--json` where a machine wants it.
 */

export interface Command {
  summary: string;
  usage: string;
  /** Commands that talk to ClickHouse get the local one started for them when needed. */
  needsClickHouse?: boolean;
  run(args: string[]): Promise<number>;
}

class UsageError extends Error {}

const out = (line = "") => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

type ClickHouseStatus =
  | { reachable: false; url: string; error: string }
  | {
      reachable: true;
      url: string;
      version: string;
      database: string;
      databaseExists: boolean;
      applied: number;
      pending: string[];
      tables: { name: string; rows: number }[];
    };

/**
 * `muse status`'s database half: reachability, version, migrations applied and pending, rows per table. The
 * server is asked on its `default` database: a client bound to a database that does not exist yet (before the
 * first migrate) has every query refused.
 */
async function clickHouseStatus(config: ClickHouseConfig): Promise<ClickHouseStatus> {
  const server = createDb(withDatabase(config, "default"));
  try {
    const ping = await server.ping();
    if (!ping.ok) return { reachable: false, url: config.url, error: ping.error };
    const [{ version }] = await server.query<{ version: string }>("SELECT version() AS version");
    const files = await loadMigrations(DEFAULT_MIGRATIONS_DIR);
    const databaseExists = (await server.query("SELECT 1 FROM system.databases WHERE name = {db:String}", { db: config.database })).length > 0;
    let applied: { version: number }[] = [];
    if (databaseExists) {
      const db = createDb(config);
      applied = await appliedMigrations(db)
        .catch(() => [])
        .finally(() => db.close());
    }
    const tables = databaseExists
      ? await server.query<{ name: string; rows: number }>(
          "SELECT name, toUInt64(ifNull(total_rows, 0)) AS rows FROM system.tables WHERE database = {db:String} ORDER BY name",
          { db: config.database },
        )
      : [];
    const pending = files.filter((f) => !applied.some((a) => a.version === f.version)).map((f) => f.file);
    return { reachable: true, url: config.url, version, database: config.database, databaseExists, applied: applied.length, pending, tables };
  } finally {
    await server.close();
  }
}

const commands: Record<string, Command> = {
  migrate: {
    summary: "create the database and apply pending migrations from sql/",
    usage: "muse migrate",
    needsClickHouse: true,
    async run() {
      const config = clickHouseConfig(loadEnv());
      const result = await migrate(config, { log: (l) => out(`  ${l}`) });
      out(
        result.applied.length
          ? `applied ${result.applied.length} migration(s) to ${result.database}: ${result.applied.join(", ")}`
          : `${result.database} is up to date (${result.skipped.length} migrations already applied)`,
      );
      return 0;
    },
  },
  status: {
    summary: "ClickHouse reachability, version, migrations and table row counts; the site's uptime checks (datadog/synthetics.json) against a running site",
    usage: "muse status [--json] [--site-url <url>] [--no-site]",
    needsClickHouse: true,
    async run(args) {
      const { values } = parseArgs({ args, options: { json: { type: "boolean" }, "site-url": { type: "string" }, "no-site": { type: "boolean" } } });
      const env = loadEnv();
      const clickhouse = await clickHouseStatus(clickHouseConfig(env));
      // The same checks Datadog's synthetic tests run from outside, against the site this machine runs (or --site-url).
      const siteUrl = values["site-url"] ?? env.MUSE_SITE_URL;
      const site = values["no-site"] ? undefined : { url: siteUrl, checks: await runSiteChecks(siteChecks(await loadSynthetics()), { baseUrl: siteUrl }) };
      const failed = !clickhouse.reachable || Boolean(site?.checks.some((c) => !c.ok));
      if (values.json) {
        out(JSON.stringify({ ...clickhouse, ...(site ? { site } : {}) }, null, 2));
        return failed ? 1 : 0;
      }
      if (!clickhouse.reachable) err(`ClickHouse at ${clickhouse.url} is unreachable: ${clickhouse.error}`);
      else {
        out(`ClickHouse ${clickhouse.version} at ${clickhouse.url}`);
        out(`database ${clickhouse.database}: ${clickhouse.databaseExists ? "exists" : "missing (run: npm run muse -- migrate)"}`);
        out(
          `migrations: ${clickhouse.applied} applied, ${clickhouse.pending.length} pending${clickhouse.pending.length ? ` (${clickhouse.pending.join(", ")})` : ""}`,
        );
        for (const t of clickhouse.tables) out(`  ${t.name.padEnd(24)} ${String(t.rows).padStart(10)} rows`);
      }
      if (site) {
        const passed = site.checks.filter((c) => c.ok).length;
        out(`site ${site.url}: ${passed} of ${site.checks.length} checks pass (datadog/synthetics.json)`);
        for (const check of site.checks) out(`  ${formatCheckResult(check)}`);
      }
      return failed ? 1 : 0;
    },
  },
  seed: {
    summary: "create sample upstream repositories under .muse/ and send sample UI events through the real ingest path",
    usage: "muse seed [--days 14] [--seed 42] [--peak-sessions 6] [--no-releases]",
    needsClickHouse: true,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          days: { type: "string", default: "14" },
          seed: { type: "string", default: "42" },
          "peak-sessions": { type: "string", default: "6" },
          // A world where nothing was released: the cycles and drift without any planted change (docs/statistics.md).
          "no-releases": { type: "boolean", default: false },
        },
      });
      const days = Number(values.days);
      if (!Number.isInteger(days) || days < 1 || days > 90) throw new UsageError("--days must be a whole number from 1 to 90");
      const env = loadEnv();
      const config = clickHouseConfig(env);
      await migrate(config, { log: (l) => out(`  ${l}`) });
      const db = createDb(config);
      try {
        const summary = await seed({
          days,
          now: new Date(),
          heartsDir: env.BANTERHEARTS_DIR,
          packsDir: env.BANTERPACKS_DIR,
          db,
          seed: Number(values.seed),
          peakSessionsPerHour: Number(values["peak-sessions"]),
          releases: values["no-releases"] ? "none" : "planted",
          progress: (m) => process.stderr.write(`  … ${m}\n`),
        });
        out(`sample data (${days} days, ${summary.window.from} → ${summary.window.to}${values["no-releases"] ? ", no releases" : ""}):`);
        out(`  Banterhearts ${summary.hearts.dir}: ${summary.hearts.commits} commits, ${summary.hearts.reports} reports`);
        out(`  Banterpacks  ${summary.packs.dir}: ${summary.packs.commits} commits`);
        out(`  UI events: ${summary.events.accepted} accepted in ${summary.events.batches} batches`);
        out("next: npm run muse -- ingest && npm run muse -- collect");
        return 0;
      } finally {
        await db.close();
      }
    },
  },
  pipeline: {
    summary: "run ingest → collect → watch → council → translate → publish once, with progress",
    usage: "muse pipeline",
    needsClickHouse: true,
    async run() {
      const records = await runPipeline();
      return records.some((r) => r.status === "error") ? 1 : 0;
    },
  },
  datadog: datadogCommand,
  dlq: dlqCommand,
  triage: triageCommand,
  review: reviewCommand,
  backup: backupCommand,
  restore: restoreCommand,
  "pr-check": prCheckCommand,
  env: {
    summary: "list every environment variable Muse reads, with defaults (values of secrets are never shown)",
    usage: "muse env [--markdown]",
    async run(args) {
      const { values } = parseArgs({ args, options: { markdown: { type: "boolean" } } });
      const docs = envDocs();
      if (values.markdown) {
        out("| variable | default | what it is for |");
        out("|---|---|---|");
        for (const d of docs) out(`| \`${d.name}\`${d.secret ? " (secret)" : ""} | ${d.default} | ${d.description} |`);
        return 0;
      }
      let group = "";
      for (const d of docs) {
        if (d.group !== group) out(`\n${(group = d.group)}`);
        const set = process.env[d.name] !== undefined && process.env[d.name] !== "";
        out(`  ${d.name.padEnd(32)} ${set ? (d.secret ? "[set]" : `= ${process.env[d.name]}`) : `(default ${d.default})`}`);
      }
      return 0;
    },
  },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    "Usage: npm run muse -- <command> [options]",
    "",
    "Commands:",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `npm run muse -- <command> --help` for a command's options.",
  ].join("\n");
}

for (const [name, command] of Object.entries(agentCommands())) commands[name] = command;

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    out(help());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    err(`unknown command: ${name}\n\n${help()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    out(`Usage: npm run ${command.usage.replace(/^muse/, "muse --")}\n\n${command.summary}`);
    return 0;
  }
  // Without CLICKHOUSE_URL and with nothing answering locally, the command
  // starts the local ClickHouse for its own duration.
  const clickhouse = command.needsClickHouse ? await ensureLocalClickHouse({ quiet: true }) : undefined;
  // Agent runs from the CLI are traced like the server's when a collector is configured (lib/telemetry.ts).
  const traced = await registerTelemetry();
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${e.message}\n\nUsage: npm run ${command.usage.replace(/^muse/, "muse --")}`);
      return 2;
    }
    if (e instanceof EnvError || e instanceof MigrationError) {
      err(e.message);
      return 1;
    }
    if (e instanceof TypeError && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS")) {
      err(`${e.message}\n\nUsage: npm run ${command.usage.replace(/^muse/, "muse --")}`);
      return 2;
    }
    err(`${name} failed: ${messageOf(e)}`);
    return 1;
  } finally {
    if (traced) await flushTelemetry().catch((e: unknown) => err(`traces not sent: ${messageOf(e)}`));
    await clickhouse?.stop();
  }
}
