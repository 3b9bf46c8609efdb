/**
 * A bench_changes row for tests to vary: by default an 18.3 % p95-latency
 * regression of llama-3.1-8b q4_k_m at the commit `commit` × 40 (one hex
 * digit), detected 2026-11-19 with its interval, p and q, 9 runs before and
 * 12 after; `overrides` change any column.
 */
export function benchChange(ids: { changeId: string; runId: string }, commit: string, status: string, overrides: Record<string, unknown> = {}) {
  return {
    change_id: ids.changeId,
    detected_at: "2026-11-19T12:00:00.000Z",
    updated_at: "2026-11-19T12:00:00.000Z",
    run_id: ids.runId,
    benchmark_type: "quantization",
    model: "llama-3.1-8b",
    quant: "q4_k_m",
    variant: "q4_k_m",
    dataset: "d",
    device: "cuda",
    metric: "latency_p95_ms",
    commit_sha: commit.repeat(40),
    commit_ts: "2026-11-18T09:00:00.000Z",
    commit_candidates: [commit.repeat(40)],
    previous_sha: "0".repeat(40),
    kind: "regression",
    change_pct: 18.3,
    ci_low_pct: 12.25,
    ci_high_pct: 24.5,
    p_value: 0.0001,
    q_value: 0.0003,
    mean_before: 186,
    mean_after: 220,
    n_before: 9,
    n_after: 12,
    status,
    fixed_by_sha: "",
    fixed_ts: null,
    ...overrides,
  };
}
