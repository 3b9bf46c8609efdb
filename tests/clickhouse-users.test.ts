import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type ClickHouseClient } from "@clickhouse/client-web";
import { clickHouseReaderConfig, createDb, type Db } from "../lib/clickhouse/client";
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, splitStatements } from "../lib/clickhouse/migrations";
import { parseEnv } from "../lib/env";
import { localClickHouseUsers, LOCAL_CLICKHOUSE_ROLE_USERS } from "../lib/local-clickhouse/credentials";
import { startLocalClickHouse, type LocalClickHouse } from "../lib/local-clickhouse/server";
import { GET as getChanges } from "../app/api/changes/route";
import { getDb, getReaderDb } from "../lib/clickhouse";
import { migrate } from "../lib/clickhouse/migrations";
import { serverContext } from "../lib/server-context";
import { loadStatus } from "../lib/site/status.server";
import { testClickHouseConfig } from "./helpers/db";
import { saveEnv, setEnv } from "./helpers/env";

/**
 * Least privilege (docs/clickhouse-production.md, "Least privilege"): the
 * local ClickHouse accepts muse_migrator, muse_agent and muse_reader beside its
 * default user, and runs the reader read-only (readonly=1, set by the server)
 * whatever the reader asks for. Its own server on a free port and a temp data
 * directory, with credentials generated like `npm run clickhouse` does.
 */

let server: LocalClickHouse;
let dataDir: string;
let cwd: string;
const clients: ClickHouseClient[] = [];
const dbs: Db[] = [];

function passwordOf(user: string): string {
  const found = localClickHouseUsers({}, cwd).find((u) => u.user === user);
  if (!found) throw new Error(`no local user ${user}`);
  return found.password;
}

function client(user: string, password = passwordOf(user), extra: Parameters<typeof createClient>[0] = {}): ClickHouseClient {
  const c = createClient({ url: server.url, username: user, password, database: "least", ...extra });
  clients.push(c);
  return c;
}

/** The app's own client (createDb: the settings every Muse query sends) as `user`. */
function appDb(user: string): Db {
  const config = { ...testClickHouseConfig("least"), url: server.url, username: user, password: passwordOf(user) };
  const db = createDb(config);
  dbs.push(db);
  return db;
}

async function rows(c: ClickHouseClient, query: string): Promise<unknown[]> {
  return (await c.query({ query, format: "JSONEachRow" })).json();
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "muse-users-"));
  cwd = mkdtempSync(path.join(os.tmpdir(), "muse-users-cwd-"));
  const [main, ...users] = localClickHouseUsers({}, cwd);
  server = await startLocalClickHouse({ host: "127.0.0.1", port: 0, dataDir, user: main.user, password: main.password, users });
  const migrator = client(LOCAL_CLICKHOUSE_ROLE_USERS.migrator, undefined, { database: "default" });
  await migrator.command({ query: "CREATE DATABASE least" });
  await migrator.command({ query: "CREATE TABLE least.t (id UInt32, s String, at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id" });
});

const savedEnv = saveEnv([
  "CLICKHOUSE_URL",
  "CLICKHOUSE_USER",
  "CLICKHOUSE_PASSWORD",
  "CLICKHOUSE_DATABASE",
  "CLICKHOUSE_READER_USER",
  "CLICKHOUSE_READER_PASSWORD",
]);

afterAll(async () => {
  await setEnv(savedEnv);
  for (const d of dbs) await d.close();
  for (const c of clients) await c.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

describe("the three users on the local ClickHouse", () => {
  it("generates a password per user under .muse/ and refuses a wrong one", async () => {
    const users = localClickHouseUsers({}, cwd);
    expect(users.map((u) => [u.user, u.readonly])).toEqual([
      ["default", false],
      ["muse_migrator", false],
      ["muse_agent", false],
      ["muse_reader", true],
    ]);
    expect(new Set(users.map((u) => u.password)).size).toBe(4);
    expect(readFileSync(path.join(cwd, ".muse", "local-clickhouse.muse_reader.password"), "utf8").trim()).toBe(passwordOf("muse_reader"));
    await expect(rows(client("muse_reader", "wrong"), "SELECT 1")).rejects.toMatchObject({ code: "516" });
  });

  it("lets the agent writer insert and read", async () => {
    const agent = appDb("muse_agent");
    const result = await agent.insert("t", [
      { id: 1, s: "one", at: "2026-12-01T00:00:00.000Z" },
      { id: 2, s: "two", at: "2026-12-01T00:00:01.500Z" },
    ]);
    expect(result.writtenRows).toBe(2);
    expect(await agent.query("SELECT id, s FROM t ORDER BY id")).toEqual([
      { id: 1, s: "one" },
      { id: 2, s: "two" },
    ]);
  });

  it("lets the reader SELECT with the app's own client and settings", async () => {
    const reader = appDb("muse_reader");
    expect(await reader.query("SELECT id, s, at FROM t ORDER BY id")).toEqual([
      { id: 1, s: "one", at: "2026-12-01T00:00:00.000Z" },
      { id: 2, s: "two", at: "2026-12-01T00:00:01.500Z" },
    ]);
    expect(await reader.query("SELECT getSetting('readonly') AS ro")).toEqual([{ ro: 1 }]);
  });

  it("refuses the reader an INSERT (both forms), a CREATE and a DROP", async () => {
    const reader = appDb("muse_reader");
    await expect(reader.insert("t", [{ id: 3, s: "three", at: "2026-12-01T00:00:02.000Z" }])).rejects.toMatchObject({ code: "164" });
    await expect(reader.command("INSERT INTO t VALUES (4, 'four', now64(3))")).rejects.toMatchObject({ code: "164" });
    await expect(reader.command("CREATE TABLE u (a UInt8) ENGINE = MergeTree ORDER BY a")).rejects.toMatchObject({ code: "164" });
    await expect(reader.command("DROP TABLE t")).rejects.toMatchObject({ code: "164" });
    expect(await appDb("muse_agent").query("SELECT count() AS n FROM t")).toEqual([{ n: 2 }]);
    expect(await rows(client("muse_agent"), "EXISTS TABLE u")).toEqual([{ result: 0 }]);
  });

  it("does not let the reader lift readonly with its own settings", async () => {
    const lifted = client("muse_reader", undefined, { clickhouse_settings: { readonly: "0" } });
    await expect(lifted.command({ query: "INSERT INTO t VALUES (5, 'five', now64(3))" })).rejects.toMatchObject({ code: "164" });
    await expect(rows(lifted, "SELECT 1")).rejects.toMatchObject({ code: "164" });
    const two = client("muse_reader", undefined, { clickhouse_settings: { readonly: "2" } });
    await expect(two.command({ query: "CREATE TABLE v (a UInt8) ENGINE = Memory" })).rejects.toMatchObject({ code: "164" });
    const reader = client("muse_reader");
    await expect(reader.command({ query: "INSERT INTO t SETTINGS readonly = 0 VALUES (6, 'six', now64(3))" })).rejects.toMatchObject({ code: "164" });
    await expect(rows(reader, "SELECT count() FROM t SETTINGS readonly = 0")).rejects.toMatchObject({ code: "164" });
    // A SET in a session would carry into its later requests: refused too.
    const session = client("muse_reader", undefined, { session_id: "reader-session" });
    await expect(session.command({ query: "SET readonly = 0" })).rejects.toMatchObject({ code: "164" });
    await expect(session.command({ query: "INSERT INTO t VALUES (7, 'seven', now64(3))" })).rejects.toMatchObject({ code: "164" });
    expect(await appDb("muse_agent").query("SELECT count() AS n FROM t")).toEqual([{ n: 2 }]);
  });

  it("keeps readonly with the reader: the writers' next requests are not read-only", async () => {
    await rows(client("muse_reader"), "SELECT 1");
    const agent = appDb("muse_agent");
    expect(await agent.query("SELECT getSetting('readonly') AS ro")).toEqual([{ ro: 0 }]);
    await agent.insert("t", [{ id: 8, s: "eight", at: "2026-12-01T00:00:03.000Z" }]);
    await appDb("muse_migrator").command("ALTER TABLE t ADD COLUMN IF NOT EXISTS extra UInt8 DEFAULT 0");
    expect(await appDb("muse_reader").query("SELECT id, extra FROM t ORDER BY id")).toEqual([
      { id: 1, extra: 0 },
      { id: 2, extra: 0 },
      { id: 8, extra: 0 },
    ]);
  });
});

describe("the app with the three users", () => {
  it("migrates as muse_migrator, writes as muse_agent and serves the read routes as muse_reader", async () => {
    const base = { ...testClickHouseConfig("app_least"), url: server.url };
    const result = await migrate({ ...base, username: "muse_migrator", password: passwordOf("muse_migrator") });
    expect(result.applied.length).toBeGreaterThan(10);
    await setEnv({
      CLICKHOUSE_URL: server.url,
      CLICKHOUSE_DATABASE: "app_least",
      CLICKHOUSE_USER: "muse_agent",
      CLICKHOUSE_PASSWORD: passwordOf("muse_agent"),
      CLICKHOUSE_READER_USER: "muse_reader",
      CLICKHOUSE_READER_PASSWORD: passwordOf("muse_reader"),
    });
    expect(getDb().config.username).toBe("muse_agent");
    expect(getReaderDb().config.username).toBe("muse_reader");
    expect(serverContext().readerDb).toBe(getReaderDb());
    expect(await getReaderDb().query("SELECT getSetting('readonly') AS ro")).toEqual([{ ro: 1 }]);
    const res = await getChanges(new Request("http://muse.test/api/changes"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ events: [] });
    // The status page's queries, as the reader.
    const status = await loadStatus(getReaderDb());
    expect(JSON.stringify(status)).not.toMatch(/READONLY|Cannot execute/);
    // Without a reader the pages share the writer's client, as before.
    await setEnv({ CLICKHOUSE_READER_USER: undefined, CLICKHOUSE_READER_PASSWORD: undefined });
    expect(getReaderDb()).toBe(getDb());
  });
});

describe("sql/users/muse_users.sql", () => {
  const file = path.join(DEFAULT_MIGRATIONS_DIR, "users", "muse_users.sql");

  it("is not a migration", async () => {
    const migrations = await loadMigrations(DEFAULT_MIGRATIONS_DIR);
    expect(migrations.some((m) => m.file.includes("users"))).toBe(false);
  });

  it("creates the three users with their grants, in statements ClickHouse parses", async () => {
    const statements = splitStatements(readFileSync(file, "utf8"));
    const text = statements.join("\n");
    for (const user of Object.values(LOCAL_CLICKHOUSE_ROLE_USERS)) expect(text).toMatch(new RegExp(`CREATE USER IF NOT EXISTS ${user}\\b`));
    expect(text).toMatch(/GRANT SELECT ON chimera_metrics\.\* TO muse_reader/);
    expect(text).toMatch(/GRANT SELECT, INSERT ON chimera_metrics\.\* TO muse_agent/);
    expect(text).toMatch(/GRANT CREATE DATABASE, CREATE TABLE.* ON chimera_metrics\.\* TO muse_migrator/);
    const admin = client("default", undefined, { database: "default" });
    for (const statement of statements) {
      const [row] = (await rows(admin, `SELECT formatQuery(${quote(statement)}) AS q`)) as { q: string }[];
      expect(row.q.length).toBeGreaterThan(0);
    }
  });
});

describe("the site's reader configuration", () => {
  it("uses CLICKHOUSE_READER_USER/PASSWORD when set, else the writer's credentials", () => {
    const base = { CLICKHOUSE_URL: "https://example.clickhouse.cloud:8443", CLICKHOUSE_USER: "muse_agent", CLICKHOUSE_PASSWORD: "w" };
    expect(clickHouseReaderConfig(parseEnv(base))).toMatchObject({ username: "muse_agent", password: "w" });
    const reader = clickHouseReaderConfig(parseEnv({ ...base, CLICKHOUSE_READER_USER: "muse_reader", CLICKHOUSE_READER_PASSWORD: "r" }));
    expect(reader).toMatchObject({ username: "muse_reader", password: "r", url: base.CLICKHOUSE_URL, deployment: "cloud" });
  });
});

function quote(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
