import { readFileSync } from "node:fs";
import path from "node:path";
import { Cron } from "croner";
import { z } from "zod";
import { AGENT_NAMES, type AgentName } from "../agents/names";
import type { Definitions } from "./apply";
import { monitorDefinition, monitorWindowMinutes, museIdOf, type MonitorDefinition } from "./schemas";

/**
 * Monitors that follow the schedule they watch (docs/observability.md, "Schedules"). datadog/monitors.json is written
 * for the frequent schedule of vercel.json (ingest every 5 min, watch every 10, council hourly …). On the daily
 * profile (vercel.hobby.json, Hobby's once-a-day crons) the same monitors would page every day: a 4-hour window holds
 * no watch run, the 30-minute no-data alert fires 23 hours a day, "2 council failures in 4 hours" can never happen, and
 * a 4-hour lag limit fails a schedule that is allowed 30. `muse datadog apply` reads the profile
 * (MUSE_SCHEDULE_PROFILE, or --profile) and derives each monitor from the crons:
 *
 * - the agent a monitor watches is the one that emits its metrics (`muse.<agent>.*`; `muse.changes.*` the council,
 *   `muse.bench.*` ingest);
 * - its window at least that agent's longest gap between runs plus the platform's jitter (Hobby fires a daily job
 *   anywhere within its hour), so every window holds a run, and its no-data timeframe at least twice that, so one
 *   late or missed run is not "no data" (the failure monitors tell a failed one);
 * - a count threshold ("≥ 3 failures") is at most the runs a window holds;
 * - the data-freshness KPI's limit is the watcher's own (MUSE_HEARTS_MAX_LAG_SECONDS, MUSE_PACKS_MAX_LAG_SECONDS), its
 *   warning three quarters of it.
 *
 * On the frequent profile with the default settings this changes nothing (tests/datadog-profiles.test.ts).
 *
 * The synthetic tests (datadog/synthetics.json) and the SLOs over them are the same on every profile: they watch the
 * site readers reach, which a daily schedule serves as well as a frequent one, and their interval is bound by the
 * uptime SLO's error budget (loadDefinitions), not by a cron.
 */

/** Each profile's Vercel configuration, and how late its platform may fire a cron (minutes). */
export const SCHEDULE_PROFILES = {
  frequent: { config: "vercel.json", jitterMinutes: 0 },
  daily: { config: "vercel.hobby.json", jitterMinutes: 60 },
} as const;
export type ScheduleProfile = keyof typeof SCHEDULE_PROFILES;

const vercelCrons = z.object({ crons: z.array(z.object({ path: z.string(), schedule: z.string() })) });

/** The crons of a profile's Vercel configuration, as agent → schedule (cron routes are /api/cron/<agent>). */
export function profileCrons(profile: ScheduleProfile, root = process.cwd()): Partial<Record<AgentName, string>> {
  const config = vercelCrons.parse(JSON.parse(readFileSync(path.join(root, SCHEDULE_PROFILES[profile].config), "utf8")));
  const crons: Partial<Record<AgentName, string>> = {};
  for (const { path: route, schedule } of config.crons) {
    const agent = /^\/api\/cron\/([a-z]+)$/.exec(route)?.[1];
    if (agent && (AGENT_NAMES as readonly string[]).includes(agent)) crons[agent as AgentName] = schedule;
  }
  return crons;
}

/** The longest gap between two runs of a cron schedule over a week, in minutes (croner computes the runs). */
export function longestGapMinutes(schedule: string, from = new Date(Date.UTC(2026, 0, 5))): number {
  const runs = new Cron(schedule, { timezone: "UTC", paused: true }).nextRuns(7 * 24 * 12 + 2, new Date(from.getTime() - 1));
  const week = from.getTime() + 7 * 86_400_000;
  let longest = 0;
  for (let i = 1; i < runs.length && runs[i - 1].getTime() < week; i++) longest = Math.max(longest, (runs[i].getTime() - runs[i - 1].getTime()) / 60_000);
  return longest;
}

/** The agent whose runs emit a metric. */
export function emittingAgent(metric: string): AgentName | undefined {
  const [, first] = metric.split(".");
  if ((AGENT_NAMES as readonly string[]).includes(first)) return first as AgentName;
  if (first === "changes") return "council";
  if (first === "bench") return "ingest";
  return undefined;
}

export interface ProfileSettings {
  /** The watcher's freshness limits (seconds): the freshness KPI alerts at the larger. */
  maxLagSeconds: number;
}

const MINUTES = { m: 1, h: 60, d: 1_440, w: 10_080 } as const;

/** A window in Datadog's notation: the largest unit that divides it. */
function windowText(minutes: number): string {
  for (const unit of ["w", "d", "h"] as const) if (minutes % MINUTES[unit] === 0) return `${minutes / MINUTES[unit]}${unit}`;
  return `${minutes}m`;
}

/** A duration as the messages say it: "30 min", "8 h", "50 h". */
function spoken(minutes: number): string {
  return minutes < 60 || minutes % 60 !== 0 ? `${minutes} min` : `${minutes / 60} h`;
}

/** The window that always holds a run `gap` minutes (jitter included) after the last: whole hours from an hour on. */
function windowFor(gap: number): number {
  return gap >= 60 ? Math.ceil(gap / 60) * 60 : gap;
}

/** One monitor as the schedule `gaps` (agent → longest gap between runs, minutes) and `settings` need it. */
export function monitorForSchedule(
  monitor: MonitorDefinition,
  gaps: Partial<Record<AgentName, number>>,
  settings: ProfileSettings & { jitterMinutes: number },
): MonitorDefinition {
  const metrics = [...monitor.query.matchAll(/muse\.[a-z_]+\.[a-z_.]+/g)].map((m) => m[0]);
  const longest = Math.max(0, ...metrics.map((m) => gaps[emittingAgent(m) as AgentName] ?? 0));
  const window = monitorWindowMinutes(monitor.query);
  if (!longest || window === undefined) return monitor;
  const gap = longest + settings.jitterMinutes;
  const id = museIdOf(monitor.tags);
  let query = monitor.query;
  const options = { ...monitor.options, thresholds: { ...monitor.options.thresholds } };
  const widened = Math.max(window, windowFor(gap));
  if (widened !== window) query = query.replace(/^(\w+)\(last_\w+\):/, `$1(last_${windowText(widened)}):`);
  // Failure counts: never more than the runs a window holds.
  if (/\.runs\{status:error\}/.test(query) && /\.as_count\(\) >= [\d.]+$/.test(query)) {
    const runs = Math.max(1, Math.floor(widened / gap));
    const critical = Math.min(options.thresholds.critical, runs);
    if (critical !== options.thresholds.critical) {
      options.thresholds.critical = critical;
      query = query.replace(/>= [\d.]+$/, `>= ${critical}`);
      if (options.thresholds.warning !== undefined && options.thresholds.warning >= critical) delete options.thresholds.warning;
    }
  }
  if (id === "kpi-data-freshness") {
    options.thresholds.critical = settings.maxLagSeconds;
    options.thresholds.warning = Math.round(settings.maxLagSeconds * 0.75);
    query = query.replace(/> [\d.]+$/, `> ${settings.maxLagSeconds}`);
  }
  if (options.notify_no_data && options.no_data_timeframe !== undefined) options.no_data_timeframe = Math.max(options.no_data_timeframe, widened, 2 * gap);
  // The message says the same numbers: "in the last 4h" / "in the last 4 h", "for 8 h" of no data, the lag limit.
  let message = monitor.message
    .replaceAll(`in the last ${windowText(window)}`, `in the last ${windowText(widened)}`)
    .replaceAll(`in the last ${spoken(window)}`, `in the last ${spoken(widened)}`);
  const noData = monitor.options.no_data_timeframe;
  if (noData !== undefined && options.no_data_timeframe !== noData)
    message = message
      .replaceAll(`for ${spoken(noData)}`, `for ${spoken(options.no_data_timeframe!)}`)
      .replaceAll(`in ${spoken(noData)}`, `in ${spoken(options.no_data_timeframe!)}`);
  const limit = monitor.options.thresholds.critical;
  if (id === "kpi-data-freshness" && limit !== settings.maxLagSeconds)
    message = message.replaceAll(`${spoken(limit / 60)} = ${limit} s`, `${spoken(settings.maxLagSeconds / 60)} = ${settings.maxLagSeconds} s`);
  const name =
    id === "kpi-data-freshness" ? monitor.name.replace(`older than ${spoken(limit / 60)}`, `older than ${spoken(settings.maxLagSeconds / 60)}`) : monitor.name;
  return monitorDefinition.parse({ ...monitor, name, query, message, options });
}

/** Every monitor for a profile: its crons read from its Vercel configuration. */
export function monitorsForProfile(
  monitors: readonly MonitorDefinition[],
  profile: ScheduleProfile,
  settings: ProfileSettings,
  root?: string,
): MonitorDefinition[] {
  const crons = profileCrons(profile, root);
  const gaps = Object.fromEntries(Object.entries(crons).map(([agent, schedule]) => [agent, longestGapMinutes(schedule)])) as Partial<Record<AgentName, number>>;
  return monitors.map((m) => monitorForSchedule(m, gaps, { ...settings, jitterMinutes: SCHEDULE_PROFILES[profile].jitterMinutes }));
}

/** The definitions `muse datadog apply` sends for a profile: its monitors fitted to the crons, the rest as written. */
export function definitionsForProfile(defs: Definitions, profile: ScheduleProfile, settings: ProfileSettings, root?: string): Definitions {
  return { ...defs, monitors: monitorsForProfile(defs.monitors, profile, settings, root) };
}
