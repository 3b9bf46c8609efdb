import { parseArgs } from "node:util";
import { clickHouseConfig, createDb, type Db } from "../clickhouse/client";
import {
  DatadogApiError,
  DefinitionError,
  MissingDatadogKeysError,
  SiteUrlError,
  applyDatadog,
  confidenceKpiProblem,
  datadogClientFromEnv,
  formatPlanItem,
  loadDefinitions,
  notifyHandlesFromEnv,
  planSummary,
  silentTiers,
} from "../datadog/apply";
import { definitionsForProfile, SCHEDULE_PROFILES, type ScheduleProfile } from "../datadog/profiles";
import { clickHouseReplayer, createDlq, type DlqEntry, type ReplayHandlers } from "../dlq";
import { loadEnv } from "../env";
import { ensureLocalClickHouse } from "../local-clickhouse/launcher";
import { datadogApiUrl, postSeries, replayableSeries } from "../metrics";
import { serverContext } from "../server-context";
import type { Command } from "./index";

/** `muse datadog apply` and `muse dlq list|replay`. */

const out = (line = "") => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

const DATADOG_USAGE = "muse datadog apply [--dry-run] [--dir datadog] [--profile frequent|daily]";

export const datadogCommand: Command = {
  summary: "create or update the dashboard, monitors, synthetic tests and SLOs of datadog/ in Datadog (idempotent; --dry-run prints the plan only)",
  usage: `${DATADOG_USAGE}\n\nNeeds DD_API_KEY and DD_APP_KEY; the API is DD_API_URL or https://api.<DD_SITE>. Monitors and synthetic tests notify the @handles of their tier: MUSE_DD_NOTIFY_CRITICAL, MUSE_DD_NOTIFY_WARNING, MUSE_DD_NOTIFY_INFO. The synthetic tests request the site at MUSE_SITE_URL, which must be its public URL. Monitor windows follow the schedule profile (--profile, default MUSE_SCHEDULE_PROFILE: frequent for vercel.json, daily for vercel.hobby.json); the synthetic tests watch the site and are the same on every profile.`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { "dry-run": { type: "boolean" }, dir: { type: "string" }, profile: { type: "string" } },
    });
    if (positionals.length !== 1 || positionals[0] !== "apply") {
      err(`Usage: npm run ${DATADOG_USAGE.replace(/^muse/, "muse --")}`);
      return 2;
    }
    const dryRun = Boolean(values["dry-run"]);
    try {
      const env = loadEnv();
      const notify = notifyHandlesFromEnv(env);
      const profile = values.profile ?? env.MUSE_SCHEDULE_PROFILE;
      if (!(profile in SCHEDULE_PROFILES)) {
        err(`--profile must be one of ${Object.keys(SCHEDULE_PROFILES).join(", ")}, got ${profile}`);
        return 2;
      }
      const loaded = await loadDefinitions(values.dir, { notify });
      // Monitors follow the crons of the deployment's schedule (lib/datadog/profiles.ts); synthetic tests watch the site, not the crons.
      const maxLagSeconds = Math.max(env.MUSE_HEARTS_MAX_LAG_SECONDS, env.MUSE_PACKS_MAX_LAG_SECONDS);
      const defs = definitionsForProfile(loaded, profile as ScheduleProfile, { maxLagSeconds });
      out(`schedule profile: ${profile} (${SCHEDULE_PROFILES[profile as ScheduleProfile].config})`);
      const client = datadogClientFromEnv(env);
      for (const { tier, monitors } of silentTiers(defs.monitors, notify)) {
        err(`note: ${monitors} ${tier} monitor(s) notify nobody: set MUSE_DD_NOTIFY_${tier.toUpperCase()} to their @handles`);
      }
      const confidence = confidenceKpiProblem(defs, env.MUSE_PUBLISH_THRESHOLD);
      if (confidence) err(`warning: ${confidence}`);
      out(`${dryRun ? "plan (dry run, nothing is changed)" : "applying"} against ${datadogApiUrl(env)}:`);
      const plan = await applyDatadog(client, defs, { dryRun, siteUrl: env.MUSE_SITE_URL, onItem: (item) => out(`  ${formatPlanItem(item)}`) });
      out(`${planSummary(plan)}${dryRun ? " (dry run: nothing was changed)" : ""}`);
      return 0;
    } catch (error) {
      if (error instanceof MissingDatadogKeysError || error instanceof DefinitionError || error instanceof DatadogApiError || error instanceof SiteUrlError) {
        err(error.message);
        return 1;
      }
      throw error;
    }
  },
};

const DLQ_USAGE = "muse dlq list [--json] | replay [--id <entry id>]...";

function describe(entry: DlqEntry): string {
  const what =
    entry.kind === "clickhouse.insert" ? entry.payload.inserts.map((i) => `${i.rows.length} ${i.table}`).join(" + ") : `${entry.payload.series.length} series`;
  return `${entry.id}  ${entry.kind}  from ${entry.source}  ${what}  since ${entry.created_at}${entry.attempts ? `  (${entry.attempts} failed replay(s))` : ""}\n      error: ${entry.last_error}`;
}

export const dlqCommand: Command = {
  summary: "list or replay the dead-letter store (writes ClickHouse or Datadog did not take); replay is idempotent",
  usage: `${DLQ_USAGE}\n\nThe store is MUSE_DLQ_DIR (default .muse/dlq). An entry is removed only after its replay succeeded.`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" }, id: { type: "string", multiple: true } } });
    const [sub] = positionals;
    if (positionals.length !== 1 || (sub !== "list" && sub !== "replay")) {
      err(`Usage: npm run ${DLQ_USAGE.replace(/^muse/, "muse --")}`);
      return 2;
    }
    const { env, log, metrics } = serverContext({ fields: { command: `dlq ${sub}` } });
    const dlq = createDlq({ dir: env.MUSE_DLQ_DIR, log, onDepth: (depth) => metrics.gauge("muse.dlq.depth", depth) });
    try {
      if (sub === "list") {
        const { entries, unreadable } = await dlq.list();
        if (values.json) {
          out(JSON.stringify({ dir: dlq.dir, depth: entries.length + unreadable.length, entries, unreadable }, null, 2));
          return 0;
        }
        out(`${dlq.dir}: ${entries.length} entr${entries.length === 1 ? "y" : "ies"}${unreadable.length ? `, ${unreadable.length} unreadable` : ""}`);
        for (const entry of entries) out(`  ${describe(entry)}`);
        for (const u of unreadable) out(`  ${u.file}  UNREADABLE: ${u.error}`);
        return 0;
      }

      const { entries } = await dlq.list();
      const wanted = values.id ? entries.filter((e) => values.id!.includes(e.id)) : entries;
      if (values.id) {
        const unknown = values.id.filter((id) => !entries.some((e) => e.id === id));
        if (unknown.length) err(`no such entr${unknown.length === 1 ? "y" : "ies"}: ${unknown.join(", ")}`);
      }
      const handlers: ReplayHandlers = {};
      let db: Db | undefined;
      let clickhouse: Awaited<ReturnType<typeof ensureLocalClickHouse>> | undefined;
      if (wanted.some((e) => e.kind === "clickhouse.insert")) {
        // Started for this command only when entries need it (and no CLICKHOUSE_URL is set).
        clickhouse = await ensureLocalClickHouse({ quiet: true });
        db = createDb(clickHouseConfig(env));
        handlers["clickhouse.insert"] = clickHouseReplayer(db);
      }
      if (env.DD_API_KEY) {
        const sender = { apiKey: env.DD_API_KEY, apiUrl: datadogApiUrl(env) };
        handlers["datadog.series"] = async (payload) => {
          // Points older than Datadog's window would be dropped silently: they go in at the replay's time, tagged.
          const { series, moved } = replayableSeries(payload.series, Date.now());
          if (moved > 0) out(`  ${moved} point(s) older than Datadog's one-hour window sent at the replay's time, tagged replayed:true`);
          await postSeries(sender, series);
        };
      }
      try {
        const result = await dlq.replay(handlers, values.id ? { ids: values.id } : {});
        for (const id of result.replayed) out(`  replayed  ${id}`);
        for (const f of result.failed) out(`  failed    ${f.id}: ${f.error}`);
        for (const s of result.skipped) out(`  skipped   ${s.id} (${s.kind === "datadog.series" ? "DD_API_KEY is not set" : "no handler"})`);
        out(`${result.replayed.length} replayed, ${result.failed.length} failed, ${result.skipped.length} skipped; ${result.depth} left in ${dlq.dir}`);
        return result.failed.length ? 1 : 0;
      } finally {
        await db?.close();
        await clickhouse?.stop();
      }
    } finally {
      await metrics.flush();
    }
  },
};
