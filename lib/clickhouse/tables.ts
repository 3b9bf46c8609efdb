import { v5 as uuidv5 } from "uuid";
import { z } from "zod";
import { LANGS } from "../episode/fact";

/**
 * Typed rows of Muse's tables, as written (JSONEachRow in) and read back
 * (JSONEachRow out, ISO timestamps). One schema per table; types inferred.
 */

/** ISO 8601 in; ClickHouse returns `2026-11-22T01:02:03.456Z` (date_time_output_format=iso). */
export const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "expected an ISO 8601 timestamp");
const sha = z.string().regex(/^[0-9a-f]{40}$/, "expected a 40-hex commit sha");
const nullableNumber = z.number().nullable();
/** Decimals come back as numbers; UInt64 sums as numbers (output_format_json_quote_64bit_integers=0). */
const decimal = z.coerce.number();

export const benchRunRow = z.object({
  ts: timestamp,
  run_id: z.uuid(),
  commit_sha: sha,
  benchmark_type: z.string(),
  variant: z.string(),
  model: z.string(),
  quant: z.string(),
  dataset: z.string(),
  device: z.string(),
  latency_mean_ms: nullableNumber,
  latency_p50_ms: nullableNumber,
  latency_p95_ms: nullableNumber,
  latency_p99_ms: nullableNumber,
  tokens_per_sec: nullableNumber,
  cost_per_1k: decimal.nullable(),
  memory_peak_mb: nullableNumber,
  extra: z.string(),
  source_path: z.string(),
  /** The bisection request the run answers (sql/013), '' for the nightly runs. */
  request_id: z.string().default(""),
  /** The pull request whose head the run measured (sql/019, docs/reach.md), 0 for main's runs. */
  pull_request: z.number().int().min(0).max(4294967295).optional(),
  /** Quality figures of the variant (sql/017, docs/quality.md): accuracy 0–1, loss, perplexity; absent or NULL when not reported. */
  accuracy: nullableNumber.optional(),
  loss: nullableNumber.optional(),
  perplexity: nullableNumber.optional(),
});
export type BenchRunRow = z.infer<typeof benchRunRow>;

export const llmEventRow = z.object({
  ts: timestamp,
  event_id: z.uuid(),
  run_id: z.uuid(),
  source: z.string(),
  model: z.string(),
  operation: z.string(),
  tokens_in: z.number().int().min(0),
  tokens_out: z.number().int().min(0),
  latency_ms: z.number().int().min(0),
  cost_usd: decimal.nullable(),
  status: z.enum(["success", "failure", "timeout", "reported"]),
  error_msg: z.string(),
});
export type LlmEventRow = z.infer<typeof llmEventRow>;

export const uiEventRow = z.object({
  ts: timestamp,
  event_id: z.uuid(),
  session_id: z.uuid(),
  commit_sha: sha,
  event_type: z.string(),
  latency_ms: z.number().int().min(0),
  user_agent: z.string(),
  metadata: z.string(),
});
export type UiEventRow = z.infer<typeof uiEventRow>;

export const sessionStatsRow = z.object({
  hour: timestamp,
  session_id: z.uuid(),
  commit_sha: sha,
  avg_latency_ms: z.number().int().min(0),
  latency_sum_ms: z.number().int().min(0),
  error_rate: z.number().min(0).max(1),
  abandonment_rate: z.number().min(0).max(1),
  events_count: z.number().int().min(0),
  errors_count: z.number().int().min(0),
  queries_count: z.number().int().min(0),
  abandoned_count: z.number().int().min(0),
  answers_count: z.number().int().min(0),
  answer_latency_sum_ms: z.number().int().min(0),
  duration_seconds: z.number().int().min(0),
});
export type SessionStatsRow = z.infer<typeof sessionStatsRow>;

export const watcherStatus = z.enum(["valid", "degraded", "error"]);
export const watcherRunRow = z.object({
  ts: timestamp,
  run_id: z.uuid(),
  hearts_commit: z.string(),
  packs_commit: z.string(),
  hearts_rows_found: z.number().int().min(0),
  packs_rows_found: z.number().int().min(0),
  hearts_newest_ts: timestamp.nullable(),
  packs_newest_ts: timestamp.nullable(),
  hearts_lag_seconds: z.number().int().min(0).nullable(),
  packs_lag_seconds: z.number().int().min(0).nullable(),
  lag_seconds: z.number().int().min(0),
  status: watcherStatus,
  reasons: z.array(z.string()),
  duration_ms: z.number().int().min(0),
});
export type WatcherRunRow = z.infer<typeof watcherRunRow>;

/** in_review: committed to its review branch (MUSE_PUBLISH_MODE=pull-request), published when the pull request is merged. */
export const episodeStatus = z.enum(["draft", "publishable", "in_review", "published", "rejected"]);
export const episodeRow = z.object({
  ts: timestamp,
  updated_at: timestamp,
  run_id: z.uuid(),
  series: z.string(),
  episode_num: z.number().int().min(0).max(65535),
  lang: z.enum(LANGS),
  title: z.string(),
  summary: z.string(),
  confidence_score: z.number(),
  correlation_strength: z.number().nullable(),
  tokens_total: z.number().int().min(0),
  cost_total: decimal,
  status: episodeStatus,
  file_path: z.string(),
  commit_sha: z.string(),
  markdown: z.string(),
  facts: z.string(),
  claims: z.string(),
  problems: z.array(z.string()),
  writer: z.string(),
  translation_of: z.string(),
  /** The writer's prose with {{fact:…}} references (JSON of title, summary, sections): what translators translate. */
  template: z.string().default(""),
});
export type EpisodeRow = z.infer<typeof episodeRow>;

/** unknown: no webhook event or reconciliation moved it on within MUSE_DEPLOY_SETTLE_MINUTES (lib/deployments/settle.ts). */
export const deploymentStatus = z.enum(["pending", "building", "ready", "error", "canceled", "unknown"]);
/** Who started a deployment: the publisher's commit, or anyone else (a code push, a manual redeploy). */
export const deploymentOrigin = z.enum(["muse", "external"]);
export const deploymentRow = z.object({
  ts: timestamp,
  updated_at: timestamp,
  run_id: z.uuid(),
  episode_run_id: z.uuid(),
  commit_sha: sha,
  status: deploymentStatus,
  vercel_deployment_id: z.string(),
  url: z.string(),
  duration_ms: z.number().int().min(0),
  error_msg: z.string(),
  events_seen: z.array(z.string()),
  origin: deploymentOrigin.default("muse"),
});
export type DeploymentRow = z.infer<typeof deploymentRow>;

/** The columns of a deployments row as `deploymentRow` reads them (UUIDs as text): every read of the table selects these. */
export const DEPLOYMENT_COLUMNS = `ts, updated_at, toString(run_id) AS run_id, toString(episode_run_id) AS episode_run_id, commit_sha, status,
            vercel_deployment_id, url, duration_ms, error_msg, events_seen, origin`;

/** A deployment's URL as stored: Vercel reports it without a scheme. */
export const deploymentUrl = (url: string) => (/^https?:\/\//i.test(url) ? url : `https://${url}`);

/** The error_msg of a failed deployment, from the webhook's event or Vercel's API alike. */
export const deploymentError = (deploymentId: string, detail?: string | null) =>
  `Vercel deployment ${deploymentId} failed${detail?.trim() ? `: ${detail.trim()}` : ""}`.slice(0, 2_000);

/** The row the publisher records right after its commit: pending until Vercel's webhook events move it on. */
export function pendingDeploymentRow(fields: { at: Date; runId: string; episodeRunId: string; commitSha: string }): DeploymentRow {
  return deploymentRow.parse({
    ts: fields.at.toISOString(),
    updated_at: fields.at.toISOString(),
    run_id: fields.runId,
    episode_run_id: fields.episodeRunId,
    commit_sha: fields.commitSha,
    status: "pending",
    vercel_deployment_id: "",
    url: "",
    duration_ms: 0,
    error_msg: "",
    events_seen: [],
  });
}

/** The row of a deployment Muse did not start, from its first webhook event (lib/http/vercel-webhook.ts). */
export function externalDeploymentRow(fields: { at: Date; deploymentId: string; commitSha: string }): DeploymentRow {
  return deploymentRow.parse({
    ...pendingDeploymentRow({
      at: fields.at,
      runId: uuidv5(`vercel-deployment:${fields.deploymentId}`, EXTERNAL_DEPLOYMENT_NAMESPACE),
      episodeRunId: NIL_UUID,
      commitSha: fields.commitSha,
    }),
    origin: "external",
  });
}
const EXTERNAL_DEPLOYMENT_NAMESPACE = "8c9f0e52-54a4-4f7e-9d0b-6f3c1f3f7d21";
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

export const agentRunStatus = z.enum(["running", "ok", "skipped", "blocked", "error"]);
export const agentRunRow = z.object({
  run_id: z.uuid(),
  agent: z.string(),
  trigger: z.enum(["cron", "api", "cli"]),
  status: agentRunStatus,
  started_at: timestamp,
  finished_at: timestamp.nullable(),
  duration_ms: z.number().int().min(0),
  attempts: z.number().int().min(1),
  error: z.string(),
  summary: z.string(),
  options: z.string(),
  updated_at: timestamp,
});
export type AgentRunRow = z.infer<typeof agentRunRow>;

export const agentLockRow = z.object({
  agent: z.string(),
  run_id: z.uuid(),
  acquired_at: timestamp,
  expires_at: timestamp,
  released: z.number().int().min(0).max(1),
  updated_at: timestamp,
});
export type AgentLockRow = z.infer<typeof agentLockRow>;

export const upstreamCommitRow = z.object({
  repo: z.enum(["banterhearts", "banterpacks"]),
  sha,
  ts: timestamp,
  author: z.string(),
  message: z.string(),
  /** sql/012: full shas, first parent first; [] for a root commit and for rows stored before 012. */
  parents: z.array(sha),
  files: z.array(z.string()),
  files_changed: z.number().int().min(0),
  additions: z.number().int().min(0),
  deletions: z.number().int().min(0),
});
export type UpstreamCommitRow = z.infer<typeof upstreamCommitRow>;

/** Accepted Idempotency-Keys up to migration 011; kept so dead letters of earlier versions replay. */
export const ingestRequestRow = z.object({
  idempotency_key: z.string(),
  route: z.string(),
  body_sha256: z.string().length(64),
  accepted: z.number().int().min(0),
  response: z.string(),
  received_at: timestamp,
});
export type IngestRequestRow = z.infer<typeof ingestRequestRow>;

/** A use of an Idempotency-Key (sql/005): the key's earliest claim decides which body it stands for. */
export const ingestKeyClaimRow = z.object({
  route: z.string(),
  idempotency_key: z.string(),
  body_sha256: z.string().length(64),
  claimed_at: timestamp,
});
export type IngestKeyClaimRow = z.infer<typeof ingestKeyClaimRow>;

/**
 * The shape of a change (docs/change-points.md "Kinds"): a step of the level at one place, a drift (the level creeps
 * run after run), or a spread change (the run-to-run noise changed). Its direction is its kind (regression | improvement).
 */
export const CHANGE_SHAPES = ["step", "drift", "spread"] as const;
export type ChangeShape = (typeof CHANGE_SHAPES)[number];

/** The shape of a change (or of an event's lead change) and its size in its own terms: bench_changes and bench_events (sql/020). */
export const changeShapeColumns = {
  shape: z.enum(CHANGE_SHAPES).default("step"),
  /** Drift: slope in % of the stretch's starting level per run, its 95 % interval, runs in the stretch (0 for other shapes). */
  slope_pct_per_run: nullableNumber.default(null),
  slope_ci_low: nullableNumber.default(null),
  slope_ci_high: nullableNumber.default(null),
  drift_runs: z.number().int().min(0).default(0),
  /** Spread: noise deviation after / before, with its 95 % interval. */
  spread_ratio: nullableNumber.default(null),
  spread_ci_low: nullableNumber.default(null),
  spread_ci_high: nullableNumber.default(null),
};

export const benchChangeRow = z.object({
  change_id: z.uuid(),
  detected_at: timestamp,
  updated_at: timestamp,
  run_id: z.uuid(),
  benchmark_type: z.string(),
  model: z.string(),
  quant: z.string(),
  variant: z.string(),
  dataset: z.string(),
  device: z.string(),
  metric: z.string(),
  commit_sha: z.string(),
  commit_ts: timestamp,
  commit_candidates: z.array(z.string()),
  previous_sha: z.string(),
  kind: z.enum(["regression", "improvement"]),
  change_pct: z.number(),
  ci_low_pct: z.number(),
  ci_high_pct: z.number(),
  p_value: z.number(),
  q_value: z.number(),
  mean_before: z.number(),
  mean_after: z.number(),
  n_before: z.number().int().min(0),
  n_after: z.number().int().min(0),
  status: z.enum(["open", "fixed", "kept", "withdrawn"]),
  fixed_by_sha: z.string(),
  fixed_ts: timestamp.nullable(),
  // The change's shape (sql/020, docs/change-points.md): rows written before are steps.
  ...changeShapeColumns,
});
export type BenchChangeRow = z.infer<typeof benchChangeRow>;

export const BENCH_REQUEST_STATUSES = ["pending", "claimed", "done", "cannot_run", "expired"] as const;
export type BenchRequestStatus = (typeof BENCH_REQUEST_STATUSES)[number];

/** A benchmark request for bisection (sql/013, lib/bisection/requests.ts): the latest version per request_id. */
export const benchRequestRow = z.object({
  request_id: z.string(),
  event_id: z.string(),
  commit_sha: z.string(),
  benchmark_type: z.string(),
  model: z.string(),
  quant: z.string(),
  variant: z.string(),
  dataset: z.string(),
  device: z.string(),
  repeats: z.number().int().min(0).max(65_535),
  reason: z.string(),
  status: z.enum(BENCH_REQUEST_STATUSES),
  claimed_by: z.string(),
  lease_until: timestamp.nullable(),
  answer: z.string(),
  dispatched_at: timestamp.nullable(),
  requested_at: timestamp,
  expires_at: timestamp,
  updated_at: timestamp,
});
export type BenchRequestRow = z.infer<typeof benchRequestRow>;

/** A runner's claim of a bench request (sql/013): the earliest live claim holds the request. */
export const benchRequestClaimRow = z.object({
  request_id: z.string(),
  claim_id: z.uuid(),
  runner: z.string(),
  claimed_at: timestamp,
  lease_until: timestamp,
  released: z.number().int().min(0).max(1),
});
export type BenchRequestClaimRow = z.infer<typeof benchRequestClaimRow>;

export const TABLES = {
  bench_runs: benchRunRow,
  llm_events: llmEventRow,
  ui_events: uiEventRow,
  session_stats: sessionStatsRow,
  watcher_runs: watcherRunRow,
  episodes: episodeRow,
  deployments: deploymentRow,
  agent_runs: agentRunRow,
  agent_locks: agentLockRow,
  upstream_commits: upstreamCommitRow,
  ingest_requests: ingestRequestRow,
  ingest_key_claims: ingestKeyClaimRow,
  bench_changes: benchChangeRow,
  bench_requests: benchRequestRow,
  bench_request_claims: benchRequestClaimRow,
} as const;
export type TableName = keyof typeof TABLES;
