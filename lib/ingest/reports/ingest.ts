import { ClickHouseError } from "@clickhouse/client-web";
import { z } from "zod";
import type { Db } from "../../clickhouse/client";
import { dlqKey, type DeadLetterQueue } from "../../dlq";
import type { ItemProblem } from "../problems";
import { nestedDeeperThan } from "../json-depth";
import { normalizeReport, utcTimestamp, type NormalizedReport } from "./normalize";
import { benchmarkReport, commitSha as commitShaSchema, pullRequest as pullRequestSchema, requestId as requestIdSchema } from "./schemas";
import { messageOf } from "../../error-message";

/**
 * Banterhearts report ingestion, shared by POST /api/ingest/bench and the
 * ingest agent: validate a whole batch first, then write it with one insert
 * per table. Rows are keyed by deterministic ids, so a retry never duplicates.
 */

export interface ReportInput {
  report: unknown;
  /** Commit for a report without its own commit_sha (X-Commit-Sha, the commit that added the file). */
  commitSha?: string;
  sourcePath?: string;
  /** Bisection request for a report without its own request_id (X-Muse-Request-Id); one of its own must agree. */
  requestId?: string;
  /** Pull request for a report without its own pull_request (X-Muse-Pull-Request); one of its own must agree. */
  pullRequest?: number;
}

export type ValidationResult = { ok: true; reports: NormalizedReport[] } | { ok: false; problems: ItemProblem[] };

/**
 * Deepest nesting a report may have. Real reports are a handful of levels deep;
 * the run id is a hash of the canonical JSON, whose serialisation is recursive.
 */
export const MAX_REPORT_DEPTH = 64;

/** A report dated later than this after `now` is refused: its producer's clock is wrong, and it would pin the watcher's lag at 0. */
export const MAX_REPORT_FUTURE_SKEW_MS = 5 * 60_000;

export function validateReports(inputs: readonly ReportInput[], options: { now?: Date } = {}): ValidationResult {
  const latest = (options.now ?? new Date()).getTime() + MAX_REPORT_FUTURE_SKEW_MS;
  const problems: ItemProblem[] = [];
  const reports: NormalizedReport[] = [];
  inputs.forEach((input, index) => {
    if (nestedDeeperThan(input.report, MAX_REPORT_DEPTH)) {
      problems.push({ index, path: "", message: `the report is nested deeper than ${MAX_REPORT_DEPTH} levels` });
      return;
    }
    const parsed = benchmarkReport.safeParse(input.report);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => ({ index, path: z.core.toDotPath(issue.path), message: issue.message })));
      return;
    }
    const given = input.commitSha === undefined ? undefined : commitShaSchema.safeParse(input.commitSha);
    if (given && !given.success) {
      problems.push({ index, path: "commit_sha", message: "the commit sha given with the report is not 40 hex" });
      return;
    }
    const generatedMs = Date.parse(utcTimestamp(parsed.data.generated_at));
    if (generatedMs > latest) {
      const minutes = Math.ceil((generatedMs - latest + MAX_REPORT_FUTURE_SKEW_MS) / 60_000);
      problems.push({
        index,
        path: "generated_at",
        message: `generated_at ${parsed.data.generated_at} is ${minutes} minutes in the future (at most ${MAX_REPORT_FUTURE_SKEW_MS / 60_000} are accepted): check the clock of the machine that wrote the report`,
      });
      return;
    }
    const commitSha = parsed.data.commit_sha ?? given?.data;
    if (!commitSha) {
      problems.push({ index, path: "commit_sha", message: "missing: put commit_sha in the report or send the X-Commit-Sha header" });
      return;
    }
    if (input.requestId !== undefined && !requestIdSchema.safeParse(input.requestId).success) {
      problems.push({ index, path: "request_id", message: "the request id given with the report is not 1–100 characters of A–Z, a–z, 0–9, _ and -" });
      return;
    }
    const own = parsed.data.request_id;
    if (own !== undefined && input.requestId !== undefined && own !== input.requestId) {
      problems.push({
        index,
        path: "request_id",
        message: `request_id ${JSON.stringify(own)} in the report and the X-Muse-Request-Id header ${JSON.stringify(input.requestId)} disagree`,
      });
      return;
    }
    if (input.pullRequest !== undefined && !pullRequestSchema.safeParse(input.pullRequest).success) {
      problems.push({ index, path: "pull_request", message: "the pull request given with the report is not a positive integer" });
      return;
    }
    const ownPr = parsed.data.pull_request;
    if (ownPr !== undefined && input.pullRequest !== undefined && ownPr !== input.pullRequest) {
      problems.push({
        index,
        path: "pull_request",
        message: `pull_request ${ownPr} in the report and the X-Muse-Pull-Request header ${input.pullRequest} disagree`,
      });
      return;
    }
    reports.push(normalizeReport(parsed.data, { commitSha, sourcePath: input.sourcePath, requestId: input.requestId, pullRequest: input.pullRequest }));
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, reports };
}

export interface IngestResult {
  accepted: number;
  /** One per report, in request order. */
  run_ids: string[];
  bench_rows: number;
  llm_rows: number;
}

/** A write ClickHouse did not take; `unreachable` when no answer came back at all. */
export class IngestWriteError extends Error {
  readonly unreachable: boolean;
  constructor(
    readonly table: string,
    cause: unknown,
  ) {
    super(`writing ${table} failed: ${messageOf(cause)}`, { cause });
    this.name = "IngestWriteError";
    this.unreachable = !(cause instanceof ClickHouseError);
  }
}

async function insertAll(db: Db, table: "bench_runs" | "llm_events", rows: readonly object[]): Promise<void> {
  try {
    await db.insert(table, rows);
  } catch (error) {
    throw new IngestWriteError(table, error);
  }
}

/** The bisection requests a batch of reports answers (distinct, in order). */
export function answeredRequestIds(reports: readonly NormalizedReport[]): string[] {
  return [...new Set(reports.map((r) => r.request_id).filter((id) => id !== ""))];
}

/**
 * Writes validated reports: one insert into bench_runs, then one into
 * llm_events. If the second fails the first stays written; retrying the same
 * reports rewrites the same keys, so that is safe.
 */
export async function ingestReports(db: Db, reports: readonly NormalizedReport[]): Promise<IngestResult> {
  const { benchRows, llmRows } = reportRows(reports);
  await insertAll(db, "bench_runs", benchRows);
  await insertAll(db, "llm_events", llmRows);
  return { accepted: reports.length, run_ids: reports.map((r) => r.run_id), bench_rows: benchRows.length, llm_rows: llmRows.length };
}

function reportRows(reports: readonly NormalizedReport[]) {
  // The same report twice in one batch is written once.
  const unique = [...new Map(reports.map((r) => [r.run_id, r])).values()];
  return { runIds: unique.map((r) => r.run_id), benchRows: unique.flatMap((r) => r.bench_runs), llmRows: unique.flatMap((r) => r.llm_events) };
}

/**
 * When ClickHouse cannot take validated reports: the rows ingestReports would
 * have written (same run_ids and event_ids, so a replay or a retried request
 * collapses onto them) go to the dead-letter store, keyed by the reports'
 * run_ids. Throws when the store cannot be written either.
 */
export async function spoolReports(dlq: DeadLetterQueue, reports: readonly NormalizedReport[], source: string, error: unknown): Promise<void> {
  const { runIds, benchRows, llmRows } = reportRows(reports);
  const inserts = [
    { table: "bench_runs", rows: benchRows },
    { table: "llm_events", rows: llmRows },
  ].filter((i) => i.rows.length > 0);
  if (inserts.length === 0) return;
  await dlq.add({ kind: "clickhouse.insert", key: dlqKey("bench", [...runIds].sort().join(",")), source, error, payload: { inserts } });
}
