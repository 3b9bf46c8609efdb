import { z } from "zod";
import { CHANGE_SHAPES } from "@/lib/clickhouse/tables";
import { benchEventRow, type BenchEventRow } from "@/lib/lifecycle/events";
import { serverContext } from "@/lib/server-context";
import { readQuery } from "@/lib/http/query";
import { json, jsonError } from "@/lib/http/responses";
import { limitApi } from "@/lib/http/rate-limit";
import { loadEnv } from "@/lib/env";

/**
 * GET /api/changes?state=open|partly_fixed|fixed|kept|environment&shape=step|drift|spread&limit= — benchmark change
 * events of bench_events (latest version of each: FINAL), newest commit first, then by size. Each event carries its
 * `shape` (step, drift or spread; docs/change-points.md) and its size in that shape's terms: a drift's
 * `slope_pct_per_run` with `slope_ci_low`/`slope_ci_high` and `drift_runs`, a spread change's `spread_ratio` with
 * `spread_ci_low`/`spread_ci_high` (null for the other shapes); `shape` filters by it. Without `state`: the
 * regressions still open, fully or in part (open and partly_fixed). Never `withdrawn` (an event a later run
 * no longer finds is no event), never one a maintainer triaged `invalid`, and a regression triaged `expected` is
 * not open (docs/triage.md); each event carries its triage. Public and read-only like /api/episodes: what it returns is what the
 * episodes and the status page already publish; the bookkeeping columns (`run_id`, `updated_at`) are left
 * out. One bounded query (limit ≤ 500); shared caches may keep an answer for a minute. Unknown or repeated
 * parameters are refused (400 naming the parameter).
 */

export const dynamic = "force-dynamic";
export const maxDuration = 10;

const CHANGE_STATES = ["open", "partly_fixed", "fixed", "kept", "environment"] as const;
const DEFAULT_STATES = ["open", "partly_fixed"];
const MAX_LIMIT = 500;
/** Columns of bench_events that are bookkeeping, not part of the event: the council run that wrote the version and the version itself. */
const INTERNAL = new Set(["run_id", "updated_at"]);
const PUBLIC_COLUMNS = Object.keys(benchEventRow.shape).filter((c) => !INTERNAL.has(c));

const query = z.strictObject({
  state: z.enum(CHANGE_STATES).optional(),
  shape: z.enum(CHANGE_SHAPES).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(50),
});

type PublicEvent = Omit<BenchEventRow, "run_id" | "updated_at">;

export async function GET(request: Request): Promise<Response> {
  const parsed = readQuery(request, query);
  if (!parsed.ok) return parsed.response;
  const { state, shape, limit } = parsed.data;
  const states = state ? [state] : DEFAULT_STATES;
  let rows: BenchEventRow[];
  try {
    const limitedResponse = await limitApi(request, loadEnv());
    if (limitedResponse) return limitedResponse;
    rows = await serverContext().readerDb.query(
      `SELECT * FROM bench_events FINAL
        WHERE state IN {states:Array(String)} AND triage != 'invalid'
          AND NOT (triage = 'expected' AND kind = 'regression' AND state IN ('open', 'partly_fixed'))
          AND ({shape:String} = '' OR shape = {shape:String})
        ORDER BY commit_ts DESC, abs(change_pct) DESC, event_id
        LIMIT {limit:UInt32}`,
      { states, shape: shape ?? "", limit },
      benchEventRow,
    );
  } catch {
    return jsonError(503, "ClickHouse is unreachable");
  }
  const events: PublicEvent[] = rows.map((r) => Object.fromEntries(PUBLIC_COLUMNS.map((c) => [c, r[c as keyof BenchEventRow]])) as PublicEvent);
  return json({ events }, 200, { "Cache-Control": "public, max-age=0, s-maxage=60, stale-while-revalidate=60" });
}
