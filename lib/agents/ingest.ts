import { z } from "zod";
import { markRequestsDone } from "../bisection/requests";
import { answeredRequestIds, ingestReports, validateReports } from "../ingest/reports/ingest";
import type { NormalizedReport } from "../ingest/reports/normalize";
import { TransientError, type AgentDefinition, type AgentDeps, type AgentResult, type RunContext } from "./types";
import { insertUpstreamCommits, latestCommitSha } from "../clickhouse/queries/upstream-commits";
import type { UpstreamCommit } from "../upstream/types";
import { IngestWriteError } from "../ingest/reports/ingest";
import { accuracyGates, LatestBenchRuns } from "../metrics/bench";

/**
 * ingest: report files added to the Banterhearts repository since the last
 * ingested commit, into bench_runs and llm_events. Each report's commit is the
 * commit that added the file (unless the report names its own).
 *
 * Progress is the Banterhearts commits recorded in upstream_commits, written
 * only after their reports: a crash in between re-reads those commits next
 * time, and the reports' content-derived run_ids make the rewrite a no-op.
 * A file that is not a valid report is listed in the summary and logged; it
 * never blocks the good ones.
 */

export const REPORT_PATH = /^reports\/.+\.json$/;

export const ingestOptions = z
  .object({
    maxCommits: z.number().int().min(1).max(10_000).default(1_000).describe("commits read per run (the oldest unread first)"),
    batchReports: z.number().int().min(1).max(1_000).default(200).describe("reports per insert"),
    dryRun: z.boolean().default(false).describe("validate, but write nothing"),
  })
  .strict();
export type IngestOptions = z.output<typeof ingestOptions>;

export interface RejectedFile {
  commit: string;
  path: string;
  problems: string[];
}

export interface IngestSummary extends Record<string, unknown> {
  repo: string;
  since_commit: string | null;
  commits: number;
  files: number;
  reports: number;
  bench_rows: number;
  llm_rows: number;
  rejected: RejectedFile[];
  /** Variants a report says failed (a backend that did not compile, an errored method): stored as failed rows, listed here. */
  failed_variants: { commit: string; path: string; variant: string; error: string }[];
  latest_commit: string | null;
  dry_run: boolean;
}

export async function ingest(options: IngestOptions, deps: AgentDeps, context?: Pick<RunContext, "progress">): Promise<AgentResult<IngestSummary>> {
  const { db, upstream, metrics, log } = deps;
  const lastSha = await latestCommitSha(db, "banterhearts");
  const all = await upstream.hearts.listCommits(lastSha ? { afterSha: lastSha, limit: 100_000 } : { limit: 100_000 });
  const commits = all.slice(0, options.maxCommits);
  context?.progress(`${all.length} new Banterhearts commit(s) since ${lastSha ? lastSha.slice(0, 7) : "the beginning"}; reading ${commits.length}`);

  const summary: IngestSummary = {
    repo: upstream.hearts.location,
    since_commit: lastSha ?? null,
    commits: commits.length,
    files: 0,
    reports: 0,
    bench_rows: 0,
    llm_rows: 0,
    rejected: [],
    failed_variants: [],
    latest_commit: null,
    dry_run: options.dryRun,
  };
  let pending: NormalizedReport[] = [];
  let pendingCommits: UpstreamCommit[] = [];

  const rowsByType = new Map<string, number>();
  // The latest run per benchmark type × model × quantization over everything written, sent as gauges at the end.
  const latest = new LatestBenchRuns();
  const flush = async () => {
    if (!options.dryRun) {
      if (pending.length) {
        try {
          const written = await ingestReports(db, pending);
          summary.bench_rows += written.bench_rows;
          latest.add(pending);
          for (const r of pending) rowsByType.set(r.benchmark_type, (rowsByType.get(r.benchmark_type) ?? 0) + r.bench_runs.length);
          summary.llm_rows += written.llm_rows;
          // Reports that answer a bisection request (their request_id): the request is done.
          const answered = answeredRequestIds(pending);
          if (answered.length) {
            const marked = await markRequestsDone(db, answered, deps.clock.now());
            if (marked.unknown.length) log.warn("reports name bisection requests Muse does not have", { request_ids: marked.unknown.slice(0, 20) });
          }
        } catch (error) {
          if (error instanceof IngestWriteError && error.unreachable) throw new TransientError(error.message, { cause: error });
          throw error;
        }
      }
      await insertUpstreamCommits(db, "banterhearts", pendingCommits);
    }
    for (const r of pending) metrics.count("muse.ingest.reports", 1, { benchmark_type: r.benchmark_type, route: "agent" });
    summary.reports += pending.length;
    if (pendingCommits.length) summary.latest_commit = pendingCommits.at(-1)!.sha;
    pending = [];
    pendingCommits = [];
  };

  for (const [i, commit] of commits.entries()) {
    const files = commit.files.filter((f) => (f.status === "added" || f.status === "modified") && REPORT_PATH.test(f.path));
    for (const file of files) {
      summary.files += 1;
      let parsed: unknown;
      try {
        parsed = JSON.parse(await upstream.hearts.readFile(commit.sha, file.path));
      } catch (error) {
        if (error instanceof SyntaxError) {
          summary.rejected.push({ commit: commit.sha, path: file.path, problems: [`not JSON: ${error.message}`] });
          continue;
        }
        throw error;
      }
      const result = validateReports([{ report: parsed, commitSha: commit.sha, sourcePath: file.path }], { now: deps.clock.now() });
      if (!result.ok) {
        summary.rejected.push({
          commit: commit.sha,
          path: file.path,
          problems: result.problems.slice(0, 10).map((p) => `${p.path || "(report)"}: ${p.message}`),
        });
        continue;
      }
      pending.push(...result.reports);
      for (const report of result.reports) {
        for (const f of report.failed_variants)
          if (summary.failed_variants.length < 100)
            summary.failed_variants.push({ commit: commit.sha, path: file.path, variant: f.variant, error: f.error.slice(0, 300) });
      }
    }
    pendingCommits.push(commit);
    if (pending.length >= options.batchReports || i === commits.length - 1) {
      await flush();
      context?.progress(`ingested ${i + 1}/${commits.length} commits`, { reports: summary.reports });
    }
  }
  await flush();

  for (const r of summary.rejected) log.warn("report file rejected", { commit: r.commit, path: r.path, problems: r.problems });
  if (summary.rejected.length) metrics.count("muse.ingest.rejected", summary.rejected.length, { route: "agent", reason: "invalid_report" });
  // Tagged by benchmark type, as the ingest route sends it and the registry declares it.
  for (const [type, rows] of rowsByType) metrics.count("muse.ingest.bench_rows", rows, { benchmark_type: type });
  metrics.count("muse.ingest.llm_rows", summary.llm_rows);
  // Stamped now, not at the runs' own time: Datadog drops points older than about an hour (lib/metrics/bench.ts).
  latest.emit(metrics, accuracyGates(deps.env));
  return { status: commits.length === 0 ? "skipped" : "ok", summary, ...(commits.length === 0 ? { reason: "no new Banterhearts commits" } : {}) };
}

export const ingestAgent: AgentDefinition<typeof ingestOptions, IngestSummary> = {
  name: "ingest",
  description: "new Banterhearts report files into bench_runs and llm_events",
  options: ingestOptions,
  run: (options, deps, context) => ingest(options, deps, context),
};
