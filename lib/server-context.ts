import { appLogger } from "./app-logger";
import { getDb, getReaderDb } from "./clickhouse";
import type { Db } from "./clickhouse/client";
import { loadEnv, type Env } from "./env";
import type { Logger } from "./log";
import { metricsFromEnv, type Metrics } from "./metrics";

/**
 * The one place a server entry point gets its environment, logger, database,
 * metrics and clock: the route handlers (lib/http), the agents (cron, API,
 * CLI: lib/agents/deps.ts), the CLI commands and the scripts. Tests pass any
 * part of it in.
 */

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface ServerContext {
  env: Env;
  log: Logger;
  /** The shared ClickHouse client, created on first use (an entry point that never queries never opens one). */
  readonly db: Db;
  /**
   * The read-only client of the public read routes (CLICKHOUSE_READER_USER,
   * docs/clickhouse-production.md#least-privilege); the writer's when no reader
   * is configured, or the `db` a test passed in.
   */
  readonly readerDb: Db;
  /** Made on first use, from the environment (Datadog when DD_API_KEY is set). */
  readonly metrics: Metrics;
  clock: Clock;
}

export interface ServerContextOptions {
  env?: Env;
  log?: Logger;
  /** Fields on every log line when the logger is made here, e.g. `{ route: "/api/ingest/bench" }`. */
  fields?: Record<string, unknown>;
  db?: Db;
  readerDb?: Db;
  metrics?: Metrics;
  clock?: Clock;
}

export function serverContext(options: ServerContextOptions = {}): ServerContext {
  const env = options.env ?? loadEnv();
  const log = options.log ?? appLogger(env, options.fields);
  let db = options.db;
  let readerDb = options.readerDb ?? options.db;
  let metrics = options.metrics;
  return {
    env,
    log,
    get db() {
      return (db ??= getDb());
    },
    get readerDb() {
      return (readerDb ??= getReaderDb());
    },
    get metrics() {
      return (metrics ??= metricsFromEnv(env, log));
    },
    clock: options.clock ?? systemClock,
  };
}
