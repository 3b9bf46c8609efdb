import { loadEnv } from "../env";
import { clickHouseConfig, createDb, type Db } from "./client";

export * from "./client";

let shared: Db | undefined;

/** The process-wide client, configured from the environment. */
export function getDb(): Db {
  shared ??= createDb(clickHouseConfig(loadEnv()));
  return shared;
}

/** Drops the cached client (tests that change the environment). */
export async function resetDb(): Promise<void> {
  const db = shared;
  shared = undefined;
  await db?.close();
}
