import { loadEnv } from "../env";
import { clickHouseConfig, clickHouseReaderConfig, createDb, type Db } from "./client";

export * from "./client";

let shared: Db | undefined;

/** The process-wide client, configured from the environment. */
export function getDb(): Db {
  shared ??= createDb(clickHouseConfig(loadEnv()));
  return shared;
}

let sharedReader: Db | undefined;

/**
 * The client the site's pages and public read routes use: the read-only
 * CLICKHOUSE_READER_USER when it is set, else the same client as getDb().
 */
export function getReaderDb(): Db {
  if (!loadEnv().CLICKHOUSE_READER_USER) return getDb();
  sharedReader ??= createDb(clickHouseReaderConfig(loadEnv()));
  return sharedReader;
}

/** Drops the cached clients (tests that change the environment). */
export async function resetDb(): Promise<void> {
  const db = shared;
  const reader = sharedReader;
  shared = undefined;
  sharedReader = undefined;
  await db?.close();
  await reader?.close();
}
