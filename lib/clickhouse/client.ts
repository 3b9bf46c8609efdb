import { createClient, type ClickHouseClient, type ClickHouseSettings } from "@clickhouse/client-web";
import type { z } from "zod";
import type { Env } from "../env";
import { localClickHouseCredentials, localRoleUserPassword } from "../local-clickhouse/credentials";
import { messageOf } from "../error-message";

export const LOCAL_CLICKHOUSE_URL = "http://127.0.0.1:18123";

export interface ClickHouseConfig {
  url: string;
  username: string;
  password: string;
  database: string;
  requestTimeoutMs: number;
  asyncInsert: boolean;
  /**
   * What serves the URL: one server (default), ClickHouse Cloud, or a
   * self-hosted cluster of replicas behind a load balancer. Decides the
   * consistency settings every request carries (see `consistencySettings`).
   */
  deployment?: ClickHouseDeployment;
  /** Cluster name (deployment "cluster"): migrations run ON CLUSTER with Replicated engines. */
  cluster?: string;
}

export type ClickHouseDeployment = "single" | "cloud" | "cluster";

/** CLICKHOUSE_DEPLOYMENT=auto: cluster when a cluster is named, cloud for a ClickHouse Cloud host, else single. */
export function resolveDeployment(setting: string | undefined, url: string | undefined, cluster: string | undefined): ClickHouseDeployment {
  if (setting === "single" || setting === "cloud" || setting === "cluster") return setting;
  if (cluster) return "cluster";
  if (url) {
    try {
      if (/\.clickhouse\.cloud$/i.test(new URL(url).hostname)) return "cloud";
    } catch {
      // not a URL: single
    }
  }
  return "single";
}

/**
 * Read-your-writes across replicas. Muse's claims (agent leases, episode
 * numbers, Idempotency-Keys, deployment state) insert a row and read it back,
 * and behind a load-balanced endpoint the read may reach a replica that has
 * not seen the insert yet. ClickHouse's mechanisms, sent with every request:
 * - cloud (SharedMergeTree): `select_sequential_consistency=1` makes the
 *   replica sync its part list with Keeper before reading, so a SELECT sees
 *   every INSERT acknowledged before it started.
 * - cluster (ReplicatedMergeTree): the same on reads, plus
 *   `insert_quorum='auto'` (a majority of replicas have the part before the
 *   INSERT returns) and `insert_quorum_parallel=0` (without which sequential
 *   consistency is not guaranteed).
 * - single: nothing (one server is always consistent with itself).
 * All of these are plain settings the local engine accepts (and ignores on
 * non-replicated tables), so one code path serves every deployment.
 */
export function consistencySettings(deployment: ClickHouseDeployment | undefined): ClickHouseSettings {
  if (deployment === "cloud") return { select_sequential_consistency: "1" };
  if (deployment === "cluster") return { select_sequential_consistency: "1", insert_quorum: "auto", insert_quorum_parallel: 0 };
  return {};
}

/**
 * CLICKHOUSE_URL with CLICKHOUSE_USER/PASSWORD, or, when it is unset, the local
 * ClickHouse with its credentials (lib/local-clickhouse/credentials.ts: the
 * generated password under .muse/ that the server requires too).
 */
export function clickHouseConfig(env: Env): ClickHouseConfig {
  const local = env.CLICKHOUSE_URL ? undefined : localClickHouseCredentials(env);
  const host = env.MUSE_LOCAL_CLICKHOUSE_HOST.includes(":") ? `[${env.MUSE_LOCAL_CLICKHOUSE_HOST}]` : env.MUSE_LOCAL_CLICKHOUSE_HOST;
  return {
    url: env.CLICKHOUSE_URL ?? `http://${host}:${env.MUSE_LOCAL_CLICKHOUSE_PORT}`,
    username: local ? local.user : env.CLICKHOUSE_USER,
    password: local ? local.password : env.CLICKHOUSE_PASSWORD,
    database: env.CLICKHOUSE_DATABASE,
    requestTimeoutMs: env.CLICKHOUSE_REQUEST_TIMEOUT_MS,
    asyncInsert: env.CLICKHOUSE_ASYNC_INSERT,
    deployment: resolveDeployment(env.CLICKHOUSE_DEPLOYMENT, env.CLICKHOUSE_URL, env.CLICKHOUSE_CLUSTER),
    ...(env.CLICKHOUSE_CLUSTER ? { cluster: env.CLICKHOUSE_CLUSTER } : {}),
  };
}

/**
 * The site's read-only connection: CLICKHOUSE_READER_USER (SELECT grants only,
 * sql/users/muse_users.sql) with its password, or the writer's configuration
 * when no reader is set. For the local ClickHouse the reader's password is the
 * generated one of that user (lib/local-clickhouse/credentials.ts).
 */
export function clickHouseReaderConfig(env: Env): ClickHouseConfig {
  const config = clickHouseConfig(env);
  const user = env.CLICKHOUSE_READER_USER;
  if (!user) return config;
  const password = env.CLICKHOUSE_URL ? env.CLICKHOUSE_READER_PASSWORD : localRoleUserPassword(user);
  return { ...config, username: user, password };
}

/** Settings every Muse query runs with: ISO-8601 UTC timestamps in and out. */
const BASE_SETTINGS: ClickHouseSettings = {
  date_time_input_format: "best_effort",
  date_time_output_format: "iso",
  output_format_json_quote_64bit_integers: 0,
};

export type QueryParams = Record<string, unknown>;

export interface InsertOptions {
  /** Same token → the server may drop the repeated block (Cloud and clusters do by default; sent only there). */
  deduplicationToken?: string;
  /** Server-side batching for many small inserts (async_insert=1, wait_for_async_insert=1). */
  asyncInsert?: boolean;
}

export interface InsertResult {
  writtenRows: number;
  queryId: string;
}

/**
 * The one ClickHouse client of the app: @clickhouse/client-web over HTTP.
 * Values always travel as query parameters (`{name:Type}` placeholders); SQL is
 * never built from values.
 */
export class Db {
  constructor(
    readonly client: ClickHouseClient,
    readonly config: ClickHouseConfig,
  ) {}

  get database(): string {
    return this.config.database;
  }

  /** Rows of a SELECT, parsed by `schema` when given (recommended at every boundary). */
  async query<S extends z.ZodType>(sql: string, params: QueryParams | undefined, schema: S): Promise<z.output<S>[]>;
  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  async query(sql: string, params?: QueryParams, schema?: z.ZodType): Promise<unknown[]> {
    const result = await this.client.query({ query: sql, query_params: params, format: "JSONEachRow" });
    const rows = await result.json<Record<string, unknown>>();
    return schema ? rows.map((row) => schema.parse(row)) : rows;
  }

  /**
   * Rows of a SELECT handed to `each` one at a time as they arrive, parsed by `schema`: for results too large to
   * hold whole (lib/analysis/series.ts reads years of runs this way).
   */
  async queryEach<S extends z.ZodType>(sql: string, params: QueryParams | undefined, schema: S, each: (row: z.output<S>) => void): Promise<void> {
    const result = await this.client.query({ query: sql, query_params: params, format: "JSONEachRow" });
    const reader = result.stream<Record<string, unknown>>().getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        for (const row of value) each(schema.parse(row.json()));
      }
    } catch (error) {
      await reader.cancel().catch(() => undefined);
      throw error;
    }
  }

  async queryOne<S extends z.ZodType>(sql: string, params: QueryParams | undefined, schema: S): Promise<z.output<S> | undefined> {
    const rows = await this.query(sql, params, schema);
    return rows[0];
  }

  /** DDL and other statements without a result set. */
  async command(sql: string, params?: QueryParams): Promise<void> {
    await this.client.command({ query: sql, query_params: params });
  }

  async insert<T extends object>(table: string, rows: readonly T[], options: InsertOptions = {}): Promise<InsertResult> {
    if (rows.length === 0) return { writtenRows: 0, queryId: "" };
    const settings: ClickHouseSettings = {};
    // Only replicated engines (Cloud's SharedMergeTree, ReplicatedMergeTree) deduplicate inserts by default; a
    // single server's MergeTree ignores the token (non_replicated_deduplication_window = 0), and Muse's
    // tables collapse a repeated block by key anyway — while the local engine still pays for the setting.
    if (options.deduplicationToken && (this.config.deployment === "cloud" || this.config.deployment === "cluster")) {
      settings.insert_deduplication_token = options.deduplicationToken;
    }
    if (options.asyncInsert ?? false) {
      settings.async_insert = 1;
      settings.wait_for_async_insert = 1;
    }
    const result = await this.client.insert({
      table,
      values: rows as T[],
      format: "JSONEachRow",
      clickhouse_settings: settings,
    });
    // The web client does not parse X-ClickHouse-Summary itself.
    const summary = parseSummary(result.response_headers["x-clickhouse-summary"]);
    return { writtenRows: summary?.written_rows ?? rows.length, queryId: result.query_id };
  }

  async ping(): Promise<{ ok: true } | { ok: false; error: string }> {
    const result = await this.client.ping();
    if (result.success) return { ok: true };
    return { ok: false, error: messageOf(result.error) };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export function createDb(config: ClickHouseConfig): Db {
  const client = createClient({
    url: config.url,
    username: config.username,
    password: config.password,
    database: config.database,
    request_timeout: config.requestTimeoutMs,
    clickhouse_settings: { ...BASE_SETTINGS, ...consistencySettings(config.deployment) },
    application: "muse",
  });
  return new Db(client, config);
}

/** A client on the same server for another database (bootstrap, tests). */
export function withDatabase(config: ClickHouseConfig, database: string): ClickHouseConfig {
  return { ...config, database };
}

/**
 * A DateTime64(3) query parameter, UTC: `2026-11-26 01:02:03.456`. Parameters
 * are parsed strictly (date_time_input_format applies to data, not to them),
 * so an ISO string with its `T` and `Z` is refused. A string must be
 * Date#toISOString's form.
 */
export function dateTime64Param(at: Date | string): string {
  return (typeof at === "string" ? at : at.toISOString()).slice(0, 23).replace("T", " ");
}

export function parseSummary(header: string | string[] | undefined): { read_rows: number; written_rows: number } | undefined {
  if (typeof header !== "string") return undefined;
  try {
    const parsed = JSON.parse(header) as Record<string, string>;
    return { read_rows: Number(parsed.read_rows ?? 0), written_rows: Number(parsed.written_rows ?? 0) };
  } catch {
    return undefined;
  }
}
