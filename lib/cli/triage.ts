import os from "node:os";
import { parseArgs } from "node:util";
import { clickHouseConfig, createDb } from "../clickhouse/client";
import { loadEnv } from "../env";
import { applyTriage, listMutes, recentTriage, TRIAGE_ACTIONS, TRIAGE_HELP, type TriageAction } from "../triage/store";
import type { Command } from "./index";

/**
 * `muse triage <event-id> <action> [--reason …] [--sha …] [--series …] [--actor …]` and `muse triage --list`
 * (docs/triage.md): the same actions as the `/muse` comment commands and POST /api/changes/{id}/triage, recorded
 * with source `cli`.
 */

const out = (line = "") => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

export const triageCommand: Command = {
  summary: "triage an event (expected, invalid, ack, reopen, blame, mute, unmute) or list the triage log",
  usage: "muse triage <event-id> <action> [--reason <why>] [--sha <sha>] [--series <id>] [--actor <name>] | muse triage --list [--json]",
  needsClickHouse: true,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        list: { type: "boolean" },
        json: { type: "boolean" },
        limit: { type: "string", default: "50" },
        reason: { type: "string" },
        sha: { type: "string" },
        series: { type: "string" },
        actor: { type: "string" },
      },
    });
    const db = createDb(clickHouseConfig(loadEnv()));
    try {
      if (values.list) {
        const [actions, mutes] = await Promise.all([recentTriage(db, Number(values.limit) || 50), listMutes(db)]);
        if (values.json) {
          out(JSON.stringify({ actions, mutes }, null, 2));
          return 0;
        }
        if (actions.length === 0) out("no triage recorded");
        for (const a of actions) {
          const arg = a.argument ? ` ${a.argument}` : "";
          out(`${a.created_at}  ${a.event_id}  ${a.action}${arg}  by ${a.actor} (${a.source})${a.reason ? `: ${a.reason}` : ""}`);
        }
        if (mutes.length > 0) {
          out("\nmuted series:");
          for (const m of mutes) out(`  ${m.series_id}  by ${m.actor} (${m.source}, ${m.created_at})${m.reason ? `: ${m.reason}` : ""}`);
        }
        return 0;
      }
      const [eventId, action, argument] = positionals;
      if (!eventId || !action) {
        err(
          `usage: npm run muse -- triage <event-id> <action> [options]\nactions:\n${TRIAGE_ACTIONS.map((a) => `  ${a.padEnd(8)} ${TRIAGE_HELP[a]}`).join("\n")}`,
        );
        return 2;
      }
      if (!(TRIAGE_ACTIONS as readonly string[]).includes(action)) {
        err(`unknown action ${JSON.stringify(action)}: expected one of ${TRIAGE_ACTIONS.join(", ")}`);
        return 2;
      }
      const outcome = await applyTriage(
        db,
        {
          event_id: eventId,
          action: action as TriageAction,
          argument: values.sha ?? values.series ?? argument ?? "",
          reason: values.reason,
          actor: values.actor ?? (process.env.USER || os.userInfo().username),
          source: "cli",
        },
        { now: new Date() },
      );
      if (!outcome.ok) {
        err(outcome.reason === "unknown_event" ? `no event ${eventId} in bench_events` : `invalid ${outcome.field}: ${outcome.detail}`);
        return outcome.reason === "unknown_event" ? 1 : 2;
      }
      const e = outcome.event;
      if (values.json) out(JSON.stringify({ action: outcome.action, event: e }, null, 2));
      else
        out(
          `recorded ${outcome.action.action}${outcome.action.argument ? ` ${outcome.action.argument}` : ""} on ${e.event_id} by ${outcome.action.actor}; ` +
            `triage now ${e.triage || "(none)"}${e.blame_sha ? `, blamed on ${e.blamed_sha}` : ""}`,
        );
      return 0;
    } finally {
      await db.close();
    }
  },
};
