import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadDefinitions } from "../lib/datadog/apply";
import {
  definitionsForProfile,
  emittingAgent,
  longestGapMinutes,
  monitorsForProfile,
  profileCrons,
  SCHEDULE_PROFILES,
  type ScheduleProfile,
} from "../lib/datadog/profiles";
import { monitorWindowMinutes, museIdOf } from "../lib/datadog/schemas";
import { parseEnv } from "../lib/env";

/**
 * Monitors follow the plan (lib/datadog/profiles.ts): each schedule profile's monitors are compared with that
 * profile's own crons (vercel.json, vercel.hobby.json), so the daily profile does not page every day and the frequent
 * one is datadog/monitors.json as written.
 */

const HOBBY_ENV = (() => {
  // The settings docs/deploy-vercel.md gives the daily profile (between its hobby-env markers).
  const docs = readFileSync("docs/deploy-vercel.md", "utf8");
  const block = /<!-- hobby-env -->\s*```bash\n([\s\S]*?)```/.exec(docs)![1];
  return Object.fromEntries(
    block
      .trim()
      .split("\n")
      .map((line) => line.split("=") as [string, string]),
  );
})();

const settingsOf = (profile: ScheduleProfile) => {
  const env = parseEnv(profile === "daily" ? HOBBY_ENV : {});
  return { maxLagSeconds: Math.max(env.MUSE_HEARTS_MAX_LAG_SECONDS, env.MUSE_PACKS_MAX_LAG_SECONDS) };
};

describe("longestGapMinutes", () => {
  it("reads the longest gap between runs of a cron over a week", () => {
    expect(longestGapMinutes("*/5 * * * *")).toBe(5);
    expect(longestGapMinutes("0 */4 * * *")).toBe(240);
    expect(longestGapMinutes("0 1 * * *")).toBe(1_440);
    // Weekdays only: Friday to Monday.
    expect(longestGapMinutes("0 9 * * 1-5")).toBe(3 * 1_440);
  });
});

describe("monitors per schedule profile", () => {
  it("leaves datadog/monitors.json as written on the frequent profile with the default settings", async () => {
    const { monitors } = await loadDefinitions();
    expect(monitorsForProfile(monitors, "frequent", settingsOf("frequent"))).toEqual(monitors);
  });

  for (const profile of Object.keys(SCHEDULE_PROFILES) as ScheduleProfile[]) {
    it(`fits every monitor to the crons of ${SCHEDULE_PROFILES[profile].config}`, async () => {
      const { monitors } = await loadDefinitions();
      const crons = profileCrons(profile);
      const jitter = SCHEDULE_PROFILES[profile].jitterMinutes;
      const fitted = monitorsForProfile(monitors, profile, settingsOf(profile));
      let checked = 0;
      for (const m of fitted) {
        const id = museIdOf(m.tags)!;
        const agents = [...m.query.matchAll(/muse\.[a-z_]+\.[a-z_.]+/g)].map((x) => emittingAgent(x[0])).filter((a) => a !== undefined);
        if (agents.length === 0) continue;
        const gap = Math.max(...agents.map((a) => longestGapMinutes(crons[a]!))) + jitter;
        const window = monitorWindowMinutes(m.query)!;
        // Every window holds a run of the agent it watches, however late the platform fires it.
        expect(window, id).toBeGreaterThanOrEqual(gap);
        // No data only once two runs in a row are missing.
        if (m.options.notify_no_data) expect(m.options.no_data_timeframe!, id).toBeGreaterThanOrEqual(2 * gap);
        // A failure count the window can hold.
        const count = /\.runs\{status:error\}.*>= ([\d.]+)$/.exec(m.query);
        if (count) expect(Number(count[1]), id).toBeLessThanOrEqual(Math.max(1, Math.floor(window / gap)));
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(12);
      const freshness = fitted.find((m) => museIdOf(m.tags) === "kpi-data-freshness")!;
      expect(freshness.options.thresholds.critical).toBe(settingsOf(profile).maxLagSeconds);
      expect(freshness.message).toContain(`${settingsOf(profile).maxLagSeconds} s`);
    });
  }

  it("on the daily profile: day-long windows, 50 h of no data, one failure pages, 30 h of lag, and messages that say so", async () => {
    const { monitors } = await loadDefinitions();
    const daily = monitorsForProfile(monitors, "daily", settingsOf("daily"));
    const byId = new Map(daily.map((m) => [museIdOf(m.tags), m]));
    expect(byId.get("kpi-watcher-success")!.query).toMatch(/^sum\(last_25h\):/);
    expect(byId.get("kpi-watcher-success")!.options.no_data_timeframe).toBe(3_000);
    expect(byId.get("kpi-watcher-success")!.message).toContain("No watch run has reported for 50 h");
    expect(byId.get("kpi-data-freshness")!.name).toContain("older than 30 h");
    expect(byId.get("kpi-data-freshness")!.message).toContain("in 50 h");
    expect(byId.get("agent-failures-council")!.query).toBe("sum(last_25h):sum:muse.council.runs{status:error} by {env}.as_count() >= 1");
    expect(byId.get("agent-failures-council")!.options.thresholds).toEqual({ critical: 1 });
    // Monitors of weekly or daily aggregates that already hold a day's runs are left as they are.
    expect(byId.get("kpi-deployment-success")).toEqual(monitors.find((m) => museIdOf(m.tags) === "kpi-deployment-success"));
    for (const m of daily) expect(m.message, museIdOf(m.tags)).not.toMatch(/in the last (1|4) ?h\b|for 8 h|in 30 min/);
  });
});

describe("synthetic tests per schedule profile", () => {
  it("are applied as written on every profile (they watch the site, not the crons), and run within the uptime SLO's budget", async () => {
    const defs = await loadDefinitions();
    for (const profile of Object.keys(SCHEDULE_PROFILES) as ScheduleProfile[]) {
      const applied = definitionsForProfile(defs, profile, settingsOf(profile));
      expect(applied.synthetics, profile).toEqual(defs.synthetics);
      expect(applied.slos, profile).toEqual(defs.slos);
      expect(applied.monitors, profile).toEqual(monitorsForProfile(defs.monitors, profile, settingsOf(profile)));
    }
    // Not the daily profile's day-long windows: one failed run must not spend the whole week's budget of 99.9 %.
    const uptime = defs.slos.find((s) => museIdOf(s.tags) === "slo-site-uptime")!;
    const weekBudgetSeconds = 7 * 86_400 * (1 - uptime.thresholds.find((t) => t.timeframe === "7d")!.target / 100);
    for (const t of defs.synthetics) expect(t.options.tick_every, museIdOf(t.tags)).toBeLessThanOrEqual(weekBudgetSeconds);
  });
});
