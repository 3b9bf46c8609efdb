import path from "node:path";
import { createAgentDeps } from "../lib/agents/deps";
import { collectAgent } from "../lib/agents/collect";
import { createCouncilAgent } from "../lib/agents/council";
import { ingestAgent } from "../lib/agents/ingest";
import { createPublishAgent } from "../lib/agents/publish";
import { runAgent, type RunRecord } from "../lib/agents/runner";
import type { AgentDefinition } from "../lib/agents/types";
import { watchAgent } from "../lib/agents/watch";
import type { z } from "zod";
import { loadEnv } from "../lib/env";
import { createLogger } from "../lib/log";
import { seed } from "../lib/seed";
import { migratedDatabase, startClickHouseChild } from "../tests/hardening/helpers/clickhouse-child";
import { setEnv } from "../tests/helpers/env";
import { fmt, say, tempDir, timed, type Row, type SectionResult } from "./lib";

/**
 * Agents: how long each non-LLM agent run takes on demo data — `lib/seed`'s
 * 14 days (upstream git repositories + overlay events through the ingest
 * path) in a fresh database on a ClickHouse the bench spawns — through the
 * runner as cron runs them: ingest, collect, watch, council (offline writer),
 * publish (to a temporary local content repository). Then the same five once
 * more, with nothing new: the steady-state cost of a cron tick. The publish
 * threshold is lowered to 0.4 (the seeded data's confidence is about 0.5) so
 * that council numbers an episode and publish commits it.
 * (translate needs an LLM and is not measured.)
 */

type Agent = AgentDefinition<z.ZodType, Record<string, unknown>>;
const AGENTS: Agent[] = [ingestAgent, collectAgent, watchAgent, createCouncilAgent({ llm: null }), createPublishAgent()] as Agent[];

export async function agentsSection(options: { days: number }): Promise<SectionResult> {
  const data = tempDir("agents-ch");
  const work = tempDir("agents-work");
  say("agents: starting a ClickHouse of its own ...");
  const clickhouse = await startClickHouseChild({ dataDir: data.dir });
  try {
    const target = await migratedDatabase(clickhouse.url, "bench_agents");
    const env = {
      CLICKHOUSE_URL: clickhouse.url,
      CLICKHOUSE_DATABASE: "bench_agents",
      BANTERHEARTS_DIR: path.join(work.dir, "banterhearts"),
      BANTERPACKS_DIR: path.join(work.dir, "banterpacks"),
      MUSE_CONTENT_DIR: path.join(work.dir, "content"),
      MUSE_DLQ_DIR: path.join(work.dir, "dlq"),
      MUSE_LOG_LEVEL: "warn",
      OPENAI_API_KEY: undefined,
      GITHUB_TOKEN: undefined,
      DD_API_KEY: undefined,
      MUSE_ADMIN_TOKEN: undefined,
      // The seeded fortnight's confidence is about 0.5: a threshold below it lets council number an episode and publish commit it.
      MUSE_PUBLISH_THRESHOLD: "0.4",
    };
    await setEnv(env);
    say(`agents: seeding ${options.days} days of demo data ...`);
    const seeded = await timed(() =>
      seed({
        days: options.days,
        now: new Date(),
        heartsDir: env.BANTERHEARTS_DIR,
        packsDir: env.BANTERPACKS_DIR,
        db: target.db,
        progress: (m) => say(`agents: seed: ${m}`),
      }),
    );
    say(`agents: seeded in ${fmt.ms(seeded.ms)}: ${seeded.value.hearts.reports} reports, ${seeded.value.events.accepted} events`);

    const log = createLogger({ level: "warn" });
    const rows: Row[] = [
      {
        section: "agents",
        measure: `seed ${options.days} days (demo data)`,
        value: fmt.ms(seeded.ms),
        note: `${seeded.value.hearts.reports} reports, ${seeded.value.events.accepted.toLocaleString("en-US")} events through the ingest path`,
      },
    ];
    const runs: Record<string, unknown>[] = [];
    for (const pass of ["first run", "again, nothing new"] as const) {
      for (const agent of AGENTS) {
        const deps = createAgentDeps(loadEnv(), log);
        const { value: record, ms } = await timed(() => runAgent(agent, deps, { trigger: "cli" }));
        await deps.metrics.flush();
        if (record.status === "error") throw new Error(`${agent.name} failed: ${record.error}`);
        runs.push({ pass, agent: agent.name, status: record.status, duration_ms: record.duration_ms, wall_ms: ms, summary: brief(record) });
        say(`agents: ${agent.name} (${pass}): ${record.status} in ${fmt.ms(record.duration_ms)}`);
        rows.push({
          section: "agents",
          measure: `${agent.name} (${pass})`,
          value: fmt.ms(record.duration_ms),
          note: `${record.status}${brief(record) ? `: ${brief(record)}` : ""}`,
        });
      }
    }
    const peak = clickhouse.peakRssBytes();
    rows.push({ section: "agents", measure: "local ClickHouse peak RSS (VmHWM)", value: fmt.mib(peak) });
    await target.db.close();
    return { rows, details: { days: options.days, seed_ms: seeded.ms, seeded: seeded.value, runs, clickhouse_peak_rss_bytes: peak } };
  } finally {
    await setEnv({
      CLICKHOUSE_URL: undefined,
      CLICKHOUSE_DATABASE: undefined,
      BANTERHEARTS_DIR: undefined,
      BANTERPACKS_DIR: undefined,
      MUSE_CONTENT_DIR: undefined,
      MUSE_DLQ_DIR: undefined,
      MUSE_PUBLISH_THRESHOLD: undefined,
    });
    await clickhouse.stop();
    data.remove();
    work.remove();
  }
}

/** What a run did, in a few words. */
function brief(record: RunRecord): string {
  const s = record.summary as Record<string, unknown>;
  const parts: string[] = [];
  if (record.reason) parts.push(record.reason.length > 70 ? `${record.reason.slice(0, 69)}…` : record.reason);
  if (typeof s.reports === "number") parts.push(`${s.reports} reports, ${s.bench_rows} bench rows`);
  if (typeof s.session_rows === "number") parts.push(`${s.hours_rolled_up} hours, ${s.session_rows} session rows`);
  if (typeof s.verdict === "string") parts.push(`verdict ${s.verdict}`);
  if (typeof s.series === "string") parts.push(`${s.series} ${s.status}, confidence ${s.confidence}`);
  if (Array.isArray(s.published)) parts.push(`${s.published.length} episode(s) committed`);
  return parts.join("; ");
}
