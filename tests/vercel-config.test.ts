import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { registeredAgents } from "../lib/agents/registry";
import { AGENT_SCHEDULES } from "../lib/agents/schedule";
import { parseEnv } from "../lib/env";
import { routeLimits } from "../scripts/check-vercel-output";

const cronsFile = z
  .object({
    $schema: z.string().optional(),
    framework: z.literal("nextjs"),
    crons: z.array(z.object({ path: z.string(), schedule: z.string() })),
  })
  // Limits live in the route files only: no "functions" here (a second source of
  // maxDuration, and what made Vercel warn about unmatched functions config).
  .strict();
const read = (file: string) => cronsFile.parse(JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), "utf8")));
const vercelJson = read("vercel.json");
const hobbyJson = read("vercel.hobby.json");
const docs = readFileSync(new URL("../docs/deploy-vercel.md", import.meta.url), "utf8");

/** The limits table of docs/deploy-vercel.md: route file → seconds. */
function documentedLimits(): Map<string, number> {
  const rows = [...docs.matchAll(/^\| `(app\/api\/[^`]+\/route\.ts)` \|[^|\n]*\| (\d+) \|/gm)];
  return new Map(rows.map((m) => [m[1], Number(m[2])]));
}

/** The environment of the documented daily (Hobby) profile: the KEY=value lines of its env block. */
function hobbyEnv(): Record<string, string> {
  const block = /<!-- hobby-env -->\s*```[a-z]*\n([\s\S]*?)```/.exec(docs);
  expect(block, "docs/deploy-vercel.md: the daily profile's env block (after <!-- hobby-env -->)").not.toBeNull();
  return Object.fromEntries([...block![1].matchAll(/^([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
}

describe("vercel.json", () => {
  it("declares one cron per implemented agent, on its default schedule (lib/agents/schedule.ts)", () => {
    const crons = Object.fromEntries(vercelJson.crons.map((c) => [c.path, c.schedule]));
    const expected = Object.fromEntries(registeredAgents().map((a) => [`/api/cron/${a}`, AGENT_SCHEDULES[a]]));
    expect(crons).toEqual(expected);
  });
});

describe("function limits: route segment config is the one source", () => {
  const declared = new Map([...routeLimits("app")].map(([, { file, maxDuration }]) => [file, maxDuration]));

  it("every API route file exports maxDuration, as documented in docs/deploy-vercel.md", () => {
    const documented = documentedLimits();
    expect(documented.size).toBeGreaterThan(0);
    expect(Object.fromEntries(declared)).toEqual(Object.fromEntries(documented));
    for (const file of documented.keys()) expect(existsSync(file), file).toBe(true);
  });

  it("cron and agent runs get the 300 s every plan allows (Hobby's ceiling with Fluid compute)", () => {
    expect(declared.get("app/api/cron/[agent]/route.ts")).toBe(300);
    expect(declared.get("app/api/agents/[agent]/route.ts")).toBe(300);
    for (const [file, seconds] of declared) expect(seconds, file).toBeLessThanOrEqual(300);
  });
});

describe("vercel.hobby.json: the daily profile for Vercel's Hobby plan", () => {
  const daily = /^(\d{1,2}) (\d{1,2}) \* \* \*$/;
  const hour = (agent: string) => {
    const cron = hobbyJson.crons.find((c) => c.path === `/api/cron/${agent}`);
    const m = daily.exec(cron?.schedule ?? "");
    expect(m, `${agent}: ${cron?.schedule}`).not.toBeNull();
    return Number(m![2]);
  };

  it("has the same cron paths as vercel.json, each at most once a day", () => {
    expect(hobbyJson.crons.map((c) => c.path).sort()).toEqual(vercelJson.crons.map((c) => c.path).sort());
    for (const cron of hobbyJson.crons) expect(cron.schedule, cron.path).toMatch(daily);
  });

  it("runs the pipeline in order, each step in a later hour than the runs it reads (Hobby fires anywhere in the hour)", () => {
    expect(hour("watch")).toBeGreaterThan(Math.max(hour("ingest"), hour("collect")));
    expect(hour("council")).toBeGreaterThan(hour("watch"));
    expect(hour("translate")).toBeGreaterThan(hour("council"));
    expect(hour("publish")).toBeGreaterThan(hour("translate"));
  });

  it("its documented environment lets the council run: the watcher run and the data are young enough in the worst case", () => {
    const env = parseEnv(hobbyEnv());
    // Worst case: watch fires at the top of its hour, the council at the end of its own.
    const watcherAgeMinutes = (hour("council") - hour("watch")) * 60 + 59;
    expect(env.MUSE_WATCHER_MAX_AGE_MINUTES).toBeGreaterThanOrEqual(watcherAgeMinutes);
    // Ingested once a day: the newest row is up to a day old at ingest (upstream commits at least
    // daily), then ages until the end of the watch hour.
    const rowAgeSeconds = (24 + hour("watch") - Math.min(hour("ingest"), hour("collect")) + 1) * 3600;
    expect(env.MUSE_HEARTS_MAX_LAG_SECONDS).toBeGreaterThanOrEqual(rowAgeSeconds);
    expect(env.MUSE_PACKS_MAX_LAG_SECONDS).toBeGreaterThanOrEqual(rowAgeSeconds);
    // A commit between the day's ingest and the watch leaves the watcher degraded (no rows yet for
    // it); that must not cost the day's episode. A watcher error still blocks.
    expect(env.MUSE_COUNCIL_ALLOW_DEGRADED).toBe(true);
    // The council may write one episode a day.
    expect(env.MUSE_EPISODE_MIN_INTERVAL_HOURS).toBeLessThanOrEqual(24);
  });
});
