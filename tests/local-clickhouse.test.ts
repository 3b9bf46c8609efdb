import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, ClickHouseError, type ClickHouseClient } from "@clickhouse/client-web";
import { startLocalClickHouse, type LocalClickHouse } from "../lib/local-clickhouse/server";

/**
 * The HTTP fidelity the app relies on (README: "the local ClickHouse"),
 * each case driven through @clickhouse/client-web itself. This file runs its
 * own server (with basic auth, on a free port) so it tests our server even
 * when the suite as a whole runs against a real ClickHouse.
 */

let server: LocalClickHouse;
let client: ClickHouseClient;
let dataDir: string;
const USER = "muse";
const PASSWORD = "s3cret'\\pw";

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "muse-fidelity-"));
  server = await startLocalClickHouse({ host: "127.0.0.1", port: 0, dataDir, user: USER, password: PASSWORD });
  client = createClient({ url: server.url, username: USER, password: PASSWORD });
  await client.command({ query: "CREATE DATABASE IF NOT EXISTS fidelity" });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function rows<T>(query: string, extra: Parameters<ClickHouseClient["query"]>[0] = { query: "" }): Promise<T[]> {
  const rs = await client.query({ ...extra, query, format: "JSONEachRow" });
  return rs.json<T>();
}

describe("local ClickHouse over chDB", () => {
  it("answers GET /ping with Ok.", async () => {
    const res = await fetch(`${server.url}/ping`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("Ok.\n");
    expect((await client.ping()).success).toBe(true);
  });

  it("runs SELECT version() with a 26.x version", async () => {
    const [row] = await rows<{ v: string }>("SELECT version() AS v");
    expect(row.v).toMatch(/^26\./);
  });

  it("binds param_<name> with ClickHouse's escaping undone", async () => {
    const tricky = "it's a \\ backslash,\ta tab and a\nnewline";
    const [row] = await rows<{ s: string; a: string[]; n: string | null; i: number; d: string }>(
      "SELECT {s:String} AS s, {a:Array(String)} AS a, {n:Nullable(String)} AS n, {i:Int64} AS i, toString({d:DateTime64(3, 'UTC')}) AS d",
      { query: "", query_params: { s: tricky, a: ["it's", "x\\y", "t\tz"], n: null, i: -42, d: "2026-11-22 01:02:03.456" } },
    );
    expect(row.s).toBe(tricky);
    expect(row.a).toEqual(["it's", "x\\y", "t\tz"]);
    expect(row.n).toBeNull();
    expect(Number(row.i)).toBe(-42);
    expect(row.d).toBe("2026-11-22 01:02:03.456");
  });

  it("treats a bound value as data, never as SQL", async () => {
    const injection = "x'); DROP DATABASE fidelity; --";
    const [row] = await rows<{ s: string }>("SELECT {s:String} AS s", { query: "", query_params: { s: injection } });
    expect(row.s).toBe(injection);
    const dbs = await rows<{ name: string }>("SELECT name FROM system.databases WHERE name = 'fidelity'");
    expect(dbs).toHaveLength(1);
  });

  it("accepts long parameters sent as multipart form data", async () => {
    const multipart = createClient({ url: server.url, username: USER, password: PASSWORD, use_multipart_params: true });
    const long = "é".repeat(20_000) + "'";
    const rs = await multipart.query({
      query: "SELECT lengthUTF8({s:String}) AS n, {s:String} = {t:String} AS same",
      query_params: { s: long, t: long },
      format: "JSONEachRow",
    });
    const [row] = await rs.json<{ n: number; same: number }>();
    expect(Number(row.n)).toBe(long.length);
    expect(Number(row.same)).toBe(1);
    await multipart.close();
  });

  it("inserts JSONEachRow rows sent in the body with the query in the URL, and reports written rows", async () => {
    const db = createClient({ url: server.url, username: USER, password: PASSWORD, database: "fidelity" });
    await db.command({ query: "CREATE TABLE IF NOT EXISTS inserts (id UInt32, s String, ts DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id" });
    const result = await db.insert({
      table: "inserts",
      values: [
        { id: 1, s: "one\nline", ts: "2026-11-22 00:00:00.000" },
        { id: 2, s: "two 'quoted'", ts: "2026-11-22 00:00:01.500" },
      ],
      format: "JSONEachRow",
    });
    const summary = JSON.parse(result.response_headers["x-clickhouse-summary"] as string);
    expect(summary.written_rows).toBe("2");
    const rs = await db.query({ query: "SELECT id, s FROM inserts ORDER BY id", format: "JSONEachRow" });
    expect(await rs.json()).toEqual([
      { id: 1, s: "one\nline" },
      { id: 2, s: "two 'quoted'" },
    ]);
    await db.close();
  });

  it("uses the database URL parameter, and rejects an unknown one with ClickHouse's error", async () => {
    const db = createClient({ url: server.url, username: USER, password: PASSWORD, database: "fidelity" });
    const rs = await db.query({ query: "SELECT currentDatabase() AS d", format: "JSONEachRow" });
    expect(await rs.json()).toEqual([{ d: "fidelity" }]);
    const missing = createClient({ url: server.url, username: USER, password: PASSWORD, database: "no_such_db" });
    await expect(missing.query({ query: "SELECT 1" })).rejects.toMatchObject({ code: "81", type: "UNKNOWN_DATABASE" });
    await db.close();
    await missing.close();
  });

  it("echoes query_id and applies settings per request without leaking them", async () => {
    const rs = await client.query({
      query: "SELECT getSetting('max_threads') AS m, queryID() != '' AS has_id",
      format: "JSONEachRow",
      query_id: "muse-query-id-1",
      clickhouse_settings: { max_threads: 3 },
    });
    expect(rs.query_id).toBe("muse-query-id-1");
    expect(rs.response_headers["x-clickhouse-query-id"]).toBe("muse-query-id-1");
    expect((await rs.json<{ m: number }>())[0].m).toBe(3);
    const [after] = await rows<{ m: number }>("SELECT getSetting('max_threads') AS m");
    expect(after.m).not.toBe(3);
  });

  it("rejects an unknown setting with ClickHouse's own error instead of dropping it", async () => {
    const attempt = client.query({ query: "SELECT 1", clickhouse_settings: { no_such_setting_xyz: 1 } as never });
    await expect(attempt).rejects.toBeInstanceOf(ClickHouseError);
    await expect(client.query({ query: "SELECT 1", clickhouse_settings: { no_such_setting_xyz: 1 } as never })).rejects.toMatchObject({ code: "115" });
  });

  it("honours insert_deduplication_token", async () => {
    const db = createClient({ url: server.url, username: USER, password: PASSWORD, database: "fidelity" });
    await db.command({
      query: "CREATE TABLE IF NOT EXISTS dedup (id UInt32) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100",
    });
    for (let i = 0; i < 2; i++) {
      await db.insert({
        table: "dedup",
        values: [{ id: 1 }, { id: 2 }],
        format: "JSONEachRow",
        clickhouse_settings: { insert_deduplication_token: "batch-1" },
      });
    }
    await db.insert({ table: "dedup", values: [{ id: 1 }, { id: 2 }], format: "JSONEachRow", clickhouse_settings: { insert_deduplication_token: "batch-2" } });
    const rs = await db.query({ query: "SELECT count() AS c FROM dedup", format: "JSONEachRow" });
    expect(Number((await rs.json<{ c: number }>())[0].c)).toBe(4);
    await db.close();
  });

  it("applies async_insert with wait_for_async_insert: rows are visible when the insert returns", async () => {
    const db = createClient({ url: server.url, username: USER, password: PASSWORD, database: "fidelity" });
    await db.command({ query: "CREATE TABLE IF NOT EXISTS async_rows (id UInt32) ENGINE = MergeTree ORDER BY id" });
    await db.insert({
      table: "async_rows",
      values: [{ id: 7 }],
      format: "JSONEachRow",
      clickhouse_settings: { async_insert: 1, wait_for_async_insert: 1, wait_end_of_query: 1 },
    });
    const rs = await db.query({ query: "SELECT count() AS c FROM async_rows WHERE id = 7", format: "JSONEachRow" });
    expect(Number((await rs.json<{ c: number }>())[0].c)).toBe(1);
    await db.close();
  });

  it("keeps SET statements for their session_id only", async () => {
    await client.command({ query: "SET max_threads = 5", session_id: "session-a" });
    const inSession = await rows<{ m: number }>("SELECT getSetting('max_threads') AS m", { query: "", session_id: "session-a" });
    const outside = await rows<{ m: number }>("SELECT getSetting('max_threads') AS m");
    expect(inSession[0].m).toBe(5);
    expect(outside[0].m).not.toBe(5);
  });

  it("raises ClickHouseError with the exception code, type and a non-2xx status", async () => {
    const res = await fetch(`${server.url}/?query=${encodeURIComponent("SELECT * FROM fidelity.nope")}`, {
      headers: { Authorization: `Basic ${btoa(`${USER}:${PASSWORD}`)}` },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-clickhouse-exception-code")).toBe("60");
    expect(await res.text()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\)/);
    await expect(client.query({ query: "SELECT * FROM fidelity.nope" })).rejects.toMatchObject({ code: "60", type: "UNKNOWN_TABLE" });
    await expect(client.query({ query: "SELEC 1" })).rejects.toMatchObject({ code: "62", type: "SYNTAX_ERROR" });
  });

  it("sends X-ClickHouse-Summary with read rows (chDB reports the rows it returned)", async () => {
    const result = await client.exec({ query: "SELECT number FROM numbers(1000) WHERE number % 10 = 0 FORMAT TSV" });
    await result.stream.cancel();
    const summary = JSON.parse(result.response_headers["x-clickhouse-summary"] as string);
    expect(Number(summary.read_rows)).toBe(100);
    expect(Number(summary.written_rows)).toBe(0);
    expect(Number(summary.elapsed_ns)).toBeGreaterThan(0);
  });

  it("requires the configured basic auth credentials", async () => {
    const wrong = createClient({ url: server.url, username: USER, password: "wrong" });
    await expect(wrong.query({ query: "SELECT 1" })).rejects.toMatchObject({ code: "516", type: "AUTHENTICATION_FAILED" });
    await wrong.close();
    const res = await fetch(`${server.url}/?query=SELECT%201`);
    expect(res.status).toBe(401);
  });

  it("refuses writes over GET, as ClickHouse does (readonly)", async () => {
    const res = await fetch(`${server.url}/?query=${encodeURIComponent("CREATE TABLE fidelity.g (a UInt8) ENGINE = Memory")}`, {
      headers: { Authorization: `Basic ${btoa(`${USER}:${PASSWORD}`)}` },
    });
    expect(res.status).toBe(500);
    expect(res.headers.get("x-clickhouse-exception-code")).toBe("164");
  });
});
