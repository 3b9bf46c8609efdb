import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { registeredAgents } from "../lib/agents/registry";
import { AGENT_SCHEDULES } from "../lib/agents/schedule";

const vercelJson = z
  .object({
    crons: z.array(z.object({ path: z.string(), schedule: z.string() })),
    functions: z.record(z.string(), z.object({ maxDuration: z.number().int().min(1).max(800) })),
  })
  .parse(JSON.parse(readFileSync(new URL("../vercel.json", import.meta.url), "utf8")));

describe("vercel.json", () => {
  it("declares one cron per implemented agent, on the schedule of agents.md", () => {
    const crons = Object.fromEntries(vercelJson.crons.map((c) => [c.path, c.schedule]));
    const expected = Object.fromEntries(registeredAgents().map((a) => [`/api/cron/${a}`, AGENT_SCHEDULES[a]]));
    expect(crons).toEqual(expected);
  });

  it("gives every API route file a maxDuration, and names only files that exist", () => {
    for (const file of Object.keys(vercelJson.functions)) expect(existsSync(new URL(`../${file}`, import.meta.url)), file).toBe(true);
    for (const route of ["app/api/cron/[agent]/route.ts", "app/api/agents/[agent]/route.ts", "app/api/health/route.ts", "app/api/runs/route.ts"]) {
      expect(vercelJson.functions[route], route).toBeDefined();
    }
  });
});
