import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handleAgentRequest } from "../lib/http/agent-route";
import { resetEnvCache } from "../lib/env";
import { resetDb } from "../lib/clickhouse";
import { acquireAgentLock, releaseAgentLock } from "../lib/agents/lock";
import { createTestDatabase, type TestDatabase } from "./helpers/db";
import { fixedClock, testDeps } from "./helpers/deps";

let t: TestDatabase;
const CRON = "cron-secret-for-tests-0001";
const ADMIN = "admin-token-for-tests-0001";

beforeAll(async () => {
  t = await createTestDatabase();
  process.env.CLICKHOUSE_URL = t.config.url;
  process.env.CLICKHOUSE_DATABASE = t.config.database;
});
beforeEach(() => {
  process.env.CRON_SECRET = CRON;
  process.env.MUSE_ADMIN_TOKEN = ADMIN;
  resetEnvCache();
});
afterAll(async () => {
  for (const k of ["CRON_SECRET", "MUSE_ADMIN_TOKEN", "CLICKHOUSE_URL", "CLICKHOUSE_DATABASE"]) delete process.env[k];
  resetEnvCache();
  await resetDb();
  await t.drop();
});

const deps = () => testDeps(t.db, { clock: fixedClock("2026-11-20T12:00:00Z") });
const cron = (agent: string, token?: string) =>
  handleAgentRequest(new Request(`http://localhost/api/cron/${agent}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} }), agent, "cron", deps);
const admin = (agent: string, body: string, token = ADMIN) =>
  handleAgentRequest(
    new Request(`http://localhost/api/agents/${agent}`, {
      method: "POST",
      body,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    }),
    agent,
    "api",
    deps,
  );

describe("cron and maintainer routes", () => {
  it("run an agent and answer 200 with the run record", async () => {
    const res = await cron("collect", CRON);
    expect(res.status).toBe(200);
    const record = await res.json();
    expect(record).toMatchObject({ agent: "collect", trigger: "cron", status: "ok" });
    expect(record.run_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answer 401 with WWW-Authenticate without a token or with a wrong one", async () => {
    for (const res of [await cron("collect"), await cron("collect", "wrong"), await admin("collect", "{}", "wrong")]) {
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await res.json()).error).toMatch(/token/);
    }
  });

  it("answer 503 naming the variable when the token is not configured (never open by default)", async () => {
    delete process.env.CRON_SECRET;
    resetEnvCache();
    const res = await cron("collect", "anything");
    expect(res.status).toBe(503);
    expect((await res.json()).error).toContain("CRON_SECRET");
  });

  it("answer 404 for an unknown agent", async () => {
    const res = await cron("dance", CRON);
    expect(res.status).toBe(404);
    expect((await res.json()).error).toContain("dance");
  });

  it("validate maintainer options and name the bad field", async () => {
    const bad = await admin("collect", JSON.stringify({ hours: -3 }));
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("hours");
    const notJson = await admin("collect", "{hours:");
    expect(notJson.status).toBe(400);
    const ok = await admin("collect", JSON.stringify({ hours: 24, dryRun: true }));
    expect(ok.status).toBe(200);
    expect((await ok.json()).summary).toMatchObject({ dry_run: true });
  });

  it("answer 409 with the holder's run id while another run of the agent holds the lock", async () => {
    const holder = "44444444-4444-4444-8444-444444444444";
    expect((await acquireAgentLock(t.db, "collect", holder, 60)).acquired).toBe(true);
    const res = await cron("collect", CRON);
    expect(res.status).toBe(409);
    expect((await res.json()).holder_run_id).toBe(holder);
    await releaseAgentLock(t.db, "collect", holder);
  });

  it("list recent runs at GET /api/runs for maintainers only", async () => {
    await resetDb();
    const { GET } = await import("../app/api/runs/route");
    const denied = await GET(new Request("http://localhost/api/runs"));
    expect(denied.status).toBe(401);
    const res = await GET(new Request("http://localhost/api/runs?agent=collect&limit=2", { headers: { Authorization: `Bearer ${ADMIN}` } }));
    expect(res.status).toBe(200);
    const { runs } = await res.json();
    expect(runs).toHaveLength(2);
    expect(runs.every((r: { agent: string }) => r.agent === "collect")).toBe(true);
    expect(Date.parse(runs[0].started_at)).toBeGreaterThanOrEqual(Date.parse(runs[1].started_at));
    const bad = await GET(new Request("http://localhost/api/runs?limit=0", { headers: { Authorization: `Bearer ${ADMIN}` } }));
    expect(bad.status).toBe(400);
  });
});
