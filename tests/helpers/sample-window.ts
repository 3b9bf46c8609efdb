import { v5 as uuidv5 } from "uuid";
import type { Db } from "../../lib/clickhouse/client";

/**
 * Data constructed for the analysis (and the council and translator built on
 * it): 14 days, 2026-11-01 to 2026-11-14, of benchmarks and session rollups.
 * Hearts p95 latency rises 10 ms a day; user latency follows it
 * (2 × p95 + 100), so r = +1 by construction. One model (llama int8) gets a
 * planted 30 % regression in the current week (from day 7); another
 * (mistral fp16) only jitters.
 *
 * Row ids are uuid v5 in the caller's namespace, as each suite had them.
 */

/** The commit every benchmark row of the first week, and every session row, carries. */
export const SAMPLE_SHA = "d".repeat(40);
/**
 * The code commit the second week's benchmark runs measured (llama's planted regression): a change between runs of
 * one and the same commit would be an environment change, never a regression of the code.
 */
export const REGRESSION_COMMIT = "c".repeat(40);
export const HEARTS_COMMIT = "e".repeat(40);
export const PACKS_COMMIT = "f".repeat(40);

/**
 * The council's, translator's and publisher's configuration for the sample
 * window (upstream lag allowed up to 12 h; commit links on GitHub), and the
 * links the truth rule allows with it.
 */
export const SAMPLE_ENV = {
  MUSE_HEARTS_MAX_LAG_SECONDS: "43200",
  MUSE_PACKS_MAX_LAG_SECONDS: "43200",
  BANTERHEARTS_REPO: "acme/banterhearts",
  BANTERPACKS_REPO: "acme/banterpacks",
};
export const SAMPLE_LINKS = { hearts: SAMPLE_ENV.BANTERHEARTS_REPO, packs: SAMPLE_ENV.BANTERPACKS_REPO };

function sampleWindowRows(ns: string): { bench: Record<string, unknown>[]; stats: Record<string, unknown>[] } {
  const bench: Record<string, unknown>[] = [];
  const stats: Record<string, unknown>[] = [];
  for (let d = 0; d < 14; d++) {
    const day = new Date(Date.UTC(2026, 10, 1 + d));
    const current = d >= 7;
    const p95 = 100 + 10 * d;
    const row = (variant: string, model: string, quant: string, latency: number, tps: number, hour: number) => ({
      ts: new Date(day.getTime() + hour * 3_600_000).toISOString(),
      run_id: uuidv5(`${d}-${variant}-${hour}`, ns),
      commit_sha: current ? REGRESSION_COMMIT : SAMPLE_SHA,
      benchmark_type: "quantization",
      variant,
      model,
      quant,
      dataset: "wikitext-2",
      device: "cuda",
      latency_mean_ms: latency * 0.8,
      latency_p50_ms: null,
      latency_p95_ms: latency,
      latency_p99_ms: null,
      tokens_per_sec: tps,
      cost_per_1k: 0.0002,
      memory_peak_mb: null,
      extra: "{}",
      source_path: "",
    });
    // The trend rows (what correlates) and, per model, 3 runs a day.
    bench.push(row("trend", "phi-3-mini", "fp16", p95, 500, 6));
    for (const h of [8, 12, 16]) {
      const jitter = (h - 12) / 4; // -1, 0, +1
      bench.push(row("int8", "llama-3.1-8b", "int8", (current ? 130 : 100) + jitter, current ? 70 : 90 + jitter, h));
      bench.push(row("fp16", "mistral-7b", "fp16", 200 + jitter * 3, 50 + jitter, h));
    }
    // Mean over a day's rows: (p95 + 3*llama + 3*mistral) / 7 → still linear in d within each week.
    for (let s = 0; s < 4; s++) {
      const userLatency = 2 * p95 + 100;
      stats.push({
        hour: new Date(day.getTime() + (10 + s) * 3_600_000).toISOString(),
        session_id: uuidv5(`${d}-${s}`, ns),
        commit_sha: SAMPLE_SHA,
        avg_latency_ms: userLatency,
        latency_sum_ms: userLatency * 50,
        error_rate: 0.02,
        abandonment_rate: 0.1,
        events_count: 50,
        errors_count: 1,
        queries_count: 10,
        abandoned_count: 1,
        answers_count: 9,
        answer_latency_sum_ms: userLatency * 9,
        duration_seconds: 600,
      });
    }
  }
  return { bench, stats };
}

/** Inserts the 14 days into bench_runs and session_stats. */
export async function seedSampleWindow(db: Db, ns: string): Promise<void> {
  const { bench, stats } = sampleWindowRows(ns);
  await db.insert("bench_runs", bench);
  await db.insert("session_stats", stats);
}

/** The 14 days plus the regression's commit and one more upstream commit per repository inside the window. */
export async function seedSampleWindowWithCommits(db: Db, ns: string): Promise<void> {
  await seedSampleWindow(db, ns);
  await db.insert("upstream_commits", [
    {
      repo: "banterhearts",
      sha: REGRESSION_COMMIT,
      ts: "2026-11-08T06:00:00.000Z",
      author: "dev",
      message: "perf(quant): route int8 through the generic kernel",
      files: ["quant/int8.py"],
      files_changed: 1,
      additions: 12,
      deletions: 3,
    },
    {
      repo: "banterhearts",
      sha: HEARTS_COMMIT,
      ts: "2026-11-10T09:30:00.000Z",
      author: "dev",
      message: "Quantize llama to int8 (2 kernels)",
      files: ["a.py"],
      files_changed: 1,
      additions: 10,
      deletions: 2,
    },
    {
      repo: "banterpacks",
      sha: PACKS_COMMIT,
      ts: "2026-11-12T14:05:00.000Z",
      author: "dev",
      message: "overlay: faster first paint",
      files: ["b.ts"],
      files_changed: 1,
      additions: 5,
      deletions: 1,
    },
  ]);
}

/**
 * A watcher run over the sample data (both sources found, a minute of lag), so
 * the council's gate opens; `status` other than valid carries a reason.
 */
export async function insertWatcherRun(
  db: Db,
  fields: { ts: string; runId: string; status?: "valid" | "degraded" | "error"; durationMs?: number },
): Promise<void> {
  const status = fields.status ?? "valid";
  await db.insert("watcher_runs", [
    {
      ts: fields.ts,
      run_id: fields.runId,
      hearts_commit: SAMPLE_SHA,
      packs_commit: SAMPLE_SHA,
      hearts_rows_found: 1,
      packs_rows_found: 1,
      hearts_newest_ts: null,
      packs_newest_ts: null,
      hearts_lag_seconds: 60,
      packs_lag_seconds: 60,
      lag_seconds: 60,
      status,
      reasons: status === "valid" ? [] : [`banterhearts: ${status} for the test`],
      duration_ms: fields.durationMs ?? 5,
    },
  ]);
}
