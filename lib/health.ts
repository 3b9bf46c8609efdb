import type { Db } from "./clickhouse/client";

export type Health =
  | { status: "ok"; clickhouse: "ok"; database: string }
  | { status: "error"; clickhouse: "unreachable"; error: string };

/** Liveness plus a ClickHouse ping; the error names the problem without credentials. */
export async function checkHealth(db: Db): Promise<Health> {
  const ping = await db.ping();
  if (ping.ok) return { status: "ok", clickhouse: "ok", database: db.database };
  return {
    status: "error",
    clickhouse: "unreachable",
    error: `ClickHouse at ${new URL(db.config.url).host} is unreachable: ${redactUrlCredentials(ping.error)}`,
  };
}

function redactUrlCredentials(message: string): string {
  return message.replace(/\/\/[^/@\s]+@/g, "//***@");
}
