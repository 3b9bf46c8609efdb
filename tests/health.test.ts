import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import { createDb } from "../lib/clickhouse/client";
import { checkHealth } from "../lib/health";
import { resetDb } from "../lib/clickhouse";
import { resetEnvCache } from "../lib/env";
import { testClickHouseConfig } from "./helpers/db";

describe("GET /api/health", () => {
  let closedPort: number;
  let blackhole: Server;
  beforeAll(async () => {
    // A port that accepts nothing: bind, read the port, close.
    blackhole = createServer();
    await new Promise<void>((r) => blackhole.listen(0, "127.0.0.1", () => r()));
    closedPort = (blackhole.address() as { port: number }).port;
    await new Promise<void>((r) => blackhole.close(() => r()));
  });
  afterAll(async () => {
    delete process.env.CLICKHOUSE_URL;
    resetEnvCache();
    await resetDb();
  });

  it("answers 200 with a ClickHouse ping through the route handler", async () => {
    process.env.CLICKHOUSE_URL = testClickHouseConfig().url;
    resetEnvCache();
    await resetDb();
    const { GET } = await import("../app/api/health/route");
    const res = await GET();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", clickhouse: "ok" });
  });

  it("answers 503 naming the problem when ClickHouse is unreachable", async () => {
    process.env.CLICKHOUSE_URL = `http://127.0.0.1:${closedPort}`;
    resetEnvCache();
    await resetDb();
    const { GET } = await import("../app/api/health/route");
    const res = await GET();
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.clickhouse).toBe("unreachable");
    // Public: it says what is wrong, never where ClickHouse lives.
    expect(body.error).toBe("ClickHouse is unreachable");
    expect(JSON.stringify(body)).not.toContain(String(closedPort));
    expect(JSON.stringify(body)).not.toContain("127.0.0.1");
  });

  it("never echoes credentials", async () => {
    const db = createDb({ ...testClickHouseConfig(), url: `http://127.0.0.1:${closedPort}`, password: "hunter2" });
    const health = await checkHealth(db);
    expect(JSON.stringify(health)).not.toContain("hunter2");
    await db.close();
  });
});
