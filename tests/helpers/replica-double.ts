import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createDb, withDatabase, type ClickHouseConfig } from "../../lib/clickhouse/client";
import { migrate } from "../../lib/clickhouse/migrations";
import { testClickHouseConfig, uniqueDatabaseName } from "./db";

/**
 * A test double of a replicated ClickHouse service behind a load balancer:
 * two replicas (two databases on the real test ClickHouse, same migrations),
 * served on one HTTP endpoint that speaks ClickHouse's HTTP interface by
 * forwarding to the real server.
 *
 * - The balancer sends every INSERT to replica 1 and every read to replica 2,
 *   the worst case a load balancer can produce. DDL goes to both.
 * - Replica 2 lags: it receives replica 1's rows only when the service's
 *   consistency mechanisms require it, never on its own (`catchUp()` forces it):
 *   - "cloud" (SharedMergeTree): a read sent with
 *     `select_sequential_consistency=1` first syncs the replica with every
 *     insert acknowledged so far (Keeper holds the part list).
 *   - "cluster" (ReplicatedMergeTree): an INSERT sent with `insert_quorum`
 *     `auto` or ≥ 2 is on both replicas before it is acknowledged; other
 *     inserts stay on replica 1.
 * Replication copies tables whole (TRUNCATE + INSERT SELECT), which is exact
 * because replica 2 only ever receives rows from replica 1.
 */

export type ReplicaMode = "cloud" | "cluster";

export interface ReplicaDouble {
  url: string;
  /** The database name clients use; the double maps it to each replica's database. */
  database: string;
  /** Client config for the double, with the deployment the app would be configured with. */
  config(deployment: ClickHouseConfig["deployment"]): ClickHouseConfig;
  /** Reads answered by the lagging replica while it was behind (the double's own evidence that it lags). */
  staleReads: number;
  catchUp(): Promise<void>;
  close(): Promise<void>;
}

const READ = /^\s*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|EXISTS)\b/i;
const INSERT = /^\s*INSERT\s+INTO\s+(?:`?(\w+)`?\.)?`?(\w+)`?/i;

export async function startReplicaDouble(mode: ReplicaMode): Promise<ReplicaDouble> {
  const base = testClickHouseConfig();
  const upstream = new URL(base.url);
  const logical = uniqueDatabaseName("muse_replicated");
  const replicas = [`${logical}_r1`, `${logical}_r2`] as const;
  for (const db of replicas) await migrate(withDatabase(base, db));

  const dirty = new Set<string>();
  let staleReads = 0;

  async function upstreamSql(sql: string): Promise<void> {
    const res = await fetch(upstream, { method: "POST", body: sql, headers: authHeaders() });
    if (!res.ok) throw new Error(`replica double: ${sql}: ${await res.text()}`);
  }
  function authHeaders(): Record<string, string> {
    return base.username ? { authorization: `Basic ${Buffer.from(`${base.username}:${base.password}`).toString("base64")}` } : {};
  }
  async function sync(): Promise<void> {
    for (const table of [...dirty]) {
      await upstreamSql(`TRUNCATE TABLE \`${replicas[1]}\`.\`${table}\``);
      await upstreamSql(`INSERT INTO \`${replicas[1]}\`.\`${table}\` SELECT * FROM \`${replicas[0]}\`.\`${table}\``);
      dirty.delete(table);
    }
  }

  interface Answer {
    status: number;
    headers: Record<string, string>;
    body: Buffer;
  }

  async function forward(req: IncomingMessage, body: Buffer, replica: string): Promise<Answer> {
    const incoming = new URL(req.url ?? "/", "http://double");
    const target = new URL(incoming.pathname + incoming.search, upstream);
    if (target.searchParams.get("database") === logical) target.searchParams.set("database", replica);
    const headers: Record<string, string> = { "accept-encoding": "identity" };
    for (const name of ["authorization", "content-type", "x-clickhouse-user", "x-clickhouse-key"]) {
      const v = req.headers[name];
      if (typeof v === "string") headers[name] = v;
    }
    const answer = await fetch(target, {
      method: req.method,
      headers,
      ...(req.method === "GET" || req.method === "HEAD" ? {} : { body: new Uint8Array(body) }),
    });
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (name === "content-type" || name.startsWith("x-clickhouse")) out[name] = value;
    });
    return { status: answer.status, headers: out, body: Buffer.from(await answer.arrayBuffer()) };
  }

  function reply(res: ServerResponse, answer: Answer): void {
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const params = new URL(req.url ?? "/", "http://double").searchParams;
    const sql = params.get("query") ?? body.toString("utf8");
    const insert = INSERT.exec(sql);
    if (insert) {
      const answer = await forward(req, body, replicas[0]);
      if (answer.status < 300 && (!insert[1] || insert[1] === logical)) {
        dirty.add(insert[2]);
        const quorum = params.get("insert_quorum");
        // A quorum insert is acknowledged only once both replicas have it.
        if (mode === "cluster" && quorum !== null && (quorum === "auto" || Number(quorum) >= 2)) await sync();
      }
      reply(res, answer);
      return;
    }
    if (READ.test(sql) || req.method === "GET") {
      if (mode === "cloud" && params.get("select_sequential_consistency") === "1") await sync();
      if (dirty.size > 0) staleReads += 1;
      reply(res, await forward(req, body, replicas[1]));
      return;
    }
    // DDL and everything else: both replicas (as ON CLUSTER would), answered by replica 1.
    await forward(req, body, replicas[1]);
    reply(res, await forward(req, body, replicas[0]));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "x-clickhouse-exception-code": "1000" });
      res.end(`Code: 1000. DB::Exception: replica double: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const double: ReplicaDouble = {
    url,
    database: logical,
    config: (deployment) => ({ ...base, url, database: logical, deployment }),
    get staleReads() {
      return staleReads;
    },
    catchUp: sync,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const admin = createDb(base);
      for (const db of replicas) await admin.command("DROP DATABASE IF EXISTS {db:Identifier}", { db });
      await admin.close();
    },
  };
  return double;
}
