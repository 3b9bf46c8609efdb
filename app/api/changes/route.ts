import { z } from "zod";
import { openRegressions } from "@/lib/analysis/changes";
import { seriesLabel } from "@/lib/analysis/series";
import { serverContext } from "@/lib/server-context";
import { benchChangeRow } from "@/lib/clickhouse/tables";
import { readQuery } from "@/lib/http/query";
import { json, jsonError } from "@/lib/http/responses";

/**
 * GET /api/changes?status=open|fixed|kept|all&limit= — benchmark changes of
 * bench_changes (latest version of each: FINAL), newest commit first.
 * `open` (default) are regressions no later commit has fixed; `all` is open,
 * fixed and kept — never `withdrawn` (a change a later run no longer finds is
 * no change). Public and read-only like /api/episodes: what it returns is
 * what the episodes and the status page already publish. One bounded query
 * (limit ≤ 500); shared caches may keep an answer for a minute. Unknown or
 * repeated parameters are refused (400 naming the parameter).
 */

export const dynamic = "force-dynamic";
export const maxDuration = 10;

const STATUSES = ["open", "fixed", "kept", "all"] as const;
const MAX_LIMIT = 500;

const query = z.strictObject({
  status: z.enum(STATUSES).default("open"),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(50),
});

export async function GET(request: Request): Promise<Response> {
  const parsed = readQuery(request, query);
  if (!parsed.ok) return parsed.response;
  const { status, limit } = parsed.data;
  let rows;
  try {
    const db = serverContext().db;
    rows =
      status === "open"
        ? await openRegressions(db, limit)
        : await db.query(
            `SELECT * FROM bench_changes FINAL
              WHERE status IN {statuses:Array(String)}
              ORDER BY commit_ts DESC, abs(change_pct) DESC
              LIMIT {limit:UInt32}`,
            { statuses: status === "all" ? ["open", "fixed", "kept"] : [status], limit },
            benchChangeRow,
          );
  } catch {
    return jsonError(503, "ClickHouse is unreachable");
  }
  const changes = rows.map((r) => ({ ...r, label: seriesLabel(r) }));
  return json({ status, limit, count: changes.length, changes }, 200, { "Cache-Control": "public, max-age=0, s-maxage=60, stale-while-revalidate=60" });
}
