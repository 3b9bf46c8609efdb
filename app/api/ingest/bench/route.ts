import { appLogger } from "@/lib/app-logger";
import { getDb } from "@/lib/clickhouse";
import { errorText, retryWrite, routeDlq } from "@/lib/dlq";
import { loadEnv } from "@/lib/env";
import { afterResponse } from "@/lib/http/after";
import { requireToken } from "@/lib/http/auth";
import { json, jsonError, validationError } from "@/lib/http/responses";
import { IngestWriteError, ingestReports, readBenchRequest, spoolReports, validateReports } from "@/lib/ingest/reports/ingest";
import { metricsFromEnv } from "@/lib/metrics";

export const dynamic = "force-dynamic";
export const maxDuration = 60;

const ROUTE = "bench";

/**
 * POST /api/ingest/bench: one Banterhearts report or an array of them (docs/api.md).
 *
 * When ClickHouse cannot take the rows after quick retries the answer stays
 * 503 (the sender, a CI job, retries, and its reports also stay in git for the
 * ingest agent), and the validated rows are queued in the dead-letter store
 * as well, so a sender that gives up loses nothing: the retry and the replay
 * write the same run_ids, which collapse.
 */
export async function POST(request: Request): Promise<Response> {
  const env = loadEnv();
  const log = appLogger(env, { route: "/api/ingest/bench" });
  const metrics = metricsFromEnv(env, log);
  const answer = (response: Response, rejected?: string) => {
    metrics.count("muse.ingest.requests", 1, { route: ROUTE, status: response.status });
    if (rejected) metrics.count("muse.ingest.rejected", 1, { route: ROUTE, reason: rejected });
    return response;
  };

  try {
    const denied = requireToken(request, "MUSE_INGEST_TOKEN", env);
    if (denied) return answer(denied, denied.status === 503 ? "not_configured" : "unauthorized");

    const body = await readBenchRequest(request);
    if (!body.ok) {
      const response = body.problems ? validationError(body.error, body.problems) : jsonError(body.status, body.error);
      return answer(response, body.reason);
    }

    const validated = validateReports(body.inputs);
    if (!validated.ok) {
      const invalid = new Set(validated.problems.map((p) => p.index)).size;
      return answer(validationError(`${invalid} of ${body.inputs.length} reports are invalid; nothing was written`, validated.problems), "invalid");
    }

    try {
      const result = await retryWrite(
        () => ingestReports(getDb(), validated.reports),
        (error) => error instanceof IngestWriteError && error.unreachable,
      );
      for (const report of validated.reports) {
        metrics.count("muse.ingest.reports", 1, { benchmark_type: report.benchmark_type, route: ROUTE });
        metrics.count("muse.ingest.bench_rows", report.bench_runs.length, { benchmark_type: report.benchmark_type });
      }
      metrics.count("muse.ingest.llm_rows", result.llm_rows);
      return answer(json({ accepted: result.accepted, run_ids: result.run_ids }, 202));
    } catch (error) {
      if (!(error instanceof IngestWriteError)) throw error;
      log.error("bench ingest write failed", { table: error.table, error: error.message });
      metrics.count("muse.clickhouse.write_errors", 1, { table: error.table });
      const why = error.unreachable ? "ClickHouse is unreachable" : "ClickHouse refused the write";
      let queued = false;
      try {
        // Only onto durable storage: on a serverless instance the copy would vanish with it (lib/dlq.ts).
        const store = routeDlq(env, { log, onDepth: (depth) => metrics.gauge("muse.dlq.depth", depth) });
        if (store.dlq) {
          await spoolReports(store.dlq, validated.reports, "/api/ingest/bench", error);
          queued = true;
        }
      } catch (spoolError) {
        log.error("bench rows could not be queued either", { error: errorText(spoolError) });
      }
      const also = queued ? "; the reports were also queued for replay" : "";
      return answer(jsonError(503, `${why}; retry the request (retries never duplicate rows)${also}`, {}, { "Retry-After": "30" }), "storage_unavailable");
    }
  } finally {
    await afterResponse(() => metrics.flush());
  }
}
