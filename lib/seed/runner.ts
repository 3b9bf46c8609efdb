import type { BenchmarkType } from "../ingest/reports/schemas";
import { BENCHMARK_TYPES } from "../ingest/reports/schemas";
import { codeAt, readSampleWorld, runPerformance, runRng, sampleReport, type SampleWorld } from "./hearts-world";

/**
 * The sample world's benchmark runner: what a Banterhearts CI job does with a
 * bisection request — check out the commit, run the requested benchmark
 * `repeats` times, and send each report with the commit it measured and the
 * request's id. Here "running" is the sample world's performance model at that
 * commit and at the time the runner runs (lib/seed/hearts-world.ts), so the
 * runner's day has its own machine drift, as a real bisection day does.
 *
 * `npm run demo` polls GET /api/bench/requests with MUSE_RUNNER_TOKEN, claims
 * each request and POSTs these reports to /api/ingest/bench with the
 * X-Muse-Request-Id header; tests call it directly.
 */

export interface RunnerRequest {
  id: string;
  commit_sha: string;
  benchmark_type: string;
  model: string;
  repeats: number;
}

/** The reports answering one request (one per repeat), each with commit_sha and request_id. */
export async function reportsForRequest(heartsDir: string, request: RunnerRequest, now: Date, world?: SampleWorld): Promise<Record<string, unknown>[]> {
  const w = world ?? (await readSampleWorld(heartsDir));
  if (!(BENCHMARK_TYPES as readonly string[]).includes(request.benchmark_type)) throw new Error(`unknown benchmark type ${request.benchmark_type}`);
  const { factor, quantEffects } = await codeAt(heartsDir, w, request.commit_sha);
  return Array.from({ length: request.repeats }, (_, i) => {
    // Repeats a few seconds apart: distinct reports (distinct run ids) of the same commit.
    const at = new Date(now.getTime() + i * 5_000);
    const rng = runRng(`${request.id}:${i}`);
    return sampleReport(request.benchmark_type as BenchmarkType, request.model, at, runPerformance(factor, at, w, rng), rng, {
      commitSha: request.commit_sha,
      requestId: request.id,
      quantEffects,
    });
  });
}
