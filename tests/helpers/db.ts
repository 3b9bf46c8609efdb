import { randomBytes } from "node:crypto";
import { createDb, withDatabase, type ClickHouseConfig, type Db } from "../../lib/clickhouse/client";
import { migrate } from "../../lib/clickhouse/migrations";
import { localClickHouseCredentials } from "../../lib/local-clickhouse/credentials";

/** Connection settings of the ClickHouse the test run uses (see global-setup.ts). */
export function testClickHouseConfig(database = "default"): ClickHouseConfig {
  const local = `http://${process.env.MUSE_LOCAL_CLICKHOUSE_HOST || "127.0.0.1"}:${process.env.MUSE_LOCAL_CLICKHOUSE_PORT || "18123"}`;
  const url = process.env.MUSE_TEST_CLICKHOUSE_URL ?? (process.env.CLICKHOUSE_URL || local);
  // global-setup.ts sets CLICKHOUSE_USER/PASSWORD to the local ClickHouse's credentials when it is the one in use.
  const credentials = process.env.CLICKHOUSE_URL || process.env.CLICKHOUSE_PASSWORD !== undefined ? undefined : localClickHouseCredentials(process.env);
  return {
    url,
    username: process.env.CLICKHOUSE_USER ?? credentials?.user ?? "default",
    password: process.env.CLICKHOUSE_PASSWORD ?? credentials?.password ?? "",
    database,
    requestTimeoutMs: 60_000,
    asyncInsert: false,
  };
}

export function uniqueDatabaseName(prefix = "muse_test"): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

export interface TestDatabase {
  db: Db;
  config: ClickHouseConfig;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own; `drop()` removes it. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const config = withDatabase(testClickHouseConfig(), uniqueDatabaseName());
  if (options.migrate ?? true) await migrate(config);
  else {
    const admin = createDb(testClickHouseConfig());
    await admin.command("CREATE DATABASE IF NOT EXISTS {db:Identifier}", { db: config.database });
    await admin.close();
  }
  const db = createDb(config);
  return {
    db,
    config,
    async drop() {
      await db.close();
      const admin = createDb(testClickHouseConfig());
      await admin.command("DROP DATABASE IF EXISTS {db:Identifier}", { db: config.database });
      await admin.close();
    },
  };
}
