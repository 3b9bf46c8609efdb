import { markRequestsDone } from "../bisection/requests";
import type { Db } from "../clickhouse/client";
import type { ItemProblem } from "../ingest/problems";
import {
  answeredRequestIds,
  IngestWriteError,
  ingestReports,
  spoolReports,
  validateReports,
  type IngestResult,
  type ReportInput,
} from "../ingest/reports/ingest";
import type { NormalizedReport } from "../ingest/reports/normalize";
import { commitSha as commitShaSchema, PULL_REQUEST_MAX, REQUEST_ID_PATTERN } from "../ingest/reports/schemas";
import { checkPullRequestsAfterIngest } from "../pull-requests";
import type { ServerContext } from "../server-context";
import { afterResponseInBackground } from "./after";
import { accuracyGates, LatestBenchRuns } from "../metrics/bench";
import { acceptedMediaType, readBodyCapped, UNREADABLE_BODY_MESSAGE } from "./body";
import { answer, type IngestSpec } from "./ingest-route";
import { json, jsonError, validationError } from "./responses";

/**
 * POST /api/ingest/bench: one Banterhearts report or an array of them
 * (docs/api.md), over HTTP; the write is lib/ingest/reports.
 *
 * When ClickHouse cannot take the rows after quick retries the answer stays
 * 503 (the sender, a CI job, retries, and its reports also stay in git for the
 * ingest agent), and the validated rows are queued in the dead-letter store
 * as well, so a sender that gives up loses nothing: the retry and the replay
 * write the same run_ids, which collapse.
 */

export const BENCH_ROUTE = "/api/ingest/bench";
export const MAX_BENCH_BODY_BYTES = 1024 * 1024;
export const MAX_REPORTS_PER_REQUEST = 1000;

export type BenchRequest =
  { ok: true; inputs: ReportInput[] } | { ok: false; status: 400 | 413 | 415; reason: string; error: string; problems?: ItemProblem[] };

const fail = (status: 400 | 413 | 415, reason: string, error: string, problems?: ItemProblem[]): BenchRequest => ({
  ok: false,
  status,
  reason,
  error,
  problems,
});

/**
 * Content type, size, JSON and shape of an ingest request (one report or an
 * array of them), with X-Commit-Sha attached to every report. The reports
 * themselves are checked by validateReports.
 */
export async function readBenchRequest(request: Request): Promise<BenchRequest> {
  if (!acceptedMediaType(request.headers.get("content-type"), ["application/json"])) {
    return fail(415, "unsupported_media_type", "Content-Type must be application/json (UTF-8)");
  }

  const header = request.headers.get("x-commit-sha");
  const commitSha = header === null ? undefined : commitShaSchema.safeParse(header.trim());
  if (commitSha && !commitSha.success) return fail(400, "invalid_commit_sha", "X-Commit-Sha must be a 40-hex commit sha");

  const requestIdHeader = request.headers.get("x-muse-request-id");
  const requestId = requestIdHeader === null ? undefined : requestIdHeader.trim();
  if (requestId !== undefined && !REQUEST_ID_PATTERN.test(requestId)) {
    return fail(400, "invalid_request_id", "X-Muse-Request-Id must be a request id: 1–100 characters of A–Z, a–z, 0–9, _ and -");
  }

  const pullRequestHeader = request.headers.get("x-muse-pull-request");
  const pullRequest = pullRequestHeader === null ? undefined : parsePullRequestHeader(pullRequestHeader);
  if (pullRequest === null) return fail(400, "invalid_pull_request", "X-Muse-Pull-Request must be a pull-request number: a positive integer");

  const read = await readBodyCapped(request, MAX_BENCH_BODY_BYTES);
  if (!read.ok) {
    return read.problem === "too_large"
      ? fail(413, "too_large", `body is larger than ${MAX_BENCH_BODY_BYTES} bytes (1 MiB)`)
      : fail(400, "unreadable_body", UNREADABLE_BODY_MESSAGE);
  }
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(read.bytes));
  } catch {
    return fail(400, "invalid_json", "body is not valid JSON (expected a report object or an array of reports)");
  }

  const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (!isObject(body) && !Array.isArray(body)) {
    return fail(400, "invalid", "expected a report object or an array of reports", [
      { index: 0, path: "", message: "expected a report object or an array of reports" },
    ]);
  }
  const reports: unknown[] = Array.isArray(body) ? body : [body];
  if (reports.length === 0) return fail(400, "invalid", "expected at least one report");
  if (reports.length > MAX_REPORTS_PER_REQUEST) {
    return fail(413, "too_large", `at most ${MAX_REPORTS_PER_REQUEST} reports per request (got ${reports.length})`);
  }
  if (requestId !== undefined) {
    const disagreeing = reports.flatMap((report, index) => {
      const own = isObject(report) ? (report as Record<string, unknown>).request_id : undefined;
      return own !== undefined && own !== requestId ? [{ index, own }] : [];
    });
    if (disagreeing.length > 0) {
      const { own } = disagreeing[0];
      const message = `request_id ${JSON.stringify(own)} in the report and the X-Muse-Request-Id header ${JSON.stringify(requestId)} disagree`;
      return fail(
        400,
        "request_id_mismatch",
        `${message}${disagreeing.length > 1 ? ` (and ${disagreeing.length - 1} more report(s))` : ""}; nothing was written`,
        disagreeing.map(({ index, own: value }) => ({
          index,
          path: "request_id",
          message: `request_id ${JSON.stringify(value)} in the report and the X-Muse-Request-Id header ${JSON.stringify(requestId)} disagree`,
        })),
      );
    }
  }
  if (pullRequest !== undefined) {
    const disagreeing = reports.flatMap((report, index) => {
      const own = isObject(report) ? (report as Record<string, unknown>).pull_request : undefined;
      return own !== undefined && own !== pullRequest ? [{ index, own }] : [];
    });
    if (disagreeing.length > 0) {
      const message = (own: unknown) => `pull_request ${JSON.stringify(own)} in the report and the X-Muse-Pull-Request header ${pullRequest} disagree`;
      return fail(
        400,
        "pull_request_mismatch",
        `${message(disagreeing[0].own)}${disagreeing.length > 1 ? ` (and ${disagreeing.length - 1} more report(s))` : ""}; nothing was written`,
        disagreeing.map(({ index, own }) => ({ index, path: "pull_request", message: message(own) })),
      );
    }
  }
  return { ok: true, inputs: reports.map((report) => ({ report, commitSha: commitSha?.data, requestId, pullRequest })) };
}

/** The X-Muse-Pull-Request header: a positive integer (decimal digits only), else null. */
export function parsePullRequestHeader(value: string): number | null {
  const text = value.trim();
  if (!/^[0-9]{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 && n <= PULL_REQUEST_MAX ? n : null;
}

/** Validated reports and the time they were accepted (when their bisection requests are done). */
export interface BenchInput {
  reports: NormalizedReport[];
  now: Date;
  /** The request's context, for the pull-request checks run after the answer. */
  context?: ServerContext;
}

/**
 * Writes the reports, then marks the bisection requests they answer done. A
 * failure to mark is a failed write (503: the sender retries, and the rows it
 * rewrites collapse); an unknown request id is not.
 */
export async function writeBenchReports(db: Db, input: BenchInput): Promise<IngestResult & { requests_done: string[]; requests_unknown: string[] }> {
  const result = await ingestReports(db, input.reports);
  const ids = answeredRequestIds(input.reports);
  if (ids.length === 0) return { ...result, requests_done: [], requests_unknown: [] };
  try {
    const marked = await markRequestsDone(db, ids, input.now);
    return { ...result, requests_done: marked.done, requests_unknown: marked.unknown };
  } catch (error) {
    throw new IngestWriteError("bench_requests", error);
  }
}

export const benchIngest: IngestSpec<BenchInput, Awaited<ReturnType<typeof writeBenchReports>>, void> = {
  route: BENCH_ROUTE,
  tag: "bench",
  tokens: ["MUSE_INGEST_TOKEN_BANTERHEARTS", "MUSE_INGEST_TOKEN"],
  noun: "bench rows",

  async accept(request, context) {
    const body = await readBenchRequest(request);
    if (!body.ok) {
      const response = body.problems ? validationError(body.error, body.problems) : jsonError(body.status, body.error);
      return { ok: false, answer: answer(response, body.reason) };
    }
    const validated = validateReports(body.inputs);
    if (!validated.ok) {
      const invalid = new Set(validated.problems.map((p) => p.index)).size;
      return {
        ok: false,
        answer: answer(validationError(`${invalid} of ${body.inputs.length} reports are invalid; nothing was written`, validated.problems), "invalid"),
      };
    }
    return { ok: true, input: { reports: validated.reports, now: context.clock.now(), context } };
  },

  write: (db, input) => writeBenchReports(db, input),

  storeFailure: (error) =>
    error instanceof IngestWriteError
      ? { unreachable: error.unreachable, table: error.table, fields: { table: error.table, error: error.message } }
      : undefined,

  stored({ reports, context }, result, metrics) {
    // Pull-request runs: their check against the merge base runs after the answer (docs/reach.md "Pull requests").
    if (context && reports.some((r) => r.pull_request > 0)) afterResponseInBackground(() => checkPullRequestsAfterIngest(context, reports));
    for (const report of reports) {
      metrics.count("muse.ingest.reports", 1, { benchmark_type: report.benchmark_type, route: "bench" });
      metrics.count("muse.ingest.bench_rows", report.bench_runs.length, { benchmark_type: report.benchmark_type });
    }
    metrics.count("muse.ingest.llm_rows", result.llm_rows);
    // The latest run per benchmark type × model × quantization as gauges, stamped now (lib/metrics/bench.ts).
    const latest = new LatestBenchRuns();
    latest.add(reports);
    latest.emit(metrics, context ? accuracyGates(context.env) : undefined);
    const requests =
      result.requests_done.length || result.requests_unknown.length ? { requests_done: result.requests_done, requests_unknown: result.requests_unknown } : {};
    return answer(json({ accepted: result.accepted, run_ids: result.run_ids, ...requests }, 202));
  },

  spool: (dlq, { reports }, error) => spoolReports(dlq, reports, BENCH_ROUTE, error),

  unstored(outcome, failure) {
    const why = failure.unreachable ? "ClickHouse is unreachable" : "ClickHouse refused the write";
    const also = outcome.queued ? "; the reports were also queued for replay" : "";
    return answer(jsonError(503, `${why}; retry the request (retries never duplicate rows)${also}`, {}, { "Retry-After": "30" }), "storage_unavailable");
  },
};
