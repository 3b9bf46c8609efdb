import { z } from "zod";
import { jsonError } from "@/lib/http/responses";
import { eventChartSvg } from "@/lib/reach/chart-svg";
import { loadEvent, loadEventChart } from "@/lib/reach/event-chart";
import { serverContext } from "@/lib/server-context";
import { limitApi } from "@/lib/http/rate-limit";
import { loadEnv } from "@/lib/env";

/**
 * GET /api/events/{id}/chart.svg — the chart of one benchmark event (bench_events) as a standalone SVG image:
 * its lead series run by run around the change, the segment means with their 95 % intervals, the blamed commit
 * (or the range while bisecting) and the fix. Public and read-only like /api/changes (it draws what the status
 * page and the episodes publish); GitHub issues and Slack messages embed it (docs/reach.md). 404 for an unknown
 * id or an event without a chart (no code changed, or its commits are not in the stored history). Shared caches
 * may keep it for a minute; the SVG may not load anything or run script (its own Content-Security-Policy).
 */

export const dynamic = "force-dynamic";
export const maxDuration = 10;

const eventId = z.uuid();

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const id = (await params).id;
  if (!eventId.safeParse(id).success) return jsonError(404, "no such event");
  const { readerDb: db, env, clock } = serverContext({ fields: { route: "/api/events/{id}/chart.svg" } });
  let svg: string | undefined;
  try {
    const limitedResponse = await limitApi(request, loadEnv());
    if (limitedResponse) return limitedResponse;
    const event = await loadEvent(db, id);
    if (!event) return jsonError(404, "no such event");
    const chart = await loadEventChart(db, event, { now: clock.now(), nonCodeGlobs: env.MUSE_NON_CODE_GLOBS });
    if (chart) svg = eventChartSvg(chart, { kind: event.kind === "improvement" ? "improvement" : "regression" });
  } catch {
    return jsonError(503, "ClickHouse is unreachable");
  }
  if (!svg) return jsonError(404, "this event has no chart");
  return new Response(svg, {
    status: 200,
    headers: {
      "Content-Type": "image/svg+xml; charset=utf-8",
      "Cache-Control": "public, max-age=0, s-maxage=60, stale-while-revalidate=60",
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
