import type { Db } from "./clickhouse/client";

export type Health = { status: "ok"; clickhouse: "ok"; database: string } | { status: "error"; clickhouse: "unreachable"; error: string };

/**
 * Liveness plus a ClickHouse ping. Public (GET /api/health), so a failure says
 * only that ClickHouse is unreachable: never its host, port or the client's
 * error text (which names them). `detail` (for the server's log, never the
 * response) has the error without credentials.
 */
export async function checkHealth(db: Db, detail?: (message: string) => void): Promise<Health> {
  const ping = await db.ping();
  if (ping.ok) return { status: "ok", clickhouse: "ok", database: db.database };
  detail?.(`ClickHouse at ${new URL(db.config.url).host} is unreachable: ${redactUrlCredentials(ping.error)}`);
  return { status: "error", clickhouse: "unreachable", error: "ClickHouse is unreachable" };
}

function redactUrlCredentials(message: string): string {
  return message.replace(/\/\/[^/@\s]+@/g, "//***@");
}
